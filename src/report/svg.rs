//! The report's charts, drawn with plotters' SVG backend: for each group, time against workers
//! (log scale where values span more than 20x) with the ideal dashed, and, for groups with a
//! scaling model, speedup against workers with the ideal speedup dashed. One line per strategy.

use plotters::prelude::*;

use super::{Report, ideal_ns};
use crate::error::{Error, Result};
use crate::group::{BenchId, Group, Model};
use crate::strategy::{StrategyKind, StrategyName};

const SIZE: (u32, u32) = (760, 460);

/// Each strategy's colour, stable across charts (a fact of the strategy registry).
fn colour(kind: StrategyName) -> RGBColor {
    let (r, g, b) = kind.colour();
    RGBColor(r, g, b)
}

/// What a chart plots against workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plot {
    Time,
    Speedup,
    /// CPU time / wall time.
    Cores,
    /// `dispatch` only: the marginal cost per task (the slope to `dispatch_bulk`).
    Marginal,
}

impl Plot {
    fn name(self) -> &'static str {
        match self {
            Plot::Time => "time",
            Plot::Speedup => "speedup",
            Plot::Cores => "cores",
            Plot::Marginal => "marginal",
        }
    }
}

/// The charts a group gets: time always, speedup with a scaling model, cores busy when the
/// benches observed CPU time.
fn plots(report: &Report, group: Group) -> Vec<Plot> {
    let mut p = vec![Plot::Time];
    if group.model() != Model::PerUnit {
        p.push(Plot::Speedup);
    }
    if report.group(group).any(|r| r.cores_busy.is_some()) {
        p.push(Plot::Cores);
    }
    if group == Group::Dispatch && report.dispatch.iter().any(|d| d.per_task_ns.is_some()) {
        p.push(Plot::Marginal);
    }
    p
}

/// The file name of a group's chart.
pub fn chart_name(group: Group, plot: &str) -> String {
    format!("{group}-{plot}.svg")
}

/// The file name of a timeline in the report.
pub fn timeline_name(t: &crate::measure::timeline::Timeline) -> String {
    let safe: String = t
        .title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("timeline-{safe}.svg")
}

/// What a group's time chart plots per record, and its axis label.
fn time_axis(group: Group) -> (&'static str, fn(&super::BenchRecord) -> f64) {
    match group.per_unit() {
        Some(u) => (u.axis, |r| r.per_unit_ns.unwrap_or(0.0) / 1e3),
        None => ("median time (ms)", |r| r.median_ns / 1e6),
    }
}

/// The ideal curve for a parallel strategy, as (workers, value in the chart's unit).
fn ideal_curve(report: &Report, group: Group, speedup: bool) -> Vec<(f64, f64)> {
    let t1 = report
        .get(BenchId::new(group, StrategyKind::Sequential, 1))
        .map(|r| r.median_ns);
    let ideal = |w: usize, t1: Option<f64>| {
        ideal_ns(
            group,
            StrategyKind::Threads.info(),
            w,
            t1,
            report.cores,
            &report.settings.workloads(),
        )
    };
    let workers: Vec<usize> = report.settings.workers.clone();
    workers
        .iter()
        .filter_map(|&w| {
            let v = if speedup {
                match group.model() {
                    Model::Weak => w as f64 / ideal(w, Some(1.0))?,
                    _ => ideal(1, Some(1.0))? / ideal(w, Some(1.0))?,
                }
            } else {
                ideal(w, t1)? / 1e6
            };
            Some((w as f64, v))
        })
        .collect()
}

fn draw_err(path: &str, e: impl std::fmt::Display) -> Error {
    Error::Chart {
        path: path.into(),
        detail: e.to_string(),
    }
}

