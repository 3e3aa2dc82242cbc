//! Human-readable numbers for tables and terminal output, and the one table formatter of each
//! kind (aligned text, Markdown) that every command and report shares.

use std::fmt::Write as _;

/// A time in nanoseconds as `1.234 s`, `12.35 ms`, `45.6 µs` or `512 ns`.
pub fn fmt_ns(ns: f64) -> String {
    let a = ns.abs();
    if !ns.is_finite() {
        "–".into()
    } else if a >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if a >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if a >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// A ratio as `1.97×`, or `–` when absent.
pub fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".into(), |r| format!("{r:.2}×"))
}

/// A fraction as `98.5%`, or `–` when absent.
pub fn fmt_pct(r: Option<f64>) -> String {
    r.map_or_else(|| "–".into(), |r| format!("{:.1}%", r * 100.0))
}

/// A signed fraction as `+12.3%`.
pub fn fmt_change(r: f64) -> String {
    format!("{:+.1}%", r * 100.0)
}

/// Items joined as a sentence lists them: `a`, `a and b`, `a, b and c`.
pub fn and_list<T: std::fmt::Display>(items: &[T]) -> String {
    let v: Vec<String> = items.iter().map(ToString::to_string).collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

/// Items joined with `, ` (bench ids in a message).
pub fn comma_list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A plain-text table with aligned columns, for the terminal.
pub fn text_table<S: AsRef<str>>(header: &[&str], rows: &[Vec<S>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.as_ref().chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(AsRef::as_ref).collect()));
    }
    out
}

/// A Markdown table: header cells, then rows. Shared by every table in the report.
pub fn markdown_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}|",
        header
            .iter()
            .enumerate()
            .map(|(i, _)| if i < 2 { "---" } else { "---:" })
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

/// `1 worker`, `2 workers`.
pub fn workers_noun(w: usize) -> String {
    if w == 1 {
        "1 worker".into()
    } else {
        format!("{w} workers")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_ns(1_234_000_000.0), "1.234 s");
        assert_eq!(fmt_ns(12_345_678.0), "12.35 ms");
        assert_eq!(fmt_ns(45_600.0), "45.6 µs");
        assert_eq!(fmt_ns(512.0), "512 ns");
        assert_eq!(fmt_ratio(Some(1.966)), "1.97×");
        assert_eq!(fmt_pct(Some(0.985)), "98.5%");
        assert_eq!(fmt_pct(None), "–");
        assert_eq!(fmt_change(-0.123), "-12.3%");
        let t = text_table(&["a", "bb"], &[vec!["xxx", "y"]]);
        assert_eq!(t, "a    bb\nxxx  y\n");
    }
}
