//! Intermediate tables on disk, so that an ingest of tens of millions of lines never holds a
//! whole table in memory: streaming sinks to scratch Parquet files, a sort that works one range
//! of keys at a time, and copying a scratch file into its final place in row slices.

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};

/// Lines per sorted range and per written slice. Bounded memory: a slice of the widest table
/// (order lines) takes a few hundred MiB. `CUSTSEG_SPILL_ROWS` overrides it (tests use tiny
/// values so that many ranges are exercised on small fixtures).
pub fn slice_rows() -> usize {
    std::env::var("CUSTSEG_SPILL_ROWS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2_000_000)
}

fn pl_path(path: &Path) -> PlRefPath {
    PlRefPath::new(path.to_string_lossy().as_ref())
}

/// Runs `lf` on the streaming engine into a Parquet file at `path` (LZ4: fast, and these
/// scratch files are read once or twice).
pub fn sink(lf: LazyFrame, path: &Path) -> std::result::Result<(), PolarsError> {
    let options = ParquetWriteOptions {
        compression: ParquetCompression::Lz4Raw,
        ..Default::default()
    };
    lf.sink(
        SinkDestination::File {
            target: SinkTarget::Path(pl_path(path)),
        },
        FileWriteFormat::Parquet(Arc::new(options)),
        UnifiedSinkArgs::default(),
    )?
    .collect_with_engine(Engine::Streaming)?;
    Ok(())
}

/// A lazy scan of a Parquet file written by [`sink`] or [`sort_file`].
///
/// # Errors
/// A runtime error naming the file when it cannot be opened.
pub fn scan(path: &Path) -> Result<LazyFrame> {
    LazyFrame::scan_parquet(pl_path(path), ScanArgsParquet::default()).map_err(|e| {
        Error::runtime(format!(
            "cannot read the scratch file {}: {e}",
            path.display()
        ))
    })
}

/// What [`sort_file`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct Sorted {
    /// Rows written.
    pub rows: u64,
    /// Distinct values of the first sort key.
    pub keys: u64,
}

/// Copies the columns `columns` of the Parquet file `src` to `dst` sorted by `by` (nulls first;
/// stable, so ties keep their order in `src`), holding about [`slice_rows`] rows at a time: the distinct values of
/// the first key and their row counts give ranges of whole keys, each read, sorted and appended
/// in turn. A key with more rows than a range holds gets a range of its own.
pub fn sort_file(src: &Path, dst: &Path, by: [&str; 2], columns: &[&str]) -> Result<Sorted> {
    const N: &str = "__n";
    const START: &str = "__start";
    const RANGE: &str = "__range";
    let [first, _] = by;
    let per_range = slice_rows() as u64;
    let counts = scan(src)?
        .group_by([col(first)])
        .agg([len().cast(DataType::UInt64).alias(N)])
        .sort([first], SortMultipleOptions::default())
        .with_column((col(N).cum_sum(false) - col(N)).alias(START))
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let keys = counts.height() as u64;
    let ranges = counts
        .lazy()
        .with_column((col(START) / lit(per_range)).alias(RANGE))
        .group_by_stable([col(RANGE)])
        .agg([
            col(first).drop_nulls().first().alias("__lo"),
            col(first).drop_nulls().last().alias("__hi"),
            col(first).null_count().gt(lit(0)).alias("__null"),
        ])
        .collect()?;
    let lo = ranges.column("__lo")?.str()?.clone();
    let hi = ranges.column("__hi")?.str()?.clone();
    let has_null = ranges.column("__null")?.bool()?.clone();

    let file = std::fs::File::create(dst).map_err(|e| crate::error::io_error("create", dst, e))?;
    let mut out = std::io::BufWriter::new(file);
    let select: Vec<Expr> = columns.iter().map(|c| col(*c)).collect();
    let schema = scan(src)?.select(select.clone()).collect_schema()?;
    let mut writer = ParquetWriter::new(&mut out).batched(&schema)?;
    let mut rows = 0u64;
    for i in 0..ranges.height() {
        // Nulls sort first and take part in no comparison: the range that starts with them
        // selects them explicitly.
        let mut wanted: Option<Expr> = match (lo.get(i), hi.get(i)) {
            (Some(l), Some(h)) => Some(
                col(first)
                    .gt_eq(lit(l.to_string()))
                    .and(col(first).lt_eq(lit(h.to_string()))),
            ),
            _ => None,
        };
        if has_null.get(i) == Some(true) {
            let nulls = col(first).is_null();
            wanted = Some(match wanted {
                Some(w) => w.or(nulls),
                None => nulls,
            });
        }
        let Some(wanted) = wanted else { continue };
        let part = scan(src)?
            .filter(wanted)
            .select(select.clone())
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        let mut part = sort_consuming(part, by)?;
        part.align_chunks_par();
        rows += part.height() as u64;
        writer.write_batch(&part)?;
    }
    writer.finish()?;
    out.flush()
        .map_err(|e| crate::error::io_error("write", dst, e))?;
    Ok(Sorted { rows, keys })
}

