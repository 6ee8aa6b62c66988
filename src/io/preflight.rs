//! Structural checks of text inputs before the columnar reader sees them: CSV/TSV rows whose
//! field count differs from the header (a stray delimiter, an unterminated quote), and NDJSON
//! lines that are not JSON objects (a truncated last line, a BOM, blank lines).
//!
//! These are one sequential pass over the bytes with the `csv` crate or `serde_json`; nothing is
//! interpreted here. A broken CSV structure is an error naming the first bad line (custseg never
//! guesses which field is which); a broken NDJSON line becomes a row carrying
//! [`MALFORMED`] so the cleaning rules reject it with its line and text, and the rest is kept.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{io_error, Error, Result};

/// Column a rewritten NDJSON file adds on lines that are not JSON objects: why, and the text.
pub const MALFORMED: &str = "__malformed";

/// Longest excerpt of an input value quoted in a message.
pub const EXCERPT_CHARS: usize = 120;

/// `text` cut to [`EXCERPT_CHARS`] characters, with the original size when cut.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
    }
}

/// Checks that every record of a CSV/TSV file has as many fields as its header.
///
/// # Errors
/// An input error naming the first bad line, its field count, the header's, and how many rows
/// are affected; I/O errors.
pub fn check_csv(path: &Path, display: &str, delimiter: u8) -> Result<()> {
    let size = std::fs::metadata(path)
        .map_err(|e| io_error("read", path, e))?
        .len();
    if size == 0 {
        return Err(
            Error::input(format!("{display} is empty: not even a header line")).hint(
                "an export without rows still needs its header line; check the job that wrote it",
            ),
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(path, display, &e))?;
    let header_fields = reader
        .byte_headers()
        .map_err(|e| csv_error(path, display, &e))?
        .len();
    let mut record = csv::ByteRecord::new();
    let mut bad = 0u64;
    let mut first: Option<(u64, usize, bool)> = None;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(path, display, &e))?
    {
        if record.len() == header_fields {
            continue;
        }
        // A line of nothing but spaces: the reader counts it as a blank row.
        if record.len() == 1
            && record
                .get(0)
                .is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        bad += 1;
        if first.is_none() {
            let line = record.position().map_or(0, csv::Position::line);
            let spans_lines = record.iter().any(|f| f.contains(&b'\n'));
            first = Some((line, record.len(), spans_lines));
        }
    }
    let Some((line, fields, spans_lines)) = first else {
        return Ok(());
    };
    let more = if bad > 1 {
        format!("; {} rows in all", bad)
    } else {
        String::new()
    };
    let mut err = Error::input(format!(
        "{display} line {line}: {fields} fields where the header has {header_fields}{more}"
    ));
    if spans_lines {
        err = err.hint(
            "a quoted field there runs over several lines: probably a quote that is never closed",
        );
    }
    Err(err
        .hint("a delimiter inside an unquoted field, or a missing one, shifts every later column")
        .hint("fix the export (or quote such fields); custseg does not guess which value is which"))
}

fn csv_error(path: &Path, display: &str, e: &csv::Error) -> Error {
    match e.kind() {
        csv::ErrorKind::Io(io) => {
            io_error("read", path, std::io::Error::new(io.kind(), io.to_string()))
        }
        _ => {
            let line = e.position().map_or(0, csv::Position::line);
            Error::input(format!("{display} line {line}: {e}"))
        }
    }
}

/// What [`check_ndjson`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NdjsonCheck {
    /// Lines that are not JSON objects.
    pub malformed: u64,
    /// Empty or whitespace-only lines.
    pub blank: u64,
    /// The file starts with a UTF-8 byte order mark.
    pub bom: bool,
}

impl NdjsonCheck {
    /// Whether the reader needs a rewritten copy (see [`rewrite_ndjson`]).
    pub fn needs_rewrite(&self) -> bool {
        self.malformed > 0 || self.blank > 0 || self.bom
    }
}

/// Why `line` is not a JSON object, or `None` when it is one.
fn ndjson_problem(line: &[u8]) -> Option<String> {
    let start = line.iter().position(|b| !b.is_ascii_whitespace())?;
    if line[start] != b'{' {
        return Some("not a JSON object".to_string());
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(&line[start..]) {
        Ok(_) => None,
        Err(e) => Some(format!("not a JSON object ({e})")),
    }
}

fn strip_line_end(mut line: &[u8]) -> &[u8] {
    if let Some(rest) = line.strip_suffix(b"\n") {
        line = rest;
    }
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Calls `each(line, had_bom)` for every line of `path`, without its `\n` / `\r\n` and, on
/// the first line, without a UTF-8 byte order mark (`had_bom` says whether there was one).
fn for_each_line(path: &Path, mut each: impl FnMut(&[u8], bool) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| io_error("open", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::new();
    let mut first = true;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| io_error("read", path, e))?;
        if n == 0 {
            return Ok(());
        }
        let line = strip_line_end(&buf);
        let bom = first && line.starts_with(b"\xEF\xBB\xBF");
        first = false;
        each(if bom { &line[3..] } else { line }, bom)?;
    }
}

/// Reads an NDJSON file line by line and counts blank and malformed lines.
///
/// # Errors
/// I/O errors.
pub fn check_ndjson(path: &Path) -> Result<NdjsonCheck> {
    let mut found = NdjsonCheck::default();
    for_each_line(path, |line, bom| {
        found.bom |= bom;
        if line.iter().all(u8::is_ascii_whitespace) {
            found.blank += 1;
        } else if ndjson_problem(line).is_some() {
            found.malformed += 1;
        }
        Ok(())
    })?;
    Ok(found)
}

/// Writes a copy of an NDJSON file with exactly one JSON object per physical line, so that row
/// n of the reader is line n + 1 of the file: the BOM removed, a blank line as `{}`, a malformed
/// line as `{"__malformed": "<why>: <excerpt of the text>"}`.
///
/// # Errors
/// I/O errors.
pub fn rewrite_ndjson(path: &Path, out: PathBuf) -> Result<PathBuf> {
    let target = std::fs::File::create(&out).map_err(|e| io_error("create", &out, e))?;
    let mut writer = BufWriter::with_capacity(1 << 20, target);
    for_each_line(path, |line, _| {
        let written = if line.iter().all(u8::is_ascii_whitespace) {
            writer.write_all(b"{}")
        } else if let Some(why) = ndjson_problem(line) {
            let text = String::from_utf8_lossy(line);
            let object = serde_json::json!({ MALFORMED: format!("{why}: {}", excerpt(&text)) });
            writer.write_all(object.to_string().as_bytes())
        } else {
            writer.write_all(line)
        };
        written
            .and_then(|()| writer.write_all(b"\n"))
            .map_err(|e| io_error("write", &out, e))
    })?;
    writer.flush().map_err(|e| io_error("write", &out, e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_long_values_and_say_how_long_they_were() {
        assert_eq!(excerpt("short"), "short");
        let long = "9".repeat(1000);
        let cut = excerpt(&long);
        assert!(cut.starts_with(&"9".repeat(EXCERPT_CHARS)));
        assert!(cut.ends_with("(1000 bytes in all)"));
    }

    #[test]
    fn ndjson_problems() {
        assert_eq!(ndjson_problem(br#"{"a":1}"#), None);
        assert_eq!(ndjson_problem(br#"  {"a":1}  "#), None);
        assert!(ndjson_problem(br#"{"a":"#).is_some());
        assert!(ndjson_problem(b"[1,2]").is_some());
        assert!(ndjson_problem(br#"{"a":1} x"#).is_some());
    }
}
