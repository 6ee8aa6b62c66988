//! `custseg analyze basket`: association rules between products or categories bought in one
//! order — support, confidence and lift — mined exactly with FP-growth
//! ([`crate::analysis::basket`]). docs/analyses.md, "basket".
//!
//! ```text
//! custseg analyze basket out/shop --level category --min-support 0.02 --top 20
//! custseg analyze basket out/shop --segment Champions -o rules.html
//! ```

use crate::analysis::basket::{self, BasketOptions, Level};
use crate::analysis::filter;
use crate::commands::report::value_table_at;
use crate::commands::{self, Ctx, InputArgs, ScoringArgs, Status};
use crate::error::{Error, Result};
use crate::io::write::Destination;
use crate::report::{render, Report};

const EXAMPLES: &str = "\
Examples:
  custseg analyze basket out/shop --level category --min-support 0.02 --top 20
  custseg analyze basket out/shop --level sku --min-confidence 0.5 -o rules.csv
  custseg analyze basket out/shop --segment Champions -o rules.html

A basket is the set of distinct items (sku or category) of one order's purchase lines in the
period (returns left out). For items X and Y: support = baskets with X and Y / baskets;
confidence = support(X and Y) / support(X); lift = confidence / support(Y). Itemsets are frequent
when support >= --min-support; rules are kept when confidence >= --min-confidence.

Sections: rules (antecedent, consequent, support, confidence, lift, baskets, antecedent_baskets,
consequent_baskets; the --top rules by lift, then support, then text) and itemsets (items, size,
baskets, support; every frequent itemset). CSV on stdout carries the rules; -o FILE.csv writes
FILE.rules.csv and FILE.itemsets.csv. docs/analyses.md.";

/// Items bought together: FP-growth association rules.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Only customers of this RFM segment (at the as-of date).
    #[arg(long, value_name = "NAME", conflicts_with = "predicate")]
    pub segment: Option<String>,
    /// Only customers for whom this SQL predicate over the value table holds.
    #[arg(long = "where", value_name = "EXPR")]
    pub predicate: Option<String>,
    /// What an item is.
    #[arg(long, value_enum, default_value = "sku")]
    pub level: LevelArg,
    /// Minimum support of an itemset (share of baskets, above 0 and at most 1).
    #[arg(long, default_value_t = 0.01, value_name = "SHARE")]
    pub min_support: f64,
    /// Minimum confidence of a rule (0 to 1).
    #[arg(long, default_value_t = 0.2, value_name = "SHARE")]
    pub min_confidence: f64,
    /// Rules written, best first.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub top: usize,
    /// Largest itemset (antecedent plus consequent), 2 to 10 items.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub max_len: usize,
}

/// `--level`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LevelArg {
    /// Products: the sku column.
    Sku,
    /// Categories: the category column.
    Category,
}

fn check(args: &Args) -> Result<()> {
    if !(args.min_support > 0.0 && args.min_support <= 1.0) {
        return Err(Error::usage(format!(
            "--min-support {} must be a share above 0 and at most 1",
            args.min_support
        ))
        .hint("e.g. --min-support 0.01 for itemsets in at least 1 % of baskets"));
    }
    if !(0.0..=1.0).contains(&args.min_confidence) {
        return Err(Error::usage(format!(
            "--min-confidence {} must be a share from 0 to 1",
            args.min_confidence
        )));
    }
    if args.top == 0 {
        return Err(Error::usage("--top must be at least 1"));
    }
    if !(2..=10).contains(&args.max_len) {
        return Err(Error::usage(format!(
            "--max-len {} must be between 2 and 10",
            args.max_len
        ))
        .hint("a rule needs two items; itemsets beyond 10 items are rarely frequent"));
    }
    Ok(())
}

/// Runs `custseg analyze basket`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    check(&args)?;
    let prepared = commands::prepare(&args.input, ctx)?;
    let value = commands::value_options(&args.scoring, &prepared)?;
    let segment = match &args.segment {
        Some(s) => Some(filter::resolve_segment(s, &value.segments)?),
        None => None,
    };
    let orders = filter::restrict(
        prepared.data.orders.clone(),
        value_table_at(&prepared, &args.scoring, prepared.as_of)?,
        segment.as_deref(),
        args.predicate.as_deref(),
    )?;
    let options = BasketOptions {
        level: match args.level {
            LevelArg::Sku => Level::Sku,
            LevelArg::Category => Level::Category,
        },
        period: value.period,
        min_support: args.min_support,
        min_confidence: args.min_confidence,
        top: args.top,
        max_len: args.max_len,
    };
    let items = commands::collect(basket::basket_items(orders, &options), ctx, "baskets")?;
    let result = basket::mine(items, &options)?;
    let restricted = segment.is_some() || args.predicate.is_some();
    let who = filter::describe(segment.as_deref(), args.predicate.as_deref());
    if result.baskets == 0 {
        let column = options.level.column();
        if !restricted {
            return Err(Error::input(format!(
                "no order has a purchase line with a {column} on or before {}",
                prepared.as_of
            ))
            .hint(match options.level {
                Level::Sku => "map a sku column in the orders, or use --level category",
                Level::Category => "map a category column in the orders, or use --level sku",
            }));
        }
        if !ctx.quiet {
            eprintln!(
                "custseg: warning: no order lines with a {column} for {who} on or before {}",
                prepared.as_of
            );
        }
    }
    let report = Report {
        title: format!("Basket analysis by {}", options.level.column()),
        subtitle: format!(
            "{who}, as of {}; {} baskets",
            prepared.as_of, result.baskets
        ),
        sections: basket::sections(&result, &options)?,
    };
    let dest = Destination::resolve(ctx.format, ctx.output.as_deref())?;
    render::render(&report, &dest, ctx.quiet)?;
    if !ctx.quiet {
        eprintln!(
            "custseg: {} baskets, {} frequent itemsets, {} rules (wrote {})",
            result.baskets,
            result.itemsets.len(),
            result.rules.len(),
            result.rules.len().min(options.top)
        );
    }
    Ok(Status::Success)
}
