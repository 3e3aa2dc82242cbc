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
        let map: BTreeMap<&str, BTreeMap<&str, Metric>> = report
            .records
            .iter()
            .map(|r| {
                let metric = Metric {
                    value: r.median_ns,
                    lower_value: r.median_lower_ns,
                    upper_value: r.median_upper_ns,
                };
                (r.id.as_str(), BTreeMap::from([("latency", metric)]))
            })
            .collect();
        Ok(serde_json::to_string_pretty(&map).expect("BMF serialises") + "\n")
    }
}
