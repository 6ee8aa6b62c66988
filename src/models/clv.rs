//! Probabilistic CLV from order lines: the customer summary (see [`crate::models::prep`]),
//! collected bucket by bucket of customers (one bucket's lines in memory at a time) and
//! collapsed into unique weighted (x, t_x, T) rows; a purchase-count model
//! (BG/NBD, MBG/NBD or Pareto/NBD) and the Gamma-Gamma spend model fitted by maximum
//! likelihood, or read from a params file; and per-customer predictions. The model math is the
//! `btyd` crate's; conventions (time units, months, discounting, fallbacks) are documented here
//! and in docs/clv.md.
//!
//! Output columns, in this order ([`OUTPUT_COLUMNS`]): customer_id, x, t_x, T,
//! mean_repeat_spend, expected_purchases, p_alive, expected_avg_spend, clv; then dert for
//! Pareto/NBD; then holdout_purchases and expected_holdout_purchases with a holdout end.

use btyd::{BgNbd, FitOptions, GammaGamma, MbgNbd, ParetoNbd, Summary};
use chrono::NaiveDate;
use polars::prelude::*;

use crate::error::{Error, Result};
use crate::metrics::score::CustomerBuckets;
use crate::models::diagnostics::{self, Diagnostics};
use crate::models::params::{CountModel, ModelKind, ParamsFile, SpendModelFit};
use crate::models::prep::{self, PrepOptions, TimeUnit, MONTH_DAYS, YEAR_DAYS};
use crate::progress::Progress;
use crate::schema;

/// Column: expected repeat transactions in the horizon, E[Y(t) | x, t_x, T].
pub const EXPECTED_PURCHASES: &str = "expected_purchases";
/// Column: probability that the customer is still active at the calibration end.
pub const P_ALIVE: &str = "p_alive";
/// Column: expected value per future transaction (Gamma-Gamma conditional mean, or the
/// fallback).
pub const EXPECTED_AVG_SPEND: &str = "expected_avg_spend";
/// Column: discounted expected margin over the horizon's whole months.
pub const CLV: &str = "clv";
/// Column (Pareto/NBD): discounted expected residual transactions.
pub const DERT: &str = "dert";
/// Column (holdout): E[Y(holdout length) | x, t_x, T].
pub const EXPECTED_HOLDOUT_PURCHASES: &str = "expected_holdout_purchases";

/// The columns every prediction table has, in order.
pub const OUTPUT_COLUMNS: &[&str] = &[
    schema::CUSTOMER_ID,
    prep::X,
    prep::T_X,
    prep::T_AGE,
    prep::MEAN_REPEAT_SPEND,
    EXPECTED_PURCHASES,
    P_ALIVE,
    EXPECTED_AVG_SPEND,
    CLV,
];

/// A prediction horizon: a whole or decimal number of days, weeks, months or years.
#[derive(Debug, Clone, PartialEq)]
pub struct Horizon {
    /// Length in days (weeks × 7, months × 30.4375, years × 365.25).
    pub days: f64,
    /// As typed, for messages.
    pub text: String,
}

impl Horizon {
    /// Parses `39w`, `12m`, `90d`, `1y`, `1.5y` (a positive number and a unit letter).
    ///
    /// # Errors
    /// A usage error with a hint.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let bad = || {
            Error::usage(format!("--horizon \"{text}\" is not a horizon"))
                .hint("use a number and d, w, m or y, e.g. --horizon 39w, 12m, 90d or 1y")
        };
        let unit = t.chars().last().ok_or_else(bad)?;
        let factor = match unit.to_ascii_lowercase() {
            'd' => 1.0,
            'w' => 7.0,
            'm' => MONTH_DAYS,
            'y' => YEAR_DAYS,
            _ => return Err(bad()),
        };
        let number: f64 = t[..t.len() - unit.len_utf8()]
            .trim()
            .parse()
            .map_err(|_| bad())?;
        if !(number.is_finite() && number > 0.0 && number * factor <= 1000.0 * YEAR_DAYS) {
            return Err(bad());
        }
        Ok(Horizon {
            days: number * factor,
            text: t.to_string(),
        })
    }

    /// Length in `unit`.
    #[must_use]
    pub fn in_unit(&self, unit: TimeUnit) -> f64 {
        self.days / unit.days()
    }

    /// Whole months the CLV sums over: days / 30.4375, rounded half up.
    #[must_use]
    pub fn months(&self) -> u32 {
        // Bounded by 1000 years in `parse`.
        (self.days / MONTH_DAYS).round() as u32
    }
}

