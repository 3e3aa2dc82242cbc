//! `bmf.json`: Bencher Metric Format, `{"<id>": {"latency": {"value": ns, "lower_value": ns,
//! "upper_value": ns}}}`, for `bencher run --adapter json`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Exporter, Report};
use crate::error::Result;

/// The BMF exporter.
pub struct Bmf;

#[derive(Serialize)]
struct Metric {
    value: f64,
    lower_value: f64,
    upper_value: f64,
}

impl Exporter for Bmf {
    fn file_name(&self) -> &'static str {
        "bmf.json"
    }

    fn render(&self, report: &Report) -> Result<String> {
        let mut map: BTreeMap<String, BTreeMap<&str, Metric>> = report
            .records
            .iter()
            .map(|r| {
                let metric = Metric {
                    value: r.median_ns,
                    lower_value: r.median_lower_ns,
                    upper_value: r.median_upper_ns,
                };
                (r.id.to_string(), BTreeMap::from([("latency", metric)]))
            })
            .collect();
        // The derived dispatch costs, as measures of their own under `dispatch_cost/<k>/<w>`.
        for d in &report.dispatch {
            let mut measures = BTreeMap::new();
            for (name, e) in [
                ("per-task", d.per_task_ns),
                ("per-map", d.per_map_ns),
                ("wake-up", d.wakeup_ns),
            ] {
                if let Some(e) = e {
                    measures.insert(
                        name,
                        Metric {
                            value: e.point,
                            lower_value: e.lower,
                            upper_value: e.upper,
                        },
                    );
                }
            }
            if !measures.is_empty() {
                map.insert(
                    format!("dispatch_cost/{}/{}", d.strategy, d.workers),
                    measures,
                );
            }
        }
        Ok(serde_json::to_string_pretty(&map).expect("BMF serialises") + "\n")
    }
}
