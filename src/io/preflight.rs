//! Structural checks of text inputs before the columnar reader sees them: CSV/TSV rows whose
//! field count differs from the header (a stray delimiter, an unterminated quote), and NDJSON
//! lines that are not JSON objects (a truncated last line, a BOM, blank lines).
//!
//! These are one sequential pass over the bytes (a CSV's fields counted as the `csv` crate's
//! parser counts them, NDJSON lines parsed with `serde_json`); nothing is interpreted here. A broken CSV structure is an error naming the first bad line (custseg never
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

/// Checks that every record of a CSV/TSV file has as many fields as its header and, when `utf8`
/// is set, that the file is valid UTF-8 (see [`Utf8Check`]); one read of the file.
///
/// The header is read with the `csv` crate. Lines without a quote or a carriage return (all but
/// a few in most exports) have their fields counted directly, as delimiters plus one; a line
/// with either goes through `csv_core`, the `csv` crate's parser, for one record (which may span
/// lines). Both count a record exactly as the `csv` crate does, at about five times its speed.
///
/// # Errors
/// An input error naming the first bad line, its field count, the header's, and how many rows
/// are affected; the first byte that is not UTF-8; I/O errors.
pub fn check_csv(path: &Path, display: &str, delimiter: u8, utf8: bool) -> Result<()> {
    use std::io::{Read, Seek};
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
    let mut utf8 = utf8.then(Utf8Check::default);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(path, display, &e))?;
    let mut header = csv::ByteRecord::new();
    reader
        .read_byte_record(&mut header)
        .map_err(|e| csv_error(path, display, &e))?;
    let start = reader.position().clone();
    let mut scan = FieldScan::new(delimiter, header.len(), start.line());
    let mut file = std::fs::File::open(path).map_err(|e| io_error("open", path, e))?;
    if let Some(check) = utf8.as_mut() {
        // The header's bytes, for the UTF-8 check only.
        let mut head = vec![0u8; usize::try_from(start.byte()).unwrap_or(0)];
        file.read_exact(&mut head)
            .map_err(|e| io_error("read", path, e))?;
        check.feed(&head).map_err(|at| at.error(display))?;
    } else {
        file.seek(std::io::SeekFrom::Start(start.byte()))
            .map_err(|e| io_error("read", path, e))?;
    }
    let mut buf: Vec<u8> = Vec::new();
    let mut block = vec![0u8; 1 << 22];
    loop {
        let n = file
            .read(&mut block)
            .map_err(|e| io_error("read", path, e))?;
        let eof = n == 0;
        if let Some(check) = utf8.as_mut() {
            check.feed(&block[..n]).map_err(|at| at.error(display))?;
        }
        buf.extend_from_slice(&block[..n]);
        let used = scan.scan(&buf, eof);
        buf.drain(..used);
        if eof {
            break;
        }
    }
    if let Some(check) = utf8 {
        check.finish().map_err(|at| at.error(display))?;
    }
    let header_fields = header.len();
    let Some((line, fields, spans_lines)) = scan.first else {
        return Ok(());
    };
    let more = if scan.bad > 1 {
        format!("; {} rows in all", scan.bad)
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

/// Field counts of the records after a CSV header ([`check_csv`]).
struct FieldScan {
    delimiter: u8,
    header_fields: usize,
    /// Line (1-based) where the next record starts.
    line: u64,
    /// Records whose field count differs from the header's.
    bad: u64,
    /// The first of them: line, fields, whether a field holds a line break.
    first: Option<(u64, usize, bool)>,
    parser: csv_core::Reader,
    fields_out: Vec<u8>,
    ends: Vec<usize>,
}

impl FieldScan {
    fn new(delimiter: u8, header_fields: usize, line: u64) -> Self {
        Self {
            delimiter,
            header_fields,
            line,
            bad: 0,
            first: None,
            parser: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            fields_out: vec![0; 1 << 16],
            ends: vec![0; 256],
        }
    }

    /// Counts the records that start in `buf` and end in it (or at its end, when `eof`);
    /// returns the bytes used. The rest (a record cut by the block's end) is passed again with
    /// more bytes after it.
    fn scan(&mut self, buf: &[u8], eof: bool) -> usize {
        let mut pos = 0;
        while pos < buf.len() {
            let rest = &buf[pos..];
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], i + 1),
                None if eof => (rest, rest.len()),
                None => return pos,
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if memchr::memchr2(b'"', b'\r', line).is_none() {
                self.plain_line(line);
                if next > line.len() {
                    self.line += 1;
                }
                pos += next;
            } else {
                match self.parse_record(rest, eof) {
                    Some(used) => pos += used,
                    None => return pos,
                }
            }
        }
        pos
    }

    /// One record from the start of `rest` through `csv_core`; the bytes it used, or None when
    /// `rest` ends before the record does (and more input follows).
    fn parse_record(&mut self, rest: &[u8], eof: bool) -> Option<usize> {
        use csv_core::ReadRecordResult;
        self.parser.reset();
        let (mut used, mut out, mut ends) = (0, 0, 0);
        loop {
            let (result, nin, nout, nend) = self.parser.read_record(
                &rest[used..],
                &mut self.fields_out[out..],
                &mut self.ends[ends..],
            );
            used += nin;
            out += nout;
            ends += nend;
            match result {
                ReadRecordResult::OutputFull => {
                    let n = self.fields_out.len();
                    self.fields_out.resize(n * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len();
                    self.ends.resize(n * 2, 0);
                }
                ReadRecordResult::InputEmpty if !eof => return None,
                // At the end of the input: the next call, with nothing left, ends the record.
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::Record | ReadRecordResult::End => break,
            }
        }
        let consumed = &rest[..used];
        if ends > 0 {
            let text = &self.fields_out[..out];
            let spans_lines = memchr::memchr(b'\n', text).is_some();
            let blank = ends == 1 && text.iter().all(u8::is_ascii_whitespace);
            if !(blank || ends == self.header_fields) {
                self.note_bad(ends, spans_lines);
            }
        }
        self.line += memchr::memchr_iter(b'\n', consumed).count() as u64;
        Some(used)
    }

    /// A line without quotes or carriage returns: its fields are its delimiters plus one. An
    /// empty line is no record; a line of nothing but spaces is a blank row.
    fn plain_line(&mut self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        let fields = bytecount(line, self.delimiter) + 1;
        let blank = fields == 1 && line.iter().all(u8::is_ascii_whitespace);
        if fields != self.header_fields && !blank {
            self.note_bad(fields, false);
        }
    }

    fn note_bad(&mut self, fields: usize, spans_lines: bool) {
        self.bad += 1;
        if self.first.is_none() {
            self.first = Some((self.line, fields, spans_lines));
        }
    }
}

