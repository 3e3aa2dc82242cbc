//! The crate's floor plan holds: `src/` is a list of stages in the order the data flows through
//! them ([`STAGES`], as `lib.rs` declares them), and each stage imports only the stages before
//! it; inside a stage, no module uses one that (directly or not) uses it back. Read from the
//! sources, as a contributor would: every `crate::stage` (and `crate::stage::module`) outside
//! comments and `#[cfg(test)]` items (above or below them) is an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// `text` without its `#[cfg(test)]` items (a test module, from its attribute to its closing
/// brace, matched by counting braces), so that every other line is read, below a test module too.
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        // The item the attribute applies to: up to its first `{` and the matching `}`, or to
        // the first `;` for a declaration without a body (`mod tests;`).
        let open = after.find('{');
        let semi = after.find(';');
        let end = match (open, semi) {
            (Some(o), Some(s)) if s < o => s + 1,
            (Some(o), _) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (k, c) in after[o..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = o + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, Some(s)) => s + 1,
            (None, None) => after.len(),
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn edges_of(text: &str) -> BTreeSet<String> {
    // Every line but test items' and comments.
    let code = without_tests(text);
    let mut out = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let files = common::walk(&src);
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let Some(m) = top_module(&src, f) else {
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        let deps = edges_of(&text);
        g.entry(m.clone())
            .or_default()
            .extend(deps.into_iter().filter(|d| *d != m));
    }
    let known: BTreeSet<String> = g.keys().cloned().collect();
    for deps in g.values_mut() {
        deps.retain(|d| known.contains(d));
    }
    g
}

/// A path from `to` back to `from`, if there is one.
fn path_back(g: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![to.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        if last == from {
            return Some(path);
        }
        if !seen.insert(last.clone()) {
            continue;
        }
        for next in g.get(last).into_iter().flatten() {
            let mut p = path.clone();
            p.push(next.clone());
            stack.push(p);
        }
    }
    None
}

mod common;

/// The stages, first to last: a stage may import the ones before it. A new top-level module must
/// be placed here (the test fails until it is).
const STAGES: [&str; 19] = [
    "error", "limits", "units", "escape", "stats", "platform", "workload", "strategy", "group",
    "measure", "results", "analysis", "report", "gate", "advise", "seed", "hidden", "bench", "cli",
];

#[test]
fn every_stage_imports_only_the_stages_before_it() {
    let g = graph();
    let mut wrong = Vec::new();
    for (m, deps) in &g {
        let Some(i) = STAGES.iter().position(|s| s == m) else {
            wrong.push(format!(
                "`{m}` is not a stage of tests/layering.rs's STAGES"
            ));
            continue;
        };
        for d in deps {
            let j = STAGES.iter().position(|s| s == d).unwrap_or(usize::MAX);
            if j >= i {
                wrong.push(format!("{m} imports {d}, a later stage"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| {
            let l = l.trim_start_matches("pub ");
            l.strip_prefix("mod ")?.strip_suffix(';')
        })
        .collect();
    declared.sort_unstable();
    let mut stages = STAGES.to_vec();
    stages.sort_unstable();
    assert_eq!(declared, stages, "lib.rs declares exactly the stages");
}

/// Modules one level down: `measure::interleave` for `src/measure/interleave.rs`, the stage
/// itself for its `mod.rs` or a top-level file.
fn inner_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let module_of = |rel: &Path| -> Option<String> {
        let parts: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .collect();
        match parts.as_slice() {
            [one] if one != "lib" && one != "main" => Some(one.clone()),
            [stage, m] if m == "mod" => Some(stage.clone()),
            [stage, m, ..] => Some(format!("{stage}::{m}")),
            _ => None,
        }
    };
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in common::walk(&src)
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let Some(m) = module_of(f.strip_prefix(&src).unwrap()) else {
            continue;
        };
        let code = without_tests(&std::fs::read_to_string(f).unwrap());
        let entry = g.entry(m.clone()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == ':')
                    .collect();
                let mut parts = path.split("::").filter(|p| !p.is_empty());
                let (Some(a), b) = (parts.next(), parts.next()) else {
                    continue;
                };
                let two = b.map(|b| format!("{a}::{b}"));
                let target = match two {
                    Some(t)
                        if src.join(a).join(format!("{}.rs", b.unwrap())).exists()
                            || src.join(a).join(b.unwrap()).is_dir() =>
                    {
                        t
                    }
                    _ => a.to_string(),
                };
                if target != m {
                    entry.insert(target);
                }
            }
        }
    }
    g
}

#[test]
fn no_module_inside_a_stage_imports_one_that_imports_it_back() {
    let g = inner_graph();
    assert!(
        g.contains_key("measure::interleave") && g.contains_key("results::observe"),
        "read too few modules: {:?}",
        g.keys()
    );
    let mut cycles = Vec::new();
    for (m, deps) in &g {
        for d in deps.iter().filter(|d| g.contains_key(*d)) {
            if let Some(back) = path_back(&g, m, d) {
                cycles.push(format!("{m} -> {}", back.join(" -> ")));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_reader_sees_a_planted_cycle() {
    let mut g = graph();
    // analysis uses group; a group that used analysis back would be a cycle.
    assert!(g["analysis"].contains("group"));
    g.get_mut("group").unwrap().insert("analysis".into());
    assert!(path_back(&g, "group", "analysis").is_some());
    assert_eq!(
        edges_of(
            "use crate::a::B;\n// crate::c\nfn f() { crate::d_e::g() }\n#[cfg(test)]\nmod t { use crate::z; }"
        ),
        ["a", "d_e"].into_iter().map(String::from).collect()
    );
    // A line below a test module is read; nested braces inside it are skipped with it.
    assert_eq!(
        edges_of(
            "#[cfg(test)]\nmod t { fn f() { if x { crate::z::y() } } }\nfn g() { crate::below::h() }\n#[cfg(test)]\nmod u;\nuse crate::last;"
        ),
        ["below", "last"].into_iter().map(String::from).collect()
    );
}
