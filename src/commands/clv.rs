//! `custseg clv`: probabilistic customer lifetime value with BG/NBD, MBG/NBD or Pareto/NBD and
//! Gamma-Gamma, fitted on a calibration period or read from a params file.
//!
//! ```text
//! custseg clv out/ --calibration-end 1997-09-30 --holdout-end 1998-06-30 --save-params p.json
//! custseg clv orders.csv --timezone Europe/Berlin --model pnbd --horizon 12m -o clv.csv
//! custseg clv out/ --params p.json --calibration-end 2025-03-31 --horizon 39w -o scores.parquet
//! ```

use std::path::PathBuf;

use chrono::NaiveDate;
use comfy_table::{presets, Table};

use crate::commands::{AsOf, Ctx, Status};
use crate::error::{io_error, Error, Result};
use crate::io::input;
use crate::io::write::{self, format_float, Destination};
use crate::metrics::score::CustomerBuckets;
use crate::models::clv::{self as model, ClvOptions, ClvRun, Horizon};
use crate::models::diagnostics::{self, Diagnostics};
use crate::models::interchange;
use crate::models::params::{ModelKind, ParamsFile};
use crate::models::prep::{self, PrepOptions, TimeUnit};
use crate::progress::Progress;

const EXAMPLES: &str = "\
Examples:
  # Fit BG/NBD + Gamma-Gamma on the calibration period, check it on a holdout, save the fit
  custseg clv out/ --calibration-end 1997-09-30 --holdout-end 1998-06-30 --save-params p.json

  # An orders file with canonical columns (customer_id, order_id, ordered_at, amount ...)
  custseg clv orders.csv --timezone Europe/Berlin --model pnbd --horizon 12m -o clv.csv

  # Score with saved parameters (cron: fit monthly, score weekly), history up to --calibration-end
  custseg clv out/ --params p.json --calibration-end 2025-03-31 --horizon 39w -o scores.parquet

  # From an engine (custseg sql): fit on a btyd-histogram, predict per distinct row, score a summary
  custseg clv --from-histogram hist.parquet --calibration-end 2024-12-31 --save-params p.json
  custseg clv --from-histogram hist.parquet --params p.json --margin 0.3 -o triples.parquet
  custseg clv --from-summary summary.parquet --params p.json -o clv.parquet

Output (stdout or -o), one row per customer with a purchase on or before the calibration end,
sorted by customer_id:
  customer_id         the customer
  x                   repeat transactions (transaction days - 1) in the calibration period
  t_x                 last - first transaction date, in --time-unit (0 when x = 0)
  T                   calibration end - first transaction date, in --time-unit
  mean_repeat_spend   mean value of the x repeat transactions (0 when x = 0)
  expected_purchases  expected transactions in the --horizon
  p_alive             probability that the customer is still active
  expected_avg_spend  expected value per transaction (Gamma-Gamma)
  clv                 discounted expected margin over the horizon, summed month by month
  dert                (pnbd) discounted expected residual transactions, no horizon
  holdout_purchases, expected_holdout_purchases   (with --holdout-end)

With --from-histogram the output is the triples table instead (part, x, t_x, T,
mean_repeat_spend, expected_purchases, p_alive, discounted_purchases, dert, expected_avg_spend,
margin); with --from-summary the columns above. docs/clv.md, section 13, has the formats.

A transaction is a customer's local calendar day with at least one purchase line; its value is
the day's net amount. The fit report (parameters, standard errors, log-likelihood) and, with
--holdout-end, the holdout diagnostics go to stderr. docs/clv.md has every formula.";

/// Purchase-count models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelArg {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    Bgnbd,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007).
    Mbgnbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987); adds the dert column.
    Pnbd,
}

/// Time units of t_x, T and the rate parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimeUnitArg {
    /// Days.
    Day,
    /// Weeks of 7 days.
    Week,
    /// Months of 30.4375 days.
    Month,
}