/// Everything a CLV run needs.
#[derive(Debug, Clone)]
pub struct ClvOptions {
    /// Calibration end, holdout end and time unit.
    pub prep: PrepOptions,
    /// The purchase-count model to fit (ignored with `params`, whose model is used).
    pub model: ModelKind,
    /// Horizon of expected_purchases and clv.
    pub horizon: Horizon,
    /// Discount rate per year (0.1 = 10 %), converted to monthly for clv and to a continuous
    /// rate per time unit for dert.
    pub annual_discount_rate: f64,
    /// Share of spend that is margin (1 = revenue).
    pub margin: f64,
    /// Use these parameters instead of fitting.
    pub params: Option<ParamsFile>,
    /// Worker threads for fits and predictions (0 = all cores); results do not depend on it.
    pub threads: usize,
}

impl ClvOptions {
    /// Checks ranges and combinations; every `run` starts with it.
    ///
    /// # Errors
    /// A usage error naming the flag.
    pub fn validate(&self) -> Result<()> {
        if let Some(end) = self.prep.holdout_end {
            if end <= self.prep.calibration_end {
                return Err(Error::usage(format!(
                    "--holdout-end {end} is not after --calibration-end {}",
                    self.prep.calibration_end
                ))
                .hint("the holdout period runs from the day after the calibration end to the holdout end"));
            }
        }
        if self.horizon.months() == 0 {
            return Err(Error::usage(format!(
                "--horizon {} is shorter than half a month; clv is summed over whole months",
                self.horizon.text
            ))
            .hint("use at least 16d or 3w, e.g. --horizon 12m"));
        }
        if !(self.annual_discount_rate.is_finite()
            && (0.0..=10.0).contains(&self.annual_discount_rate))
        {
            return Err(Error::usage(format!(
                "--discount-rate {} must be between 0 and 10 (a yearly rate: 0.1 = 10 %)",
                self.annual_discount_rate
            )));
        }
        if self.model == ModelKind::Pnbd
            && self.annual_discount_rate == 0.0
            && self.params.is_none()
            || self
                .params
                .as_ref()
                .is_some_and(|p| p.model == ModelKind::Pnbd && self.annual_discount_rate == 0.0)
        {
            return Err(Error::usage(
                "--discount-rate 0 leaves Pareto/NBD's dert undefined (an infinite sum)",
            )
            .hint("pass a positive yearly rate, e.g. --discount-rate 0.1"));
        }
        if !(self.margin.is_finite() && self.margin > 0.0 && self.margin <= 1.0) {
            return Err(Error::usage(format!(
                "--margin {} must be a share above 0 and at most 1",
                self.margin
            ))
            .hint("e.g. --margin 0.3 for a 30 % margin; 1 gives revenue"));
        }
        if let Some(p) = &self.params {
            if p.time_unit != self.prep.time_unit {
                return Err(Error::usage(format!(
                    "the params were fitted in {}, not in {}",
                    p.time_unit.plural(),
                    self.prep.time_unit.plural()
                ))
                .hint(format!(
                    "drop --time-unit or pass --time-unit {}",
                    p.time_unit.as_str()
                )));
            }
        }
        Ok(())
    }

    /// The model crate's fit options (threads).
    pub(crate) fn fit_options(&self) -> FitOptions {
        FitOptions {
            threads: self.threads,
            ..FitOptions::default()
        }
    }
}

/// Counts and figures of one run, for the report on stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// Customers in the table (at least one calibration transaction).
    pub customers: usize,
    /// Unique (x, t_x, T) rows the models worked on.
    pub unique_rows: usize,
    /// Log-likelihood of the purchase model on this run's customers (the fit's own when fitted).
    pub log_likelihood: f64,
    /// Customers skipped because their first purchase is after the calibration end.
    pub first_purchase_after_calibration: usize,
    /// Customers skipped because they have return lines only.
    pub returns_only: usize,
    /// Customers whose expected_avg_spend is the fallback value.
    pub spend_fallback: usize,
    /// The fallback: mean net value of all calibration transactions, at least 0.
    pub spend_fallback_value: f64,
    /// Latest purchase date in the data read (up to the last day considered).
    pub last_purchase: Option<NaiveDate>,
    /// Whole months clv sums over.
    pub months: u32,
}

