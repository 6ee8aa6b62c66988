//! Campaign evaluation (`custseg analyze campaign`): customers, buyers, orders, revenue and
//! conversion of a targeted group in the campaign window and the same-length window before, set
//! against a control group (a given list, or matched by RFM segment); lift with a 95 % confidence
//! interval, incremental revenue and ROI. docs/analyses.md, "campaign".
//!
//! - Windows are local calendar days, both ends included: campaign = [start, end], pre = the L
//!   days before start, where L = end − start + 1.
//! - Per customer and window: `orders` = distinct order_ids with a purchase line; `revenue` = Σ
//!   `amount` of all lines (returns negative); a *buyer* has at least one purchase line.
//! - Per group: customers = listed members (with or without orders), buyers, orders, revenue;
//!   conversion = buyers / customers; revenue_per_customer = revenue / customers.
//! - Strata: with a control file there is one stratum; with automatic matching a stratum is an
//!   RFM segment at start − 1 day. Strata with members in both groups are *matched*; only they
//!   enter the comparison, with weights w_s = targeted_s / Σ targeted (direct standardisation to
//!   the targeted mix; with one stratum the plain group figures).
//! - lift = conversion_targeted − Σ w_s conversion_control_s; relative_lift = lift /
//!   conversion_control (null when 0); 95 % interval lift ± 1.959964 · √(Σ w_s² (p_t,s (1 − p_t,s)
//!   / n_t,s + p_c,s (1 − p_c,s) / n_c,s)): the normal approximation (Wald) for a difference of
//!   independent proportions, stratified.
//! - incremental_revenue = (revenue per targeted − Σ w_s revenue per control_s) × targeted;
//!   roi = (incremental_revenue − cost) / cost.
//! - Rounding (half away from zero, on output only): money 2 decimals, rates and ratios 6.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::error::{io_error, Error, Result};
use crate::metrics::{day_number, DAY};
use crate::report::{Chart, Section};
use crate::schema;

/// Group name of the targeted customers.
pub const TARGETED: &str = "targeted";
/// Group name of the control customers.
pub const CONTROL: &str = "control";
/// Column: the group.
pub const GROUP: &str = "group";
/// Column: the stratum (segment at start − 1 day, or [`ALL`]).
pub const STRATUM: &str = "stratum";
/// Column: the window name.
pub const WINDOW: &str = "window";
/// The one stratum of a given control list.
pub const ALL: &str = "all";
/// Stratum of customers without a segment at start − 1 day.
pub const NO_SEGMENT: &str = "(no purchase before start)";
/// z for a two-sided 95 % interval, Φ⁻¹(0.975).
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Columns of the groups table, in order.
pub const GROUP_COLUMNS: &[&str] = &[
    "group",
    "window",
    "start",
    "end",
    "customers",
    "buyers",
    "orders",
    "revenue",
    "conversion",
    "revenue_per_customer",
];

/// A window of local days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// `pre` or `campaign`.
    pub name: &'static str,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

/// The pre window and the campaign window, in that order: pre = the `end − start + 1` days
/// immediately before `start`.
#[must_use]
pub fn windows(start: NaiveDate, end: NaiveDate) -> [Window; 2] {
    let length = (end - start).num_days() + 1;
    [
        Window {
            name: "pre",
            start: start - chrono::Duration::days(length),
            end: start - chrono::Duration::days(1),
        },
        Window {
            name: "campaign",
            start,
            end,
        },
    ]
}

