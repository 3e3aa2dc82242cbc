//! CI proves the README: `.ci/run` must carry the README's "Gate your CI" recipe verbatim, and
//! every `poolscale` subcommand the README shows must exist (its `--help` exits 0).

mod common;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The shell code blocks of the README.
fn blocks(text: &str) -> Vec<String> {
    text.split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(str::to_string)
        .collect()
}

#[test]
fn ci_runs_every_readme_block_verbatim() {
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    let blocks = blocks(&readme());
    assert!(blocks.len() >= 4, "{blocks:?}");
    for block in blocks {
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                ci.lines().any(|c| c == line),
                ".ci/run lacks the README line `{line}`"
            );
        }
    }
}

#[test]
fn ci_runs_the_readme_gate_recipe_verbatim() {
    let readme = readme();
    let recipe = blocks(&readme)
        .into_iter()
        .find(|b| b.contains("gate --ab"))
        .expect("the README has an A/B recipe");
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    for line in recipe.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            ci.lines().any(|c| c == line),
            ".ci/run lacks the README line `{line}`"
        );
    }
    for cmd in [
        "cargo test\n",
        "cargo test --benches\n",
        "cargo bench -- --list\n",
    ] {
        assert!(readme.contains(cmd) && ci.contains(cmd), "{cmd:?} in both");
    }
}

#[test]
fn every_subcommand_the_readme_shows_exists() {
    let readme = readme();
    let mut seen = std::collections::BTreeSet::new();
    for b in blocks(&readme) {
        for line in b.lines() {
            if let Some(rest) = line.split("cargo run --release -- ").nth(1) {
                let sub: Vec<&str> = rest.split_whitespace().take(2).collect();
                seen.insert(sub[0].to_string());
                let (code, _, err) = common::poolscale(&[sub[0], "--help"]);
                assert_eq!(code, 0, "`poolscale {} --help`: {err}", sub[0]);
            }
        }
    }
    for sub in ["run", "seed", "report", "gate"] {
        assert!(seen.contains(sub), "the README shows `{sub}`: {seen:?}");
    }
}