/// The result of a run.
pub struct ClvRun {
    /// The per-customer prediction table, sorted by customer_id.
    pub table: DataFrame,
    /// The parameters used (fitted now, or read).
    pub params: ParamsFile,
    /// True when the models were fitted in this run.
    pub fitted: bool,
    /// Counts for the report.
    pub report: RunReport,
    /// With a holdout end: the calibration/holdout diagnostics.
    pub diagnostics: Option<Diagnostics>,
}

/// The per-customer prediction table for other commands (`custseg score`): columns
/// [`OUTPUT_COLUMNS`] (plus dert and the holdout columns as in [`run`]), sorted by customer_id.
///
/// # Errors
/// As [`run`].
pub fn predict_table(orders: LazyFrame, options: &ClvOptions) -> Result<DataFrame> {
    Ok(run(orders, options, &Progress::hidden())?.table)
}

/// The latest local date with a purchase line, or `None` when there is none.
///
/// # Errors
/// Engine errors.
pub fn latest_purchase_date(orders: LazyFrame) -> Result<Option<NaiveDate>> {
    let df = prep::last_purchase_day(orders)
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    first_date(&df, prep::LAST_PURCHASE, false)
}

/// min (or max) of a Date column as a date.
fn first_date(df: &DataFrame, name: &str, max: bool) -> Result<Option<NaiveDate>> {
    let days = df.column(name)?.cast(&DataType::Int32)?;
    let days = days.i32()?;
    let v = if max { days.max() } else { days.min() };
    Ok(v.map(prep::date_from_epoch_days))
}

fn f64_column(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

fn u32_column(df: &DataFrame, name: &str) -> Result<Vec<u32>> {
    let c = df.column(name)?.cast(&DataType::UInt32)?;
    Ok(c.u32()?.iter().map(|v| v.unwrap_or(0)).collect())
}

/// `f(i)` for i in 0..n on `threads` threads (0 = all), in contiguous chunks.
fn par_map(n: usize, threads: usize, f: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    } else {
        threads
    };
    let mut out = vec![0.0; n];
    let per = n.div_ceil(threads.max(1)).max(1);
    if threads <= 1 || n < 4096 {
        for (i, o) in out.iter_mut().enumerate() {
            *o = f(i);
        }
        return out;
    }
    let f = &f;
    std::thread::scope(|scope| {
        for (k, part) in out.chunks_mut(per).enumerate() {
            scope.spawn(move || {
                for (j, o) in part.iter_mut().enumerate() {
                    *o = f(k * per + j);
                }
            });
        }
    });
    out
}

pub(crate) fn model_error(e: btyd::Error) -> Error {
    Error::runtime(format!("model: {e}"))
}

/// Environment variable: order lines per bucket of customers of the customer summary
/// ([`customer_buckets`]); 0 builds the summary as one plan over all lines. For tests and
/// measurements; not a documented knob.
pub const BUCKET_LINES_VAR: &str = "CUSTSEG_CLV_BUCKET_LINES";

/// The buckets of customers the customer summary is built in ([`prep::bucket_summary`]), sized
/// by [`BUCKET_LINES_VAR`]; None for one plan. Counts the lines per customer (one column, on the
/// streaming engine).
///
/// # Errors
/// As [`crate::metrics::customer_buckets`].
pub fn customer_buckets(orders: &LazyFrame) -> Result<Option<CustomerBuckets>> {
    crate::metrics::customer_buckets(orders, BUCKET_LINES_VAR)
}

/// The customer summary of `orders` ([`prep::customer_summary`]), collected bucket by bucket of
/// `buckets` when there are any (only one bucket's lines are held at a time), else in one plan.
///
/// # Errors
/// Engine errors.
pub fn collect_summary(
    orders: LazyFrame,
    options: &PrepOptions,
    buckets: Option<&CustomerBuckets>,
) -> Result<DataFrame> {
    let Some(buckets) = buckets.filter(|b| !b.is_empty()) else {
        return Ok(prep::customer_summary(orders, options).collect()?);
    };
    let parts = (0..buckets.len())
        .map(|bucket| prep::bucket_summary(orders.clone(), options, buckets, bucket).collect())
        .collect::<PolarsResult<Vec<_>>>()?;
    Ok(prep::summary_of_buckets(parts, options, buckets)?.collect()?)
}

