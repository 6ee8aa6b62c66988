//! Self-contained HTML page for a report (being written in this session).

use crate::report::Report;

/// The report as one HTML page.
pub fn to_html(report: &Report) -> String {
    let mut out = String::from("<!doctype html><meta charset=\"utf-8\"><title>");
    out.push_str(&report.title);
    out.push_str("</title>");
    out
}
