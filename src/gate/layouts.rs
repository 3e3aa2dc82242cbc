//! Code-layout variants of a build: the same source linked with its functions in K shuffled
//! orders, so that `gate --ab --layouts K` can tell a change in the code from a change in where
//! the linker put it.
//!
//! A change that only moves code can speed up or slow down a benchmark by tens of percent: the
//! same loop at another address runs from another cache line, fetch window or branch-predictor
//! slot (Mytkowicz et al., "Producing wrong data without doing anything obviously wrong", ASPLOS
//! 2009; Curtsinger & Berger, "Stabilizer", ASPLOS 2013). The countdown is immune (its loop is
//! pinned, see [`crate::workload::placement`]); the dispatch groups' few nanoseconds per task are
//! not. Rust links with LLD on x86_64 Linux, whose `--shuffle-sections=.text*=SEED` places every
//! function elsewhere per seed; only the final link (and the binary's own crate) is redone, so a
//! variant costs seconds once the build exists.
//!
//! Layout: the variants of `DIR/release/poolscale` are `DIR/release/poolscale.layout-1` …
//! `.layout-K` beside it, which is where `gate --ab OLD --layouts K` looks for OLD's and NEW's.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::results::store::Versioned;

/// Most variants of one build.
pub const MAX_LAYOUTS: u32 = 32;

/// Where variant `seed` (1 to [`MAX_LAYOUTS`]) of `binary` lies.
pub fn variant_path(binary: &Path, seed: u32) -> PathBuf {
    let mut name = binary.as_os_str().to_owned();
    name.push(format!(".layout-{seed}"));
    PathBuf::from(name)
}

/// What `layouts` recorded beside a binary: the digest of the binary it built and of each
/// variant, so that `gate --ab --layouts` samples only variants of the binary it is given.
/// Written as `BIN.layouts.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Layout version of this file.
    pub schema_version: u32,
    /// The SHA-256 of the plain binary the variants were built with.
    pub binary: String,
    /// The SHA-256 of variant i (1-based: index 0 is `.layout-1`).
    pub variants: Vec<String>,
}

impl Versioned for Record {
    const WHAT: &'static str = "layouts record";
    const SCHEMA: u32 = 1;
    const MAX_BYTES: u64 = 64 << 10;
    fn schema_version(&self) -> u32 {
        self.schema_version
    }
}

/// Where the record of `binary`'s variants lies.
pub fn record_path(binary: &Path) -> PathBuf {
    let mut name = binary.as_os_str().to_owned();
    name.push(".layouts.json");
    PathBuf::from(name)
}

/// The SHA-256 of a binary (bounded: 1 GiB).
fn digest_of(path: &Path) -> Result<String> {
    crate::platform::fsutil::read_small_bytes(path, 1 << 30)
        .map(|b| crate::platform::fsutil::sha256_hex(&b))
}

/// The `k` variants of `binary`, which must all exist and be the ones `layouts` recorded building
/// with this very binary (an error names the first missing or foreign one and the command that
/// builds them).
pub fn variants(binary: &Path, k: u32) -> Result<Vec<PathBuf>> {
    let rebuild = format!(
        "build the variants of `{}` with `poolscale layouts --src SOURCE --k {k} --target-dir DIR` (see docs/gate.md)",
        binary.display()
    );
    let foreign = |p: &Path, why: &str| {
        Error::invalid("layout variant", p.display(), format!("{why}; {rebuild}"))
    };
    let record_file = record_path(binary);
    let record: Option<Record> = record_file
        .is_file()
        .then(|| crate::results::store::read_versioned(&record_file))
        .transpose()?;
    let binary_digest = digest_of(binary)?;
    (1..=k)
        .map(|seed| {
            let p = variant_path(binary, seed);
            if !p.is_file() {
                return Err(foreign(&p, "does not exist"));
            }
            let Some(r) = &record else {
                return Err(foreign(
                    &p,
                    &format!(
                        "has no record `{}` of what it was built from",
                        record_file.display()
                    ),
                ));
            };
            if r.binary != binary_digest {
                return Err(foreign(
                    &p,
                    "was built beside another build of the binary (it changed since)",
                ));
            }
            if r.variants.get(seed as usize - 1) != Some(&digest_of(&p)?) {
                return Err(foreign(&p, "is not the variant `poolscale layouts` built"));
            }
            Ok(p)
        })
        .collect()
}