/// Probabilistic customer lifetime value: BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Orders: an ingest --out directory, an orders file with canonical columns, or - (CSV on
    /// stdin). Not with --from-histogram or --from-summary.
    #[arg(value_name = "INPUT")]
    pub input: Option<PathBuf>,
    /// Fit from a btyd-histogram (CSV or Parquet, e.g. from `custseg sql btyd-histogram`)
    /// instead of order lines; with --params, only predict. Writes the triples table.
    #[arg(long, value_name = "FILE")]
    pub from_histogram: Option<PathBuf>,
    /// Score a per-customer btyd-summary (CSV or Parquet) with --params instead of order lines.
    #[arg(long, value_name = "FILE")]
    pub from_summary: Option<PathBuf>,
    /// Last day of the calibration period (YYYY-MM-DD, inclusive, local date). Default: --as-of,
    /// else the last purchase day in the data.
    #[arg(long, value_name = "DATE")]
    pub calibration_end: Option<String>,
    /// Last day of a holdout period after the calibration end: adds holdout columns and prints
    /// actual vs predicted holdout transactions.
    #[arg(long, value_name = "DATE")]
    pub holdout_end: Option<String>,
    /// Purchase-count model [default: bgnbd, or the model of --params].
    #[arg(long, value_enum)]
    pub model: Option<ModelArg>,
    /// Unit of t_x, T and the fitted rates [default: week, or the unit of --params].
    #[arg(long, value_enum, value_name = "UNIT")]
    pub time_unit: Option<TimeUnitArg>,
    /// Prediction horizon: a number and d, w, m or y (39w, 12m, 90d, 1y); clv sums its whole
    /// months.
    #[arg(long, value_name = "SPAN", default_value = "12m")]
    pub horizon: String,
    /// Yearly discount rate for clv and dert (0.1 = 10 %).
    #[arg(long, value_name = "RATE", default_value_t = 0.1)]
    pub discount_rate: f64,
    /// Share of spend that is margin, in (0, 1]; 1 gives revenue.
    #[arg(long, value_name = "SHARE", default_value_t = 1.0)]
    pub margin: f64,
    /// Save the fitted parameters and fit statistics as JSON.
    #[arg(long, value_name = "FILE")]
    pub save_params: Option<PathBuf>,
    /// Score with saved parameters instead of fitting.
    #[arg(long, value_name = "FILE", conflicts_with = "save_params")]
    pub params: Option<PathBuf>,
    /// Write the holdout diagnostics as data (format from the extension: .csv, .json ...).
    #[arg(long, value_name = "FILE", requires = "holdout_end")]
    pub diagnostics: Option<PathBuf>,
    /// Time zone of naive timestamps in a raw orders file (an ingest directory has its own).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// A sources config whose [privacy] section applies (pseudonyms, masks), as in the commands
    /// that read order lines through a config.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn parse_date(flag: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Error::usage(format!("--{flag} \"{text}\" is not a date"))
            .hint(format!("use YYYY-MM-DD, e.g. --{flag} 2024-12-31"))
    })
}

fn model_kind(arg: ModelArg) -> ModelKind {
    match arg {
        ModelArg::Bgnbd => ModelKind::Bgnbd,
        ModelArg::Mbgnbd => ModelKind::Mbgnbd,
        ModelArg::Pnbd => ModelKind::Pnbd,
    }
}

fn time_unit(arg: TimeUnitArg) -> TimeUnit {
    match arg {
        TimeUnitArg::Day => TimeUnit::Day,
        TimeUnitArg::Week => TimeUnit::Week,
        TimeUnitArg::Month => TimeUnit::Month,
    }
}

fn read_params(path: &std::path::Path) -> Result<ParamsFile> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error("read", path, e))?;
    ParamsFile::parse(&text, &path.display().to_string())
}

/// Where the customers come from.
enum Source {
    /// Order lines: an ingest directory, an orders file or stdin.
    Orders(PathBuf),
    /// A btyd-histogram: fit (or, with --params, only predict) and write the triples table.
    Histogram(PathBuf),
    /// A btyd-summary: score every customer with --params.
    Summary(PathBuf),
}