/// Reads a list of customer ids: a CSV file with a `customer_id` column (other columns ignored),
/// or a plain list with one id per line. Ids are trimmed; blank lines and empty cells are skipped;
/// repeated ids are kept once. Returns the ids in file order and the number of repeats dropped.
///
/// # Errors
/// Input errors naming the file (and line): unreadable, not UTF-8, a header without
/// customer_id, no ids.
pub fn read_id_list(path: &Path, flag: &str) -> Result<(Vec<String>, usize)> {
    let bytes = std::fs::read(path).map_err(|e| io_error("read", path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::input(format!("{flag} {}: not UTF-8 text", path.display()))
            .hint("save the list as UTF-8, one customer_id per line")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut raw: Vec<String> = Vec::new();
    let header: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(first.as_bytes())
        .records()
        .next()
        .and_then(std::result::Result::ok)
        .map(|r| r.iter().map(|f| f.trim().to_ascii_lowercase()).collect())
        .unwrap_or_default();
    if let Some(column) = header.iter().position(|h| h == schema::CUSTOMER_ID) {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| {
                Error::input(format!("{flag} {} line {}: {e}", path.display(), i + 2))
            })?;
            if let Some(id) = record.get(column) {
                raw.push(id.trim().to_string());
            }
        }
    } else if first.contains(',') || first.contains('\t') || first.contains(';') {
        return Err(Error::input(format!(
            "{flag} {} line 1: a header without a customer_id column",
            path.display()
        ))
        .hint("give a CSV with a customer_id column, or one customer id per line"));
    } else {
        raw.extend(text.lines().map(|l| l.trim().to_string()));
    }
    let mut seen = std::collections::HashSet::new();
    let mut ids = Vec::new();
    let mut repeats = 0;
    for id in raw.into_iter().filter(|s| !s.is_empty()) {
        if seen.insert(id.clone()) {
            ids.push(id);
        } else {
            repeats += 1;
        }
    }
    if ids.is_empty() {
        return Err(Error::input(format!(
            "{flag} {}: no customer ids",
            path.display()
        )));
    }
    Ok((ids, repeats))
}

/// A members frame: `customer_id`, `group`, `stratum` (all String).
///
/// # Errors
/// Engine errors.
pub fn members(ids: &[String], group: &str, stratum: &str) -> Result<DataFrame> {
    let n = ids.len();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new(schema::CUSTOMER_ID.into(), ids),
            Column::new(GROUP.into(), vec![group; n]),
            Column::new(STRATUM.into(), vec![stratum; n]),
        ],
    )?)
}

fn id_frame(ids: &[String]) -> Result<LazyFrame> {
    Ok(DataFrame::new(
        ids.len(),
        vec![Column::new(schema::CUSTOMER_ID.into(), ids)],
    )?
    .lazy())
}

