//! `--plot DIR`: an SVG bar chart of every pool's time relative to executor.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::runner::{Cell, Metric, Results};

/// Writes `dir/benchmarks.svg`; returns its path.
pub fn write_svg(results: &Results, dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = dir.join("benchmarks.svg");
    draw(results, &path).map_err(|e| format!("drawing {}: {e}", path.display()))?;
    Ok(path)
}

fn draw(results: &Results, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let metrics: Vec<Metric> = results.rows.iter().map(|(m, _)| *m).collect();
    let pools = &results.pools;
    let ratio = |m: Metric, p: &str| results.ratio(m, p);
    let all: Vec<f64> = metrics
        .iter()
        .flat_map(|m| pools.iter().filter_map(move |p| ratio(*m, p)))
        .collect();
    let lo = all.iter().copied().fold(1.0f64, f64::min);
    let hi = all.iter().copied().fold(1.0f64, f64::max);
    let (y_lo, y_hi) = ((lo / 2.0).min(0.25), (hi * 2.5).max(4.0));
    let n = metrics.len() as f64;

    let root = SVGBackend::new(path, (1300, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot_area, legend_area) = root.split_horizontally(1160);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(
            "executor-bench: each pool's median time / executor's (lower is better, log scale)",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5f64..n - 0.5, (y_lo..y_hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_labels(metrics.len())
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < metrics.len() {
                metrics[i as usize].short().to_string()
            } else {
                String::new()
            }
        })
        .y_desc("time / executor's time")
        .y_label_formatter(&|y| format!("{y}x"))
        .label_style(("sans-serif", 14))
        .draw()?;

    // executor's level: 1.0x.
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(-0.5, 1.0), (n - 0.5, 1.0)],
        BLACK.mix(0.6).stroke_width(1),
    )))?;

    let width = 0.84 / pools.len() as f64;
    for (k, pool) in pools.iter().enumerate() {
        let color = Palette99::pick(k).mix(0.9);
        let x0 = |i: usize| i as f64 - 0.42 + k as f64 * width;
        let bars = metrics.iter().enumerate().filter_map(|(i, m)| {
            let r = ratio(*m, pool)?;
            Some(Rectangle::new(
                [(x0(i), y_lo), (x0(i) + width * 0.9, r)],
                color.filled(),
            ))
        });
        chart.draw_series(bars)?;
        let y = 60 + 24 * k as i32;
        legend_area.draw(&Rectangle::new([(4, y - 7), (18, y + 7)], color.filled()))?;
        legend_area.draw(&Text::new(
            pool.to_string(),
            (24, y - 7),
            ("sans-serif", 14).into_font(),
        ))?;
        let labels = metrics.iter().enumerate().map(|(i, m)| {
            let (text, y) = match (ratio(*m, pool), results.cell(*m, pool)) {
                (Some(r), _) => (format_ratio(r), r * 1.02),
                (None, Some(Cell::NotApplicable(_))) => ("n/a".to_string(), y_lo * 1.3),
                (None, _) => (String::new(), y_lo),
            };
            let style = ("sans-serif", 9)
                .into_font()
                .into_text_style(&root)
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            Text::new(text, (x0(i) + width * 0.45, y), style)
        });
        chart.draw_series(labels)?;
    }
    root.present()?;
    Ok(())
}

/// Bar label: the ratio without the `x` (the axis says it), short enough to
/// fit above a bar.
fn format_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.2}")
    }
}