/// What to build.
#[derive(Clone, Debug)]
pub struct BuildConfig {
    /// The source tree (its `Cargo.toml`).
    pub src: PathBuf,
    /// Variants to build (1 to [`MAX_LAYOUTS`]).
    pub k: u32,
    /// Cargo's target directory (the plain build lands in `DIR/release/BIN`).
    pub target_dir: PathBuf,
    /// The binary (`poolscale`, or a binary of yours that calls `poolscale::bench::serve`).
    pub bin: String,
    /// The first seed: variant i (1 to k) is linked with seed `first_seed + i - 1`, so two
    /// builds of the same source can have different layouts.
    pub first_seed: u32,
}

/// Builds `cfg.bin` from `cfg.src` in release mode, then `cfg.k` variants linked with shuffled
/// function order (seeds from `cfg.first_seed`); returns the plain binary and the variants.
pub fn build(cfg: &BuildConfig) -> Result<(PathBuf, Vec<PathBuf>)> {
    if cfg.k == 0 || cfg.k > MAX_LAYOUTS {
        return Err(Error::invalid(
            "layouts",
            cfg.k,
            format!("must be between 1 and {MAX_LAYOUTS}"),
        ));
    }
    let manifest = cfg.src.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(Error::invalid(
            "source tree",
            cfg.src.display(),
            "has no Cargo.toml",
        ));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let binary = cfg.target_dir.join("release").join(&cfg.bin);
    // Variants in place that this tool did not record building are a user's: never replaced.
    let recorded: Vec<String> =
        match crate::platform::fsutil::read_small_file_if_any(&record_path(&binary), 64 << 10)? {
            Some(_) => {
                crate::results::store::read_versioned::<Record>(&record_path(&binary))?.variants
            }
            None => Vec::new(),
        };
    for i in 1..=cfg.k {
        let to = variant_path(&binary, i);
        if std::fs::symlink_metadata(&to).is_ok()
            && !recorded
                .iter()
                .any(|d| digest_of(&to).is_ok_and(|x| x == *d))
        {
            return Err(Error::WouldOverwrite {
                path: to,
                reason: "`poolscale layouts` did not build it (no record of it); move it away or choose another --target-dir".into(),
            });
        }
    }
    let run = |args: &[&str], extra: &[String]| -> Result<()> {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new(&cargo);
        // Its own process group, which Ctrl-C or SIGTERM kills whole: cargo, rustc and the build
        // scripts, none left writing into the target directory.
        c.process_group(0);
        c.args(args)
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&cfg.target_dir)
            .args(["--release", "--quiet", "--bin", &cfg.bin]);
        if !extra.is_empty() {
            c.arg("--").args(extra);
        }
        let mut child = c.spawn().map_err(|e| Error::io("cannot run cargo", e))?;
        let _group = crate::platform::interrupt::GroupGuard::new(child.id());
        let status = child
            .wait()
            .map_err(|e| Error::io("cannot wait for cargo", e))?;
        crate::platform::interrupt::check()?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::invalid(
                "build",
                format!("cargo {} for {}", args.join(" "), cfg.src.display()),
                format!("failed with {status}"),
            ))
        }
    };
    let mut variants = Vec::new();
    let mut digests = Vec::new();
    for i in 1..=cfg.k {
        crate::platform::interrupt::check()?;
        let seed = u64::from(cfg.first_seed) + u64::from(i) - 1;
        run(
            &["rustc"],
            &[
                "-C".into(),
                format!("link-arg=-Wl,--shuffle-sections=.text*={seed}"),
            ],
        )?;
        let to = variant_path(&binary, i);
        let bytes = crate::platform::fsutil::read_small_bytes(&binary, 1 << 30)?;
        // Replaced atomically, never through a link planted under the variant's name.
        crate::platform::fsutil::atomic_write(&to, &bytes)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(format!("cannot make `{}` executable", to.display()), e))?;
        digests.push(crate::platform::fsutil::sha256_hex(&bytes));
        variants.push(to);
    }
    // Last, the plain build, so that `DIR/release/BIN` is the unshuffled binary.
    run(&["rustc"], &[])?;
    let record = Record {
        schema_version: <Record as Versioned>::SCHEMA,
        binary: digest_of(&binary)?,
        variants: digests,
    };
    let json = serde_json::to_string_pretty(&record)
        .map_err(|e| Error::invalid("layouts record", "?", e.to_string()))?;
    crate::platform::fsutil::atomic_write(&record_path(&binary), json.as_bytes())?;
    Ok((binary, variants))
}