/// Resolves INPUT, --from-histogram and --from-summary, and the flags that need order lines.
fn source(args: &Args) -> Result<Source> {
    let source =
        match (&args.input, &args.from_histogram, &args.from_summary) {
            (_, Some(_), Some(_)) => return Err(Error::usage(
                "--from-histogram and --from-summary exclude each other",
            )
            .hint("fit on the histogram (--save-params), then score the summary with --params")),
            (Some(input), h, _) => {
                if h.is_none() && args.from_summary.is_none() {
                    return Ok(Source::Orders(input.clone()));
                }
                let flag = if h.is_some() {
                    "--from-histogram"
                } else {
                    "--from-summary"
                };
                return Err(Error::usage(format!(
                    "INPUT {} and {flag} exclude each other: the customers come from one of them",
                    input.display()
                ))
                .hint(format!(
                    "drop INPUT to use {flag}, or drop {flag} to use the order lines"
                )));
            }
            (None, Some(h), None) => Source::Histogram(h.clone()),
            (None, None, Some(s)) => Source::Summary(s.clone()),
            (None, None, None) => {
                return Err(Error::usage(
                    "clv needs INPUT (order lines), --from-histogram FILE or --from-summary FILE",
                )
                .hint("e.g. custseg clv out/ --calibration-end 2024-12-31"))
            }
        };
    let flag = match source {
        Source::Histogram(_) => "--from-histogram",
        _ => "--from-summary",
    };
    for (given, other) in [
        (args.holdout_end.is_some(), "--holdout-end"),
        (args.diagnostics.is_some(), "--diagnostics"),
        (args.timezone.is_some(), "--timezone"),
    ] {
        if given {
            return Err(Error::usage(format!(
                "{other} needs order lines, not {flag}"
            ))
            .hint("holdout periods and time zones are applied where the summary is computed (custseg sql)"));
        }
    }
    if matches!(source, Source::Summary(_)) && args.params.is_none() {
        return Err(Error::usage(
            "--from-summary needs --params: a per-customer summary is scored, not fitted",
        )
        .hint("fit first: custseg clv --from-histogram H.parquet --calibration-end DATE --save-params p.json"));
    }
    Ok(source)
}

