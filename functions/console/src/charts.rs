//! Charts as server-rendered SVG (plotters' SVG backend: no script, no request leaving the
//! machine, every text escaped by the backend), each with its numbers as a table beside it —
//! the accessible and the copyable form of the same data. A chart without data is absent.

use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::prelude::*;
use serde_json::{Value, json};

const SIZE: (u32, u32) = (720, 260);
/// Colour-blind-safe (Okabe–Ito), dark enough on white.
const PALETTE: [RGBColor; 4] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One point per label, lines between days that have a value.
    Line,
    /// One horizontal bar per label (rankings and distributions).
    Bars,
}

pub struct Series {
    pub name: String,
    /// One per label; `None` where there is no value (a day without answers).
    pub values: Vec<Option<f64>>,
}

pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub kind: Kind,
    pub labels: Vec<String>,
    pub series: Vec<Series>,
    /// A fixed value axis (NPS: −100 to 100); otherwise from the data.
    pub range: Option<(f64, f64)>,
    /// Values are scores, where 0 is a value (an NPS of 0), not counts, where all zeros
    /// means nothing happened yet.
    pub scores: bool,
}

impl Chart {
    pub fn new(id: &'static str, title: &str, kind: Kind, labels: Vec<String>) -> Self {
        Self {
            id,
            title: title.to_owned(),
            kind,
            labels,
            series: Vec::new(),
            range: None,
            scores: false,
        }
    }

    pub fn series(mut self, name: &str, values: Vec<Option<f64>>) -> Self {
        self.series.push(Series {
            name: name.to_owned(),
            values,
        });
        self
    }

    /// Scores on a fixed axis (NPS −100 to 100, CSAT 0 to 100 %).
    pub fn scores(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self.scores = true;
        self
    }

    /// No label, or no value at all (for counts, zeros everywhere count as no data: a flat
    /// line says nothing the table does not).
    pub fn is_empty(&self) -> bool {
        let counts = !self.scores;
        self.labels.is_empty()
            || self.series.iter().all(|s| {
                s.values
                    .iter()
                    .all(|v| v.is_none_or(|v| counts && v == 0.0))
            })
    }

    /// What the page renders: the SVG and the table, or `None` when there is no data.
    pub fn context(&self) -> Option<Value> {
        if self.is_empty() {
            return None;
        }
        let svg = self.svg()?;
        let rows: Vec<Value> = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let cells: Vec<Value> = self
                    .series
                    .iter()
                    .map(|s| json!(s.values.get(i).copied().flatten().map(number)))
                    .collect();
                json!({"label": l, "cells": cells})
            })
            .collect();
        Some(json!({
            "id": self.id,
            "title": self.title,
            "svg": svg,
            "columns": self.series.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "rows": rows,
        }))
    }

    fn bounds(&self) -> (f64, f64) {
        if let Some(r) = self.range {
            return r;
        }
        let all = self.series.iter().flat_map(|s| s.values.iter().flatten());
        let (lo, hi) = all.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        let hi = if hi <= lo {
            lo + 1.0
        } else {
            hi + (hi - lo) * 0.08
        };
        (lo, hi)
    }

    fn svg(&self) -> Option<String> {
        let mut out = String::new();
        let drawn = {
            let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
            match self.kind {
                Kind::Line => self.draw_lines(&root),
                Kind::Bars => self.draw_bars(&root),
            }
        };
        if let Err(e) = drawn {
            tracing::warn!(chart = self.id, error = %e, "chart not drawn");
            return None;
        }
        // The table beside it carries the numbers for assistive technology.
        Some(out.replacen("<svg ", "<svg aria-hidden=\"true\" focusable=\"false\" ", 1))
    }

    fn draw_lines(
        &self,
        root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        let n = i32::try_from(self.labels.len()).unwrap_or(i32::MAX);
        let (lo, hi) = self.bounds();
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0..(n - 1).max(1), lo..hi)?;
        let labels = &self.labels;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_labels(8.min(labels.len()))
            .x_label_formatter(&|x| {
                let i = usize::try_from(*x).unwrap_or(0);
                labels.get(i).map(|l| short_day(l)).unwrap_or_default()
            })
            .y_label_formatter(&|y| number(*y).to_string())
            .draw()?;
        for (k, s) in self.series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let points: Vec<(i32, f64)> = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((i32::try_from(i).ok()?, (*v)?)))
                .collect();
            // Lines only between neighbouring days that both have a value.
            for pair in points.windows(2).filter(|w| w[1].0 == w[0].0 + 1) {
                chart.draw_series(LineSeries::new(pair.iter().copied(), color.stroke_width(2)))?;
            }
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 12, y + 4)], color.filled())
                });
        }
        if self.series.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()?;
        }
        root.present()?;
        Ok(())
    }

    fn draw_bars(
        &self,
        root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        let n = i32::try_from(self.labels.len()).unwrap_or(i32::MAX);
        let (lo, hi) = self.bounds();
        // An integer range includes its end: `0..n-1` has the n segments, one per label (a
        // lone bar gets a second, empty one: a range must not be a point). The first label
        // is drawn at the top.
        let top = (n - 1).max(1);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(28)
            .y_label_area_size(160)
            .build_cartesian_2d(lo..hi, (0..top).into_segmented())?;
        let labels = &self.labels;
        let label_at = |p: i32| usize::try_from(n - 1 - p).ok().and_then(|i| labels.get(i));
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .y_labels(labels.len() + 1)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(p) => label_at(*p).cloned().unwrap_or_default(),
                SegmentValue::Exact(_) | SegmentValue::Last => String::new(),
            })
            .x_label_formatter(&|x| number(*x).to_string())
            .draw()?;
        let values = self
            .series
            .first()
            .map(|s| s.values.as_slice())
            .unwrap_or(&[]);
        let color = PALETTE[0];
        chart.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
            let p = n - 1 - i32::try_from(i).ok()?;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(p)),
                    ((*v)?, SegmentValue::Exact(p + 1)),
                ],
                color.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            Some(bar)
        }))?;
        root.present()?;
        Ok(())
    }
}