/// Automatic matching: the targeted members with their stratum (RFM `segment` of `before`, the
/// value table at start − 1 day; [`NO_SEGMENT`] when they have no row there), and the control
/// members: every customer of `before` who is not targeted and whose segment holds a targeted
/// customer. Plans; never collects.
///
/// # Errors
/// Engine errors.
pub fn matched_members(targets: &[String], before: LazyFrame) -> Result<(LazyFrame, LazyFrame)> {
    let segments = before.select([
        col(schema::CUSTOMER_ID),
        col(crate::metrics::rfm::SEGMENT).alias(STRATUM),
    ]);
    let targeted = id_frame(targets)?
        .join(
            segments.clone(),
            [col(schema::CUSTOMER_ID)],
            [col(schema::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            lit(TARGETED).alias(GROUP),
            col(STRATUM).fill_null(lit(NO_SEGMENT)),
        ]);
    let control = segments
        .anti_join(
            id_frame(targets)?,
            col(schema::CUSTOMER_ID),
            col(schema::CUSTOMER_ID),
        )
        .semi_join(targeted.clone(), col(STRATUM), col(STRATUM))
        .with_column(lit(CONTROL).alias(GROUP));
    Ok((targeted, control))
}

/// The members of the groups (each a members plan), restricted to the customer_ids of `chosen`
/// when given, in the column order of [`members`].
///
/// # Errors
/// Engine errors.
pub fn all_members(
    targeted: LazyFrame,
    control: Option<LazyFrame>,
    chosen: Option<LazyFrame>,
) -> Result<LazyFrame> {
    let keep = |lf: LazyFrame| {
        let lf = match &chosen {
            Some(c) => lf.semi_join(
                c.clone().select([col(schema::CUSTOMER_ID)]),
                col(schema::CUSTOMER_ID),
                col(schema::CUSTOMER_ID),
            ),
            None => lf,
        };
        lf.select([col(schema::CUSTOMER_ID), col(GROUP), col(STRATUM)])
    };
    Ok(match control {
        Some(c) => concat([keep(targeted), keep(c)], UnionArgs::default())?,
        None => keep(targeted),
    })
}

/// Plan: the ids of `ids` that appear in no order line and no customer record.
///
/// # Errors
/// Engine errors.
pub fn unknown_ids(
    ids: &[String],
    orders: LazyFrame,
    customers: Option<LazyFrame>,
) -> Result<LazyFrame> {
    let mut known = orders.select([col(schema::CUSTOMER_ID)]);
    if let Some(c) = customers {
        known = concat(
            [known, c.select([col(schema::CUSTOMER_ID)])],
            UnionArgs::default(),
        )?;
    }
    Ok(id_frame(ids)?.anti_join(known, col(schema::CUSTOMER_ID), col(schema::CUSTOMER_ID)))
}

/// Plan: per group, stratum and window, `customers`, `buyers`, `orders`, `revenue` of the
/// `members` (customer_id, group, stratum; each customer once) over `orders`. Never collects.
///
/// # Errors
/// Engine errors while building the plan.
pub fn figures(orders: LazyFrame, members: LazyFrame, windows: &[Window]) -> Result<LazyFrame> {
    let purchase = col(schema::IS_RETURN).not();
    let lines = orders.with_column(
        col(schema::ORDERED_AT)
            .dt()
            .date()
            .cast(DataType::Int32)
            .alias(DAY),
    );
    let parts: Vec<LazyFrame> = windows
        .iter()
        .map(|w| {
            let per_customer = lines
                .clone()
                .filter(
                    col(DAY)
                        .gt_eq(lit(day_number(w.start)))
                        .and(col(DAY).lt_eq(lit(day_number(w.end)))),
                )
                .group_by([col(schema::CUSTOMER_ID)])
                .agg([
                    col(schema::ORDER_ID)
                        .filter(purchase.clone())
                        .n_unique()
                        .cast(DataType::Int64)
                        .alias("__orders"),
                    crate::metrics::money_sum(col(schema::AMOUNT)).alias("__revenue"),
                    purchase.clone().any(true).alias("__buyer"),
                ]);
            members
                .clone()
                .join(
                    per_customer,
                    [col(schema::CUSTOMER_ID)],
                    [col(schema::CUSTOMER_ID)],
                    JoinArgs::new(JoinType::Left),
                )
                .group_by([col(GROUP), col(STRATUM)])
                .agg([
                    len().cast(DataType::Int64).alias("customers"),
                    col("__buyer")
                        .fill_null(lit(false))
                        .cast(DataType::Int64)
                        .sum()
                        .alias("buyers"),
                    col("__orders").fill_null(lit(0i64)).sum().alias("orders"),
                    crate::metrics::money_sum(col("__revenue").fill_null(lit(0.0)))
                        .alias("revenue"),
                ])
                .with_column(lit(w.name).alias(WINDOW))
        })
        .collect();
    Ok(concat(parts, UnionArgs::default())?
        .sort([GROUP, STRATUM, WINDOW], SortMultipleOptions::default()))
}

/// One group's figures in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Members.
    pub customers: u64,
    /// Members with a purchase line.
    pub buyers: u64,
    /// Orders with a purchase line.
    pub orders: u64,
    /// Net amount.
    pub revenue: f64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.customers += other.customers;
        self.buyers += other.buyers;
        self.orders += other.orders;
        self.revenue += other.revenue;
    }
    fn conversion(&self) -> Option<f64> {
        (self.customers > 0).then(|| self.buyers as f64 / self.customers as f64)
    }
    fn revenue_per_customer(&self) -> Option<f64> {
        (self.customers > 0).then(|| self.revenue / self.customers as f64)
    }
}

/// One stratum: [pre, campaign] figures of each group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stratum {
    /// Segment name or [`ALL`].
    pub name: String,
    /// Targeted [pre, campaign].
    pub targeted: [Counts; 2],
    /// Control [pre, campaign].
    pub control: [Counts; 2],
}

impl Stratum {
    fn matched(&self) -> bool {
        self.targeted[1].customers > 0 && self.control[1].customers > 0
    }
}

