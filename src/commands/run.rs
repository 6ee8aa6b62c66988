//! `custseg run`: the whole weekly job a cron runs — ingest, the value table with CLV, every
//! report and the behaviour analyses of `custseg analyze` — into one output directory with
//! date-stamped names, a one-screen summary on stdout, exit 3 when a source's reject rate is over
//! the limit, and nothing half-written on failure (everything is staged in a temporary folder
//! inside --out and moved into place at the end).
//!
//! ```text
//! custseg run --config examples/shop/custseg.toml --as-of 2025-01-01 --out out/weekly
//! ```

use std::path::{Path, PathBuf};

use polars::prelude::{DataFrame, IntoLazy};

use crate::analysis::amounts::Binning;
use crate::analysis::basket::{self, BasketOptions, Level};
use crate::analysis::cohorts::{CohortPeriod, Layout};
use crate::analysis::{amounts, categories, channels, cohorts, time};
use crate::clean::pipeline::{self, IngestOptions};
use crate::commands::analyze;
use crate::commands::report::{self as report_cmd, PeriodArg, RankArg, VipArgs};
use crate::commands::{self, AsOf, Ctx, InputArgs, Prepared, ScoringArgs, Status};
use crate::config::{Analysis, Config};
use crate::error::{io_error, Error, Result};
use crate::io::input::Dataset;
use crate::io::write::{self, Destination, OutputFormat};
use crate::metrics::score;
use crate::models::clv::{self, ClvOptions, Horizon};
use crate::models::params::ModelKind;
use crate::models::prep::{PrepOptions, TimeUnit};
use crate::progress::Progress;
use crate::report::{migration, render, segments, Report, Section};
use crate::schema;

const EXAMPLES: &str = "\
Examples:
  custseg run --config examples/shop/custseg.toml --as-of 2025-01-01 --out out/weekly
  custseg run --config /srv/custseg.toml --as-of today --out /srv/reports --max-reject-rate 0.05

Writes into --out (DATE = the as-of date):
  ingest-DATE/          orders.parquet, customers.parquet, events.parquet, rejects.csv, summary.json
  value-DATE.parquet    the value table (custseg score) with CLV columns
  report-DATE.html      everything below and the analyses of custseg analyze (time, channels,
                        categories, amounts, cohorts, category basket rules; all customers) as one page
  report-DATE.md        the same as Markdown
  vip-DATE.csv, alerts-DATE.csv, segments-DATE.csv, migration-DATE.csv, clv-params-DATE.json
Same config, data and --as-of give identical files. Exit 3 when --max-reject-rate is exceeded
(after writing everything).";

/// The whole weekly job: ingest, value table with CLV, all reports.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The sources config (TOML); its analysis sections apply too.
    #[arg(short, long, value_name = "PATH")]
    pub config: PathBuf,
    /// Output directory (created if missing); -o is accepted as well.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit 3 (after writing everything) when a source rejects more than this share of rows.
    #[arg(long, value_name = "RATE")]
    pub max_reject_rate: Option<f64>,
    /// Report period (VIP drops, new/lost VIPs, migration).
    #[arg(long, value_enum, default_value = "week")]
    pub period: PeriodArg,
    /// VIPs: the N most valuable customers by CLV.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// CLV horizon (e.g. 12m, 52w).
    #[arg(long, default_value = "12m", value_name = "SPAN")]
    pub horizon: String,
    /// Annual discount rate for CLV.
    #[arg(long, default_value_t = 0.1, value_name = "RATE")]
    pub discount_rate: f64,
    /// Skip the CLV model (VIPs are then ranked by monetary).
    #[arg(long)]
    pub no_clv: bool,
}

