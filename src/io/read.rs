//! Readers: every input file (CSV, TSV, NDJSON, Parquet, stdin; UTF-8, GBK, GB18030, UTF-16)
//! becomes a lazy scan whose columns are all strings, plus a `__row` index, so that cleaning
//! rules see the raw text exactly as exported and rejects can quote it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::config::{Encoding, FileFormat};
use crate::error::{io_error, Error, Result};
use crate::io::preflight;

/// Name of the 0-based row index column added to every scan.
pub const ROW_INDEX: &str = "__row";

/// Holds temporary files (decoded text, stdin copies) for as long as scans need them.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
    next: usize,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // The folder itself goes with `dir` (TempDir's own drop, right after this).
        crate::io::cleanup::forget(self.dir.path());
    }
}

impl Scratch {
    /// A new scratch directory under the system temp dir.
    pub fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("custseg-")
            .tempdir()
            .map_err(|e| Error::runtime(format!("cannot create a temporary directory: {e}")))?;
        crate::io::cleanup::on_interrupt(dir.path());
        Ok(Self { dir, next: 0 })
    }

    /// A fresh path in the scratch directory ending in `suffix`.
    pub fn path(&mut self, suffix: &str) -> PathBuf {
        self.next += 1;
        self.dir.path().join(format!("in{}{suffix}", self.next))
    }

    /// Copies standard input into a scratch file and returns its path.
    pub fn stdin_to_file(&mut self) -> Result<PathBuf> {
        let path = self.path(".stdin");
        let mut f = std::fs::File::create(&path).map_err(|e| io_error("create", &path, e))?;
        let mut stdin = std::io::stdin().lock();
        std::io::copy(&mut stdin, &mut f)
            .map_err(|e| Error::input(format!("cannot read standard input: {e}")))?;
        Ok(path)
    }
}

/// How to read one file.
#[derive(Debug, Clone)]
pub struct ReadSpec<'a> {
    /// File to read (already resolved; `-` must have been copied by [`Scratch::stdin_to_file`]).
    pub path: &'a Path,
    /// How to name it in errors.
    pub display: &'a str,
    /// Its format.
    pub format: FileFormat,
    /// Its text encoding (CSV/TSV/NDJSON).
    pub encoding: Encoding,
    /// Field delimiter for CSV (TSV defaults to tab).
    pub delimiter: Option<u8>,
}

/// The structural checks of a CSV/TSV file ([`check_utf8`], [`preflight::check_csv`]), running on
/// a thread of their own while the first pass over the file runs: they are a sequential read
/// of the bytes, which the columnar reader does not need to wait for. Their verdict comes first:
/// wait for it before using what was read.
#[must_use = "wait for the checks before using what was read"]
pub struct Pending(Option<std::thread::JoinHandle<Result<()>>>);

impl Pending {
    /// No checks to wait for.
    pub fn none() -> Self {
        Self(None)
    }

    /// The checks' result.
    ///
    /// # Errors
    /// The first problem the checks found.
    pub fn wait(self) -> Result<()> {
        match self.0 {
            None => Ok(()),
            Some(handle) => handle.join().unwrap_or_else(|_| {
                Err(Error::runtime(
                    "the structural check of an input stopped unexpectedly",
                ))
            }),
        }
    }

    /// `result` once the checks pass; the checks' error (which names the line) otherwise, since
    /// a reader's error on a broken file is the less helpful one.
    ///
    /// # Errors
    /// The checks' error, else `result`'s.
    pub fn wait_then<T>(self, result: Result<T>) -> Result<T> {
        self.wait()?;
        result
    }
}

/// Scans `spec.path` with every column as a string and a `__row` index, after its structural
/// checks ([`scan_checking`], waited for here).
pub fn scan_as_strings(spec: &ReadSpec<'_>, scratch: &mut Scratch) -> Result<LazyFrame> {
    let (lf, pending) = scan_checking(spec, scratch)?;
    pending.wait()?;
    Ok(lf)
}

