//! Every string poolscale did not write itself (a settings file's machine fields, a directory
//! name, a side's or a program's output, a run id) is escaped for the place it goes, here and
//! only here:
//!
//! - [`terminal`]: control characters (escape sequences, carriage returns, bells, C1 codes) are
//!   shown as `\u{1b}`, never sent to the terminal or the CI log. `main` sends everything it
//!   prints through it.
//! - [`markdown_text`]: every ASCII punctuation character is backslash-escaped (CommonMark shows
//!   it literally), so no emphasis, link, HTML tag, table cell break or code span can start.
//! - [`markdown_code`]: a code span whose fence is longer than any run of backticks inside.
//! - [`url_path`]: a relative path percent-encoded for a link.
//! - [`xml`]: `&`, `<`, `>`, `"` and `'` as entities, for SVG and HTML text and attributes.
//!
//! The HTML page adds a second wall: it renders the Markdown with raw HTML shown as text and
//! links kept only to relative paths and http(s) ([`crate::report::html`]).

/// `s` with every control character but newline and tab written as `\u{..}` (and a lone
/// newline kept), safe to print to a terminal.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` on one line, for a terminal: [`terminal`] with newlines and tabs escaped too.
pub fn terminal_line(s: &str) -> String {
    terminal(s).replace('\n', "\\n").replace('\t', "\\t")
}

/// Unicode's bidirectional overrides and isolates, which can make text read backwards.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` as Markdown text that renders as exactly `s` (on one line): every ASCII punctuation
/// character backslash-escaped, control characters written out.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in terminal_line(s).chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s` as a Markdown code span, safe in a table cell: the fence is one backtick longer than the
/// longest run inside. A `|` (which ends a table cell even inside a code span) makes it plain
/// escaped text instead.
pub fn markdown_code(s: &str) -> String {
    let s = terminal_line(s);
    if s.contains('|') || s.is_empty() {
        return markdown_text(&s);
    }
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `s` for XML or HTML text and attribute values.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A relative path as a URL path: every byte but ASCII letters, digits, `-`, `.`, `_`, `~` and
/// `/` percent-encoded, so it cannot end a Markdown link or carry a scheme.
pub fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod hostile {
    /// Strings a stranger's file might carry, for tests of every output.
    pub(crate) const STRINGS: [&str; 8] = [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        "<iframe src=\"https://example.com\"></iframe>",
        "a`b<svg onload=alert(1)>`c",
        "x | y\n# heading",
        "\u{1b}[2J\u{1b}]0;owned\u{7}fake",
        "<img src=x onerror=alert(1)>",
        "**bold** _em_ ![i](x.png)",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(md: &str) -> String {
        let mut html = String::new();
        pulldown_cmark::html::push_html(
            &mut html,
            pulldown_cmark::Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES),
        );
        html
    }

    #[test]
    fn escaped_markdown_renders_as_the_text_itself() {
        for s in hostile::STRINGS {
            for md in [markdown_text(s), markdown_code(s)] {
                let html = render(&format!("| a | b |\n|---|---|\n| {md} | z |\n"));
                assert!(!html.contains("<script"), "{md} -> {html}");
                assert!(!html.contains("<iframe"), "{md} -> {html}");
                assert!(!html.contains("<svg"), "{md} -> {html}");
                assert!(!html.contains("<img"), "{md} -> {html}");
                assert!(!html.contains("href"), "{md} -> {html}");
                assert!(!html.contains("<strong>"), "{md} -> {html}");
                assert!(!html.contains('\u{1b}'), "{md} -> {html}");
                // One row of two cells: nothing broke out of the cell.
                assert_eq!(html.matches("<td>").count(), 2, "{md} -> {html}");
            }
        }
        assert_eq!(render(&markdown_text("a_b*c")), "<p>a_b*c</p>\n");
        assert_eq!(markdown_code("abc"), "`abc`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(render(&markdown_code("`x")), "<p><code>`x</code></p>\n");
    }

    #[test]
    fn terminal_text_has_no_control_characters() {
        let t = terminal("a\u{1b}[2Jb\rc\u{9b}d\u{202e}e\nf");
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        assert!(t.contains("\\u{1b}[2J") && t.contains("\\u{202e}"), "{t}");
        assert!(t.ends_with("\nf"));
        assert_eq!(terminal_line("a\nb"), "a\\nb");
        assert_eq!(xml("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