/// Runs `custseg clv`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    if let Some(config) = &args.config {
        crate::commands::configure_privacy(Some(config), ctx)?;
    }
    // Nothing this command reads may be written over (-o, --save-params, --diagnostics).
    for path in [
        &args.config,
        &args.input,
        &args.from_histogram,
        &args.from_summary,
        &args.params,
    ]
    .into_iter()
    .flatten()
    {
        write::register_input(path);
    }
    // Everything typed is checked before the data is read.
    let source = source(&args)?;
    let horizon = Horizon::parse(&args.horizon)?;
    let calibration_end = args
        .calibration_end
        .as_deref()
        .map(|t| parse_date("calibration-end", t))
        .transpose()?;
    let holdout_end = args
        .holdout_end
        .as_deref()
        .map(|t| parse_date("holdout-end", t))
        .transpose()?;
    let params = args.params.as_deref().map(read_params).transpose()?;
    let model = match (&params, args.model.map(model_kind)) {
        (Some(p), Some(m)) if p.model != m => {
            return Err(Error::usage(format!(
                "--model {} differs from the model of --params ({})",
                m.as_str(),
                p.model.as_str()
            ))
            .hint("drop --model when scoring with --params"))
        }
        (Some(p), _) => p.model,
        (None, m) => m.unwrap_or(ModelKind::Bgnbd),
    };
    let unit = args
        .time_unit
        .map(time_unit)
        .or(params.as_ref().map(|p| p.time_unit))
        .unwrap_or(TimeUnit::Week);

    let input = match source {
        Source::Orders(input) => input,
        Source::Histogram(path) => {
            let calibration_end =
                interchange_calibration_end(calibration_end, ctx, params.as_ref())?;
            let options = interchange_options(&args, calibration_end, model, unit, horizon, params);
            options.validate()?;
            let progress = Progress::new(!ctx.quiet);
            progress.stage("reading the histogram");
            let histogram = interchange::read_histogram(&path)?;
            let (params, fitted) = match &options.params {
                Some(p) => (p.clone(), false),
                None => (interchange::fit(&histogram, &options, &progress)?, true),
            };
            let result = interchange::triples(&histogram, &params, fitted, &options)?;
            return finish(result, &options, 0, &args, ctx, &progress);
        }
        Source::Summary(path) => {
            let calibration_end =
                interchange_calibration_end(calibration_end, ctx, params.as_ref())?;
            let options = interchange_options(&args, calibration_end, model, unit, horizon, params);
            options.validate()?;
            let progress = Progress::new(!ctx.quiet);
            let params = options
                .params
                .clone()
                .ok_or_else(|| Error::usage("--from-summary needs --params"))?;
            let result =
                interchange::score_summary(&path, &params, &options, &progress, ctx.explain)?;
            return finish(result, &options, 0, &args, ctx, &progress);
        }
    };
    let progress = Progress::new(!ctx.quiet);
    progress.stage("reading orders");
    let zone = args
        .timezone
        .as_deref()
        .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::UTC);
    // A raw file's lines after --as-of are rejected as future-dated; the holdout must stay in.
    let as_of = ctx.as_of.unwrap_or(AsOf::Today).resolve(zone);
    let as_of = holdout_end.map_or(as_of, |end| as_of.max(end));
    let data = input::load(&input, args.timezone.as_deref(), as_of)?;
    let calibration_end = match (calibration_end, ctx.as_of) {
        (Some(d), _) => d,
        (None, Some(a)) => a.resolve(data.timezone),
        (None, None) => {
            progress.stage("finding the last purchase");
            let last = model::latest_purchase_date(data.orders.clone())?.ok_or_else(|| {
                Error::input(format!("{}: no purchases", input.display()))
                    .hint("clv needs order lines with is_return = false")
            })?;
            if !ctx.quiet {
                eprintln!("custseg: calibration end: {last} (the last purchase day; set it with --calibration-end)");
            }
            last
        }
    };
    let options = ClvOptions {
        prep: PrepOptions {
            calibration_end,
            holdout_end,
            time_unit: unit,
        },
        model,
        horizon,
        annual_discount_rate: args.discount_rate,
        margin: args.margin,
        params,
        threads: 0,
    };
    options.validate()?;
    progress.stage("counting lines per customer");
    let buckets = model::customer_buckets(&data.orders)?;
    if ctx.explain {
        explain_summary(&data.orders, &options.prep, buckets.as_ref())?;
    }
    let result = model::run_in_buckets(data.orders, &options, buckets.as_ref(), &progress)?;
    finish(result, &options, data.rejected, &args, ctx, &progress)
}

/// Prints the plan of the customer summary to stderr: of each bucket of `buckets`, else the one
/// plan.
fn explain_summary(
    orders: &polars::prelude::LazyFrame,
    options: &PrepOptions,
    buckets: Option<&CustomerBuckets>,
) -> Result<()> {
    let Some(buckets) = buckets.filter(|b| !b.is_empty()) else {
        let plan = prep::customer_summary(orders.clone(), options);
        eprintln!(
            "custseg: plan for the customer summary:\n{}",
            plan.explain(true)?
        );
        return Ok(());
    };
    for bucket in 0..buckets.len() {
        let plan = prep::bucket_summary(orders.clone(), options, buckets, bucket);
        eprintln!(
            "custseg: plan for the customer summary, bucket {} of {}:\n{}",
            bucket + 1,
            buckets.len(),
            plan.explain(true)?
        );
    }
    Ok(())
}

/// The calibration end of a run on a histogram or summary: --calibration-end, else --as-of,
/// else (scoring) the params file's; a fit must be told, since a histogram does not say.
fn interchange_calibration_end(
    typed: Option<NaiveDate>,
    ctx: &Ctx,
    params: Option<&ParamsFile>,
) -> Result<NaiveDate> {
    if let Some(d) = typed.or(ctx.as_of.map(|a| a.resolve(chrono_tz::UTC))) {
        return Ok(d);
    }
    match params {
        Some(p) => p.calibration_end_date("params"),
        None => Err(Error::usage(
            "--from-histogram needs --calibration-end (or --as-of) to record in the params file",
        )
        .hint(
            "pass the --as-of the histogram was computed with, e.g. --calibration-end 2024-12-31",
        )),
    }
}

