//! Renders a [`Report`] in every output format: a terminal table per section, Markdown, JSON (one
//! object with a key per section), CSV / TSV / NDJSON / Parquet (one file per section next to `-o`,
//! named `<stem>.<section>.<ext>`; on stdout only the first section), and a self-contained HTML
//! page ([`html`]). Files are written atomically by the one writer.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::io::write::{self, Destination, OutputFormat};
use crate::report::Report;

pub mod html;

/// Writes `report` to `dest`. Reports are for people: the privacy policy in force masks (or
/// pseudonymizes) their personal data in every format (docs/privacy.md).
pub fn render(report: &Report, dest: &Destination, quiet: bool) -> Result<()> {
    let protected = crate::privacy::current().protect_report(report)?;
    render_as_is(&protected, dest, quiet)
}

/// Writes `report` to `dest` as it is (its tables already protected).
pub fn render_as_is(report: &Report, dest: &Destination, quiet: bool) -> Result<()> {
    match dest.format {
        OutputFormat::Table => emit_text(
            dest,
            &to_terminal_styled(report, dest.table_rows, write::colour_for(dest)),
        ),
        OutputFormat::Markdown => emit_text(dest, &to_markdown(report)),
        OutputFormat::Html => emit_text(dest, &html::to_html(report)),
        OutputFormat::Json => emit_text(dest, &to_json(report)?),
        OutputFormat::Csv | OutputFormat::Tsv | OutputFormat::Ndjson | OutputFormat::Parquet => {
            match &dest.path {
                None => {
                    let Some(first) = report.sections.first() else {
                        return Ok(());
                    };
                    if report.sections.len() > 1 && !quiet {
                        eprintln!(
                            "custseg: stdout carries the \"{}\" section only; use -o FILE for one file per section or --format json",
                            first.id
                        );
                    }
                    write::write_frame_as_is(&mut first.table.clone(), dest, quiet)
                }
                Some(path) => {
                    for section in &report.sections {
                        let file = section_path(path, &section.id);
                        let d = Destination {
                            path: Some(file),
                            format: dest.format,
                            table_rows: dest.table_rows,
                        };
                        write::write_frame_as_is(&mut section.table.clone(), &d, true)?;
                    }
                    Ok(())
                }
            }
        }
    }
}

/// `out/vip.csv` + `alerts` → `out/vip.alerts.csv`.
pub fn section_path(path: &Path, section: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "report".into(), |s| s.to_string_lossy().to_string());
    let ext = path
        .extension()
        .map_or_else(String::new, |e| format!(".{}", e.to_string_lossy()));
    path.with_file_name(format!("{stem}.{section}{ext}"))
}

fn emit_text(dest: &Destination, text: &str) -> Result<()> {
    match &dest.path {
        Some(path) => write::write_atomic(path, |w| {
            w.write_all(text.as_bytes())
                .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))
        }),
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            lock.write_all(text.as_bytes())
                .and_then(|()| lock.flush())
                .map_err(|e| {
                    Error::runtime(format!("cannot write to standard output: {e}")).with_source(e)
                })
        }
    }
}

/// Sections as titled terminal tables, without colour.
pub fn to_terminal(report: &Report, rows: usize) -> String {
    to_terminal_styled(report, rows, false)
}

/// Sections as titled terminal tables; `colour` as decided by [`write::colour_for`].
pub fn to_terminal_styled(report: &Report, rows: usize, colour: bool) -> String {
    let mut out = format!("{}\n{}\n", report.title, report.subtitle);
    for s in &report.sections {
        out.push_str(&format!("\n{}\n", s.title));
        if let Some(note) = &s.note {
            out.push_str(&format!("{note}\n"));
        }
        if s.table.height() == 0 {
            out.push_str("(none)\n");
            continue;
        }
        out.push_str(&format!(
            "{}\n",
            write::render_table_styled(&s.table, rows, colour)
        ));
        if s.table.height() > rows {
            out.push_str(&format!("… {} more rows\n", s.table.height() - rows));
        }
    }
    out
}

/// Sections as Markdown.
pub fn to_markdown(report: &Report) -> String {
    let mut out = format!("# {}\n\n{}\n", report.title, report.subtitle);
    for s in &report.sections {
        out.push_str(&format!("\n## {}\n\n", s.title));
        if let Some(note) = &s.note {
            out.push_str(&format!("{note}\n\n"));
        }
        if s.table.height() == 0 {
            out.push_str("(none)\n");
        } else {
            out.push_str(&write::render_markdown(&s.table, usize::MAX));
        }
    }
    out
}

/// One JSON object: title, subtitle and a key per section holding its rows.
pub fn to_json(report: &Report) -> Result<String> {
    let mut sections = serde_json::Map::new();
    for s in &report.sections {
        let mut buf = Vec::new();
        JsonWriter::new(&mut buf)
            .with_json_format(JsonFormat::Json)
            .finish(&mut s.table.clone())
            .map_err(|e| Error::runtime(format!("cannot encode section {}: {e}", s.id)))?;
        let rows: serde_json::Value = serde_json::from_slice(&buf)
            .map_err(|e| Error::runtime(format!("cannot encode section {}: {e}", s.id)))?;
        sections.insert(s.id.clone(), rows);
    }
    let doc = serde_json::json!({
        "title": report.title,
        "subtitle": report.subtitle,
        "sections": sections,
    });
    serde_json::to_string_pretty(&doc)
        .map(|s| s + "\n")
        .map_err(|e| Error::runtime(format!("cannot encode report: {e}")))
}