/// How many bytes of `text` are `b` (a loop the compiler vectorises).
fn bytecount(text: &[u8], b: u8) -> usize {
    text.iter().filter(|&&c| c == b).count()
}

/// Where a text stops being UTF-8 ([`Utf8Check`]).
pub struct NotUtf8 {
    line: u64,
    offset: u64,
}

impl NotUtf8 {
    /// The input error for file `display`.
    pub fn error(&self, display: &str) -> Error {
        Error::input(format!(
            "{display} line {}: not valid UTF-8 (byte offset {})",
            self.line, self.offset
        ))
        .hint("set encoding = \"gbk\", \"gb18030\" or \"utf-16\" for this source in the config")
    }
}

/// UTF-8 validation of a text fed in blocks of any size: a character cut by a block's end is
/// completed by the next. Reports the line and byte offset of the first invalid byte.
#[derive(Default)]
pub struct Utf8Check {
    carry: Vec<u8>,
    line: u64,
    offset: u64,
}

impl Utf8Check {
    /// Validates the next block.
    ///
    /// # Errors
    /// Where the first invalid byte is.
    pub fn feed(&mut self, block: &[u8]) -> std::result::Result<(), NotUtf8> {
        let joined;
        let text: &[u8] = if self.carry.is_empty() {
            block
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), block].concat();
            &joined
        };
        let good = match std::str::from_utf8(text) {
            Ok(_) => text.len(),
            Err(e) => {
                let good = e.valid_up_to();
                if e.error_len().is_some() {
                    self.count(&text[..good]);
                    return Err(NotUtf8 {
                        line: self.line + 1,
                        offset: self.offset,
                    });
                }
                // A character cut at the block's end: kept for the next block.
                self.carry = text[good..].to_vec();
                good
            }
        };
        self.count(&text[..good]);
        Ok(())
    }

    /// The end of the text: a character left incomplete is an error.
    ///
    /// # Errors
    /// Where the incomplete character starts.
    pub fn finish(self) -> std::result::Result<(), NotUtf8> {
        if self.carry.is_empty() {
            Ok(())
        } else {
            Err(NotUtf8 {
                line: self.line + 1,
                offset: self.offset,
            })
        }
    }

    fn count(&mut self, valid: &[u8]) {
        self.line += memchr::memchr_iter(b'\n', valid).count() as u64;
        self.offset += valid.len() as u64;
    }
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

    /// Bad records of a CSV text as the `csv` crate alone counts them (the check's definition):
    /// how many, and the first one's line, fields and whether a field spans lines.
    fn by_csv_crate(text: &[u8], delimiter: u8) -> (u64, Option<(u64, usize, bool)>) {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(text);
        let header_fields = reader.byte_headers().unwrap().len();
        let mut record = csv::ByteRecord::new();
        let (mut bad, mut first) = (0, None);
        while reader.read_byte_record(&mut record).unwrap() {
            let blank = record.len() == 1
                && record
                    .get(0)
                    .is_some_and(|f| f.iter().all(u8::is_ascii_whitespace));
            if record.len() == header_fields || blank {
                continue;
            }
            bad += 1;
            if first.is_none() {
                // The physical line the record starts on (the crate's own line number is one
                // short after a CRLF line end, which it reads as two terminators).
                let mut at = record.position().map_or(0, |p| p.byte() as usize);
                while matches!(text.get(at), Some(b'\r' | b'\n')) {
                    at += 1;
                }
                let line = 1 + text[..at].iter().filter(|&&b| b == b'\n').count() as u64;
                let spans = record.iter().any(|f| f.contains(&b'\n'));
                first = Some((line, record.len(), spans));
            }
        }
        (bad, first)
    }

    /// The same through [`FieldScan`], the data fed as two blocks cut at `cut`.
    fn by_field_scan(text: &[u8], delimiter: u8, cut: usize) -> (u64, Option<(u64, usize, bool)>) {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        let mut header = csv::ByteRecord::new();
        reader.read_byte_record(&mut header).unwrap();
        let start = reader.position().clone();
        let data = &text[start.byte() as usize..];
        let cut = cut.min(data.len());
        let mut scan = FieldScan::new(delimiter, header.len(), start.line());
        let mut buf = data[..cut].to_vec();
        let used = scan.scan(&buf, false);
        buf.drain(..used);
        buf.extend_from_slice(&data[cut..]);
        let used = scan.scan(&buf, true);
        assert_eq!(used, buf.len(), "everything is used at the end");
        (scan.bad, scan.first)
    }

    #[test]
    fn field_counts_match_the_csv_crate_wherever_a_block_ends() {
        let texts: [&[u8]; 16] = [
            b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n",
            b"a,b\r\n1,2\r\n3\r\n4,5\r\n",
            b"a,b\n\"x,y\",2\n\"1,2\n3,4\n",
            b"a,b\n\"line1\nline2\",2\n3,4\n5\n",
            b"a,b\n\"oops,1\n2,3\n4,5\n",
            b"a,b\n\n1,2\n   \n\n3,4\n \t \n7",
            b"a,b\n1,2\r3,4\n5\n6,7\r",
            b"a,b\n1,2\n3",
            b"a,b\n\"he said \"\"hi\"\"\",2\n\"\"\"\",x,y\n",
            "\u{feff}a,b\n1,2\n1\n".as_bytes(),
            b"a,b\n",
            b"a,b",
            b"a,b\n1\"2,3\n4,\"5\"6\n7,8,9\n",
            "名字,金额\n张三,\"¥1,000\"\n李四\n王五,3,4\n".as_bytes(),
            b"a,b\n1,2\n\"unterminated,3\n4,5\n6,7",
            b"a\n1\n\n \n2,3\n\"x\"\n",
        ];
        for text in texts {
            let expected = by_csv_crate(text, b',');
            for cut in 0..=text.len() {
                assert_eq!(
                    by_field_scan(text, b',', cut),
                    expected,
                    "{:?} cut at {cut}",
                    String::from_utf8_lossy(text)
                );
            }
        }
        let tsv = b"a\tb\n1\t2\n1,2\n\"x\ty\"\t3\n";
        let expected = by_csv_crate(tsv, b'\t');
        assert_eq!(expected.0, 1);
        for cut in 0..=tsv.len() {
            assert_eq!(by_field_scan(tsv, b'\t', cut), expected);
        }
    }

    #[test]
    fn utf8_errors_are_found_wherever_a_block_ends() {
        let good = "订单,金额\n一,¥1\n二,€2\n".as_bytes();
        let mut bad = good.to_vec();
        bad.insert(good.len() - 5, 0xFF);
        // Ends inside the three bytes of €.
        let truncated = &good[..good.len() - 4];
        let first_bad = std::str::from_utf8(&bad).unwrap_err().valid_up_to() as u64;
        for cut in 0..=good.len() {
            let mut check = Utf8Check::default();
            check.feed(&good[..cut]).ok().unwrap();
            check.feed(&good[cut..]).ok().unwrap();
            assert!(check.finish().is_ok());
        }
        for cut in 0..=bad.len() {
            let mut check = Utf8Check::default();
            let at = check
                .feed(&bad[..cut])
                .and_then(|()| check.feed(&bad[cut..]))
                .err()
                .unwrap();
            assert_eq!((at.line, at.offset), (3, first_bad), "cut at {cut}");
        }
        let mut check = Utf8Check::default();
        check.feed(truncated).ok().unwrap();
        let at = check.finish().err().unwrap();
        assert_eq!(at.line, 3);
    }
}