fn interchange_options(
    args: &Args,
    calibration_end: NaiveDate,
    model: ModelKind,
    time_unit: TimeUnit,
    horizon: Horizon,
    params: Option<ParamsFile>,
) -> ClvOptions {
    ClvOptions {
        prep: PrepOptions {
            calibration_end,
            holdout_end: None,
            time_unit,
        },
        model,
        horizon,
        annual_discount_rate: args.discount_rate,
        margin: args.margin,
        params,
        threads: 0,
    }
}

/// Saves params and diagnostics, reports on stderr and writes the table.
fn finish(
    mut result: ClvRun,
    options: &ClvOptions,
    rejected: u64,
    args: &Args,
    ctx: &Ctx,
    progress: &Progress,
) -> Result<Status> {
    progress.stage("writing");
    if let Some(path) = &args.save_params {
        let json = result.params.to_json()?;
        write::write_atomic(path, |w| {
            w.write_all(json.as_bytes())
                .map_err(|e| io_error("write", path, e))
        })?;
    }
    if let (Some(path), Some(d)) = (&args.diagnostics, &result.diagnostics) {
        let dest = Destination::resolve(None, Some(path))?;
        write::write_frame(&mut d.to_frame()?, &dest, true)?;
    }
    progress.finish();
    warn(&result, options);
    if !ctx.quiet {
        report(&result, options, rejected, args.params.as_deref());
    }
    let dest = Destination::resolve(ctx.format, ctx.output.as_deref())?;
    write::write_frame(&mut result.table, &dest, ctx.quiet)?;
    Ok(Status::Success)
}

/// Warnings that matter even with --quiet.
fn warn(result: &ClvRun, options: &ClvOptions) {
    let p = &result.params;
    if result.fitted && !p.purchase_model.converged {
        eprintln!(
            "custseg: warning: the {} fit did not converge ({} iterations, {} starts); the estimates may be off",
            p.model.title(),
            p.purchase_model.iterations,
            p.purchase_model.starts_tried
        );
    }
    if let Some(s) = &p.spend_model {
        if result.fitted && !s.converged {
            eprintln!(
                "custseg: warning: the Gamma-Gamma fit did not converge ({} iterations)",
                s.iterations
            );
        }
    }
    let r = &result.report;
    if r.spend_fallback > 0 {
        let why = if p.spend_model.is_none() {
            "no Gamma-Gamma model (no customer with repeat purchases of positive value)"
        } else {
            "Gamma-Gamma has no finite mean for them (p·x + q ≤ 1)"
        };
        eprintln!(
            "custseg: warning: expected_avg_spend of {} customers is the mean transaction value {}: {why}",
            r.spend_fallback,
            format_float(r.spend_fallback_value)
        );
    }
    if let (Some(end), Some(last)) = (options.prep.holdout_end, r.last_purchase) {
        if last < end {
            eprintln!(
                "custseg: warning: the last purchase in the data is on {last}, before --holdout-end {end}; holdout counts may be incomplete"
            );
        }
    }
}

fn fixed(v: f64) -> String {
    if v.abs() >= 1e6 || (v != 0.0 && v.abs() < 1e-4) {
        format!("{v:.6e}")
    } else {
        format!("{v:.6}")
    }
}

