//! `index.html`: the report as one self-contained page, the page to open after `cargo bench`.
//!
//! It is the Markdown report ([`super::markdown`]) rendered to HTML, so the page and `README.md`
//! never disagree, with every chart and timeline inlined (the page needs no other file) and a
//! stylesheet of its own. Links into Criterion's per-benchmark pages are the Markdown's.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{Exporter, Report};
use crate::error::Result;

/// The HTML exporter.
pub struct Html;

/// The page's stylesheet: readable tables, charts side by side.
const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1200px;\
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{border-bottom:2px solid #ddd}h2{border-bottom:1px solid #eee;margin-top:2em}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f4f4f4}\
tr:nth-child(even) td{background:#fafafa}\
blockquote{border-left:4px solid #d9822b;background:#fff6ec;margin:1em 0;padding:.5em 1em}\
code{background:#f2f2f2;padding:0 .2em;border-radius:3px}\
.chart{display:inline-block;vertical-align:top;margin:.25em}.chart svg{max-width:100%;height:auto}";

impl Exporter for Html {
    fn file_name(&self) -> &'static str {
        "index.html"
    }

    fn render(&self, report: &Report) -> Result<String> {
        let markdown = super::markdown::Markdown.render(report)?;
        let markdown = markdown
            .strip_prefix(super::markdown::MARKER)
            .unwrap_or(&markdown);
        let charts: std::collections::BTreeMap<String, String> =
            super::svg::render_all(report)?.into_iter().collect();
        let mut body = String::new();
        pulldown_cmark::html::push_html(&mut body, safe_events(markdown, &charts));
        Ok(format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>poolscale scaling report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
        ))
    }
}

/// The Markdown's events, made safe for a page: raw HTML is shown as text (the report writes
/// none; any there came from an input), a link is kept only to a relative path, an anchor or
/// http(s), and an image only when it is a chart this report draws, which is inlined.
fn safe_events<'a>(
    markdown: &'a str,
    charts: &'a std::collections::BTreeMap<String, String>,
) -> impl Iterator<Item = Event<'a>> {
    let mut dropped_link = false;
    let mut in_image = 0usize;
    Parser::new_ext(markdown, Options::ENABLE_TABLES).filter_map(move |e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Some(Event::Text(h)),
        Event::Start(Tag::Link { ref dest_url, .. }) if !safe_url(dest_url) => {
            dropped_link = true;
            None
        }
        Event::End(TagEnd::Link) if dropped_link => {
            dropped_link = false;
            None
        }
        Event::Start(Tag::Image { ref dest_url, .. }) => {
            in_image += 1;
            charts.get(dest_url.as_ref()).map(|svg| {
                Event::Html(format!("<span class=\"chart\">{}</span>", strip_prolog(svg)).into())
            })
        }
        Event::End(TagEnd::Image) => {
            in_image = in_image.saturating_sub(1);
            None
        }
        // An image's alt text: the chart replaced the whole image.
        _ if in_image > 0 => None,
        e => Some(e),
    })
}

/// Whether a link may go on the page: a relative path or anchor (no scheme), or http(s).
fn safe_url(url: &str) -> bool {
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    match url.find([':', '/', '?', '#']) {
        Some(i) if url[i..].starts_with(':') => {
            let scheme = url[..i].to_ascii_lowercase();
            scheme == "http" || scheme == "https"
        }
        _ => true,
    }
}

/// An SVG document without its XML declaration, to sit inside HTML.
fn strip_prolog(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(at) => &svg[at..],
        None => svg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::report;
    use crate::group::Group;
    use crate::strategy::StrategyKind;

    #[test]
    fn the_page_is_self_contained_with_its_charts_inlined() {
        let r = report(&[
            (Group::CountdownWeak, StrategyKind::Threads, 1, 100e6),
            (Group::CountdownWeak, StrategyKind::Threads, 2, 101e6),
            (Group::CountdownWeak, StrategyKind::Gil, 1, 100e6),
            (Group::CountdownWeak, StrategyKind::Gil, 2, 200e6),
        ]);
        let page = Html.render(&r).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<table>") && page.contains("countdown_weak"));
        // Every chart the Markdown shows is inline; no image refers to another file.
        assert!(
            page.matches("<span class=\"chart\"><svg").count() >= 2,
            "{page}"
        );
        assert!(!page.contains("<img"), "an image was left as a link");
        assert!(!page.contains("<?xml"));
    }
}
