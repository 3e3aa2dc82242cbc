//! `github-benchmark.json`: github-action-benchmark's `customSmallerIsBetter` input, a list of
//! `{"name": id, "unit": "ns", "value": median, "range": "± half the CI width"}`.

use serde::Serialize;

use super::{Exporter, Report};
use crate::error::Result;

/// The github-action-benchmark exporter.
pub struct GithubAction;

#[derive(Serialize)]
struct Entry<'a> {
    name: std::borrow::Cow<'a, str>,
    unit: &'static str,
    value: f64,
    range: String,
}

impl Exporter for GithubAction {
    fn file_name(&self) -> &'static str {
        "github-benchmark.json"
    }

    fn render(&self, report: &Report) -> Result<String> {
        let mut entries: Vec<Entry<'_>> = report
            .records
            .iter()
            .map(|r| Entry {
                name: r.id.to_string().into(),
                unit: "ns",
                value: r.median_ns,
                range: format!("± {:.0}", (r.median_upper_ns - r.median_lower_ns) / 2.0),
            })
            .collect();
        for d in &report.dispatch {
            for (what, e) in [("per task", d.per_task_ns), ("per map", d.per_map_ns)] {
                if let Some(e) = e {
                    entries.push(Entry {
                        name: format!("dispatch_cost/{}/{} {what}", d.strategy, d.workers).into(),
                        unit: "ns",
                        value: e.point,
                        range: format!("± {:.0}", (e.upper - e.lower) / 2.0),
                    });
                }
            }
        }
        Ok(serde_json::to_string_pretty(&entries).expect("entries serialise") + "\n")
    }
}
