//! Self-contained HTML page for a report: one file with inline CSS and inline SVG charts, no
//! scripts, fonts or other assets, so it opens offline, in a mail attachment or on a phone.
//!
//! Layout: title and subtitle, a table of contents linking to each section (when there is more
//! than one), then per section its heading, note, chart and table. Sections carry the classes
//! `section section-<id>` so one section kind can be styled on its own (`alerts` gets an amber
//! rule). Tables scroll sideways inside a wrapper; charts scale with the page through their
//! `viewBox`. Every piece of text from the report — titles, notes, labels, cell values — is
//! escaped, so a cell holding `<script>` or `=HYPERLINK("http://x","y")` shows as inert text.
//!
//! Output is deterministic: the same report gives the same bytes (no timestamps, no generated ids;
//! element ids come from section ids only).

use std::fmt::Write as _;

use polars::prelude::{DataFrame, DataType};

use crate::io::write::{cell_text, format_float};
use crate::report::{Chart, Report, Section};

/// The report as one HTML page.
#[must_use]
pub fn to_html(report: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let title = if report.title.trim().is_empty() {
        "custseg report"
    } else {
        report.title.as_str()
    };
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"custseg\">\n");
    // Writing into a String cannot fail, here and below.
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<style>{CSS}</style>");
    out.push_str("</head>\n<body>\n<main>\n<header>\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape(title));
    if !report.subtitle.trim().is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"subtitle\">{}</p>",
            escape(&report.subtitle)
        );
    }
    out.push_str("</header>\n");

    let slugs = section_slugs(&report.sections);
    if report.sections.len() > 1 {
        toc(&mut out, &report.sections, &slugs);
    }
    for (section, slug) in report.sections.iter().zip(&slugs) {
        section_html(&mut out, section, slug);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// The page's only style sheet: system fonts, light colours, a phone layout under 640 px and a
/// print layout (no scroll boxes, no sticky header, colours kept for the charts).
const CSS: &str = "
:root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--link:#0550ae}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#fff;color:var(--fg);font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"Helvetica Neue\",Arial,sans-serif}
main{max-width:1080px;margin:0 auto;padding:28px 20px 48px}
h1{font-size:1.65rem;line-height:1.25;margin:0 0 4px;letter-spacing:-.01em}
.subtitle{color:var(--muted);margin:0 0 20px}
a{color:var(--link);text-underline-offset:2px}
nav.toc{border:1px solid var(--line);border-radius:8px;background:var(--soft);padding:10px 16px 12px;margin:0 0 32px}
nav.toc h2{font-size:.75rem;text-transform:uppercase;letter-spacing:.08em;color:var(--muted);margin:0 0 4px;border:0;padding:0}
nav.toc ol{margin:0;padding-left:1.5em}
nav.toc li{margin:2px 0}
.count{color:var(--muted);font-size:.85em;white-space:nowrap}
section{margin:0 0 40px;scroll-margin-top:12px}
section>h2{font-size:1.25rem;line-height:1.3;margin:0 0 6px;padding-bottom:6px;border-bottom:1px solid var(--line)}
.note{color:var(--muted);margin:0 0 12px;max-width:70ch}
.section-alerts{border-left:4px solid #d97706;background:#fffbeb;padding:14px 16px 16px;border-radius:0 8px 8px 0}
.section-alerts>h2{color:#7c2d12;border-bottom-color:#f5d48f}
.section-alerts .note{color:#78350f}
nav.toc .toc-alerts a{color:#9a3412;font-weight:600}
.chart{margin:10px 0 18px}
.chart svg{display:block;width:100%;height:auto}
.chart text{fill:var(--fg)}
.chart .axis{fill:var(--muted)}
.table-wrap{overflow:auto;width:fit-content;max-width:100%;border:1px solid var(--line);border-radius:6px;background:#fff}
.table-wrap.tall{max-height:75vh}
table{border-collapse:separate;border-spacing:0;font-size:.875rem;font-variant-numeric:tabular-nums}
th,td{padding:6px 11px;text-align:left;white-space:nowrap;vertical-align:top;border-bottom:1px solid #e8ecf0}
thead th{position:sticky;top:0;z-index:1;background:var(--soft);font-weight:600;border-bottom:1px solid var(--line)}
tbody tr:nth-child(even) td{background:#fafbfc}
tbody tr:last-child td{border-bottom:0}
th.num,td.num{text-align:right}
td.wrap{white-space:normal;min-width:16em;max-width:32em}
.none{color:var(--muted);font-style:italic;margin:4px 0}
@media (max-width:640px){
body{font-size:14px}
main{padding:16px 12px 32px}
h1{font-size:1.35rem}
section>h2{font-size:1.1rem}
th,td{padding:5px 8px}
td.wrap{min-width:12em}
.section-alerts{padding:10px 10px 12px}
}
@media print{
body{font-size:10pt}
main{max-width:none;padding:0}
nav.toc{break-inside:avoid}
section{break-inside:auto}
section>h2,.note{break-after:avoid}
table{font-size:8pt}
th,td{padding:3px 5px}
td.wrap{min-width:10em}
.chart,tr{break-inside:avoid}
.table-wrap,.table-wrap.tall{overflow:visible;max-height:none;border:0}
thead{display:table-header-group}
thead th{position:static}
a{color:inherit;text-decoration:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
";

/// HTML-escapes text for element content and quoted attribute values. Control characters other
/// than tab and newlines become U+FFFD (they are parse errors in HTML).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Element ids for the sections: the section id with anything but ASCII letters, digits, `-` and
/// `_` replaced by `-`, lower-cased; repeats get `-2`, `-3`... so every link has one target.
fn section_slugs(sections: &[Section]) -> Vec<String> {
    let mut slugs: Vec<String> = Vec::with_capacity(sections.len());
    for section in sections {
        let mut base: String = section
            .id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        if base.is_empty() {
            base = "section".to_string();
        }
        let mut slug = base.clone();
        let mut n = 2;
        while slugs.contains(&slug) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        slugs.push(slug);
    }
    slugs
}

/// The section's title, or its id when untitled (contents entries and accessible labels).
fn section_heading(section: &Section) -> &str {
    if section.title.trim().is_empty() {
        &section.id
    } else {
        &section.title
    }
}

fn rows_label(n: usize) -> String {
    if n == 1 {
        "1 row".to_string()
    } else {
        format!("{n} rows")
    }
}

fn toc(out: &mut String, sections: &[Section], slugs: &[String]) {
    out.push_str("<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n");
    for (section, slug) in sections.iter().zip(slugs) {
        // Row counts for tables only: a chart-only section has a table without columns.
        let count = if section.table.width() > 0 {
            format!(
                " <span class=\"count\">({})</span>",
                rows_label(section.table.height())
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<li class=\"toc-{slug}\"><a href=\"#{slug}\">{}</a>{count}</li>",
            escape(section_heading(section))
        );
    }
    out.push_str("</ol>\n</nav>\n");
}

fn section_html(out: &mut String, section: &Section, slug: &str) {
    let _ = writeln!(
        out,
        "<section id=\"{slug}\" class=\"section section-{slug}\">"
    );
    if !section.title.trim().is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>", escape(&section.title));
    }
    let heading = section_heading(section);
    if let Some(note) = section.note.as_deref().filter(|n| !n.trim().is_empty()) {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(note));
    }
    let svg = section.chart.as_ref().and_then(|c| chart_svg(c, heading));
    if let Some(svg) = &svg {
        let _ = writeln!(out, "<figure class=\"chart\">\n{svg}</figure>");
    }
    // A chart-only section (a table without columns) needs no "(none)" under its chart.
    if !(svg.is_some() && section.table.width() == 0) {
        table_html(out, &section.table, heading);
    }
    out.push_str("</section>\n");
}

/// Right-aligned columns: numbers and durations.
fn is_numeric(dtype: &DataType) -> bool {
    dtype.is_numeric() || matches!(dtype, DataType::Duration(_))
}

/// Cells longer than this wrap instead of widening the table without end.
const WRAP_CHARS: usize = 48;

fn table_html(out: &mut String, df: &DataFrame, label: &str) {
    if df.height() == 0 || df.width() == 0 {
        out.push_str("<p class=\"none\">(none)</p>\n");
        return;
    }
    let columns = df.columns();
    let numeric: Vec<bool> = columns.iter().map(|c| is_numeric(c.dtype())).collect();
    let class = if df.height() > 25 {
        "table-wrap tall"
    } else {
        "table-wrap"
    };
    // tabindex lets keyboard users scroll the box; the label names it for screen readers.
    let _ = writeln!(
        out,
        "<div class=\"{class}\" tabindex=\"0\" role=\"region\" aria-label=\"{}\">",
        escape(&format!("{label} table"))
    );
    out.push_str("<table>\n<thead><tr>");
    for (column, &num) in columns.iter().zip(&numeric) {
        let class = if num { " class=\"num\"" } else { "" };
        let _ = write!(
            out,
            "<th scope=\"col\"{class}>{}</th>",
            escape(column.name())
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for i in 0..df.height() {
        out.push_str("<tr>");
        for (column, &num) in columns.iter().zip(&numeric) {
            let text = column.get(i).map(|v| cell_text(&v)).unwrap_or_default();
            let class = if num {
                " class=\"num\""
            } else if text.chars().count() > WRAP_CHARS {
                " class=\"wrap\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(&text));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
}

// ---------------------------------------------------------------------------------------------
// Charts: inline SVG in user units; the page scales them to its width through the viewBox.

/// Series colours (Okabe–Ito, distinguishable with the common colour-vision deficiencies).
const PALETTE: [&str; 7] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#6e6e6e",
];
const FONT: f64 = 14.0;
/// Smaller text: values at bar ends and in heatmap cells, tick labels.
const SMALL: f64 = 13.0;
/// Bold text is about this much wider.
const BOLD: f64 = 1.1;
const MUTED: &str = "#59636e";
const GRID: &str = "#e3e7eb";

fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

fn chart_svg(chart: &Chart, label: &str) -> Option<String> {
    match chart {
        Chart::Bars {
            labels,
            series,
            percent,
        } => bars_svg(labels, series, *percent, label),
        Chart::Heatmap {
            rows,
            columns,
            values,
            legend,
            axes,
        } => heatmap_svg(rows, columns, values, legend, axes, label),
        Chart::Line { labels, series } => line_svg(labels, series, label),
    }
}

/// A coordinate with at most one decimal, no trailing `.0`.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_string();
    }
    let s = format!("{x:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Chart value text: `12.3%` for shares, otherwise short numbers (`1234`, `12.3k`, `4.5M`, `0.25`).
fn value_text(v: f64, percent: bool) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    if percent {
        let s = format!("{:.1}%", v * 100.0);
        return if s == "-0.0%" { "0.0%".to_string() } else { s };
    }
    let a = v.abs();
    let s = if a >= 1e9 {
        format!("{:.1}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s
    }
}

/// East Asian wide characters (about one em each).
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Estimated width of `text` at font size `font`, in ems per character class of common sans-serif
/// system fonts (the page has no font metrics; the estimate errs wide so text is cut, not clipped).
fn text_width(text: &str, font: f64) -> f64 {
    text.chars()
        .map(|c| match c {
            c if is_wide(c) => 1.0,
            'i' | 'j' | 'l' | 'I' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 0.3,
            'f' | 't' | 'r' | ' ' | '(' | ')' | '[' | ']' | '-' | '/' => 0.42,
            'm' | 'w' | 'M' | 'W' | '%' | '@' => 0.9,
            c if c.is_ascii_uppercase() => 0.7,
            _ => 0.6,
        })
        .sum::<f64>()
        * font
}

/// `text` cut with `…` to fit `max` user units.
fn fit(text: &str, font: f64, max: f64) -> String {
    if text_width(text, font) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut width = text_width("…", font);
    for c in text.chars() {
        let w = text_width(c.encode_utf8(&mut [0; 4]), font);
        if width + w > max {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    out
}

fn svg_open(out: &mut String, width: f64, height: f64, label: &str) {
    // No xmlns: inline SVG in HTML needs none, and the page stays free of URLs.
    let _ = writeln!(
        out,
        "<svg viewBox=\"0 0 {} {}\" width=\"100%\" style=\"max-width:{}px\" font-size=\"{FONT}\" role=\"img\" aria-label=\"{}\">",
        num(width),
        num(height),
        num(width * 1.1),
        escape(label)
    );
}

/// Where each legend item goes: items flow left to right from `x0` and wrap before `max_x`.
/// Returns (x, row) per item and the number of rows.
fn legend_layout(names: &[&str], x0: f64, max_x: f64) -> (Vec<(f64, usize)>, usize) {
    let mut places = Vec::with_capacity(names.len());
    let (mut x, mut row) = (x0, 0);
    for name in names {
        let w = 24.0 + text_width(&fit(name, FONT, 180.0), FONT) + 16.0;
        if x > x0 && x + w - 16.0 > max_x {
            x = x0;
            row += 1;
        }
        places.push((x, row));
        x += w;
    }
    (places, row + 1)
}

/// Height of one legend row.
const LEGEND_ROW: f64 = 22.0;

/// Draws the legend laid out by [`legend_layout`], first row centred on `y`; `line` draws line
/// swatches (line charts), otherwise squares.
fn legend(out: &mut String, names: &[&str], places: &[(f64, usize)], y: f64, line: bool) {
    for (i, (name, &(x, row))) in names.iter().zip(places).enumerate() {
        let y = y + row as f64 * LEGEND_ROW;
        if line {
            let _ = writeln!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.5\"/><circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\"/>",
                num(x),
                num(y),
                num(x + 18.0),
                num(y),
                colour(i),
                num(x + 9.0),
                num(y),
                colour(i)
            );
        } else {
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{}\"/>",
                num(x + 3.0),
                num(y - 6.0),
                colour(i)
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" dy=\".35em\">{}</text>",
            num(x + 24.0),
            num(y),
            escape(&fit(name, FONT, 180.0))
        );
    }
}

/// Value `i` of a series, NaN when the series is short.
fn value_at(values: &[f64], i: usize) -> f64 {
    values.get(i).copied().unwrap_or(f64::NAN)
}

/// (low, high) of the finite values, always including 0 and never empty.
fn domain<'a>(values: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0_f64, 0.0_f64);
    for &v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !(hi - lo).is_finite() {
        // Values near ±f64::MAX: keep the arithmetic finite.
        lo /= 4.0;
        hi /= 4.0;
    }
    if hi - lo <= 0.0 {
        hi = lo + 1.0;
    }
    (lo, hi)
}

/// Horizontal grouped bars: one group per label, one bar per series, value text at the bar end.
fn bars_svg(
    labels: &[String],
    series: &[(String, Vec<f64>)],
    percent: bool,
    title: &str,
) -> Option<String> {
    if labels.is_empty() || series.is_empty() {
        return None;
    }
    let width = 440.0;
    let n_series = series.len();
    let bar_h = if n_series == 1 { 22.0 } else { 15.0 };
    let bar_gap = 2.0;
    let group_gap = if n_series == 1 { 8.0 } else { 14.0 };
    let group_h = n_series as f64 * bar_h + (n_series - 1) as f64 * bar_gap;
    let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
    let label_max = 150.0;
    let label_w = labels
        .iter()
        .map(|l| text_width(&fit(l, FONT, label_max), FONT))
        .fold(30.0_f64, f64::max)
        + 12.0;
    let value_w = series
        .iter()
        .flat_map(|(_, vs)| vs.iter().take(labels.len()))
        .map(|&v| text_width(&value_text(v, percent), SMALL))
        .fold(24.0_f64, f64::max)
        + 10.0;
    let (lo, hi) = domain(
        series
            .iter()
            .flat_map(|(_, vs)| vs.iter().take(labels.len())),
    );
    let plot_x = label_w;
    let plot_w = (width - label_w - value_w).max(80.0);
    let x_of = |v: f64| plot_x + (v - lo) / (hi - lo) * plot_w;
    let x0 = x_of(0.0);
    let (places, legend_rows) = legend_layout(&names, plot_x - 3.0, width);
    let legend_h = if n_series > 1 {
        legend_rows as f64 * LEGEND_ROW + 6.0
    } else {
        0.0
    };
    let top = 4.0 + legend_h;
    let height = top + labels.len() as f64 * (group_h + group_gap) + 4.0;

    let mut out = String::new();
    svg_open(&mut out, width, height, title);
    if n_series > 1 {
        legend(&mut out, &names, &places, 14.0, false);
    }
    for (i, label) in labels.iter().enumerate() {
        let gy = top + i as f64 * (group_h + group_gap) + group_gap / 2.0;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" dy=\".35em\" text-anchor=\"end\">{}<title>{}</title></text>",
            num(label_w - 10.0),
            num(gy + group_h / 2.0),
            escape(&fit(label, FONT, label_max)),
            escape(label)
        );
        for (j, (name, values)) in series.iter().enumerate() {
            let v = value_at(values, i);
            let y = gy + j as f64 * (bar_h + bar_gap);
            let text = value_text(v, percent);
            if v.is_finite() {
                let xv = x_of(v);
                let (x, w) = (xv.min(x0), (xv - x0).abs());
                let _ = writeln!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\" fill=\"{}\"><title>{}</title></rect>",
                    num(x),
                    num(y),
                    num(w.max(1.0)),
                    num(bar_h),
                    colour(j),
                    escape(&format!("{label} · {name}: {text}"))
                );
                let tx = if v < 0.0 { x0 + 5.0 } else { xv + 5.0 };
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" dy=\".35em\" font-size=\"{SMALL}\">{}</text>",
                    num(tx),
                    num(y + bar_h / 2.0),
                    escape(&text)
                );
            } else {
                let _ = writeln!(
                    out,
                    "<text class=\"axis\" x=\"{}\" y=\"{}\" dy=\".35em\" font-size=\"{SMALL}\" fill=\"{MUTED}\">n/a</text>",
                    num(x0 + 5.0),
                    num(y + bar_h / 2.0)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#8c959f\"/>",
        num(x0),
        num(top),
        num(x0),
        num(height - 4.0)
    );
    out.push_str("</svg>\n");
    Some(out)
}

/// Sequential blue scale, light to dark, for `t` in 0..=1 (three stops of the `ColorBrewer` Blues
/// scheme, mixed linearly in sRGB).
fn heat_rgb(t: f64) -> [u8; 3] {
    const STOPS: [[f64; 3]; 3] = [
        [239.0, 246.0, 255.0],
        [107.0, 174.0, 214.0],
        [8.0, 48.0, 107.0],
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (a, b, u) = if t <= 0.5 {
        (STOPS[0], STOPS[1], t * 2.0)
    } else {
        (STOPS[1], STOPS[2], (t - 0.5) * 2.0)
    };
    let mix = |i: usize| (a[i] + (b[i] - a[i]) * u).round().clamp(0.0, 255.0) as u8;
    [mix(0), mix(1), mix(2)]
}

fn heat_colour(t: f64) -> String {
    let [r, g, b] = heat_rgb(t);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Text colour on a cell of colour `rgb`: white or the page's ink, whichever contrasts more
/// (WCAG relative luminance).
fn ink_on(rgb: [u8; 3]) -> &'static str {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let lum = 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
    // #1f2328 has a relative luminance of about 0.016.
    let against_white = 1.05 / (lum + 0.05);
    let against_ink = (lum + 0.05) / (0.016 + 0.05);
    if against_white > against_ink {
        "#ffffff"
    } else {
        "#1f2328"
    }
}

const EMPTY_CELL: &str = "#e1e4e8";

/// A grid coloured by value, value text in each cell, grey empty cells, a legend line below.
fn heatmap_svg(
    rows: &[String],
    columns: &[String],
    values: &[Vec<Option<f64>>],
    legend: &str,
    axes: &(String, String),
    title: &str,
) -> Option<String> {
    if rows.is_empty() || columns.is_empty() {
        return None;
    }
    let cell = |r: usize, c: usize| -> Option<f64> {
        values
            .get(r)
            .and_then(|row| row.get(c))
            .copied()
            .flatten()
            .filter(|v| v.is_finite())
    };
    let mut finite = Vec::new();
    let mut any_empty = false;
    for r in 0..rows.len() {
        for c in 0..columns.len() {
            match cell(r, c) {
                Some(v) => finite.push(v),
                None => any_empty = true,
            }
        }
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let scale = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };

    let text_max = finite
        .iter()
        .map(|&v| text_width(&value_text(v, false), SMALL))
        .fold(0.0_f64, f64::max);
    let col_label_cap = 130.0;
    let col_label_max = columns
        .iter()
        .map(|c| text_width(&fit(c, SMALL, col_label_cap), SMALL))
        .fold(0.0_f64, f64::max);
    // Column labels too wide for a cell (segment names in a migration matrix) slant up-right
    // over cells sized for the values alone.
    let slanted = col_label_max + 10.0 > 100.0;
    let cell_w = if slanted {
        text_max + 14.0
    } else {
        (text_max + 14.0).max(col_label_max + 10.0)
    }
    .clamp(50.0, 100.0);
    let slant = std::f64::consts::FRAC_1_SQRT_2;
    let col_labels_h = if slanted {
        col_label_max * slant + 16.0
    } else {
        22.0
    };
    let overhang = if slanted {
        (col_label_max * slant - cell_w / 2.0).max(0.0)
    } else {
        0.0
    };
    let cell_h = 36.0;
    let row_axis_w = if axes.0.trim().is_empty() { 0.0 } else { 22.0 };
    let row_label_max = 160.0;
    let row_label_w = rows
        .iter()
        .map(|r| text_width(&fit(r, FONT, row_label_max), FONT))
        .fold(12.0_f64, f64::max)
        + 12.0;
    let left = row_axis_w + row_label_w;
    let col_axis_h = if axes.1.trim().is_empty() { 0.0 } else { 22.0 };
    let top = col_axis_h + col_labels_h;
    let grid_w = columns.len() as f64 * cell_w;
    let grid_h = rows.len() as f64 * cell_h;

    // Legend line: "<legend>  low [steps] high   [grey] empty".
    let steps = 6;
    let step_w = 22.0;
    let legend_label = fit(legend, FONT, 220.0);
    let lo_text = if finite.is_empty() {
        String::new()
    } else {
        value_text(lo, false)
    };
    let hi_text = if finite.is_empty() {
        String::new()
    } else {
        value_text(hi, false)
    };
    let legend_x = 8.0_f64.min(left);
    let legend_w = text_width(&legend_label, BOLD * FONT)
        + 12.0
        + text_width(&lo_text, SMALL)
        + 6.0
        + steps as f64 * step_w
        + 6.0
        + text_width(&hi_text, SMALL)
        + if any_empty {
            24.0 + 16.0 + text_width("empty", SMALL)
        } else {
            0.0
        };
    let width = (left + grid_w + overhang).max(legend_x + legend_w) + 8.0;
    let legend_y = top + grid_h + 24.0;
    let height = legend_y + 16.0;

    let mut out = String::new();
    svg_open(&mut out, width, height, title);
    if col_axis_h > 0.0 {
        let _ = writeln!(
            out,
            "<text class=\"axis\" x=\"{}\" y=\"12\" dy=\".35em\" text-anchor=\"middle\" font-weight=\"600\" fill=\"{MUTED}\">{}</text>",
            num(left + grid_w / 2.0),
            escape(&fit(&axes.1, FONT, grid_w.max(120.0)))
        );
    }
    if row_axis_w > 0.0 {
        let (x, y) = (11.0, top + grid_h / 2.0);
        let _ = writeln!(
            out,
            "<text class=\"axis\" x=\"{}\" y=\"{}\" dy=\".35em\" text-anchor=\"middle\" font-weight=\"600\" fill=\"{MUTED}\" transform=\"rotate(-90 {} {})\">{}</text>",
            num(x),
            num(y),
            num(x),
            num(y),
            escape(&fit(&axes.0, FONT, grid_h.max(120.0)))
        );
    }
    for (c, label) in columns.iter().enumerate() {
        let x = left + (c as f64 + 0.5) * cell_w;
        if slanted {
            let y = top - 8.0;
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\" transform=\"rotate(-45 {} {})\">{}<title>{}</title></text>",
                num(x),
                num(y),
                num(x),
                num(y),
                escape(&fit(label, SMALL, col_label_cap)),
                escape(label)
            );
        } else {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" dy=\".35em\" text-anchor=\"middle\" font-size=\"{SMALL}\">{}</text>",
                num(x),
                num(top - 11.0),
                escape(label)
            );
        }
    }
    for (r, label) in rows.iter().enumerate() {
        let y = top + r as f64 * cell_h;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" dy=\".35em\" text-anchor=\"end\">{}</text>",
            num(left - 8.0),
            num(y + cell_h / 2.0),
            escape(&fit(label, FONT, row_label_max))
        );
        for (c, col_label) in columns.iter().enumerate() {
            let x = left + c as f64 * cell_w;
            let rect = |fill: &str| {
                format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\" fill=\"{fill}\">",
                    num(x + 1.0),
                    num(y + 1.0),
                    num(cell_w - 2.0),
                    num(cell_h - 2.0)
                )
            };
            match cell(r, c) {
                Some(v) => {
                    let t = scale(v);
                    let text = value_text(v, false);
                    let rgb = heat_rgb(t);
                    let ink = ink_on(rgb);
                    let _ = writeln!(
                        out,
                        "{}<title>{}</title></rect>",
                        rect(&heat_colour(t)),
                        escape(&format!(
                            "{} {label}, {} {col_label}: {text}",
                            axes.0, axes.1
                        ))
                    );
                    let _ = writeln!(
                        out,
                        "<text x=\"{}\" y=\"{}\" dy=\".35em\" text-anchor=\"middle\" font-size=\"{SMALL}\" style=\"fill:{ink}\">{}</text>",
                        num(x + cell_w / 2.0),
                        num(y + cell_h / 2.0),
                        escape(&text)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "{}<title>{}</title></rect>",
                        rect(EMPTY_CELL),
                        escape(&format!(
                            "{} {label}, {} {col_label}: empty",
                            axes.0, axes.1
                        ))
                    );
                }
            }
        }
    }

    let mut x = legend_x;
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" dy=\".35em\" font-weight=\"600\">{}</text>",
        num(x),
        num(legend_y),
        escape(&legend_label)
    );
    x += text_width(&legend_label, BOLD * FONT) + 12.0;
    if !finite.is_empty() {
        let _ = writeln!(
            out,
            "<text class=\"axis\" x=\"{}\" y=\"{}\" dy=\".35em\" font-size=\"{SMALL}\" fill=\"{MUTED}\">{}</text>",
            num(x),
            num(legend_y),
            escape(&lo_text)
        );
        x += text_width(&lo_text, SMALL) + 6.0;
        for s in 0..steps {
            let t = s as f64 / (steps - 1) as f64;
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"{}\"/>",
                num(x),
                num(legend_y - 6.0),
                num(step_w),
                heat_colour(t)
            );
            x += step_w;
        }
        x += 6.0;
        let _ = writeln!(
            out,
            "<text class=\"axis\" x=\"{}\" y=\"{}\" dy=\".35em\" font-size=\"{SMALL}\" fill=\"{MUTED}\">{}</text>",
            num(x),
            num(legend_y),
            escape(&hi_text)
        );
        x += text_width(&hi_text, SMALL);
    }
    if any_empty {
        x += 24.0;
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{EMPTY_CELL}\"/><text class=\"axis\" x=\"{}\" y=\"{}\" dy=\".35em\" font-size=\"{SMALL}\" fill=\"{MUTED}\">empty</text>",
            num(x),
            num(legend_y - 6.0),
            num(x + 16.0),
            num(legend_y)
        );
    }
    out.push_str("</svg>\n");
    Some(out)
}

/// Tick step for about `target` intervals over `range`: 1, 2, 2.5 or 5 times a power of ten.
fn nice_step(range: f64, target: f64) -> f64 {
    let raw = range / target;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let f = raw / magnitude;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Trend lines over ordered labels: y from 0 (or below, for negative values), gridlines at nice
/// ticks, a dot per value, gaps where a value is missing, a legend when there are several series.
fn line_svg(labels: &[String], series: &[(String, Vec<f64>)], title: &str) -> Option<String> {
    if labels.is_empty() || series.is_empty() {
        return None;
    }
    let n = labels.len();
    let (lo, hi) = domain(series.iter().flat_map(|(_, vs)| vs.iter().take(n)));
    let step = nice_step(hi - lo, 5.0);
    let (y_lo, y_hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    let (y_lo, y_hi) = if y_hi > y_lo && y_hi.is_finite() && y_lo.is_finite() {
        (y_lo, y_hi)
    } else {
        (lo, hi)
    };
    let mut ticks = Vec::new();
    let mut k = 0.0;
    while ticks.len() < 24 {
        let t = y_lo + k * step;
        if t > y_hi + step * 1e-9 {
            break;
        }
        ticks.push(t);
        k += 1.0;
    }

    let width = 460.0;
    let font = SMALL;
    let names: Vec<&str> = series.iter().map(|(s, _)| s.as_str()).collect();
    let left = ticks
        .iter()
        .map(|&t| text_width(&value_text(t, false), font))
        .fold(0.0_f64, f64::max)
        + 14.0;
    let (places, legend_rows) = legend_layout(&names, left, width);
    let legend_h = if series.len() > 1 {
        legend_rows as f64 * LEGEND_ROW + 6.0
    } else {
        0.0
    };
    let pad = 12.0;
    // Room for half the last x label past the last point.
    let last_label = labels
        .last()
        .map_or(0.0, |l| text_width(&fit(l, font, 110.0), font));
    let (top, right, bottom) = (
        12.0 + legend_h,
        (last_label / 2.0 - pad + 4.0).max(16.0),
        30.0,
    );
    let plot_h = 210.0;
    let height = top + plot_h + bottom;
    let plot_w = width - left - right;
    let x_of = |i: usize| {
        if n == 1 {
            left + plot_w / 2.0
        } else {
            left + pad + i as f64 * (plot_w - 2.0 * pad) / (n - 1) as f64
        }
    };
    let y_of = |v: f64| top + plot_h - (v - y_lo) / (y_hi - y_lo) * plot_h;

    let mut out = String::new();
    svg_open(&mut out, width, height, title);
    if series.len() > 1 {
        legend(&mut out, &names, &places, 14.0, true);
    }
    for &t in &ticks {
        let y = y_of(t);
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/><text class=\"axis\" x=\"{}\" y=\"{}\" dy=\".35em\" text-anchor=\"end\" font-size=\"{font}\" fill=\"{MUTED}\">{}</text>",
            num(left),
            num(y),
            num(width - right),
            num(y),
            if t == 0.0 { "#8c959f" } else { GRID },
            num(left - 6.0),
            num(y),
            escape(&value_text(t, false))
        );
    }
    // X labels: every k-th so they do not overlap, always the last one.
    let label_w = labels
        .iter()
        .map(|l| text_width(&fit(l, font, 110.0), font))
        .fold(0.0_f64, f64::max)
        + 10.0;
    let slot = if n > 1 {
        (plot_w - 2.0 * pad) / (n - 1) as f64
    } else {
        plot_w
    };
    let every = ((label_w / slot).ceil() as usize).max(1);
    let base = top + plot_h;
    for (i, label) in labels.iter().enumerate() {
        let x = x_of(i);
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#8c959f\"/>",
            num(x),
            num(base),
            num(x),
            num(base + 4.0)
        );
        let last = i == n - 1;
        if last || (i % every == 0 && n - 1 - i >= every) {
            let _ = writeln!(
                out,
                "<text class=\"axis\" x=\"{}\" y=\"{}\" dy=\".35em\" text-anchor=\"middle\" font-size=\"{font}\" fill=\"{MUTED}\">{}</text>",
                num(x),
                num(base + 16.0),
                escape(&fit(label, font, 110.0))
            );
        }
    }
    for (j, (name, values)) in series.iter().enumerate() {
        // One polyline per run of finite values.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for i in 0..n {
            let v = value_at(values, i);
            if v.is_finite() {
                if let Some(run) = runs.last_mut() {
                    run.push((x_of(i), y_of(v)));
                }
            } else if runs.last().is_some_and(|r| !r.is_empty()) {
                runs.push(Vec::new());
            }
        }
        for run in runs.iter().filter(|r| r.len() > 1) {
            let points: Vec<String> = run
                .iter()
                .map(|&(x, y)| format!("{},{}", num(x), num(y)))
                .collect();
            let _ = writeln!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>",
                points.join(" "),
                colour(j)
            );
        }
        for (i, label) in labels.iter().enumerate() {
            let v = value_at(values, i);
            if v.is_finite() {
                let _ = writeln!(
                    out,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"1\"><title>{}</title></circle>",
                    num(x_of(i)),
                    num(y_of(v)),
                    colour(j),
                    escape(&format!("{name} · {label}: {}", format_float(v)))
                );
            }
        }
    }
    out.push_str("</svg>\n");
    Some(out)
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;

    fn bars() -> Chart {
        Chart::Bars {
            labels: vec!["Champions".into(), "At risk <b>".into(), "Lost".into()],
            series: vec![
                ("customers".into(), vec![0.2, 0.35, 0.45]),
                ("revenue".into(), vec![0.6, f64::NAN, 0.1]),
            ],
            percent: true,
        }
    }

    fn heatmap() -> Chart {
        Chart::Heatmap {
            rows: vec!["5".into(), "4".into(), "3".into()],
            columns: vec!["1".into(), "2".into(), "3".into()],
            values: vec![
                vec![Some(120.5), None, Some(980.0)],
                vec![Some(f64::NAN), Some(40.0)],
                vec![],
            ],
            legend: "mean monetary".into(),
            axes: ("r_score".into(), "f_score".into()),
        }
    }

    fn line() -> Chart {
        Chart::Line {
            labels: vec![
                "2024-01".into(),
                "2024-02".into(),
                "2024-03".into(),
                "2024-04".into(),
            ],
            series: vec![
                ("active".into(), vec![10.0, 12.0, f64::NAN, 15.0]),
                ("new".into(), vec![3.0, 4.0, 2.0]),
            ],
        }
    }

    const HYPERLINK: &str = "=HYPERLINK(\"http://x\",\"y\")";

    fn hostile_table() -> DataFrame {
        df!(
            "customer_id" => ["c1", "<script>alert(1)</script>", HYPERLINK],
            "monetary" => [Some(10.5), None, Some(f64::NAN)],
            "orders" => [Some(3_i64), Some(1), None],
        )
        .expect("frame")
    }

    fn section(id: &str, table: DataFrame, chart: Option<Chart>) -> Section {
        Section {
            id: id.into(),
            title: format!("Section {id}"),
            note: Some("A note with \"quotes\" & <tags>".into()),
            table,
            chart,
        }
    }

    fn report() -> Report {
        Report {
            title: "VIP report <weekly>".into(),
            subtitle: "as of 2024-06-30".into(),
            sections: vec![
                section("segments", hostile_table(), Some(bars())),
                section("rfm grid", hostile_table(), Some(heatmap())),
                section("trend", hostile_table(), Some(line())),
                section("alerts", DataFrame::empty(), None),
            ],
        }
    }

    #[test]
    fn draws_an_svg_per_chart() {
        let html = to_html(&report());
        assert_eq!(html.matches("<svg ").count(), 3);
        assert!(html.contains("<polyline "), "line chart draws polylines");
        assert!(html.contains("mean monetary"), "heatmap legend");
        assert!(html.contains("35.0%"), "bars use percent text");
        assert!(html.contains(EMPTY_CELL), "empty heatmap cells are grey");
    }

    #[test]
    fn references_nothing_outside_the_page() {
        let html = to_html(&report());
        let escaped_payload = escape(HYPERLINK);
        assert!(html.contains(&escaped_payload));
        let rest = html.replace(&escaped_payload, "");
        assert!(
            !rest.contains("http://") && !rest.contains("https://"),
            "{rest}"
        );
        assert!(!html.contains("src="));
        assert!(!html.contains("url("));
        assert!(!html.contains("@import"));
        for href in html.split("href=\"").skip(1) {
            assert!(href.starts_with('#'), "link leaves the page: {href}");
        }
    }

    #[test]
    fn escapes_every_cell_and_label() {
        let html = to_html(&report());
        assert!(!html.to_lowercase().contains("<script"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("At risk &lt;b&gt;"));
        assert!(html.contains("<title>VIP report &lt;weekly&gt;</title>"));
        assert!(html.contains("with &quot;quotes&quot; &amp; &lt;tags&gt;"));
    }

    #[test]
    fn is_deterministic() {
        assert_eq!(to_html(&report()), to_html(&report()));
    }

    #[test]
    fn links_the_contents_to_section_ids() {
        let html = to_html(&report());
        assert!(html.contains("<a href=\"#segments\">"));
        assert!(html.contains("<section id=\"rfm-grid\" class=\"section section-rfm-grid\">"));
        assert!(html.contains("class=\"section section-alerts\""));
    }

    #[test]
    fn tables_align_numbers_and_leave_nulls_empty() {
        let html = to_html(&report());
        assert!(html.contains("<th scope=\"col\" class=\"num\">monetary</th>"));
        assert!(html.contains("<th scope=\"col\">customer_id</th>"));
        assert!(html.contains("<td class=\"num\">10.5</td><td class=\"num\">3</td>"));
        assert!(html.contains("<td class=\"num\"></td><td class=\"num\">1</td>"));
    }

    #[test]
    fn empty_tables_and_charts_say_none() {
        let html = to_html(&report());
        assert!(html.contains("<p class=\"none\">(none)</p>"));
        let empty = Report {
            title: String::new(),
            subtitle: String::new(),
            sections: vec![section(
                "x",
                DataFrame::empty(),
                Some(Chart::Line {
                    labels: vec![],
                    series: vec![],
                }),
            )],
        };
        let html = to_html(&empty);
        assert!(html.contains("(none)") && !html.contains("<svg"));
    }

    #[test]
    fn odd_values_do_not_panic() {
        let charts = [
            Chart::Bars {
                labels: vec!["a".into(), "b".into()],
                series: vec![("s".into(), vec![f64::NAN, f64::INFINITY])],
                percent: false,
            },
            Chart::Bars {
                labels: vec!["a".into(), "b".into()],
                series: vec![("s".into(), vec![-5.0, f64::MAX, -f64::MAX])],
                percent: false,
            },
            Chart::Heatmap {
                rows: vec!["a".into()],
                columns: vec!["b".into()],
                values: vec![],
                legend: String::new(),
                axes: (String::new(), String::new()),
            },
            Chart::Heatmap {
                rows: vec!["a".into()],
                columns: vec!["b".into(), "c".into()],
                values: vec![vec![Some(7.0), Some(7.0)]],
                legend: "same".into(),
                axes: ("r".into(), "c".into()),
            },
            Chart::Line {
                labels: vec!["only".into()],
                series: vec![("s".into(), vec![])],
            },
            Chart::Line {
                labels: vec!["a".into(), "b".into()],
                series: vec![("s".into(), vec![-3.0, f64::NEG_INFINITY])],
            },
            Chart::Line {
                labels: vec!["a".into(), "b".into()],
                series: vec![("s".into(), vec![f64::MAX, -f64::MAX])],
            },
        ];
        for chart in charts {
            let r = Report {
                title: "t".into(),
                subtitle: String::new(),
                sections: vec![section("c", DataFrame::empty(), Some(chart))],
            };
            let html = to_html(&r);
            assert!(html.contains("<svg "));
            assert!(!html.contains("NaN") && !html.contains("inf"), "{html}");
        }
    }

    #[test]
    fn number_text() {
        assert_eq!(value_text(0.1234, true), "12.3%");
        assert_eq!(value_text(-0.0001, true), "0.0%");
        assert_eq!(value_text(1234.4, false), "1234");
        assert_eq!(value_text(12_345.0, false), "12.3k");
        assert_eq!(value_text(2_500_000.0, false), "2.5M");
        assert_eq!(value_text(0.25, false), "0.25");
        assert_eq!(value_text(f64::NAN, false), "n/a");
        assert_eq!(value_text(nice_step(100.0, 5.0), false), "20");
        assert_eq!(value_text(nice_step(12.0, 5.0), false), "2.5");
        assert_eq!(heat_colour(0.0), "#eff6ff");
        assert_eq!(heat_colour(1.0), "#08306b");
    }

    #[test]
    fn a_single_untitled_table_is_a_plain_page() {
        // What `--format html` of a plain table (io::write) produces.
        let r = Report {
            title: "custseg".into(),
            subtitle: String::new(),
            sections: vec![Section {
                id: "table".into(),
                title: String::new(),
                note: None,
                table: hostile_table(),
                chart: None,
            }],
        };
        let html = to_html(&r);
        assert!(!html.contains("<nav") && !html.contains("<h2"));
        assert!(html.contains("<section id=\"table\" class=\"section section-table\">"));
        assert!(html.contains("aria-label=\"table table\""));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn long_column_labels_slant_and_cells_keep_contrast() {
        let names: Vec<String> = ["Champions", "Potential loyalist", "Hibernating"]
            .iter()
            .map(ToString::to_string)
            .collect();
        let chart = Chart::Heatmap {
            rows: names.clone(),
            columns: names,
            values: vec![vec![Some(1.0), Some(50.0), Some(100.0)]],
            legend: "customers".into(),
            axes: ("from".into(), "to".into()),
        };
        let svg = chart_svg(&chart, "migration").expect("svg");
        assert!(svg.contains("rotate(-45 "));
        assert_eq!(ink_on(heat_rgb(0.0)), "#1f2328");
        assert_eq!(ink_on(heat_rgb(1.0)), "#ffffff");
    }

    #[test]
    fn duplicate_and_odd_ids_get_distinct_anchors() {
        let sections = vec![
            section("vip", DataFrame::empty(), None),
            section("vip", DataFrame::empty(), None),
            section("\"><x", DataFrame::empty(), None),
            section("", DataFrame::empty(), None),
        ];
        assert_eq!(
            section_slugs(&sections),
            ["vip", "vip-2", "---x", "section"]
        );
    }

    /// Writes /tmp/custseg-sample.html for `tests/html/screenshot.sh`:
    /// `cargo test --lib report::render::html -- --ignored`.
    #[test]
    #[ignore = "writes a sample page for manual screenshots"]
    fn write_sample_page() {
        let ids: Vec<String> = (1..=40).map(|i| format!("C{i:05}")).collect();
        let n = ids.len();
        let pick = |i: usize, xs: &[&str]| xs[i % xs.len()].to_string();
        let segments = [
            "Champions",
            "Loyal",
            "Potential loyalist",
            "At risk",
            "Hibernating",
        ];
        let channels = ["store", "web", "marketplace"];
        let last_order = Series::new(
            "last_order".into(),
            (0..n)
                .map(|i| 19_800 + (i as i32 * 7) % 90)
                .collect::<Vec<i32>>(),
        )
        .cast(&DataType::Date)
        .expect("date");
        let mut vip = df!(
            "rank" => (1..=n as i64).collect::<Vec<_>>(),
            "customer_id" => ids.clone(),
            "name" => (0..n).map(|i| if i == 3 { HYPERLINK.to_string() } else if i == 5 { "<script>alert(1)</script>".to_string() } else { format!("Customer {i}") }).collect::<Vec<_>>(),
            "segment" => (0..n).map(|i| pick(i, &segments)).collect::<Vec<_>>(),
            "channel" => (0..n).map(|i| pick(i, &channels)).collect::<Vec<_>>(),
            "recency_days" => (0..n).map(|i| (i * 13 % 97) as i64).collect::<Vec<_>>(),
            "frequency" => (0..n).map(|i| (40 - i) as i64).collect::<Vec<_>>(),
            "monetary" => (0..n).map(|i| 25_000.0 / (i as f64 + 1.0)).collect::<Vec<_>>(),
            "avg_order_value" => (0..n).map(|i| if i == 7 { None } else { Some(120.0 + i as f64 * 3.3) }).collect::<Vec<_>>(),
            "clv_12m" => (0..n).map(|i| if i == 9 { f64::NAN } else { 8_000.0 / (i as f64 + 1.5) }).collect::<Vec<_>>(),
            "p_alive" => (0..n).map(|i| 1.0 - i as f64 / 50.0).collect::<Vec<_>>(),
        )
        .expect("vip");
        vip.with_column(last_order.into()).expect("date column");
        let alerts = df!(
            "customer_id" => ["C00004", "C00012", "C00031"],
            "alert" => ["vip_at_risk", "spend_drop", "vip_lost"],
            "detail" => [
                "no order for 61 days, usual gap 14 days; last contact via store, consider a personal call from the account manager",
                "spend in the last 30 days down 72% from the 90-day average",
                "p_alive 0.08 < 0.1",
            ],
            "monetary" => [18_400.0, 2_100.5, 806.25],
        )
        .expect("alerts");
        let segment_table = df!(
            "segment" => segments,
            "customers" => [120_i64, 340, 410, 260, 870],
            "share" => [0.06, 0.17, 0.205, 0.13, 0.435],
            "revenue_share" => [0.41, 0.27, 0.14, 0.12, 0.06],
        )
        .expect("segments");
        let report = Report {
            title: "Weekly VIP report".into(),
            subtitle: "as of 2024-06-30 · input orders.csv (3 sources) · 2,000 customers".into(),
            sections: vec![
                Section {
                    id: "alerts".into(),
                    title: "Alerts".into(),
                    note: Some("VIP customers who need attention this week.".into()),
                    table: alerts,
                    chart: None,
                },
                Section {
                    id: "segments".into(),
                    title: "Segments".into(),
                    note: Some("Share of customers and of revenue per RFM segment.".into()),
                    table: segment_table,
                    chart: Some(Chart::Bars {
                        labels: segments.iter().map(ToString::to_string).collect(),
                        series: vec![
                            ("customers".into(), vec![0.06, 0.17, 0.205, 0.13, 0.435]),
                            ("revenue".into(), vec![0.41, 0.27, 0.14, 0.12, 0.06]),
                        ],
                        percent: true,
                    }),
                },
                Section {
                    id: "rfm".into(),
                    title: "Recency × frequency".into(),
                    note: Some(
                        "Mean monetary value per cell; grey cells have no customers.".into(),
                    ),
                    table: DataFrame::empty(),
                    chart: Some(Chart::Heatmap {
                        rows: (1..=5).rev().map(|r| r.to_string()).collect(),
                        columns: (1..=5).map(|c| c.to_string()).collect(),
                        values: (1..=5)
                            .rev()
                            .map(|r| {
                                (1..=5)
                                    .map(|c| {
                                        if r == 1 && c == 5 {
                                            None
                                        } else {
                                            Some(f64::from(r * c) * 97.5 + 40.0)
                                        }
                                    })
                                    .collect()
                            })
                            .collect(),
                        legend: "mean monetary".into(),
                        axes: ("r_score".into(), "f_score".into()),
                    }),
                },
                Section {
                    id: "migration".into(),
                    title: "Segment migration".into(),
                    note: Some("Customers moving from last quarter's segment (rows) to this quarter's (columns).".into()),
                    table: DataFrame::empty(),
                    chart: Some(Chart::Heatmap {
                        rows: segments.iter().map(ToString::to_string).collect(),
                        columns: segments.iter().map(ToString::to_string).collect(),
                        values: (0..5)
                            .map(|r| {
                                (0..5)
                                    .map(|c: i32| if (r - c).abs() > 2 { None } else { Some(f64::from(1 + (r * 37 + c * 11) % 90) * if r == c { 12.0 } else { 1.0 }) })
                                    .collect()
                            })
                            .collect(),
                        legend: "customers".into(),
                        axes: ("from".into(), "to".into()),
                    }),
                },
                Section {
                    id: "trend".into(),
                    title: "Active and new customers".into(),
                    note: None,
                    table: DataFrame::empty(),
                    chart: Some(Chart::Line {
                        labels: (1..=12).map(|m| format!("2024-{m:02}")).collect(),
                        series: vec![
                            (
                                "active".into(),
                                (1..=12).map(|m| 800.0 + f64::from(m) * 35.0).collect(),
                            ),
                            (
                                "new".into(),
                                (1..=12)
                                    .map(|m| {
                                        if m == 6 {
                                            f64::NAN
                                        } else {
                                            120.0 + f64::from(m % 4) * 20.0
                                        }
                                    })
                                    .collect(),
                            ),
                        ],
                    }),
                },
                Section {
                    id: "vip".into(),
                    title: "VIP customers".into(),
                    note: Some("Top customers by 12-month CLV.".into()),
                    table: vip,
                    chart: None,
                },
            ],
        };
        std::fs::write("/tmp/custseg-sample.html", to_html(&report)).expect("write sample");
    }
}
