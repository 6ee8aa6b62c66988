//! `manifest.json`: what an `--out` directory holds, so a downstream job can check what it reads.
//! One entry per file, sorted by path: the path relative to the directory, its size in bytes, its
//! SHA-256 and, for tables (Parquet and CSV), its number of data rows. Deterministic: no
//! timestamps, no absolute paths; written last and atomically by the one writer.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{io_error, Error, Result};

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";

/// One file of an output directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// Path relative to the directory, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// Data rows of a table (Parquet rows; CSV records after the header); absent for other files.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rows: Option<u64>,
}

/// The manifest of one output directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// The custseg version that wrote the files.
    pub custseg_version: String,
    /// The files, sorted by path.
    pub files: Vec<Entry>,
}

/// Describes the files `relative` (paths under `dir`) for a manifest.
pub fn build(dir: &Path, relative: &[String]) -> Result<Manifest> {
    let mut files = Vec::with_capacity(relative.len());
    for rel in relative {
        let path = dir.join(rel);
        let (bytes, sha256) = hash_file(&path)?;
        let rows = if rel.ends_with(".parquet") {
            Some(parquet_rows(&path)?)
        } else if rel.ends_with(".csv") {
            Some(csv_rows(&path)?)
        } else {
            None
        };
        files.push(Entry {
            path: rel.replace('\\', "/"),
            bytes,
            sha256,
            rows,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Manifest {
        custseg_version: env!("CARGO_PKG_VERSION").to_string(),
        files,
    })
}

/// Every regular file under `dir` (recursively), relative and sorted, leaving out dot-files
/// (lock and temporary files), and the directory's own manifest and `audit.log` (appended to
/// later).
pub fn list_files(dir: &Path) -> Result<Vec<String>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|e| io_error("read", dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("read", dir, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out)?;
            } else if !(dir == base && (name == MANIFEST_FILE || name == super::audit::AUDIT_FILE))
            {
                let rel = path.strip_prefix(base).map_err(|_| {
                    Error::runtime(format!("{} is outside {}", path.display(), base.display()))
                })?;
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// The files of an ingest directory that exist, for its manifest.
pub fn ingest_files(dir: &Path) -> Vec<String> {
    use crate::schema;
    [
        schema::CUSTOMERS_FILE,
        schema::EVENTS_FILE,
        schema::ORDERS_FILE,
        schema::REJECTS_FILE,
        schema::SUMMARY_FILE,
    ]
    .into_iter()
    .filter(|f| dir.join(f).is_file())
    .map(str::to_string)
    .collect()
}

/// Writes `dir/manifest.json` for `relative` atomically.
pub fn write(dir: &Path, relative: &[String]) -> Result<Manifest> {
    let manifest = build(dir, relative)?;
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::runtime(format!("cannot encode the manifest: {e}")))?;
    let path = dir.join(MANIFEST_FILE);
    crate::io::write::write_atomic(&path, |w| {
        w.write_all(json.as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .map_err(|e| io_error("write", &path, e))
    })?;
    Ok(manifest)
}

/// Size and SHA-256 of a file, read in blocks.
pub fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut file = std::fs::File::open(path).map_err(|e| io_error("read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| io_error("read", path, e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((total, hex))
}

fn parquet_rows(path: &Path) -> Result<u64> {
    use polars::prelude::{ParquetReader, SerReader};
    let file = std::fs::File::open(path).map_err(|e| io_error("read", path, e))?;
    let rows = ParquetReader::new(file)
        .num_rows()
        .map_err(|e| Error::runtime(format!("{}: cannot read: {e}", path.display())))?;
    Ok(rows as u64)
}

fn csv_rows(path: &Path) -> Result<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::runtime(format!("{}: cannot read: {e}", path.display())))?;
    let mut n = 0u64;
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| Error::runtime(format!("{}: cannot read: {e}", path.display())))?
    {
        n += 1;
    }
    Ok(n)
}
