//! What polars itself takes on this machine for the least an ingest must do, on the bench
//! export: a floor under `custseg ingest`'s time, measured with the same polars build.
//!
//!     cargo bench --bench floor -- bench/data/orders-10000000-csv-s42-g14651846/orders.csv
//!
//! (`bench/floor.sh` finds or generates the export and runs this.) Each step is one lazy plan on
//! polars' streaming engine, every column read as text, as custseg reads exports:
//!
//! 1. parse: the CSV parsed, nothing kept (the byte length of every value summed);
//! 2. parse, write: copied into a Parquet file (polars' defaults: zstd), no cleaning;
//! 3. parse, minimal cleaning, write: trimmed, the timestamp parsed and put in a zone, the
//!    three numbers read after dropping a currency sign and thousands separators; no rejects,
//!    no duplicates, no identity, no sort;
//! 4. parse, sort, write: as 2, sorted by customer_id then ordered_at in memory (no bound on
//!    memory, unlike custseg's sort by ranges).
//!
//! Prints wall time, lines per second, CPU time (user + system) and peak resident memory of each
//! step. Files written go to a temporary folder removed at the end.

use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;

/// CPU seconds (user + system) of this process so far, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; clock ticks
    // of 1/100 s on Linux.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory (VmHWM) in MiB since the last [`reset_peak`].
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Resets the peak resident memory of this process to its current value.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn scan(csv: &Path) -> PolarsResult<LazyFrame> {
    LazyCsvReader::new(PlRefPath::new(csv.to_string_lossy().as_ref()))
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_missing_is_null(true)
        .finish()
}

fn sink_parquet(lf: LazyFrame, path: &Path) -> PolarsResult<()> {
    lf.sink(
        SinkDestination::File {
            target: SinkTarget::Path(PlRefPath::new(path.to_string_lossy().as_ref())),
        },
        FileWriteFormat::Parquet(Arc::new(ParquetWriteOptions::default())),
        UnifiedSinkArgs::default(),
    )?
    .collect_with_engine(Engine::Streaming)?;
    Ok(())
}

/// Text read as a number after dropping a currency sign, thousands separators and spaces.
fn number(name: &str) -> Expr {
    col(name)
        .str()
        .replace_all(lit("[￥¥$,\\s]"), lit(""), false)
        .cast(DataType::Float64)
        .alias(name)
}

/// The minimal cleaning of step 3 over the bench export's columns.
fn minimal_cleaning(lf: LazyFrame) -> LazyFrame {
    let text = [
        "customer_id",
        "order_id",
        "channel",
        "sku",
        "category",
        "brand",
    ];
    let mut exprs: Vec<Expr> = text
        .iter()
        .map(|c| col(*c).str().strip_chars(lit(NULL)).alias(*c))
        .collect();
    exprs.push(
        col("ordered_at")
            .str()
            .strip_chars(lit(NULL))
            .str()
            .strptime(
                DataType::Datetime(TimeUnit::Microseconds, None),
                StrptimeOptions {
                    format: Some("%Y-%m-%d %H:%M:%S".into()),
                    strict: false,
                    exact: true,
                    cache: true,
                },
                lit("raise"),
            )
            .dt()
            .replace_time_zone(
                Some(custseg::clean::parse::polars_zone(
                    chrono_tz::Asia::Shanghai,
                )),
                lit("earliest"),
                NonExistent::Null,
            )
            .alias("ordered_at"),
    );
    exprs.extend(["quantity", "unit_price", "amount"].map(number));
    lf.select(exprs)
}

/// A step: reads the CSV (first path), may write the second.
type Run = fn(&Path, &Path) -> PolarsResult<()>;

struct Step {
    name: &'static str,
    run: Run,
}

fn steps() -> Vec<Step> {
    vec![
        Step {
            name: "parse",
            run: |csv, _| {
                scan(csv)?
                    .select([all().as_expr().str().len_bytes().sum()])
                    .collect_with_engine(Engine::Streaming)?;
                Ok(())
            },
        },
        Step {
            name: "parse, write",
            run: |csv, out| sink_parquet(scan(csv)?, out),
        },
        Step {
            name: "parse, minimal cleaning, write",
            run: |csv, out| sink_parquet(minimal_cleaning(scan(csv)?), out),
        },
        Step {
            name: "parse, sort in memory, write",
            run: |csv, out| {
                sink_parquet(
                    scan(csv)?.sort(
                        ["customer_id", "ordered_at"],
                        SortMultipleOptions::default().with_maintain_order(true),
                    ),
                    out,
                )
            },
        },
    ]
}

fn main() {
    // `cargo bench` passes `--bench` to harness-less benches; the CSV is the other argument.
    let csv: Option<PathBuf> = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from);
    let Some(csv) = csv else {
        eprintln!("floor: error: no CSV given");
        eprintln!("floor: hint: cargo bench --bench floor -- PATH/orders.csv (or bench/floor.sh)");
        std::process::exit(2);
    };
    let lines = match scan(&csv).and_then(|lf| lf.select([len()]).collect()) {
        Ok(df) => df
            .column("len")
            .ok()
            .and_then(|c| c.idx().ok().and_then(|c| c.get(0)))
            .unwrap_or(0) as f64,
        Err(e) => {
            eprintln!("floor: error: cannot read {}: {e}", csv.display());
            std::process::exit(1);
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("floor: error: cannot create a temporary folder: {e}");
            std::process::exit(1);
        }
    };
    let out = dir.path().join("out.parquet");
    println!(
        "input: {}, {} lines, {:.1} MiB",
        csv.display(),
        lines,
        std::fs::metadata(&csv).map_or(0.0, |m| m.len() as f64 / 1048576.0)
    );
    println!();
    println!(
        "{:<34} {:>8} {:>12} {:>8} {:>14}",
        "step", "wall s", "lines/s", "CPU s", "peak RSS MiB"
    );
    for step in steps() {
        reset_peak();
        let (cpu, start) = (cpu_seconds(), Instant::now());
        if let Err(e) = (step.run)(&csv, &out) {
            eprintln!("floor: error: step \"{}\" failed: {e}", step.name);
            std::process::exit(1);
        }
        let wall = start.elapsed().as_secs_f64();
        println!(
            "{:<34} {:>8.2} {:>12.0} {:>8.2} {:>14.0}",
            step.name,
            wall,
            lines / wall,
            cpu_seconds() - cpu,
            peak_mib()
        );
        let _ = std::fs::remove_file(&out);
    }
}