/// Scans `spec.path` with every column as a string and a `__row` index; a CSV/TSV file's
/// structural checks run meanwhile ([`Pending`]).
///
/// Text in another encoding is first decoded (strictly: an undecodable byte is an error, never a
/// silent replacement) into a UTF-8 scratch file.
pub fn scan_checking(spec: &ReadSpec<'_>, scratch: &mut Scratch) -> Result<(LazyFrame, Pending)> {
    let row_index = Some(RowIndex {
        name: ROW_INDEX.into(),
        offset: 0,
    });
    let mut path = match (spec.format, spec.encoding) {
        (FileFormat::Parquet, _) | (_, Encoding::Utf8) => spec.path.to_path_buf(),
        (_, enc) => decode_to_utf8(spec, enc, scratch)?,
    };
    let separator = spec.delimiter.unwrap_or(if spec.format == FileFormat::Tsv {
        b'\t'
    } else {
        b','
    });
    let mut pending = Pending(None);
    match spec.format {
        FileFormat::Csv | FileFormat::Tsv => {
            let (path, display) = (path.clone(), spec.display.to_string());
            let utf8 = spec.encoding == Encoding::Utf8;
            pending = Pending(Some(std::thread::spawn(move || {
                preflight::check_csv(&path, &display, separator, utf8)
            })));
        }
        FileFormat::Ndjson => {
            if spec.encoding == Encoding::Utf8 {
                check_utf8(&path, spec.display)?;
            }
            if preflight::check_ndjson(&path)?.needs_rewrite() {
                path = preflight::rewrite_ndjson(&path, scratch.path(".ndjson"))?;
            }
        }
        FileFormat::Parquet => {}
    }
    let pl_path = PlRefPath::new(path.to_string_lossy().as_ref());
    let lf = match spec.format {
        FileFormat::Csv | FileFormat::Tsv => LazyCsvReader::new(pl_path)
            .with_glob(false)
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_separator(separator)
            .with_missing_is_null(true)
            .with_row_index(row_index)
            .finish(),
        FileFormat::Ndjson => LazyJsonLineReader::new(pl_path)
            .with_row_index(row_index)
            .with_infer_schema_length(None)
            .finish(),
        FileFormat::Parquet => {
            let args = ScanArgsParquet {
                row_index,
                glob: false,
                ..Default::default()
            };
            LazyFrame::scan_parquet(pl_path, args)
        }
    }
    .map_err(|e| read_error(spec, &e));
    match lf {
        Ok(lf) => Ok((lf, pending)),
        Err(e) => pending.wait_then(Err(e)),
    }
}

/// The column names of a scan (reads only the header or metadata).
pub fn column_names(lf: &mut LazyFrame, spec: &ReadSpec<'_>) -> Result<Vec<String>> {
    let schema = lf.collect_schema().map_err(|e| read_error(spec, &e))?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

/// Maps an engine error on a file to a one-line input error naming the file.
pub fn read_error(spec: &ReadSpec<'_>, e: &PolarsError) -> Error {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("unreadable").trim();
    let format = match spec.format {
        FileFormat::Csv => "csv",
        FileFormat::Tsv => "tsv",
        FileFormat::Ndjson => "ndjson",
        FileFormat::Parquet => "parquet",
    };
    Error::input(format!(
        "{}: cannot read as {format}: {first}",
        spec.display
    ))
    .hint("check the file's format, delimiter and encoding in the config")
}

/// Rejects a UTF-8-declared text file that is not UTF-8, with the byte offset and line.
fn check_utf8(path: &Path, display: &str) -> Result<()> {
    let mut f = std::fs::File::open(path).map_err(|e| io_error("open", path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut check = preflight::Utf8Check::default();
    loop {
        let n = f.read(&mut buf).map_err(|e| io_error("read", path, e))?;
        if n == 0 {
            return check.finish().map_err(|at| at.error(display));
        }
        check.feed(&buf[..n]).map_err(|at| at.error(display))?;
    }
}

/// Decodes a non-UTF-8 text file into a UTF-8 scratch file, failing on the first bad byte.
fn decode_to_utf8(spec: &ReadSpec<'_>, enc: Encoding, scratch: &mut Scratch) -> Result<PathBuf> {
    let bytes = std::fs::read(spec.path).map_err(|e| io_error("read", spec.path, e))?;
    let encoding = match enc {
        Encoding::Gbk => encoding_rs::GBK,
        Encoding::Gb18030 => encoding_rs::GB18030,
        Encoding::Utf16 if bytes.starts_with(&[0xFE, 0xFF]) => encoding_rs::UTF_16BE,
        Encoding::Utf16 => encoding_rs::UTF_16LE,
        Encoding::Utf8 => encoding_rs::UTF_8,
    };
    let mut decoder = encoding.new_decoder_with_bom_removal();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(&bytes, &mut text, true);
    if let encoding_rs::DecoderResult::Malformed(..) = result {
        let line = text.matches('\n').count() + 1;
        return Err(Error::input(format!(
            "{} line {line}: not valid {} text (byte offset {})",
            spec.display,
            enc.as_str(),
            read.saturating_sub(1)
        ))
        .hint("check the source's encoding in the config (utf-8, gbk, gb18030, utf-16)"));
    }
    let out = scratch.path(".utf8");
    let mut f = std::fs::File::create(&out).map_err(|e| io_error("create", &out, e))?;
    f.write_all(text.as_bytes())
        .map_err(|e| io_error("write", &out, e))?;
    Ok(out)
}