/// Reads a collected [`figures`] frame into strata, sorted by name.
///
/// # Errors
/// Engine errors (missing columns).
pub fn strata(figures: &DataFrame) -> Result<Vec<Stratum>> {
    let group = figures.column(GROUP)?.str()?.clone();
    let stratum = figures.column(STRATUM)?.str()?.clone();
    let window = figures.column(WINDOW)?.str()?.clone();
    let int = |name: &str| -> Result<Vec<u64>> {
        let c = figures.column(name)?.cast(&DataType::UInt64)?;
        Ok(c.u64()?.iter().map(|v| v.unwrap_or(0)).collect())
    };
    let (customers, buyers, orders) = (int("customers")?, int("buyers")?, int("orders")?);
    let revenue = figures.column("revenue")?.cast(&DataType::Float64)?;
    let revenue: Vec<f64> = revenue.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect();
    let mut out: Vec<Stratum> = Vec::new();
    for i in 0..figures.height() {
        let name = stratum.get(i).unwrap_or_default();
        let pos = match out.iter().position(|s| s.name == name) {
            Some(p) => p,
            None => {
                out.push(Stratum {
                    name: name.to_string(),
                    ..Stratum::default()
                });
                out.len() - 1
            }
        };
        let w = usize::from(window.get(i) == Some("campaign"));
        let counts = Counts {
            customers: customers[i],
            buyers: buyers[i],
            orders: orders[i],
            revenue: revenue[i],
        };
        if group.get(i) == Some(TARGETED) {
            out[pos].targeted[w] = counts;
        } else {
            out[pos].control[w] = counts;
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The comparison of the matched strata.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Targeted customers in matched strata.
    pub targeted_customers: u64,
    /// Control customers in matched strata.
    pub control_customers: u64,
    /// [pre, campaign] conversion of the matched targeted customers.
    pub conversion_targeted: [f64; 2],
    /// [pre, campaign] weighted control conversion.
    pub conversion_control: [f64; 2],
    /// Campaign conversion difference.
    pub lift: f64,
    /// Lower end of the 95 % interval of `lift`.
    pub lift_ci_low: f64,
    /// Upper end.
    pub lift_ci_high: f64,
    /// lift / control conversion (None when that is 0).
    pub relative_lift: Option<f64>,
    /// Campaign revenue per matched targeted customer.
    pub revenue_per_targeted: f64,
    /// Weighted campaign revenue per control customer.
    pub revenue_per_control: f64,
    /// (revenue_per_targeted − revenue_per_control) × targeted_customers.
    pub incremental_revenue: f64,
    /// (incremental − cost) / cost, with a cost.
    pub roi: Option<f64>,
}

/// Compares the matched strata (see the module docs); None when no stratum is matched.
#[must_use]
pub fn compare(strata: &[Stratum], cost: Option<f64>) -> Option<Comparison> {
    let matched: Vec<&Stratum> = strata.iter().filter(|s| s.matched()).collect();
    let n_t: u64 = matched.iter().map(|s| s.targeted[1].customers).sum();
    let n_c: u64 = matched.iter().map(|s| s.control[1].customers).sum();
    if n_t == 0 {
        return None;
    }
    let weight = |s: &Stratum| s.targeted[1].customers as f64 / n_t as f64;
    let rate = |c: &Counts| c.conversion().unwrap_or(0.0);
    let mut conversion_targeted = [0.0; 2];
    let mut conversion_control = [0.0; 2];
    let (mut variance, mut rev_t, mut rev_c) = (0.0, 0.0, 0.0);
    for s in &matched {
        let w = weight(s);
        for k in 0..2 {
            conversion_targeted[k] += w * rate(&s.targeted[k]);
            conversion_control[k] += w * rate(&s.control[k]);
        }
        let (pt, pc) = (rate(&s.targeted[1]), rate(&s.control[1]));
        variance += w
            * w
            * (pt * (1.0 - pt) / s.targeted[1].customers as f64
                + pc * (1.0 - pc) / s.control[1].customers as f64);
        rev_t += w * s.targeted[1].revenue_per_customer().unwrap_or(0.0);
        rev_c += w * s.control[1].revenue_per_customer().unwrap_or(0.0);
    }
    let lift = conversion_targeted[1] - conversion_control[1];
    let half = Z_95 * variance.sqrt();
    let incremental = (rev_t - rev_c) * n_t as f64;
    Some(Comparison {
        targeted_customers: n_t,
        control_customers: n_c,
        conversion_targeted,
        conversion_control,
        lift,
        lift_ci_low: lift - half,
        lift_ci_high: lift + half,
        relative_lift: (conversion_control[1] > 0.0).then(|| lift / conversion_control[1]),
        revenue_per_targeted: rev_t,
        revenue_per_control: rev_c,
        incremental_revenue: incremental,
        roi: cost.map(|c| (incremental - c) / c),
    })
}

/// Rounds half away from zero to `decimals` (docs/metrics.md, "Rounding").
fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The groups table: targeted then control, pre then campaign; columns [`GROUP_COLUMNS`]. All
/// members count, matched or not.
///
/// # Errors
/// Engine errors.
pub fn groups_table(strata: &[Stratum], windows: &[Window; 2], control: bool) -> Result<DataFrame> {
    let mut rows: Vec<(&str, Window, Counts)> = Vec::new();
    let groups: &[&str] = if control {
        &[TARGETED, CONTROL]
    } else {
        &[TARGETED]
    };
    for &g in groups {
        for (k, w) in windows.iter().enumerate() {
            let mut total = Counts::default();
            for s in strata {
                total.add(if g == TARGETED {
                    &s.targeted[k]
                } else {
                    &s.control[k]
                });
            }
            rows.push((g, *w, total));
        }
    }
    let n = rows.len();
    let date = |d: NaiveDate| crate::metrics::day_number(d);
    let columns = vec![
        Column::new(
            GROUP_COLUMNS[0].into(),
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        ),
        Column::new(
            GROUP_COLUMNS[1].into(),
            rows.iter().map(|r| r.1.name).collect::<Vec<_>>(),
        ),
        Column::new(
            GROUP_COLUMNS[2].into(),
            rows.iter().map(|r| date(r.1.start)).collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)?,
        Column::new(
            GROUP_COLUMNS[3].into(),
            rows.iter().map(|r| date(r.1.end)).collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)?,
        Column::new(
            GROUP_COLUMNS[4].into(),
            rows.iter()
                .map(|r| to_i64(r.2.customers))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            GROUP_COLUMNS[5].into(),
            rows.iter().map(|r| to_i64(r.2.buyers)).collect::<Vec<_>>(),
        ),
        Column::new(
            GROUP_COLUMNS[6].into(),
            rows.iter().map(|r| to_i64(r.2.orders)).collect::<Vec<_>>(),
        ),
        Column::new(
            GROUP_COLUMNS[7].into(),
            rows.iter()
                .map(|r| round_to(r.2.revenue, 2))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            GROUP_COLUMNS[8].into(),
            rows.iter()
                .map(|r| r.2.conversion().map(|v| round_to(v, 6)))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            GROUP_COLUMNS[9].into(),
            rows.iter()
                .map(|r| r.2.revenue_per_customer().map(|v| round_to(v, 2)))
                .collect::<Vec<_>>(),
        ),
    ];
    Ok(DataFrame::new(n, columns)?)
}

/// The lift table: `measure`, `value` (docs/analyses.md lists every measure). Without a
/// comparison only the targeted group's own before/after measures.
///
/// # Errors
/// Engine errors.
pub fn lift_table(
    strata: &[Stratum],
    comparison: Option<&Comparison>,
    cost: Option<f64>,
) -> Result<DataFrame> {
    let mut rows: Vec<(&str, Option<f64>)> = Vec::new();
    let rate = |v: f64| Some(round_to(v, 6));
    let money = |v: f64| Some(round_to(v, 2));
    match comparison {
        Some(c) => {
            rows.extend([
                ("targeted_customers", Some(c.targeted_customers as f64)),
                ("control_customers", Some(c.control_customers as f64)),
                ("conversion_targeted", rate(c.conversion_targeted[1])),
                ("conversion_control", rate(c.conversion_control[1])),
                ("lift", rate(c.lift)),
                ("lift_ci_low", rate(c.lift_ci_low)),
                ("lift_ci_high", rate(c.lift_ci_high)),
                ("relative_lift", c.relative_lift.and_then(rate)),
                ("conversion_targeted_pre", rate(c.conversion_targeted[0])),
                ("conversion_control_pre", rate(c.conversion_control[0])),
                (
                    "change_targeted",
                    rate(c.conversion_targeted[1] - c.conversion_targeted[0]),
                ),
                (
                    "change_control",
                    rate(c.conversion_control[1] - c.conversion_control[0]),
                ),
                (
                    "revenue_per_targeted_customer",
                    money(c.revenue_per_targeted),
                ),
                ("revenue_per_control_customer", money(c.revenue_per_control)),
                ("incremental_revenue", money(c.incremental_revenue)),
            ]);
            if let Some(cost) = cost {
                rows.push(("cost", money(cost)));
                rows.push(("roi", c.roi.and_then(rate)));
            }
        }
        None => {
            let mut t = [Counts::default(); 2];
            for s in strata {
                t[0].add(&s.targeted[0]);
                t[1].add(&s.targeted[1]);
            }
            let conv = |c: &Counts| c.conversion().unwrap_or(0.0);
            let rpc = |c: &Counts| c.revenue_per_customer().unwrap_or(0.0);
            rows.extend([
                ("targeted_customers", Some(t[1].customers as f64)),
                ("conversion_targeted", rate(conv(&t[1]))),
                ("conversion_targeted_pre", rate(conv(&t[0]))),
                ("change_targeted", rate(conv(&t[1]) - conv(&t[0]))),
                ("revenue_per_targeted_customer", money(rpc(&t[1]))),
                ("revenue_per_targeted_customer_pre", money(rpc(&t[0]))),
            ]);
        }
    }
    let n = rows.len();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new(
                "measure".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new("value".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        ],
    )?)
}

/// The strata table of automatic matching: per segment at start − 1 day, members and campaign
/// buyers of both groups, conversions, and the weight in the comparison (0 when unmatched).
///
/// # Errors
/// Engine errors.
pub fn strata_table(strata: &[Stratum]) -> Result<DataFrame> {
    let n_t: u64 = strata
        .iter()
        .filter(|s| s.matched())
        .map(|s| s.targeted[1].customers)
        .sum();
    let n = strata.len();
    let conv = |c: &Counts| c.conversion().map(|v| round_to(v, 6));
    Ok(DataFrame::new(
        n,
        vec![
            Column::new(
                "segment".into(),
                strata.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "targeted_customers".into(),
                strata
                    .iter()
                    .map(|s| to_i64(s.targeted[1].customers))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "control_customers".into(),
                strata
                    .iter()
                    .map(|s| to_i64(s.control[1].customers))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "targeted_buyers".into(),
                strata
                    .iter()
                    .map(|s| to_i64(s.targeted[1].buyers))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "control_buyers".into(),
                strata
                    .iter()
                    .map(|s| to_i64(s.control[1].buyers))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "conversion_targeted".into(),
                strata
                    .iter()
                    .map(|s| conv(&s.targeted[1]))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "conversion_control".into(),
                strata
                    .iter()
                    .map(|s| conv(&s.control[1]))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "weight".into(),
                strata
                    .iter()
                    .map(|s| {
                        if s.matched() && n_t > 0 {
                            round_to(s.targeted[1].customers as f64 / n_t as f64, 6)
                        } else {
                            0.0
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
        ],
    )?)
}

/// How the control group was formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    /// No control: before/after only.
    None,
    /// A given list.
    Given,
    /// Matched by RFM segment at start − 1 day.
    Auto,
}

/// The report sections: lift (first: the CSV on stdout), groups (with a conversion chart), and
/// with automatic matching the strata.
///
/// # Errors
/// Engine errors.
pub fn sections(
    strata: &[Stratum],
    windows: &[Window; 2],
    control: ControlKind,
    cost: Option<f64>,
) -> Result<Vec<Section>> {
    let comparison = match control {
        ControlKind::None => None,
        _ => compare(strata, cost),
    };
    let has_control = control != ControlKind::None;
    let groups = groups_table(strata, windows, has_control)?;
    let lift_note = match (&comparison, control) {
        (Some(c), ControlKind::Auto) => format!(
            "{} of {} targeted customers matched to {} control customers of the same segment on {}; control figures weighted to the targeted segment mix; 95 % interval by the normal approximation",
            c.targeted_customers,
            strata.iter().map(|s| s.targeted[1].customers).sum::<u64>(),
            c.control_customers,
            windows[1].start - chrono::Duration::days(1)
        ),
        (Some(_), _) => "campaign window against the control group; 95 % interval by the normal approximation".to_string(),
        (None, _) => "no control group: the campaign window against the window before only".to_string(),
    };
    let mut series = vec![(
        TARGETED.to_string(),
        (0..2)
            .map(|k| {
                let mut t = Counts::default();
                strata.iter().for_each(|s| t.add(&s.targeted[k]));
                t.conversion().unwrap_or(0.0)
            })
            .collect::<Vec<f64>>(),
    )];
    if has_control {
        series.push((
            CONTROL.to_string(),
            (0..2)
                .map(|k| {
                    let mut c = Counts::default();
                    strata.iter().for_each(|s| c.add(&s.control[k]));
                    c.conversion().unwrap_or(0.0)
                })
                .collect(),
        ));
    }
    let mut out = vec![
        Section {
            id: "lift".to_string(),
            title: "Campaign lift".to_string(),
            note: Some(lift_note),
            table: lift_table(strata, comparison.as_ref(), cost)?,
            chart: None,
        },
        Section {
            id: "groups".to_string(),
            title: "Groups before and during the campaign".to_string(),
            note: Some(format!(
                "pre {} to {}, campaign {} to {}; conversion = buyers / customers",
                windows[0].start, windows[0].end, windows[1].start, windows[1].end
            )),
            table: groups,
            chart: Some(Chart::Bars {
                labels: windows.iter().map(|w| w.name.to_string()).collect(),
                series,
                percent: true,
            }),
        },
    ];
    if control == ControlKind::Auto {
        out.push(Section {
            id: "segments".to_string(),
            title: "Matching by segment".to_string(),
            note: Some(format!(
                "RFM segment on {}; campaign window figures",
                windows[1].start - chrono::Duration::days(1)
            )),
            table: strata_table(strata)?,
            chart: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(customers: u64, buyers: u64, revenue: f64) -> Counts {
        Counts {
            customers,
            buyers,
            orders: buyers,
            revenue,
        }
    }

    #[test]
    fn one_stratum_is_the_plain_two_proportion_comparison() {
        let s = Stratum {
            name: ALL.into(),
            targeted: [counts(100, 10, 500.0), counts(100, 30, 3000.0)],
            control: [counts(50, 5, 250.0), counts(50, 10, 1000.0)],
        };
        let c = compare(&[s], Some(1000.0)).unwrap();
        assert!((c.lift - 0.1).abs() < 1e-12);
        let se = (0.3f64 * 0.7 / 100.0 + 0.2 * 0.8 / 50.0).sqrt();
        assert!((c.lift_ci_low - (0.1 - Z_95 * se)).abs() < 1e-12);
        assert!((c.relative_lift.unwrap() - 0.5).abs() < 1e-12);
        assert!((c.incremental_revenue - (30.0 - 20.0) * 100.0).abs() < 1e-9);
        assert!((c.roi.unwrap() - 0.0).abs() < 1e-12);
    }

    #[test]
    fn strata_weight_control_to_the_targeted_mix() {
        let a = Stratum {
            name: "A".into(),
            targeted: [counts(0, 0, 0.0), counts(30, 15, 0.0)],
            control: [counts(0, 0, 0.0), counts(10, 4, 0.0)],
        };
        let b = Stratum {
            name: "B".into(),
            targeted: [counts(0, 0, 0.0), counts(10, 1, 0.0)],
            control: [counts(0, 0, 0.0), counts(90, 9, 0.0)],
        };
        let lone = Stratum {
            name: NO_SEGMENT.into(),
            targeted: [counts(0, 0, 0.0), counts(5, 5, 0.0)],
            control: [Counts::default(); 2],
        };
        let c = compare(&[a, b, lone], None).unwrap();
        assert_eq!(c.targeted_customers, 40);
        assert!((c.conversion_targeted[1] - 16.0 / 40.0).abs() < 1e-12);
        assert!((c.conversion_control[1] - (0.75 * 0.4 + 0.25 * 0.1)).abs() < 1e-12);
    }

    #[test]
    fn id_lists_plain_and_csv() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("ids.txt");
        std::fs::write(&plain, "\u{feff}A\n\n B \nA\n").unwrap();
        assert_eq!(
            read_id_list(&plain, "--targets").unwrap(),
            (vec!["A".to_string(), "B".to_string()], 1)
        );
        let csv = dir.path().join("ids.csv");
        std::fs::write(&csv, "email,Customer_ID\nx@y,C1\nz@y,\"C,2\"\n").unwrap();
        assert_eq!(
            read_id_list(&csv, "--targets").unwrap().0,
            vec!["C1".to_string(), "C,2".to_string()]
        );
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "email,id\nx,1\n").unwrap();
        assert!(read_id_list(&bad, "--targets").is_err());
        std::fs::write(&bad, "\n\n").unwrap();
        assert!(read_id_list(&bad, "--targets").is_err());
    }
}