/// Fits or reads the models, then predicts every customer; the customer summary is collected
/// in buckets of customers ([`customer_buckets`]).
///
/// # Errors
/// Usage errors for bad options; an input error when there is no purchase at all or none on or
/// before the calibration end; runtime errors from the engine.
pub fn run(orders: LazyFrame, options: &ClvOptions, progress: &Progress) -> Result<ClvRun> {
    options.validate()?;
    progress.stage("counting lines per customer");
    let buckets = customer_buckets(&orders)?;
    run_in_buckets(orders, options, buckets.as_ref(), progress)
}

/// [`run`] with the customer summary collected in `buckets` ([`collect_summary`]).
///
/// # Errors
/// As [`run`].
pub fn run_in_buckets(
    orders: LazyFrame,
    options: &ClvOptions,
    buckets: Option<&CustomerBuckets>,
    progress: &Progress,
) -> Result<ClvRun> {
    options.validate()?;
    let unit = options.prep.time_unit;
    progress.stage("summarising customers");
    let all = collect_summary(orders, &options.prep, buckets)?;

    let transactions = u32_column(&all, prep::CALIBRATION_TRANSACTIONS)?;
    let purchase_days = u32_column(&all, prep::PURCHASE_DAYS)?;
    let returns_only = purchase_days.iter().filter(|&&d| d == 0).count();
    let first_purchase_after_calibration = transactions
        .iter()
        .zip(&purchase_days)
        .filter(|(&t, &d)| t == 0 && d > 0)
        .count();
    let last_purchase = first_date(&all, prep::LAST_PURCHASE, true)?;
    if transactions.iter().all(|&t| t == 0) {
        return Err(match first_date(&all, prep::FIRST_PURCHASE, false)? {
            None => Error::input("no purchases in the input (only returns, or no order lines)")
                .hint("clv needs order lines with is_return = false (a non-negative amount)"),
            Some(first) => Error::usage(format!(
                "--calibration-end {} is before the first purchase ({first})",
                options.prep.calibration_end
            ))
            .hint("the calibration period must contain purchases; pick a later --calibration-end"),
        });
    }
    let keep: BooleanChunked = transactions.iter().map(|&t| t > 0).collect();
    let kept = all.filter(&keep)?;

    let x = f64_column(&kept, prep::X)?;
    let t_x = f64_column(&kept, prep::T_X)?;
    let age = f64_column(&kept, prep::T_AGE)?;
    let spend = f64_column(&kept, prep::MEAN_REPEAT_SPEND)?;
    let (summary, index) = Summary::collapse(&x, &t_x, &age).map_err(model_error)?;

    let fit_options = options.fit_options();
    let (count, spend_model, params, fitted) = match &options.params {
        Some(file) => {
            let count = file.count_model("params")?;
            let spend_model = file.spend_model.as_ref().map(|s| s.params);
            (count, spend_model, file.clone(), false)
        }
        None => {
            progress.stage(&format!("fitting {}", options.model.title()));
            let (count, params) = fit_count(options, &summary, &fit_options)?;
            progress.stage("fitting Gamma-Gamma");
            let spend_fit = match GammaGamma::fit(&x, &spend, &fit_options) {
                Ok(fit) => Some(fit),
                Err(btyd::Error::Empty) => None,
                Err(e) => return Err(model_error(e)),
            };
            let params = ParamsFile {
                spend_model: spend_fit.as_ref().map(SpendModelFit::from),
                ..params
            };
            let spend_model = spend_fit.map(|s| s.fit.params);
            (count, spend_model, params, true)
        }
    };
    let log_likelihood = if fitted {
        params.purchase_model.log_likelihood
    } else {
        count.log_likelihood(&summary)
    };

    progress.stage("predicting");
    let rows = predict_rows(&count, &summary, options)?;
    let expected = Summary::scatter(&rows.expected_purchases, &index);
    let alive = Summary::scatter(&rows.p_alive, &index);

    let total_value: f64 = f64_column(&kept, prep::CALIBRATION_VALUE)?.iter().sum();
    let total_transactions: f64 = x.iter().map(|v| v + 1.0).sum();
    let fallback = spend_fallback_value(total_value, total_transactions);
    let (avg_spend, is_fallback) = expected_spend(spend_model, &x, &spend, fallback);
    let spend_fallback = is_fallback.iter().filter(|f| **f).count();
    let months = options.horizon.months();
    let clv: Vec<f64> = index
        .iter()
        .zip(&avg_spend)
        .map(|(&k, s)| rows.discounted_purchases[k as usize] * s * options.margin)
        .collect();

    let mut columns: Vec<Column> = vec![
        kept.column(schema::CUSTOMER_ID)?.clone(),
        kept.column(prep::X)?.clone(),
        kept.column(prep::T_X)?.clone(),
        kept.column(prep::T_AGE)?.clone(),
        kept.column(prep::MEAN_REPEAT_SPEND)?.clone(),
        Column::new(EXPECTED_PURCHASES.into(), expected),
        Column::new(P_ALIVE.into(), alive),
        Column::new(EXPECTED_AVG_SPEND.into(), avg_spend),
        Column::new(CLV.into(), clv),
    ];
    if let Some(per_row) = &rows.dert {
        columns.push(Column::new(DERT.into(), Summary::scatter(per_row, &index)));
    }
    let mut diagnostics = None;
    if let Some(end) = options.prep.holdout_end {
        let length =
            f64::from(prep::epoch_days(end) - prep::epoch_days(options.prep.calibration_end))
                / unit.days();
        let expected_holdout = Summary::scatter(
            &count
                .as_model()
                .expected_purchases_rows(&summary, length, options.threads),
            &index,
        );
        let actual = f64_column(&kept, prep::HOLDOUT_PURCHASES)?;
        let mut rows = diagnostics::calibration_histogram(&count, &summary);
        rows.extend(diagnostics::holdout_by_frequency(
            &x,
            &actual,
            &expected_holdout,
        ));
        diagnostics = Some(Diagnostics {
            holdout_length: length,
            rows,
        });
        columns.push(kept.column(prep::HOLDOUT_PURCHASES)?.clone());
        columns.push(Column::new(
            EXPECTED_HOLDOUT_PURCHASES.into(),
            expected_holdout,
        ));
    }
    let table = DataFrame::new(kept.height(), columns)?;

    Ok(ClvRun {
        table,
        params,
        fitted,
        report: RunReport {
            customers: kept.height(),
            unique_rows: summary.len(),
            log_likelihood,
            first_purchase_after_calibration,
            returns_only,
            spend_fallback,
            spend_fallback_value: fallback,
            last_purchase,
            months,
        },
        diagnostics,
    })
}