/// The fit report and diagnostics on stderr.
fn report(
    result: &ClvRun,
    options: &ClvOptions,
    rejected: u64,
    params_path: Option<&std::path::Path>,
) {
    let p = &result.params;
    let r = &result.report;
    let unit = options.prep.time_unit;
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header(["model", "parameter", "estimate", "std. error"]);
    let pm = &p.purchase_model;
    let values = [
        Some(pm.params.r),
        Some(pm.params.alpha),
        pm.params.a.or(pm.params.s),
        pm.params.b.or(pm.params.beta),
    ];
    let errors = pm
        .std_errors
        .map(|se| [Some(se.r), Some(se.alpha), se.a.or(se.s), se.b.or(se.beta)]);
    for (i, name) in p.model.parameter_names().iter().enumerate() {
        table.add_row([
            p.model.title().to_string(),
            (*name).to_string(),
            values[i].map(fixed).unwrap_or_default(),
            errors.and_then(|e| e[i]).map(fixed).unwrap_or_default(),
        ]);
    }
    if let Some(s) = &p.spend_model {
        let se = s.std_errors.map(|g| [g.p, g.q, g.gamma]);
        for (i, (name, v)) in [
            ("p", s.params.p),
            ("q", s.params.q),
            ("gamma", s.params.gamma),
        ]
        .into_iter()
        .enumerate()
        {
            table.add_row([
                "Gamma-Gamma".to_string(),
                name.to_string(),
                fixed(v),
                se.map(|e| fixed(e[i])).unwrap_or_default(),
            ]);
        }
    }
    eprintln!("{table}");
    let source = match params_path {
        Some(path) if p.customers > 0 => format!(
            "parameters from {} (fitted on {} customers, calibration end {})",
            path.display(),
            p.customers,
            p.calibration_end
        ),
        Some(path) => format!("parameters from {}", path.display()),
        None => format!(
            "{} iterations, {}",
            pm.iterations,
            if pm.converged {
                "converged"
            } else {
                "NOT converged"
            }
        ),
    };
    eprintln!(
        "custseg: {}: log-likelihood {:.4} on {} customers ({} unique (x, t_x, T) rows) in {}, calibration end {}; {source}",
        p.model.title(),
        r.log_likelihood,
        r.customers,
        r.unique_rows,
        unit.plural(),
        options.prep.calibration_end,
    );
    match &p.spend_model {
        Some(s) if result.fitted => eprintln!(
            "custseg: Gamma-Gamma: log-likelihood {:.4} on {} customers with repeat purchases; left out {} without repeat purchases and {} with a mean repeat spend ≤ 0",
            s.log_likelihood, s.customers, s.excluded_no_repeat, s.excluded_bad_spend
        ),
        Some(_) => {}
        None => eprintln!("custseg: Gamma-Gamma: not fitted (no customer with repeat purchases of positive value)"),
    }
    eprintln!(
        "custseg: horizon {} = {} {} (clv: {} months, discount {} a year, margin {})",
        options.horizon.text,
        format_float(options.horizon.in_unit(unit)),
        unit.plural(),
        r.months,
        format_float(options.annual_discount_rate),
        format_float(options.margin)
    );
    if r.first_purchase_after_calibration + r.returns_only > 0 || rejected > 0 {
        eprintln!(
            "custseg: left out {} customers whose first purchase is after the calibration end, {} with returns only; {rejected} order lines rejected by the cleaning rules",
            r.first_purchase_after_calibration, r.returns_only
        );
    }
    if let Some(d) = &result.diagnostics {
        eprintln!("{}", diagnostics_tables(d, unit));
    }
}

fn diagnostics_tables(d: &Diagnostics, unit: TimeUnit) -> String {
    let mut calibration = Table::new();
    calibration.load_preset(presets::UTF8_FULL_CONDENSED);
    calibration.set_header(["repeat transactions (calibration)", "customers", "model"]);
    let mut holdout = Table::new();
    holdout.load_preset(presets::UTF8_FULL_CONDENSED);
    holdout.set_header([
        "calibration x",
        "customers",
        "holdout actual",
        "holdout predicted",
        "actual / customer",
        "predicted / customer",
        "MAE / customer",
    ]);
    for row in &d.rows {
        if row.section == diagnostics::CALIBRATION {
            calibration.add_row([
                row.frequency.clone(),
                row.customers.to_string(),
                format!("{:.1}", row.expected),
            ]);
        } else {
            let per = |v: f64| {
                if row.customers == 0 {
                    String::new()
                } else {
                    format!("{:.3}", v / row.customers as f64)
                }
            };
            holdout.add_row([
                row.frequency.clone(),
                row.customers.to_string(),
                format!("{:.0}", row.actual),
                format!("{:.1}", row.expected),
                per(row.actual),
                per(row.expected),
                row.mean_abs_error
                    .map(|m| format!("{m:.3}"))
                    .unwrap_or_default(),
            ]);
        }
    }
    format!(
        "{calibration}\nholdout of {} {}:\n{holdout}",
        format_float(d.holdout_length),
        unit.plural()
    )
}