/// Renders one chart to an SVG string.
fn chart(report: &Report, group: Group, plot: Plot) -> Result<String> {
    let name = chart_name(group, plot.name());
    let speedup = plot == Plot::Speedup;
    let (y_label, value): (&str, fn(&super::BenchRecord) -> f64) = match plot {
        Plot::Speedup => ("speedup over 1 worker", |r| r.speedup.unwrap_or(0.0)),
        Plot::Cores => ("cores busy (CPU time / wall time)", |r| {
            r.cores_busy.unwrap_or(f64::NAN)
        }),
        Plot::Time => time_axis(group),
        Plot::Marginal => ("marginal cost per task (ns)", |_| f64::NAN),
    };
    let series: Vec<(StrategyName, Vec<(f64, f64)>)> = report
        .strategies(group)
        .into_iter()
        .map(|k| {
            if plot == Plot::Marginal {
                let pts = report
                    .dispatch
                    .iter()
                    .filter(|d| d.strategy == k)
                    .filter_map(|d| Some((d.workers as f64, d.per_task_ns?.point)))
                    .filter(|(_, v)| *v > 0.0)
                    .collect();
                return (k, pts);
            }
            let pts = report
                .group(group)
                .filter(|r| r.id.strategy == k)
                .map(|r| (r.id.workers as f64, value(r)))
                .filter(|(_, v)| v.is_finite() && (*v > 0.0 || plot == Plot::Cores))
                .collect();
            (k, pts)
        })
        .collect();
    let ideal = if group.model() == Model::PerUnit || plot == Plot::Cores {
        Vec::new()
    } else {
        ideal_curve(report, group, speedup)
    };
    let all = series
        .iter()
        .flat_map(|(_, p)| p.iter())
        .chain(ideal.iter());
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::MAX, 0.0f64);
    for &(x, y) in all {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if y_max <= 0.0 {
        y_min = 0.1;
        y_max = 1.0;
    }
    let caption = format!(
        "{group}: {}",
        match plot {
            Plot::Cores => "cores busy",
            Plot::Marginal => "marginal cost per task",
            p => p.name(),
        }
    );
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&name, e))?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(caption, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(64);
        let x_range = 0.8f64..(x_max * 1.05);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart.map_err(|e| draw_err(&name, e))?;
                chart
                    .configure_mesh()
                    .x_desc("workers")
                    .y_desc(y_label)
                    .light_line_style(TRANSPARENT)
                    .x_labels(x_max as usize + 1)
                    .x_label_formatter(&|x| {
                        // Workers are whole: a tick between two counts gets no label.
                        if (x - x.round()).abs() < 1e-6 {
                            format!("{x:.0}")
                        } else {
                            String::new()
                        }
                    })
                    .y_label_formatter(&|y| format_tick(*y))
                    .y_labels(12)
                    .draw()
                    .map_err(|e| draw_err(&name, e))?;
                for (kind, pts) in &series {
                    let c = colour(*kind);
                    chart
                        .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                        .map_err(|e| draw_err(&name, e))?
                        .label(kind.as_str())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                        });
                    chart
                        .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                        .map_err(|e| draw_err(&name, e))?;
                }
                if !ideal.is_empty() {
                    let label = match (group.model(), speedup) {
                        (Model::Rounds, _) => "ideal: ceil(tasks / w) naps".to_string(),
                        (_, true) => format!("ideal on {} cores", report.cores),
                        (_, false) => format!(
                            "ideal on {} cores, from sequential's 1-worker time",
                            report.cores
                        ),
                    };
                    chart
                        .draw_series(DashedLineSeries::new(
                            ideal.iter().copied(),
                            6,
                            4,
                            BLACK.stroke_width(1),
                        ))
                        .map_err(|e| draw_err(&name, e))?
                        .label(label)
                        .legend(|(x, y)| {
                            // Dashed, as the line it stands for.
                            EmptyElement::at((x, y))
                                + PathElement::new(vec![(0, 0), (6, 0)], BLACK)
                                + PathElement::new(vec![(10, 0), (16, 0)], BLACK)
                        });
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperLeft)
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK.mix(0.4))
                    .draw()
                    .map_err(|e| draw_err(&name, e))?;
            }};
        }
        // A log scale only where values span more than 20x (dispatch's per-task costs); a
        // linear scale from zero reads better otherwise.
        if matches!(plot, Plot::Time | Plot::Marginal) && y_max / y_min > 20.0 {
            let (lo, hi) = (y_min / 1.5, y_max * 8.0);
            // Ticks at 1, 2 and 5 times each power of ten, not only at the powers.
            let ticks: Vec<f64> = (lo.log10().floor() as i32..=hi.log10().ceil() as i32)
                .take(40)
                .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
                .filter(|t| (lo..=hi).contains(t))
                .collect();
            draw!(builder.build_cartesian_2d(x_range, (lo..hi).log_scale().with_key_points(ticks)));
        } else {
            // Headroom above the data keeps the legend (upper left) clear of the lines.
            draw!(builder.build_cartesian_2d(x_range, 0f64..(y_max * 1.6)));
        }
        root.present().map_err(|e| draw_err(&name, e))?;
    }
    Ok(buf)
}

/// A tick label with as few digits as the value needs: `200`, `12.5`, `0.35`.
fn format_tick(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Renders every chart: (file name, SVG text).
pub fn render_all(report: &Report) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for g in report.groups() {
        for p in plots(report, g) {
            out.push((chart_name(g, p.name()), chart(report, g, p)?));
        }
    }
    for t in &report.timelines {
        out.push((timeline_name(t), t.to_svg(&report.settings.strategies)));
    }
    if let Some(sweep) = &report.breakeven {
        for &w in sweep.workers.iter().filter(|&&w| sweep.has_points_at(w)) {
            out.push((breakeven_name(w), breakeven_chart(report, sweep, w)?));
        }
    }
    Ok(out)
}

/// The file name of the break-even chart at `workers`.
pub fn breakeven_name(workers: usize) -> String {
    format!("{}-{workers}.svg", crate::measure::sweep::NAME)
}