/// `2026-11-16` → `11-16` on the axis (the table keeps the whole date).
fn short_day(label: &str) -> String {
    let b = label.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        label[5..].to_owned()
    } else {
        label.to_owned()
    }
}

/// Whole numbers without a decimal point, others to one decimal.
pub fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        json!(v as i64)
    } else {
        json!((v * 10.0).round() / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_without_data_is_absent_and_text_is_escaped() {
        let empty = Chart::new("x", "X", Kind::Line, vec!["a".into(), "b".into()])
            .series("s", vec![None, Some(0.0)]);
        assert!(empty.context().is_none());
        let bars = Chart::new(
            "t",
            "Tiers",
            Kind::Bars,
            vec!["<script>alert(1)</script>".into(), "gold".into()],
        )
        .series("customers", vec![Some(3.0), Some(1.5)]);
        let ctx = bars.context().unwrap();
        let svg = ctx["svg"].as_str().unwrap();
        assert!(svg.starts_with("<svg aria-hidden=\"true\""), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;") && !svg.contains("<script"),
            "{svg}"
        );
        assert!(!svg.contains("style="), "no inline style for the CSP");
        assert_eq!(ctx["rows"][1]["cells"][0], json!(1.5));
        assert_eq!(ctx["rows"][0]["cells"][0], json!(3));
        let line = Chart::new(
            "n",
            "NPS",
            Kind::Line,
            vec!["d1".into(), "d2".into(), "d3".into()],
        )
        .series("nps", vec![Some(40.0), None, Some(-20.0)])
        .scores(-100.0, 100.0);
        let ctx = line.context().unwrap();
        assert_eq!(
            ctx["rows"][1]["cells"][0],
            Value::Null,
            "a day without answers"
        );
        assert_eq!(ctx["svg"].as_str().unwrap().matches("<circle").count(), 2);
        let zero = Chart::new("z", "NPS", Kind::Bars, vec!["gold".into()])
            .series("nps", vec![Some(0.0)])
            .scores(-100.0, 100.0);
        assert!(zero.context().is_some(), "an NPS of 0 is data");
    }
}

#[cfg(test)]
mod preview {
    /// Writes sample charts to `$FANLOOP_CHART_PREVIEW` (an HTML file) to look at them.
    #[test]
    fn preview() {
        let Ok(path) = std::env::var("FANLOOP_CHART_PREVIEW") else {
            return;
        };
        use super::*;
        let one = Chart::new("a", "A", Kind::Bars, vec!["potential".into()])
            .series("NPS", vec![Some(-100.0)])
            .scores(-100.0, 100.0);
        let three = Chart::new(
            "b",
            "B",
            Kind::Bars,
            vec!["a".into(), "b".into(), "c".into()],
        )
        .series("n", vec![Some(3.0), Some(7.0), Some(1.0)]);
        let line = Chart::new(
            "c",
            "C",
            Kind::Line,
            (16..=22).map(|d| format!("2026-11-{d}")).collect(),
        )
        .series(
            "x",
            vec![
                Some(1.0),
                Some(4.0),
                None,
                Some(2.0),
                Some(5.0),
                Some(5.0),
                Some(0.0),
            ],
        )
        .series(
            "y",
            vec![
                Some(2.0),
                Some(1.0),
                Some(1.0),
                Some(0.0),
                Some(3.0),
                Some(2.0),
                Some(1.0),
            ],
        );
        let html: String = [one, three, line]
            .iter()
            .map(|c| c.context().unwrap()["svg"].as_str().unwrap().to_owned())
            .collect();
        std::fs::write(path, html).unwrap();
    }
}
