//! Reports people read: segment summaries, the VIP list with alerts, segment migration. Each
//! report is computed into a [`Report`] — titled sections holding a table and optionally a chart —
//! and rendered by [`render`] into every format (terminal, Markdown, CSV/JSON/Parquet, HTML).

use polars::prelude::DataFrame;

pub mod migration;
pub mod render;
pub mod segments;
pub mod vip;

/// A finished report: what it is about and its sections in reading order.
#[derive(Debug, Clone)]
pub struct Report {
    /// Title shown at the top ("Weekly VIP report").
    pub title: String,
    /// One line under the title (as-of date, input, period).
    pub subtitle: String,
    /// Sections in reading order.
    pub sections: Vec<Section>,
}

/// One titled part of a report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Stable identifier: file-name suffix and JSON key (`vip`, `alerts`, `segments`).
    pub id: String,
    /// Heading for people.
    pub title: String,
    /// Optional sentence explaining the section.
    pub note: Option<String>,
    /// The data (may be empty: then renderers say so).
    pub table: DataFrame,
    /// Optional chart of (part of) the data, drawn in HTML.
    pub chart: Option<Chart>,
}

/// Charts the HTML renderer draws as inline SVG.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Horizontal bars: one group of bars per label, one bar per series (values are shares or
    /// amounts; `percent` formats them as percentages).
    Bars {
        /// Category labels (one row each).
        labels: Vec<String>,
        /// (series name, one value per label).
        series: Vec<(String, Vec<f64>)>,
        /// Values are fractions to show as percentages.
        percent: bool,
    },
    /// A grid of cells coloured by value (e.g. r_score × f_score coloured by mean monetary).
    Heatmap {
        /// Row labels, top to bottom.
        rows: Vec<String>,
        /// Column labels, left to right.
        columns: Vec<String>,
        /// values[row][column]; None for empty cells.
        values: Vec<Vec<Option<f64>>>,
        /// What the colour means ("mean monetary").
        legend: String,
        /// Axis names (rows, columns).
        axes: (String, String),
    },
    /// A trend line (or several) over ordered labels (periods).
    Line {
        /// X-axis labels in order.
        labels: Vec<String>,
        /// (series name, one value per label).
        series: Vec<(String, Vec<f64>)>,
    },
}