/// The layout spread of one side: how far its variants' medians lie from their common median, as
/// a fraction (0.08 = the farthest variant is 8% off). `None` with fewer than two variants that
/// have samples.
pub fn spread(per_variant: &[Vec<f64>]) -> Option<f64> {
    let medians: Vec<f64> = per_variant
        .iter()
        .filter_map(|v| crate::stats::median(v))
        .filter(|m| *m > 0.0 && m.is_finite())
        .collect();
    if medians.len() < 2 {
        return None;
    }
    let centre = crate::stats::median(&medians)?;
    medians
        .iter()
        .map(|m| (m / centre).ln().abs())
        .fold(None, |acc: Option<f64>, x| {
            Some(acc.map_or(x, |a| a.max(x)))
        })
        .map(f64::exp_m1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_lie_beside_the_binary_and_missing_ones_are_named() {
        let p = variant_path(Path::new("target/base/release/poolscale"), 3);
        assert_eq!(p, PathBuf::from("target/base/release/poolscale.layout-3"));
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("poolscale");
        std::fs::write(&bin, b"plain").unwrap();
        std::fs::write(variant_path(&bin, 1), b"one").unwrap();
        // Without a record, a file named like a variant is not taken for one.
        let e = variants(&bin, 1).unwrap_err().to_string();
        assert!(e.contains("no record"), "{e}");
        let record = Record {
            schema_version: 1,
            binary: crate::platform::fsutil::sha256_hex(b"plain"),
            variants: vec![crate::platform::fsutil::sha256_hex(b"one")],
        };
        std::fs::write(record_path(&bin), serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(variants(&bin, 1).unwrap().len(), 1);
        let e = variants(&bin, 2).unwrap_err().to_string();
        assert!(
            e.contains("poolscale.layout-2") && e.contains("poolscale layouts"),
            "{e}"
        );
        // Another version's binary put in a variant's place, or a rebuilt binary: refused.
        std::fs::write(variant_path(&bin, 1), b"another version").unwrap();
        let e = variants(&bin, 1).unwrap_err().to_string();
        assert!(e.contains("not the variant"), "{e}");
        std::fs::write(variant_path(&bin, 1), b"one").unwrap();
        std::fs::write(&bin, b"rebuilt").unwrap();
        let e = variants(&bin, 1).unwrap_err().to_string();
        assert!(e.contains("another build"), "{e}");
    }

    #[test]
    fn the_spread_is_the_farthest_variant_from_the_common_median() {
        assert_eq!(spread(&[vec![1.0, 1.0]]), None);
        let s = spread(&[vec![100.0, 101.0], vec![110.0, 110.0], vec![100.0, 100.0]]).unwrap();
        // Medians 100.5, 110, 100: centre 100.5; farthest 110 → 9.45%.
        assert!((s - 110.0 / 100.5 + 1.0).abs() < 1e-9, "{s}");
        assert!(spread(&[vec![5.0], vec![5.0]]).unwrap().abs() < 1e-12);
    }
}