/// Runs `custseg run`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let out_dir = match (&args.out, &ctx.output) {
        (Some(d), _) | (None, Some(d)) => d.clone(),
        (None, None) => {
            return Err(Error::usage("run needs an output directory").hint("pass --out DIR"))
        }
    };
    if let Some(rate) = args.max_reject_rate {
        if !(0.0..=1.0).contains(&rate) {
            return Err(Error::usage(format!(
                "--max-reject-rate {rate} must be between 0 and 1"
            )));
        }
    }
    commands::configure_privacy(Some(&args.config), ctx)?;
    write::register_input(&args.config);
    let config = Config::load(&args.config)?;
    for file in config.sources.iter().flat_map(|s| &s.files) {
        write::register_input(&file.path);
    }
    let analysis = Analysis::load(&args.config)?;
    let tz = config.settings.timezone;
    let as_of = ctx.as_of.unwrap_or(AsOf::Today).resolve(tz);
    std::fs::create_dir_all(&out_dir).map_err(|e| io_error("create", &out_dir, e))?;
    let _lock = crate::io::lock::DirLock::acquire(&out_dir)?;
    let stage = tempfile::Builder::new()
        .prefix(".custseg-run-")
        .tempdir_in(&out_dir)
        .map_err(|e| io_error("create a staging folder in", &out_dir, e))?;
    crate::io::cleanup::on_interrupt(stage.path());
    let progress = Progress::new(!ctx.quiet);
    let quiet_ctx = Ctx {
        quiet: true,
        ..ctx.clone()
    };

    progress.stage("ingesting");
    let mut ingested = pipeline::ingest(
        &config,
        &IngestOptions {
            as_of,
            explain: ctx.explain,
        },
        &progress,
    )?;
    commands::ingest::write_ingested(
        &mut ingested,
        &config,
        &stage.path().join(format!("ingest-{as_of}")),
    )?;
    let orders = ingested
        .orders
        .as_ref()
        .ok_or_else(|| Error::config("run needs at least one orders source in the config"))?
        .lazy()?;

    let prepared = Prepared {
        data: Dataset {
            orders,
            customers: ingested.customers.clone().map(IntoLazy::lazy),
            events: ingested.events.as_ref().map(|t| t.lazy()).transpose()?,
            timezone: tz,
            rejected: 0,
            scratch: Some(ingested.scratch()),
        },
        analysis,
        as_of,
    };
    let scoring = ScoringArgs {
        window: None,
        bins: None,
        thresholds: None,
    };

    progress.stage("value table and CLV");
    let mut value = report_cmd::value_table_at(&prepared, &scoring, as_of)?;
    let mut clv_note = "CLV skipped (--no-clv)".to_string();
    let mut clv_ok = false;
    if !args.no_clv {
        let options = ClvOptions {
            prep: PrepOptions {
                calibration_end: as_of,
                holdout_end: None,
                time_unit: TimeUnit::Week,
            },
            model: ModelKind::Bgnbd,
            horizon: Horizon::parse(&args.horizon)?,
            annual_discount_rate: args.discount_rate,
            margin: 1.0,
            params: None,
            threads: 0,
        };
        match clv::run(
            prepared.data.orders.clone(),
            &options,
            &crate::progress::Progress::hidden(),
        ) {
            Ok(result) => {
                value = score::with_clv(value, result.table.lazy());
                let params = serde_json::to_string_pretty(&result.params)
                    .map_err(|e| Error::runtime(format!("cannot encode CLV parameters: {e}")))?;
                write_text(
                    &stage.path().join(format!("clv-params-{as_of}.json")),
                    &(params + "\n"),
                )?;
                clv_note = format!(
                    "CLV: BG/NBD + Gamma-Gamma fitted on {} customers, horizon {}",
                    result.report.customers, args.horizon
                );
                clv_ok = true;
            }
            Err(e) => {
                clv_note = format!("CLV skipped: {e}");
                if !ctx.quiet {
                    eprintln!("custseg: warning: {clv_note}");
                }
            }
        }
    }
    let mut value_df: DataFrame = commands::collect(value, ctx, "value table")?;
    write_file(
        &mut value_df,
        &stage.path().join(format!("value-{as_of}.parquet")),
    )?;

    progress.stage("reports");
    let vip_args = VipArgs {
        input: InputArgs {
            input: PathBuf::new(),
            timezone: None,
            config: None,
        },
        scoring: scoring.clone(),
        period: args.period,
        top: Some(args.top),
        tier: None,
        rank_by: if clv_ok {
            RankArg::Clv
        } else {
            RankArg::Monetary
        },
        drop: "50%".to_string(),
        lookback: 4,
        overdue: 2.0,
        min_p_alive: 0.5,
        fail_on_alerts: false,
    };
    let vip_options = report_cmd::vip_options(&vip_args)?;
    let clv_for = |as_of_date| -> Result<polars::prelude::LazyFrame> {
        let t = report_cmd::value_table_at(&prepared, &scoring, as_of_date)?;
        Ok(t)
    };
    // The VIP list is ranked on the value table with CLV; earlier periods use it as well when a
    // CLV run exists (same parameters), else monetary.
    let (vip_report, n_alerts) = if clv_ok {
        vip_with_value(&prepared, &value_df, &vip_options, &scoring, &quiet_ctx)?
    } else {
        report_cmd::vip_report(&prepared, &scoring, &vip_options, &quiet_ctx)?
    };
    let segment_section = segments::section(value_df.clone().lazy(), "segment")?;
    let tier_section = {
        let mut s = segments::section(value_df.clone().lazy(), "tier")?;
        s.id = "tiers".to_string();
        s
    };
    let grid = segments::rfm_grid(value_df.clone().lazy())?;
    let from = as_of - chrono::Duration::days(vip_options.period_days);
    let migration = migration::section(
        clv_for(from)?,
        value_df.clone().lazy(),
        "segment",
        from,
        as_of,
    )?;
    let mut sections = vec![segment_section.clone(), tier_section, grid];
    sections.extend(vip_report.sections.iter().cloned());
    sections.push(migration.clone());
    progress.stage("analyses");
    sections.extend(analysis_sections(&prepared, &value_df, &quiet_ctx)?);
    // Reports are for people: personal data is masked (or pseudonymized) in every report file
    // and in the summary below (docs/privacy.md).
    let full = Report {
        title: format!(
            "Customer report, {} ending {as_of}",
            vip_options.period_name
        ),
        subtitle: format!(
            "{} customers with purchases; {} VIPs; {n_alerts} alerts. {clv_note}.",
            value_df.height(),
            vip_report.sections.first().map_or(0, |s| s.table.height())
        ),
        sections,
    };
    let full = crate::privacy::current().protect_report(&full)?;
    for (format, ext) in [(OutputFormat::Html, "html"), (OutputFormat::Markdown, "md")] {
        let dest = Destination {
            path: Some(stage.path().join(format!("report-{as_of}.{ext}"))),
            format,
            table_rows: 20,
        };
        render::render_as_is(&full, &dest, true)?;
    }
    for s in &full.sections {
        let name = match s.id.as_str() {
            "vip" => "vip",
            "alerts" => "alerts",
            "segments" => "segments",
            "migration" => "migration",
            _ => continue,
        };
        let dest = Destination::resolve(
            None,
            Some(&stage.path().join(format!("{name}-{as_of}.csv"))),
        )?;
        write::write_frame_as_is(&mut s.table.clone(), &dest, true)?;
    }

    progress.stage("moving files into place");
    let staged = crate::privacy::manifest::list_files(stage.path())?;
    let written = publish(stage.path(), &out_dir)? + 1;
    // Last, so a reader that finds the manifest finds every file it lists.
    crate::privacy::manifest::write(&out_dir, &staged)?;
    progress.finish();

    let s = &ingested.summary;
    println!("custseg run, as of {as_of} ({})", tz.name());
    println!(
        "ingest: read {} rows, kept {}, rejected {}, duplicates {} ({} sources)",
        s.totals.read,
        s.totals.kept,
        s.totals.rejected,
        s.totals.duplicates,
        s.sources.len()
    );
    println!(
        "customers with purchases: {}; {clv_note}",
        value_df.height()
    );
    for t in crate::metrics::tiers::tier_shares(value_df.clone())? {
        println!(
            "tier {:<4} {:>6} customers ({:>5.1}%), {:>5.1}% of revenue",
            t.tier,
            t.customers,
            t.customer_share * 100.0,
            t.revenue_share * 100.0
        );
    }
    println!("VIP alerts: {n_alerts}");
    if let Some(alerts) = full.sections.iter().find(|s| s.id == "alerts") {
        let shown = alerts.table.height().min(8);
        let ids = alerts.table.column(schema::CUSTOMER_ID)?.str()?.clone();
        let kinds = alerts.table.column("alert")?.str()?.clone();
        let details = alerts.table.column("detail")?.str()?.clone();
        for i in 0..shown {
            println!(
                "  {} {}: {}",
                ids.get(i).unwrap_or(""),
                kinds.get(i).unwrap_or(""),
                details.get(i).unwrap_or("")
            );
        }
        if alerts.table.height() > shown {
            println!(
                "  … {} more in alerts-{as_of}.csv",
                alerts.table.height() - shown
            );
        }
    }
    println!("wrote {} files into {}", written, out_dir.display());
    if let Some(limit) = args.max_reject_rate {
        let over = s.over_reject_limit(limit);
        if !over.is_empty() {
            return Ok(Status::CheckFailed(over.join("; ")));
        }
    }
    Ok(Status::Success)
}

