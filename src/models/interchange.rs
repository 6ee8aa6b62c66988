//! The btyd interchange tables shared with `custseg sql` (issue 9; the formats are in
//! docs/clv.md, section 13): reading and validating a btyd-histogram or btyd-summary file,
//! fitting from a histogram, the triples table (predictions per distinct (x, t_x, T) and per
//! distinct (x, mean_repeat_spend)), and scoring a per-customer summary of any size by
//! collapsing it into its histogram, predicting per row and joining the triples table back
//! (polars, streaming engine), which is the join the engine-side `clv-join` does.

use std::collections::BTreeMap;
use std::path::Path;

use btyd::{GammaGamma, Summary};
use polars::prelude::*;

use crate::config::{Encoding, FileFormat};
use crate::error::{Error, Result};
use crate::io::read::{self, ReadSpec, Scratch, ROW_INDEX};
use crate::models::clv::{
    self as model, ClvOptions, ClvRun, RunReport, CLV, DERT, EXPECTED_AVG_SPEND,
    EXPECTED_PURCHASES, P_ALIVE,
};
use crate::models::params::{ModelKind, ParamsFile, SpendModelFit};
use crate::models::prep::{MEAN_REPEAT_SPEND, T_AGE, T_X, X};
use crate::progress::Progress;
use crate::schema::CUSTOMER_ID;

/// Column: which part of a histogram or triples table a row belongs to.
pub const PART: &str = "part";
/// `part` of rows keyed by (x, t_x, T): the purchase model's input and predictions.
pub const TRIPLE: &str = "triple";
/// `part` of rows keyed by (x, mean_repeat_spend): the spend model's input and predictions.
pub const SPEND: &str = "spend";
/// Column: customers sharing a histogram row (Int64 > 0).
pub const CUSTOMERS: &str = "customers";
/// Column: Σ_{i=1..months} [E(i·m) − E((i−1)·m)] / (1 + d)^i, the clv before spend and margin.
pub const DISCOUNTED_PURCHASES: &str = "discounted_purchases";
/// Column: the --margin the triples were computed with.
pub const MARGIN: &str = "margin";

/// Columns of a btyd-histogram, in order.
pub const HISTOGRAM_COLUMNS: &[&str] = &[PART, X, T_X, T_AGE, MEAN_REPEAT_SPEND, CUSTOMERS];
/// Columns of a btyd-summary, in order.
pub const SUMMARY_COLUMNS: &[&str] = &[CUSTOMER_ID, X, T_X, T_AGE, MEAN_REPEAT_SPEND];
/// Columns of a triples table, in order.
pub const TRIPLES_COLUMNS: &[&str] = &[
    PART,
    X,
    T_X,
    T_AGE,
    MEAN_REPEAT_SPEND,
    EXPECTED_PURCHASES,
    P_ALIVE,
    DISCOUNTED_PURCHASES,
    DERT,
    EXPECTED_AVG_SPEND,
    MARGIN,
];

/// Which interchange table a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Histogram,
    Summary,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Histogram => "btyd-histogram",
            Kind::Summary => "btyd-summary",
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Histogram => HISTOGRAM_COLUMNS,
            Kind::Summary => SUMMARY_COLUMNS,
        }
    }

    fn hint(self) -> String {
        format!(
            "a {} has the columns {}; docs/clv.md, section 13, has the rules (custseg sql {} writes one)",
            self.name(),
            self.columns().join(", "),
            self.name()
        )
    }
}

/// An opened input file: its scan (columns as in the file, CSV as text, plus `__row`).
struct Source {
    lf: LazyFrame,
    display: String,
    format: FileFormat,
    kind: Kind,
    // Keeps decoded copies alive while the scan needs them.
    _scratch: Scratch,
}