/// Speedup over `sequential` against work per task (both log scales) at `workers`: one line per
/// strategy, `sequential`'s 1 and the ideal dashed, each break-even marked where its line
/// crosses 1.
fn breakeven_chart(
    report: &Report,
    sweep: &crate::measure::sweep::Sweep,
    workers: usize,
) -> Result<String> {
    let name = breakeven_name(workers);
    let mut series: Vec<(StrategyName, Vec<(f64, f64)>)> = Vec::new();
    for p in &sweep.sizes {
        let Some(x) = p
            .task_ns
            .filter(crate::measure::sweep::usable)
            .map(|t| t.point)
        else {
            continue;
        };
        for a in p.arms.iter().filter(|a| a.workers == workers) {
            let Some(r) = a.vs_sequential.filter(crate::measure::sweep::usable) else {
                continue;
            };
            let y = 1.0 / r.point;
            match series.iter_mut().find(|(k, _)| *k == a.strategy) {
                Some((_, pts)) => pts.push((x, y)),
                None => series.push((a.strategy, vec![(x, y)])),
            }
        }
    }
    let ideal = (workers.min(sweep.cores).max(1)) as f64;
    let xs = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
    let (x_lo, x_hi) = xs.fold((f64::MAX, 0.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let y_lo = ys.fold(0.5f64, f64::min).max(1e-4);
    if x_hi <= 0.0 {
        return Err(draw_err(&name, "no size of the sweep was estimated"));
    }
    let (x_lo, x_hi) = (x_lo / 1.5, x_hi * 1.5);
    let (y_lo, y_hi) = (y_lo / 1.5, ideal * 2.5);
    let decades = |lo: f64, hi: f64, marks: &[f64]| -> Vec<f64> {
        (lo.log10().floor() as i32..=hi.log10().ceil() as i32)
            .take(40)
            .flat_map(|e| marks.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|t| (lo..=hi).contains(t))
            .collect()
    };
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&name, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "breakeven: speedup over sequential at {}",
                    crate::units::workers_noun(workers)
                ),
                ("sans-serif", 22),
            )
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(
                (x_lo..x_hi)
                    .log_scale()
                    .with_key_points(decades(x_lo, x_hi, &[1.0])),
                (y_lo..y_hi)
                    .log_scale()
                    .with_key_points(decades(y_lo, y_hi, &[1.0, 2.0, 5.0])),
            )
            .map_err(|e| draw_err(&name, e))?;
        chart
            .configure_mesh()
            .x_desc("work per task (one core)")
            .y_desc("speedup over sequential")
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&|x| crate::units::fmt_ns(*x))
            .y_label_formatter(&|y| format_tick(*y))
            .draw()
            .map_err(|e| draw_err(&name, e))?;
        for (kind, pts) in &series {
            let c = colour(*kind);
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                .map_err(|e| draw_err(&name, e))?
                .label(kind.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                .map_err(|e| draw_err(&name, e))?;
            // The break-even: where the line crosses 1.
            let crossing = report
                .break_evens
                .iter()
                .find(|b| b.strategy == *kind && b.workers == workers)
                .and_then(|b| match b.beats_sequential {
                    crate::analysis::breakeven::Crossing::At { size_ns, .. } => Some(size_ns),
                    _ => None,
                });
            if let Some(x) = crossing {
                chart
                    .draw_series(std::iter::once(Cross::new((x, 1.0), 6, c.stroke_width(3))))
                    .map_err(|e| draw_err(&name, e))?;
            }
        }
        let mut levels = vec![(1.0, "1: as fast as sequential".to_string())];
        if ideal > 1.0 {
            levels.push((ideal, format!("ideal on {} cores: {ideal:.0}", sweep.cores)));
        }
        for (level, label) in levels {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x_lo, level), (x_hi, level)],
                    6,
                    4,
                    BLACK.stroke_width(1),
                ))
                .map_err(|e| draw_err(&name, e))?
                .label(label)
                .legend(|(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (6, 0)], BLACK)
                        + PathElement::new(vec![(10, 0), (16, 0)], BLACK)
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(|e| draw_err(&name, e))?;
        root.present().map_err(|e| draw_err(&name, e))?;
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{StrategyInfo, StrategyName};

    #[test]
    fn a_declared_strategys_colour_reaches_its_timeline_in_the_report() {
        let mut report = crate::analysis::fixture::report(&[(
            Group::SquareSleep,
            StrategyKind::Threads,
            3,
            40e6,
        )]);
        let info = StrategyInfo {
            colour: (23, 190, 207),
            ..*StrategyKind::Threads.info()
        };
        // The benches record the suite's strategies with their facts in the settings.
        report
            .settings
            .strategies
            .push(StrategyName::declared("teal_pool", info).unwrap());
        report
            .timelines
            .push(crate::measure::timeline::Timeline::new(
                "square_sleep/teal_pool/3",
                "teal_pool",
                3,
                std::time::Duration::from_millis(40),
                vec![crate::strategy::Outcome {
                    value: 0,
                    worker: 0,
                    pid: 1,
                    started_ns: 0,
                    finished_ns: 10_000_000,
                }],
                Vec::new(),
            ));
        let charts = render_all(&report).unwrap();
        let (_, svg) = charts
            .iter()
            .find(|(name, _)| name == "timeline-square_sleep-teal_pool-3.svg")
            .expect("the timeline is drawn");
        assert!(svg.contains("rgb(23,190,207)"), "declared colour not used");
    }
}