/// Writes the Parquet file `src` as Parquet into `w`, [`slice_rows`] rows at a time, each slice
/// passed through `map` first (e.g. the privacy policy).
pub fn copy_in_slices(
    src: &Path,
    w: &mut dyn Write,
    map: &dyn Fn(DataFrame) -> Result<DataFrame>,
) -> Result<()> {
    let total = scan(src)?
        .select([len().cast(DataType::UInt64).alias("__n")])
        .collect()?
        .column("__n")?
        .u64()?
        .get(0)
        .unwrap_or(0);
    let step = slice_rows() as u64;
    let mut writer: Option<polars::io::parquet::write::BatchedWriter<&mut dyn Write>> = None;
    let mut offset = 0u64;
    let mut w = Some(w);
    loop {
        let part = scan(src)?
            .slice(offset as i64, step as IdxSize)
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        let mut part = map(part)?;
        part.align_chunks_par();
        if writer.is_none() {
            let sink = w.take().expect("the writer is taken once");
            writer = Some(ParquetWriter::new(sink).batched(part.schema())?);
        }
        if let Some(writer) = writer.as_mut() {
            if part.height() > 0 {
                writer.write_batch(&part)?;
            }
        }
        offset += step;
        if offset >= total {
            break;
        }
    }
    if let Some(writer) = writer {
        writer.finish()?;
    }
    Ok(())
}

/// `df` sorted by `by` (stable: ties keep their order), gathering one column at a time and freeing
/// each input column once gathered, so the peak is one column above the input.
///
/// The order is the one `sort` with `maintain_order` gives on the two keys, computed on integers:
/// the first key (a string) is replaced by the rank of its value among the distinct values sorted
/// the same way (nulls first, as in the sort), and the row number breaks ties. Comparing millions
/// of strings at random places in memory was most of the time of this step.
pub fn sort_consuming(df: DataFrame, by: [&str; 2]) -> Result<DataFrame> {
    const ORDER: &str = "__order";
    const RANK: &str = "__rank";
    let [first, second] = by;
    let keys = df.select(by)?.lazy().with_row_index(ORDER, None);
    let ranks = keys
        .clone()
        .select([col(first)])
        .unique(None, UniqueKeepStrategy::Any)
        .sort([first], SortMultipleOptions::default())
        .with_row_index(RANK, None);
    let order = keys
        .join(
            ranks,
            [col(first)],
            [col(first)],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .sort(
            [RANK, second, ORDER],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .select([col(ORDER)])
        .collect()?;
    let order = order.column(ORDER)?.idx()?.clone();
    let height = df.height();
    let mut columns = Vec::new();
    for column in df.into_columns() {
        columns.push(column.take(&order)?);
    }
    Ok(DataFrame::new(height, columns)?)
}
