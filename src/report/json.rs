//! `results.json`: the [`Report`] itself, every field documented on [`super::BenchRecord`] (times
//! in nanoseconds, ratios unitless). `poolscale gate --against` reads it back.

use super::{Exporter, Report};
use crate::error::Result;

/// The JSON exporter.
pub struct Json;

impl Exporter for Json {
    fn file_name(&self) -> &'static str {
        "results.json"
    }

    fn render(&self, report: &Report) -> Result<String> {
        Ok(serde_json::to_string_pretty(report).expect("a report serialises") + "\n")
    }
}
