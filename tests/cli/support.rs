//! Helpers shared by the integration tests: locating fixtures, running the binary, reading
//! output tables.

use std::path::{Path, PathBuf};

use polars::prelude::*;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under testdata/.
pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// The custseg binary under test.
pub fn custseg() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("custseg").expect("custseg binary is built")
}

/// `custseg ingest` of the shop example (as of 2025-01-01) into a new temporary folder.
pub fn ingest_shop() -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("temp dir");
    custseg()
        .args(["ingest", "--quiet", "--as-of", "2025-01-01", "--config"])
        .arg(root().join("examples/shop/custseg.toml"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    out
}

/// Reads a parquet file written by custseg.
pub fn read_parquet(path: &Path) -> DataFrame {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(file)
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Renders a frame as CSV with custseg's own writer, for golden comparisons.
pub fn frame_to_csv(df: &mut DataFrame) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.csv");
    let dest = custseg::io::write::Destination::resolve(None, Some(&path)).expect("destination");
    custseg::io::write::write_frame(df, &dest, true).expect("write csv");
    std::fs::read_to_string(&path).expect("read back")
}

/// Parses summary.json of an ingest output directory.
pub fn summary(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

/// Buckets of customers found in `--explain` output ("…, bucket 1 of 40:" → 40; 0 for one plan).
pub fn buckets_in(stderr: &str) -> usize {
    stderr
        .lines()
        .filter_map(|l| l.split(", bucket 1 of ").nth(1))
        .filter_map(|rest| rest.trim_end_matches(':').parse().ok())
        .next()
        .unwrap_or(0)
}