impl Source {
    fn open(path: &Path, kind: Kind) -> Result<Self> {
        let display = path.display().to_string();
        if !path.is_file() {
            return Err(Error::input(format!("{display}: no such file")).hint(kind.hint()));
        }
        let format = FileFormat::from_path(path).ok_or_else(|| {
            Error::input(format!(
                "{display}: cannot tell the format from the extension"
            ))
            .hint("name the file .csv or .parquet")
        })?;
        let mut scratch = Scratch::new()?;
        let spec = ReadSpec {
            path,
            display: &display,
            format,
            encoding: Encoding::Utf8,
            delimiter: None,
        };
        let mut lf = read::scan_as_strings(&spec, &mut scratch)?;
        let names = read::column_names(&mut lf, &spec)?;
        let missing: Vec<&str> = kind
            .columns()
            .iter()
            .copied()
            .filter(|c| !names.iter().any(|n| n == c))
            .collect();
        if !missing.is_empty() {
            return Err(Error::input(format!(
                "{display}: not a {}: missing column{} {}",
                kind.name(),
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ))
            .hint(kind.hint()));
        }
        Ok(Source {
            lf,
            display,
            format,
            kind,
            _scratch: scratch,
        })
    }

    /// "FILE line N" (text formats, header on line 1) or "FILE row N" (Parquet, 1-based).
    fn location(&self, row: i64) -> String {
        match self.format {
            FileFormat::Csv | FileFormat::Tsv => format!("{} line {}", self.display, row + 2),
            FileFormat::Ndjson => format!("{} line {}", self.display, row + 1),
            FileFormat::Parquet => format!("{} row {}", self.display, row + 1),
        }
    }
}

