//! The seed's tables as Markdown sections of a file (`--markdown`), updated in place.

use std::path::Path;

use super::*;
use crate::error::{Error, Result};
use crate::platform::machine::Machine;
use crate::units::markdown_table as table;

/// First line of a Markdown file written by `seed --markdown`.
pub const MARKER: &str =
    "<!-- written by `poolscale seed --markdown`; sections are replaced on rerun -->";

/// Writes `section` (one program's tables) into `path`: creates the file, or replaces that
/// program's section in a file this command wrote before. Any other existing file is refused.
pub fn write_markdown(path: &Path, name: &str, section: &str, machine: &Machine) -> Result<()> {
    let begin = format!("<!-- seed:{name} -->");
    let end = format!("<!-- /seed:{name} -->");
    let block = format!(
        "{begin}\n{}\n\nMeasured {} at commit `{}` on {}.\n{end}\n",
        section.trim_end(),
        machine.date,
        machine.commit,
        machine.summary()
    );
    // Every section names its machine: the header names none, so sections measured on different
    // machines (one program re-run later) never stand under another machine's name.
    let header = format!(
        "{MARKER}\n# The seed, re-enacted\n\n`poolscale seed` runs the seed's two programs \
         (poolscale's `docs/seed.md`) in Rust and CPython; each section names the machine it \
         ran on.\n\n"
    );
    // Bounded, regular files only: a FIFO or /dev/zero named as the output is refused at once.
    let existing = crate::platform::fsutil::read_small_file_if_any(path, 16 << 20)?;
    let text = match existing {
        None => format!("{header}{block}"),
        Some(old) if old.starts_with(MARKER) => {
            let body = old.find("<!-- seed:").map_or("", |i| &old[i..]);
            let body = match (body.find(&begin), body.find(&end)) {
                (Some(b), Some(e)) if b < e => format!(
                    "{}{block}{}",
                    &body[..b],
                    body[e + end.len()..].trim_start_matches('\n')
                ),
                _ if body.trim().is_empty() => block,
                _ => format!("{}\n\n{block}", body.trim_end()),
            };
            format!("{header}{body}")
        }
        Some(_) => {
            return Err(Error::WouldOverwrite {
                path: path.to_path_buf(),
                reason: "it was not written by `poolscale seed --markdown`; choose another file"
                    .into(),
            });
        }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create `{}`", dir.display()), e))?;
    }
    crate::platform::fsutil::atomic_write(path, text.as_bytes())
}

/// Markdown for program 1's table.
pub fn countdown_markdown(
    rows: &[CountdownRow],
    count: u64,
    repeat: usize,
    python: Option<&Python>,
) -> String {
    let mut out = format!(
        "## Program 1: countdown\n\nEach worker counts down {count} (weak scaling). \
         Ratio = 2-worker time / 1-worker time: about 2 where a lock serialises the workers, \
         about 1 where they run in parallel, measured paired: each 2-worker run beside a 1-worker \
         run in alternating order. Rust rows: {repeat} pairs at least, more (up to {} times as many) \
         while the ratio's interval was wider than ±2%, each row's count beside it; Python rows: \
         2 pairs.{}\n\n",
        super::countdown::MOST_PAIRS_FACTOR,
        python.map_or(String::new(), |p| format!(" CPython: {}.", p.version))
    );
    table(&mut out, &COUNTDOWN_HEADER, &countdown_table(rows));
    out
}

/// Markdown for program 2's runs.
pub fn pool_markdown(runs: &[PoolRun]) -> String {
    let mut out = String::from("## Program 2: `Pool(w).map(f, range(items))`\n\n");
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.implementation.clone(),
                r.workers.to_string(),
                r.items.len().to_string(),
                format!("{:.3} s", r.nap_s),
                format!("{:.3} s", r.total_s),
                format!(
                    "{} rounds = {:.3} s",
                    r.model_rounds(),
                    r.model_rounds() as f64 * r.nap_s
                ),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "implementation",
            "workers",
            "items",
            "nap",
            "total",
            "model",
        ],
        &rows,
    );
    for r in runs {
        out.push_str(&format!("Rounds, {}:\n\n", r.implementation));
        let (header, rows) = r.rounds_table();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        table(&mut out, &header, &rows);
    }
    out
}
