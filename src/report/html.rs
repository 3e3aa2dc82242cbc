//! `index.html`: the report as one self-contained page, the page to open after `cargo bench`.
//!
//! It is the Markdown report ([`super::markdown`]) rendered to HTML, so the page and `README.md`
//! never disagree, with every chart and timeline inlined (the page needs no other file) and a
//! stylesheet of its own. Links into Criterion's per-benchmark pages are the Markdown's.

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
        let charts: std::collections::BTreeMap<String, String> =
            super::svg::render_all(report)?.into_iter().collect();
        let parser =
            pulldown_cmark::Parser::new_ext(&markdown, pulldown_cmark::Options::ENABLE_TABLES);
        // Images of charts this report draws become the charts themselves.
        let events = parser.map(|e| match &e {
            pulldown_cmark::Event::Start(pulldown_cmark::Tag::Image { dest_url, .. }) => {
                match charts.get(dest_url.as_ref()) {
                    Some(svg) => pulldown_cmark::Event::Html(
                        format!("<span class=\"chart\">{}</span>", strip_prolog(svg)).into(),
                    ),
                    None => e,
                }
            }
            _ => e,
        });
        let mut body = String::new();
        pulldown_cmark::html::push_html(&mut body, drop_image_alts(events, &charts));
        Ok(format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>poolscale scaling report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
        ))
    }
}

/// An inlined image's alt text and end tag are dropped: the chart replaced the whole image.
fn drop_image_alts<'a>(
    events: impl Iterator<Item = pulldown_cmark::Event<'a>>,
    charts: &std::collections::BTreeMap<String, String>,
) -> impl Iterator<Item = pulldown_cmark::Event<'a>> {
    let mut inside = 0usize;
    let inlined = |e: &pulldown_cmark::Event<'_>| matches!(e, pulldown_cmark::Event::Html(h) if h.starts_with("<span class=\"chart\">"));
    let _ = charts;
    events.filter(move |e| {
        if inlined(e) {
            inside += 1;
            return true;
        }
        if inside > 0 {
            if matches!(e, pulldown_cmark::Event::End(pulldown_cmark::TagEnd::Image)) {
                inside -= 1;
            }
            return false;
        }
        true
    })
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