/// Per-row predictions of a purchase-count model on the rows of a [`Summary`].
pub(crate) struct RowPredictions {
    /// E[Y(horizon) | x, t_x, T].
    pub expected_purchases: Vec<f64>,
    /// P(alive | x, t_x, T).
    pub p_alive: Vec<f64>,
    /// Σ_{i=1..months} [E(i·m) − E((i−1)·m)] / (1 + d)^i: clv before spend and margin.
    pub discounted_purchases: Vec<f64>,
    /// Pareto/NBD's dert; `None` for the other models.
    pub dert: Option<Vec<f64>>,
}

/// Predicts every row of `summary` with `count` under the horizon, discount and time unit of
/// `options` (the formulas are in docs/clv.md, section 4).
///
/// # Errors
/// A runtime error for CLV settings the model math refuses.
pub(crate) fn predict_rows(
    count: &CountModel,
    summary: &Summary,
    options: &ClvOptions,
) -> Result<RowPredictions> {
    let unit = options.prep.time_unit;
    let model = count.as_model();
    let threads = options.threads;
    let horizon = options.horizon.in_unit(unit);
    let clv_options = btyd::ClvOptions {
        months: options.horizon.months(),
        monthly_discount: btyd::monthly_rate_from_annual(options.annual_discount_rate),
        month_length: MONTH_DAYS / unit.days(),
        margin: 1.0,
    };
    clv_options.validate().map_err(model_error)?;
    let discounted_purchases = par_map(summary.len(), threads, |i| {
        btyd::clv(
            model,
            summary.x[i],
            summary.t_x[i],
            summary.t[i],
            1.0,
            &clv_options,
        )
    });
    let dert = match count {
        CountModel::ParetoNbd(m) => {
            // Continuously compounded rate per time unit: ln(1 + yearly rate) × unit / year.
            let delta = options.annual_discount_rate.ln_1p() * unit.days() / YEAR_DAYS;
            Some(par_map(summary.len(), threads, |i| {
                m.dert(delta, summary.x[i], summary.t_x[i], summary.t[i])
            }))
        }
        _ => None,
    };
    Ok(RowPredictions {
        expected_purchases: model.expected_purchases_rows(summary, horizon, threads),
        p_alive: model.p_alive_rows(summary, threads),
        discounted_purchases,
        dert,
    })
}