/// What is wrong with a row.
#[derive(Debug, Clone, Copy)]
enum Problem {
    Missing(&'static str),
    NotNumber(&'static str),
    NotFinite(&'static str),
    Negative(&'static str),
    NotWhole(&'static str),
    NotPositive(&'static str),
    UnknownPart,
    RecencyAfterAge,
    RecencyWithoutRepeat,
    SpendWithoutRepeat,
}

impl Problem {
    fn message(self, raw: &dyn Fn(&str) -> String) -> String {
        match self {
            Problem::Missing(c) => format!("{c} is missing"),
            Problem::NotNumber(c) => format!("{c} \"{}\" is not a number", raw(c)),
            Problem::NotFinite(c) => format!("{c} {} is not a finite number", raw(c)),
            Problem::Negative(CUSTOMERS) => {
                format!("{CUSTOMERS} {} is not a positive count", raw(CUSTOMERS))
            }
            Problem::Negative(c) => format!("{c} {} is negative", raw(c)),
            Problem::NotWhole(c) => format!("{c} {} is not a whole number", raw(c)),
            Problem::NotPositive(c) => format!("{c} {} is not a positive count", raw(c)),
            Problem::UnknownPart => format!(
                "part \"{}\" is neither \"{TRIPLE}\" nor \"{SPEND}\"",
                raw(PART)
            ),
            Problem::RecencyAfterAge => {
                format!("t_x {} is after T {}", raw(T_X), raw(T_AGE))
            }
            Problem::RecencyWithoutRepeat => {
                format!("t_x {} is not 0 although x = 0", raw(T_X))
            }
            Problem::SpendWithoutRepeat => format!(
                "{MEAN_REPEAT_SPEND} {} is not 0 although x = 0",
                raw(MEAN_REPEAT_SPEND)
            ),
        }
    }
}

/// A row check: the rows where `when` holds have `problem`. Checks run in order; a row reports
/// its first failing check.
struct Check {
    when: Expr,
    problem: Problem,
}

fn number(c: &str) -> Expr {
    col(c).cast(DataType::Float64)
}

/// Present, a number, finite and ≥ 0, on the rows where `applies` holds.
fn number_checks(c: &'static str, applies: &Expr, out: &mut Vec<Check>) {
    finite_checks(c, applies, out);
    out.push(Check {
        when: applies.clone().and(number(c).lt(lit(0.0))),
        problem: Problem::Negative(c),
    });
}

/// Present, a number and finite (of any sign), on the rows where `applies` holds.
fn finite_checks(c: &'static str, applies: &Expr, out: &mut Vec<Check>) {
    let on = |e: Expr| applies.clone().and(e);
    out.push(Check {
        when: on(col(c).is_null()),
        problem: Problem::Missing(c),
    });
    out.push(Check {
        when: on(number(c).is_null()),
        problem: Problem::NotNumber(c),
    });
    out.push(Check {
        when: on(number(c).is_finite().not()),
        problem: Problem::NotFinite(c),
    });
}

fn whole_check(c: &'static str, out: &mut Vec<Check>) {
    out.push(Check {
        when: number(c).neq(number(c).floor()),
        problem: Problem::NotWhole(c),
    });
}

/// The (x, t_x, T) and (x, mean_repeat_spend) rules, on the rows where they apply.
fn model_checks(triple: &Expr, spend: &Expr, out: &mut Vec<Check>) {
    number_checks(X, &lit(true), out);
    whole_check(X, out);
    number_checks(T_X, triple, out);
    number_checks(T_AGE, triple, out);
    let zero_x = || number(X).eq(lit(0.0));
    out.push(Check {
        when: triple.clone().and(number(T_X).gt(number(T_AGE))),
        problem: Problem::RecencyAfterAge,
    });
    out.push(Check {
        when: triple.clone().and(zero_x()).and(number(T_X).neq(lit(0.0))),
        problem: Problem::RecencyWithoutRepeat,
    });
    // Net-negative repeat days (returns outweighing purchases) give a negative mean: custseg clv
    // produces it on order lines too, and the Gamma-Gamma fit leaves such customers out.
    finite_checks(MEAN_REPEAT_SPEND, spend, out);
    out.push(Check {
        when: spend
            .clone()
            .and(zero_x())
            .and(number(MEAN_REPEAT_SPEND).neq(lit(0.0))),
        problem: Problem::SpendWithoutRepeat,
    });
}

fn is_part(part: &str) -> Expr {
    col(PART).cast(DataType::String).eq(lit(part))
}

fn checks(kind: Kind) -> Vec<Check> {
    let mut out = Vec::new();
    match kind {
        Kind::Histogram => {
            out.push(Check {
                when: col(PART).is_null(),
                problem: Problem::Missing(PART),
            });
            out.push(Check {
                when: is_part(TRIPLE).or(is_part(SPEND)).not(),
                problem: Problem::UnknownPart,
            });
            number_checks(CUSTOMERS, &lit(true), &mut out);
            whole_check(CUSTOMERS, &mut out);
            out.push(Check {
                when: number(CUSTOMERS).eq(lit(0.0)),
                problem: Problem::NotPositive(CUSTOMERS),
            });
            model_checks(&is_part(TRIPLE), &is_part(SPEND), &mut out);
        }
        Kind::Summary => {
            out.push(Check {
                when: col(CUSTOMER_ID).is_null(),
                problem: Problem::Missing(CUSTOMER_ID),
            });
            model_checks(&lit(true), &lit(true), &mut out);
        }
    }
    out
}

const ROW: &str = "row";
const PROBLEM: &str = "problem";

fn collect(lf: LazyFrame, streaming: bool) -> PolarsResult<DataFrame> {
    if streaming {
        lf.collect_with_engine(Engine::Streaming)
            .map(|r| r.unwrap_single())
    } else {
        lf.collect()
    }
}

/// Fails with the first bad row of `source` (in file order), naming the file, line and rule.
fn validate(source: &Source, streaming: bool) -> Result<()> {
    let checks = checks(source.kind);
    // when(c0) then 0 otherwise (when(c1) then 1 otherwise (... null)): the first failing check.
    let mut code = lit(Null {}).cast(DataType::UInt32);
    for (i, check) in checks.iter().enumerate().rev() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        code = when(check.when.clone()).then(lit(i)).otherwise(code);
    }
    let mut select = vec![
        col(ROW_INDEX).cast(DataType::Int64).alias(ROW),
        code.alias(PROBLEM),
    ];
    select.extend(
        source
            .kind
            .columns()
            .iter()
            .map(|c| col(*c).cast(DataType::String)),
    );
    let first = source
        .lf
        .clone()
        .select(select)
        .filter(col(PROBLEM).is_not_null())
        .sort([ROW], SortMultipleOptions::default())
        .limit(1);
    let df = collect(first, streaming).map_err(|e| read_error(source, &e))?;
    if df.height() == 0 {
        return Ok(());
    }
    let row = df.column(ROW)?.i64()?.get(0).unwrap_or(0);
    let code = df.column(PROBLEM)?.u32()?.get(0).unwrap_or(0);
    let raw = |c: &str| -> String {
        df.column(c)
            .ok()
            .and_then(|s| s.str().ok().and_then(|s| s.get(0).map(str::to_string)))
            .unwrap_or_default()
    };
    let problem = checks
        .get(code as usize)
        .map_or(Problem::Missing(PART), |c| c.problem);
    Err(Error::input(format!(
        "{}: {}",
        source.location(row),
        problem.message(&raw)
    ))
    .hint(source.kind.hint()))
}

fn read_error(source: &Source, e: &PolarsError) -> Error {
    let text = e.to_string();
    Error::input(format!(
        "{}: cannot read: {}",
        source.display,
        text.lines().next().unwrap_or("unreadable")
    ))
    .hint(source.kind.hint())
}

/// The typed columns of a validated file: x Int64; t_x, T, mean_repeat_spend Float64 (−0 as
/// +0); for a histogram part String, customers Int64, and the other part's columns null.
fn typed(source: &Source) -> LazyFrame {
    let float = |c: &str| (number(c) + lit(0.0)).alias(c);
    let x = number(X).cast(DataType::Int64).alias(X);
    match source.kind {
        Kind::Summary => source.lf.clone().select([
            col(CUSTOMER_ID).cast(DataType::String),
            x,
            float(T_X),
            float(T_AGE),
            float(MEAN_REPEAT_SPEND),
        ]),
        Kind::Histogram => {
            let null = || lit(Null {}).cast(DataType::Float64);
            let only = |part: &str, c: &str| {
                when(is_part(part))
                    .then(number(c) + lit(0.0))
                    .otherwise(null())
                    .alias(c)
            };
            source.lf.clone().select([
                col(PART).cast(DataType::String),
                x,
                only(TRIPLE, T_X),
                only(TRIPLE, T_AGE),
                only(SPEND, MEAN_REPEAT_SPEND),
                number(CUSTOMERS).cast(DataType::Int64).alias(CUSTOMERS),
            ])
        }
    }
}

/// A histogram in model form: the weighted (x, t_x, T) rows and the weighted (x, m_x) rows.
pub struct Histogram {
    /// The triple part, sorted by (x, t_x, T), weights = customers.
    pub triples: Summary,
    /// The spend part: x, sorted by (x, mean_repeat_spend).
    pub spend_x: Vec<f64>,
    /// The spend part: mean_repeat_spend.
    pub spend_m: Vec<f64>,
    /// The spend part: customers.
    pub spend_weight: Vec<f64>,
}

impl Histogram {
    /// Customers in the histogram (Σ customers of the triple part).
    #[must_use]
    pub fn customers(&self) -> f64 {
        self.triples.total_weight()
    }
}

fn floats(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// Sorts and merges histogram rows (duplicates add their customers), then splits the parts.
fn histogram_from(rows: LazyFrame, streaming: bool, origin: &str) -> Result<Histogram> {
    let keys = [PART, X, T_X, T_AGE, MEAN_REPEAT_SPEND];
    let merged = rows
        .group_by(keys.map(col))
        .agg([col(CUSTOMERS).sum().alias(CUSTOMERS)])
        .sort(keys, SortMultipleOptions::default());
    let df = collect(merged, streaming)?;
    let part = |p: &str| -> Result<DataFrame> {
        Ok(df.clone().lazy().filter(col(PART).eq(lit(p))).collect()?)
    };
    let (triple, spend) = (part(TRIPLE)?, part(SPEND)?);
    if triple.height() == 0 {
        return Err(
            Error::input(format!("{origin}: no \"{TRIPLE}\" rows")).hint(Kind::Histogram.hint())
        );
    }
    let triples = Summary::new(
        floats(&triple, X)?,
        floats(&triple, T_X)?,
        floats(&triple, T_AGE)?,
        floats(&triple, CUSTOMERS)?,
    )
    .map_err(|e| Error::input(format!("{origin}: {e}")))?;
    let histogram = Histogram {
        triples,
        spend_x: floats(&spend, X)?,
        spend_m: floats(&spend, MEAN_REPEAT_SPEND)?,
        spend_weight: floats(&spend, CUSTOMERS)?,
    };
    // Both parts count every customer once, so they agree on the customers per x.
    let mut per_x: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    let t = &histogram.triples;
    for (x, w) in t.x.iter().zip(&t.weight) {
        per_x.entry(*x as i64).or_default().0 += w;
    }
    for (x, w) in histogram.spend_x.iter().zip(&histogram.spend_weight) {
        per_x.entry(*x as i64).or_default().1 += w;
    }
    if let Some((x, (a, b))) = per_x.iter().find(|(_, (a, b))| a != b) {
        return Err(Error::input(format!(
            "{origin}: x = {x} has {a} customers in the \"{TRIPLE}\" rows but {b} in the \"{SPEND}\" rows"
        ))
        .hint("both parts of a btyd-histogram count every customer once (x = 0 included)"));
    }
    Ok(histogram)
}

/// Reads and validates a btyd-histogram file (CSV or Parquet by extension).
///
/// # Errors
/// An input error (exit 2) naming the file and the first bad row: a missing column, an unknown
/// part, a count that is not a positive whole number, x negative or fractional, t_x > T, t_x ≠ 0
/// or mean_repeat_spend ≠ 0 when x = 0, parts that disagree on the customers per x.
pub fn read_histogram(path: &Path) -> Result<Histogram> {
    let source = Source::open(path, Kind::Histogram)?;
    validate(&source, false)?;
    histogram_from(typed(&source), false, &source.display)
}

/// Fits the purchase model of `options` on the triple part and Gamma-Gamma on the spend part
/// (weighted by customers): the estimates of a fit on the customers' order lines.
///
/// # Errors
/// Runtime errors from the model math.
pub fn fit(histogram: &Histogram, options: &ClvOptions, progress: &Progress) -> Result<ParamsFile> {
    let fit_options = options.fit_options();
    progress.stage(&format!("fitting {}", options.model.title()));
    let (_, params) = model::fit_count(options, &histogram.triples, &fit_options)?;
    progress.stage("fitting Gamma-Gamma");
    let spend = match GammaGamma::fit_weighted(
        &histogram.spend_x,
        &histogram.spend_m,
        &histogram.spend_weight,
        &fit_options,
    ) {
        Ok(fit) => Some(fit),
        Err(btyd::Error::Empty) => None,
        Err(e) => return Err(model::model_error(e)),
    };
    Ok(ParamsFile {
        spend_model: spend.as_ref().map(SpendModelFit::from),
        ..params
    })
}

/// The triples table of `histogram` under `params` (columns [`TRIPLES_COLUMNS`]; spend rows
/// first, then triple rows, each sorted by its key), with the run's counts for the report.
///
/// expected_avg_spend falls back (no spend model, or p·x + q ≤ 1) to the mean value of the
/// repeat transactions, Σ customers·x·m / Σ customers·x, at least 0: a histogram does not carry
/// first transactions, which the fallback of a run on order lines includes (docs/clv.md).
///
/// # Errors
/// An input error for unusable params; runtime errors from the model math.
pub fn triples(
    histogram: &Histogram,
    params: &ParamsFile,
    fitted: bool,
    options: &ClvOptions,
) -> Result<ClvRun> {
    let count = params.count_model("params")?;
    let spend_model = params.spend_model.as_ref().map(|s| s.params);
    let t = &histogram.triples;
    let rows = model::predict_rows(&count, t, options)?;
    let (sx, sm, sw) = (
        &histogram.spend_x,
        &histogram.spend_m,
        &histogram.spend_weight,
    );
    let repeat_value: f64 = sx.iter().zip(sm).zip(sw).map(|((x, m), w)| w * x * m).sum();
    let repeats: f64 = sx.iter().zip(sw).map(|(x, w)| w * x).sum();
    let fallback = model::spend_fallback_value(repeat_value, repeats);
    let (avg_spend, is_fallback) = model::expected_spend(spend_model, sx, sm, fallback);
    let fallback_customers: f64 = sw
        .iter()
        .zip(&is_fallback)
        .filter(|(_, f)| **f)
        .map(|(w, _)| w)
        .sum();

    let (ns, nt) = (sx.len(), t.len());
    let none = |n: usize| vec![None::<f64>; n];
    let some = |v: &[f64]| v.iter().copied().map(Some).collect::<Vec<_>>();
    let join = |a: Vec<Option<f64>>, b: Vec<Option<f64>>| [a, b].concat();
    let margin = options.margin;
    let dert = match &rows.dert {
        Some(d) => some(d),
        None => none(nt),
    };
    let part: Vec<&str> = std::iter::repeat_n(SPEND, ns)
        .chain(std::iter::repeat_n(TRIPLE, nt))
        .collect();
    let x: Vec<i64> = sx.iter().chain(&t.x).map(|v| *v as i64).collect();
    let columns = vec![
        Column::new(PART.into(), part),
        Column::new(X.into(), x),
        Column::new(T_X.into(), join(none(ns), some(&t.t_x))),
        Column::new(T_AGE.into(), join(none(ns), some(&t.t))),
        Column::new(MEAN_REPEAT_SPEND.into(), join(some(sm), none(nt))),
        Column::new(
            EXPECTED_PURCHASES.into(),
            join(none(ns), some(&rows.expected_purchases)),
        ),
        Column::new(P_ALIVE.into(), join(none(ns), some(&rows.p_alive))),
        Column::new(
            DISCOUNTED_PURCHASES.into(),
            join(none(ns), some(&rows.discounted_purchases)),
        ),
        Column::new(DERT.into(), join(none(ns), dert)),
        Column::new(EXPECTED_AVG_SPEND.into(), join(some(&avg_spend), none(nt))),
        Column::new(MARGIN.into(), vec![margin; ns + nt]),
    ];
    let table = DataFrame::new(ns + nt, columns)?;
    let log_likelihood = if fitted {
        params.purchase_model.log_likelihood
    } else {
        count.log_likelihood(t)
    };
    Ok(ClvRun {
        table,
        params: params.clone(),
        fitted,
        report: RunReport {
            customers: histogram.customers().round() as usize,
            unique_rows: nt,
            log_likelihood,
            first_purchase_after_calibration: 0,
            returns_only: 0,
            spend_fallback: fallback_customers.round() as usize,
            spend_fallback_value: fallback,
            last_purchase: None,
            months: options.horizon.months(),
        },
        diagnostics: None,
    })
}

/// Joins a triples table onto per-customer (x, t_x, T, mean_repeat_spend) rows, keeping their
/// order: the columns of `custseg clv` (customer_id, x, t_x, T, mean_repeat_spend,
/// expected_purchases, p_alive, expected_avg_spend, clv = discounted_purchases ·
/// expected_avg_spend · margin, and dert when `with_dert`).
pub fn join_triples(summary: LazyFrame, triples: LazyFrame, with_dert: bool) -> LazyFrame {
    let args = JoinArgs {
        maintain_order: MaintainOrderJoin::Left,
        ..JoinArgs::new(JoinType::Left)
    };
    let triple_keys = [col(X), col(T_X), col(T_AGE)];
    let spend_keys = [col(X), col(MEAN_REPEAT_SPEND)];
    let by_triple = triples.clone().filter(col(PART).eq(lit(TRIPLE))).select([
        col(X),
        col(T_X),
        col(T_AGE),
        col(EXPECTED_PURCHASES),
        col(P_ALIVE),
        col(DISCOUNTED_PURCHASES),
        col(DERT),
    ]);
    let by_spend = triples.filter(col(PART).eq(lit(SPEND))).select([
        col(X),
        col(MEAN_REPEAT_SPEND),
        col(EXPECTED_AVG_SPEND),
        col(MARGIN),
    ]);
    let mut out = vec![
        col(CUSTOMER_ID),
        col(X),
        col(T_X),
        col(T_AGE),
        col(MEAN_REPEAT_SPEND),
        col(EXPECTED_PURCHASES),
        col(P_ALIVE),
        col(EXPECTED_AVG_SPEND),
        (col(DISCOUNTED_PURCHASES) * col(EXPECTED_AVG_SPEND) * col(MARGIN)).alias(CLV),
    ];
    if with_dert {
        out.push(col(DERT));
    }
    summary
        .join(by_triple, triple_keys.clone(), triple_keys, args.clone())
        .join(by_spend, spend_keys.clone(), spend_keys, args)
        .select(out)
}

/// Scores a btyd-summary file with `params`: validates it (streaming), collapses it into its
/// histogram (streaming group-bys), predicts every distinct row, and joins the predictions back
/// onto the customers in file order. The table has the columns of `custseg clv --params` on
/// order lines.
///
/// # Errors
/// As [`read_histogram`], for the summary's rules; runtime errors from the engine.
pub fn score_summary(
    path: &Path,
    params: &ParamsFile,
    options: &ClvOptions,
    progress: &Progress,
    explain: bool,
) -> Result<ClvRun> {
    progress.stage("checking the summary");
    let source = Source::open(path, Kind::Summary)?;
    validate(&source, true)?;
    let customers = typed(&source);
    progress.stage("collapsing customers into (x, t_x, T) rows");
    let null = || lit(Null {}).cast(DataType::Float64);
    let triple_rows = customers
        .clone()
        .group_by([col(X), col(T_X), col(T_AGE)])
        .agg([len().cast(DataType::Int64).alias(CUSTOMERS)])
        .with_columns([lit(TRIPLE).alias(PART), null().alias(MEAN_REPEAT_SPEND)])
        .select(
            HISTOGRAM_COLUMNS
                .iter()
                .map(|c| col(*c))
                .collect::<Vec<_>>(),
        );
    let spend_rows = customers
        .clone()
        .group_by([col(X), col(MEAN_REPEAT_SPEND)])
        .agg([len().cast(DataType::Int64).alias(CUSTOMERS)])
        .with_columns([
            lit(SPEND).alias(PART),
            null().alias(T_X),
            null().alias(T_AGE),
        ])
        .select(
            HISTOGRAM_COLUMNS
                .iter()
                .map(|c| col(*c))
                .collect::<Vec<_>>(),
        );
    let rows = concat([triple_rows, spend_rows], UnionArgs::default())?;
    let histogram = histogram_from(rows, true, &source.display)?;
    progress.stage("predicting");
    let run = triples(&histogram, params, false, options)?;
    let with_dert = params.model == ModelKind::Pnbd;
    let plan = join_triples(customers, run.table.clone().lazy(), with_dert);
    if explain {
        eprintln!(
            "custseg: plan for joining the predictions back:\n{}",
            plan.explain(true)?
        );
    }
    progress.stage("joining back to customers");
    let table = collect(plan, true)?;
    Ok(ClvRun { table, ..run })
}
