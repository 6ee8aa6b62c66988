//! Intermediate tables on disk, so that an ingest of tens of millions of lines never holds a
//! whole table in memory: streaming sinks to scratch Parquet files, a sort that works one range
//! of keys at a time, and copying a scratch file into its final place in row slices.

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};

/// Lines per sorted range and per written slice. Bounded memory: a range of the widest table
/// (order lines) takes roughly 0.5 KiB per line while it is sorted (1.1 GiB measured for 2M). `CUSTSEG_SPILL_ROWS` overrides it (tests use tiny
/// values so that many ranges are exercised on small fixtures).
pub fn slice_rows() -> usize {
    std::env::var("CUSTSEG_SPILL_ROWS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(500_000)
}

/// Most ranges [`sort_to_file`] cuts a table into (its partition pass keeps a file open per
/// range); above `MAX_RANGES` × [`slice_rows`] lines the ranges grow instead.
const MAX_RANGES: u64 = 64;

fn pl_path(path: &Path) -> PlRefPath {
    PlRefPath::new(path.to_string_lossy().as_ref())
}

/// How scratch files are written: LZ4, fast, since each is read once or twice, and no min / max
/// statistics; row groups of `row_group` lines (None: polars' default, 122,880).
fn scratch_format(row_group: Option<usize>) -> FileWriteFormat {
    FileWriteFormat::Parquet(Arc::new(ParquetWriteOptions {
        compression: ParquetCompression::Lz4Raw,
        row_group_size: row_group,
        // Nothing filters scratch files on min / max; null counts stay (they are cheap).
        statistics: StatisticsOptions {
            min_value: false,
            max_value: false,
            ..Default::default()
        },
        ..Default::default()
    }))
}

/// Lines per row group of the sort's range files: its partition pass holds one row group being
/// filled per range, and at polars' default 20 ranges held about 250 MiB more (10M lines: peak
/// 540-620 MiB instead of 790-840, for about 1 s more).
const RANGE_ROW_GROUP: usize = 32_768;

/// Lines per row group of a source's raw-text scratch file: each is read back as one batch of
/// the cleaning pass, whose many intermediate columns per line make large batches costly in
/// memory (10M lines: at polars' default of 122,880, 1.4 GiB peak instead of 0.8).
pub const RAW_ROW_GROUP: usize = 32_768;

/// Runs `lf` on the streaming engine into a scratch Parquet file at `path`.
pub fn sink(lf: LazyFrame, path: &Path) -> std::result::Result<(), PolarsError> {
    sink_in_groups(lf, path, None)
}

/// [`sink`] in row groups of `row_group` lines (None: polars' default, 122,880).
pub fn sink_in_groups(
    lf: LazyFrame,
    path: &Path,
    row_group: Option<usize>,
) -> std::result::Result<(), PolarsError> {
    lf.sink(
        SinkDestination::File {
            target: SinkTarget::Path(pl_path(path)),
        },
        scratch_format(row_group),
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

/// Row counts per value of the first sort key, for [`sort_to_file`]: a frame with that key
/// (each value once) and a `UInt64` column [`COUNT`].
pub const COUNT: &str = "__n";

/// Writes the columns `columns` of the rows of `src` (a plan, run twice: once here, once when
/// `counts` was computed from it) to the Parquet file `dst`, sorted by `by` (nulls first;
/// stable, so ties keep their order in `src`), holding about two ranges of rows at a time.
///
/// `counts` ([`COUNT`] rows per value of the first key) cut the keys into ranges of about
/// [`slice_rows`] rows, or more when that would make over [`MAX_RANGES`] ranges (a key with more
/// rows than that gets a range of its own). One streaming pass writes each row into a scratch
/// file of its range; each range is then read, sorted and appended to `dst` in turn, the next
/// one being read and sorted while one is written.
pub fn sort_to_file(
    src: LazyFrame,
    counts: DataFrame,
    dst: &Path,
    by: [&str; 2],
    columns: &[&str],
) -> Result<Sorted> {
    const N: &str = COUNT;
    const START: &str = "__start";
    const RANGE: &str = "__range";
    const ROW: &str = "__spill_row";
    let [first, _] = by;
    let total: u64 = counts.column(N)?.u64()?.sum().unwrap_or(0);
    let per_range = (slice_rows() as u64).max(total.div_ceil(MAX_RANGES));
    let counts = counts
        .lazy()
        .sort([first], SortMultipleOptions::default())
        .with_column((col(N).cum_sum(false) - col(N)).alias(START))
        .collect()?;
    let keys = counts.height() as u64;
    let ranges = counts
        .lazy()
        .with_column((col(START) / lit(per_range)).alias(RANGE))
        .group_by_stable([col(RANGE)])
        .agg([col(first).drop_nulls().last().alias("__hi")])
        .collect()?;
    let hi = ranges.column("__hi")?.str()?.clone();
    let n_ranges = ranges.height();

    let mut select: Vec<Expr> = columns.iter().map(|c| col(*c)).collect();
    let schema = src.clone().select(select.clone()).collect_schema()?;
    select.push(col(ROW));
    let file = std::fs::File::create(dst).map_err(|e| crate::error::io_error("create", dst, e))?;
    let mut out = std::io::BufWriter::new(file);
    let mut writer = ParquetWriter::new(&mut out).batched(&schema)?;
    let mut rows = 0u64;
    let sorted = |part: DataFrame| -> Result<DataFrame> {
        let mut part = sort_consuming(part, by, Some(ROW))?;
        part.drop_in_place(ROW)?;
        part.align_chunks_par();
        Ok(part)
    };
    let mut write_range = |part: DataFrame| -> Result<()> {
        rows += part.height() as u64;
        writer.write_batch(&part)?;
        Ok(())
    };
    let rows_in_order = src.with_row_index(ROW, None);
    if n_ranges <= 1 {
        write_range(sorted(
            rows_in_order
                .select(select)
                .collect_with_engine(Engine::Streaming)?
                .unwrap_single(),
        )?)?;
    } else {
        // Range of a row: how many ranges end below its key (a range holding only the null key
        // ends below every other key; nulls sort first).
        let range = (0..n_ranges - 1)
            .map(|i| {
                let above = match hi.get(i) {
                    Some(h) => col(first).gt(lit(h.to_string())).fill_null(lit(false)),
                    None => col(first).is_not_null(),
                };
                above.cast(DataType::UInt32)
            })
            .fold(lit(0u32), |acc, above| acc + above);
        let parts = dst.with_extension("ranges");
        rows_in_order
            .select(select.clone())
            .with_column(range.alias(RANGE))
            .sink(
                SinkDestination::Partitioned {
                    base_path: pl_path(&parts),
                    // Hive layout: PARTS/__range=I/00000000.parquet
                    file_path_provider: None,
                    partition_strategy: PartitionStrategy::Keyed {
                        keys: vec![col(RANGE)],
                        include_keys: false,
                        keys_pre_grouped: false,
                    },
                    max_rows_per_file: IdxSize::MAX,
                    approximate_bytes_per_file: u64::MAX,
                },
                scratch_format(Some(RANGE_ROW_GROUP)),
                UnifiedSinkArgs {
                    mkdir: true,
                    ..Default::default()
                },
            )?
            .collect_with_engine(Engine::Streaming)?;
        // Range i + 1 is read and sorted on a second thread while range i is written.
        let read_range = |i: usize| -> Result<Option<DataFrame>> {
            let dir = parts.join(format!("{RANGE}={i}"));
            let mut files: Vec<std::path::PathBuf> = match std::fs::read_dir(&dir) {
                Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(_) => return Ok(None),
            };
            files.sort();
            let scans = files
                .iter()
                .map(|f| {
                    LazyFrame::scan_parquet(
                        pl_path(f),
                        ScanArgsParquet {
                            hive_options: HiveOptions::new_disabled(),
                            ..Default::default()
                        },
                    )
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            if scans.is_empty() {
                return Ok(None);
            }
            let part = concat(scans, UnionArgs::default())?
                .select(select.clone())
                .collect()?;
            let part = sorted(part)?;
            let _ = std::fs::remove_dir_all(&dir);
            Ok(Some(part))
        };
        std::thread::scope(|scope| -> Result<()> {
            let (send, receive) = std::sync::mpsc::sync_channel::<Result<Option<DataFrame>>>(1);
            scope.spawn(move || {
                for i in 0..n_ranges {
                    let part = read_range(i);
                    let failed = part.is_err();
                    if send.send(part).is_err() || failed {
                        break;
                    }
                }
            });
            for part in receive {
                if let Some(part) = part? {
                    write_range(part)?;
                }
            }
            Ok(())
        })?;
        let _ = std::fs::remove_dir_all(&parts);
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
/// the same way (nulls first, as in the sort), and the column `tiebreak` (else the row number)
/// breaks ties. Comparing millions of strings at random places in memory was most of the time of
/// this step.
pub fn sort_consuming(df: DataFrame, by: [&str; 2], tiebreak: Option<&str>) -> Result<DataFrame> {
    const ORDER: &str = "__order";
    const RANK: &str = "__rank";
    let [first, second] = by;
    let mut key_columns = vec![first, second];
    key_columns.extend(tiebreak);
    let keys = df.select(key_columns)?.lazy().with_row_index(ORDER, None);
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
            [RANK, second, tiebreak.unwrap_or(ORDER)],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .select([col(ORDER)])
        .collect()?;
    let order = order.column(ORDER)?.idx()?.clone();
    let height = df.height();
    // A table read back from many small scratch batches has as many chunks per column; a gather
    // across chunks costs about three times a gather from one.
    let mut df = df;
    df.rechunk_mut_par();
    let mut columns = Vec::new();
    for column in df.into_columns() {
        columns.push(column.take(&order)?);
    }
    Ok(DataFrame::new(height, columns)?)
}