/// The expected_avg_spend fallback: `total_value / transactions`, at least 0, and 0 when that
/// is not a number (no transactions).
pub(crate) fn spend_fallback_value(total_value: f64, transactions: f64) -> f64 {
    let fallback = (total_value / transactions).max(0.0);
    if fallback.is_finite() {
        fallback
    } else {
        0.0
    }
}

/// expected_avg_spend for each (x, m_x): Gamma-Gamma's conditional mean (a negative m_x counts
/// as 0), or `fallback` where there is none (no spend model, or p·x + q ≤ 1). Returns the
/// values and, for each, whether it is the fallback.
pub(crate) fn expected_spend(
    spend_model: Option<GammaGamma>,
    x: &[f64],
    spend: &[f64],
    fallback: f64,
) -> (Vec<f64>, Vec<bool>) {
    x.iter()
        .zip(spend)
        .map(
            |(&xi, &mi)| match spend_model.and_then(|g| g.expected_spend(xi, mi.max(0.0))) {
                Some(v) => (v, false),
                None => (fallback, true),
            },
        )
        .unzip()
}

/// Fits the purchase-count model of `options` and returns it with a params file (no spend part).
pub(crate) fn fit_count(
    options: &ClvOptions,
    summary: &Summary,
    fit_options: &FitOptions,
) -> Result<(CountModel, ParamsFile)> {
    let unit = options.prep.time_unit;
    let end = options.prep.calibration_end;
    let n = summary.total_weight() as usize;
    Ok(match options.model {
        ModelKind::Bgnbd => {
            let fit = BgNbd::fit(summary, fit_options).map_err(model_error)?;
            let p = ParamsFile::new(ModelKind::Bgnbd, &fit, &fit.params.to_vec(), unit, end, n);
            (CountModel::BgNbd(fit.params), p)
        }
        ModelKind::Mbgnbd => {
            let fit = MbgNbd::fit(summary, fit_options).map_err(model_error)?;
            let p = ParamsFile::new(ModelKind::Mbgnbd, &fit, &fit.params.to_vec(), unit, end, n);
            (CountModel::MbgNbd(fit.params), p)
        }
        ModelKind::Pnbd => {
            let fit = ParetoNbd::fit(summary, fit_options).map_err(model_error)?;
            let p = ParamsFile::new(ModelKind::Pnbd, &fit, &fit.params.to_vec(), unit, end, n);
            (CountModel::ParetoNbd(fit.params), p)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_parse_into_days_and_months() {
        let h = Horizon::parse("39w").unwrap();
        assert_eq!(h.days, 273.0);
        assert_eq!(h.in_unit(TimeUnit::Week), 39.0);
        assert_eq!(h.months(), 9);
        let h = Horizon::parse("12m").unwrap();
        assert_eq!(h.days, 365.25);
        assert_eq!(h.months(), 12);
        assert_eq!(h.in_unit(TimeUnit::Month), 12.0);
        assert_eq!(Horizon::parse("1y").unwrap().months(), 12);
        assert_eq!(Horizon::parse("90d").unwrap().months(), 3);
        assert_eq!(Horizon::parse("1.5Y").unwrap().months(), 18);
        assert_eq!(Horizon::parse("10d").unwrap().months(), 0);
        for bad in ["", "w", "12", "12x", "-3m", "0d", "nanw", "infd", "1e9y"] {
            assert!(Horizon::parse(bad).is_err(), "{bad}");
        }
    }
}