/// The sections of `custseg analyze` time, channels, categories, amounts and cohorts over all
/// customers, each with the verb's defaults (categories: top 3 per segment and VIP penetration;
/// amounts: quartiles; cohorts: monthly triangles), from the order lines of the value table's
/// period and the value table `value`. Section ids get the verb as a prefix (`time_weekday_hour`;
/// an id that already starts with the verb, like `channels`, is kept) so anchors stay unique.
fn analysis_sections(prepared: &Prepared, value: &DataFrame, ctx: &Ctx) -> Result<Vec<Section>> {
    let lines = analyze::scope_prepared(prepared, None, None, false, ctx)?.lines;
    let customers = value.clone().lazy();
    let collect = analyze::collector(ctx);
    let quartiles = Binning::Quantiles(analyze::amounts::DEFAULT_QUANTILES);
    let mut amounts =
        amounts::report_sections(lines.clone(), customers.clone(), &quartiles, &collect)?;
    // Out of their own report, the amount sections need the word the verb's title gave them.
    for s in &mut amounts {
        s.title = format!("{} distribution ({})", s.title, quartiles.describe());
    }
    let groups = [
        ("time", time::report_sections(lines.clone(), &collect)?),
        (
            "channels",
            channels::report_sections(lines.clone(), customers.clone(), &collect)?,
        ),
        (
            "categories",
            categories::report_sections(
                lines.clone(),
                customers,
                analyze::categories::GroupBy::Segment.column(),
                analyze::categories::DEFAULT_TOP,
                &collect,
            )?,
        ),
        ("amounts", amounts),
        (
            "cohorts",
            cohorts::report_sections(
                lines,
                prepared.as_of,
                CohortPeriod::Month,
                Layout::Triangles,
                &collect,
            )?,
        ),
    ];
    // Basket associations between categories (the verb's thresholds, the top 20 rules).
    let basket_options = BasketOptions {
        level: Level::Category,
        period: crate::metrics::Period {
            as_of: prepared.as_of,
            window_days: None,
        },
        min_support: 0.01,
        min_confidence: 0.2,
        top: 20,
        max_len: 3,
    };
    let items = commands::collect(
        basket::basket_items(prepared.data.orders.clone(), &basket_options),
        ctx,
        "baskets",
    )?;
    let mined = basket::mine(items, &basket_options)?;
    let basket_sections = if mined.baskets > 0 {
        basket::sections(&mined, &basket_options)?
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    for (verb, sections) in groups.into_iter().chain([("basket", basket_sections)]) {
        for mut s in sections {
            if !(s.id == verb || s.id.starts_with(&format!("{verb}_"))) {
                s.id = format!("{verb}_{}", s.id);
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// VIP report on a value table that already has CLV (now), and the previous period's list from
/// the value table at that date with the same CLV predictions joined.
fn vip_with_value(
    prepared: &Prepared,
    value: &DataFrame,
    options: &crate::report::vip::VipOptions,
    scoring: &ScoringArgs,
    ctx: &Ctx,
) -> Result<(Report, usize)> {
    use crate::report::vip;
    let as_of = prepared.as_of;
    let previous_end = as_of - chrono::Duration::days(options.period_days);
    let now = commands::collect(vip::select(value.clone().lazy(), options), ctx, "vip")?;
    let clv_now = value.clone().lazy().select(
        std::iter::once(schema::CUSTOMER_ID)
            .chain(score::CLV_COLUMNS.iter().copied())
            .map(polars::prelude::col)
            .collect::<Vec<_>>(),
    );
    let before_table = score::with_clv(
        report_cmd::value_table_at(prepared, scoring, previous_end)?,
        clv_now,
    );
    let before = commands::collect(vip::select(before_table, options), ctx, "previous vip")?;
    let activity = vip::period_activity(prepared.data.orders.clone(), as_of, options);
    let alerts = vip::alerts_section(&now, &before, activity, options, previous_end)?;
    let n = alerts.table.height();
    let trend = vip::trend_section(prepared.data.orders.clone(), &now, as_of, options, 12)?;
    Ok((
        Report {
            title: format!("VIP report, {} ending {as_of}", options.period_name),
            subtitle: String::new(),
            sections: vec![vip::list_section(&now, options)?, alerts, trend],
        },
        n,
    ))
}

fn write_file(df: &mut DataFrame, path: &Path) -> Result<()> {
    let dest = Destination::resolve(None, Some(path))?;
    write::write_frame(df, &dest, true)
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    write::write_atomic(path, |w| {
        w.write_all(text.as_bytes())
            .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))
    })
}

/// Moves every staged file and folder into `out` (replacing older ones of the same name);
/// returns the number of files.
fn publish(stage: &Path, out: &Path) -> Result<usize> {
    let mut count = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(stage)
        .map_err(|e| io_error("read", stage, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        let name = entry
            .file_name()
            .map(std::ffi::OsStr::to_os_string)
            .unwrap_or_default();
        let target = out.join(&name);
        if entry.is_dir() {
            count += std::fs::read_dir(&entry).map(|d| d.count()).unwrap_or(0);
            if target.exists() {
                std::fs::remove_dir_all(&target).map_err(|e| io_error("replace", &target, e))?;
            }
        } else {
            count += 1;
        }
        std::fs::rename(&entry, &target).map_err(|e| io_error("move into place", &target, e))?;
    }
    Ok(count)
}
