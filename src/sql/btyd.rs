//! The BTYD jobs: `btyd-summary` (one (x, t_x, T, mean_repeat_spend) row per customer, as
//! `custseg clv` prepares it in src/models/prep.rs), `btyd-histogram` (the same collapsed to the
//! distinct rows the fits need) and `clv-join` (predictions per distinct row joined back onto
//! every customer). The interchange formats are defined in docs/scale.md.
//!
//! The summary follows `customer_summary` step by step: customer days (customer, local date)
//! with the day's net amount summed as whole micro-units (round(amount × 10⁶) as an integer,
//! summed, / 10⁶: exact, so the sum does not depend on the order rows arrive in); a transaction
//! is a customer day with a purchase line on or before the calibration end; x = transactions −
//! 1, t_x and T are whole-day differences divided by the unit's length in days (DOUBLE), and
//! mean_repeat_spend is the micro-unit sum of the repeat transactions' values / x (0 when x = 0).
//! Divisions by a constant (the unit's length, 10⁶) are multiplications by its reciprocal, as
//! polars computes them, so every value has the local command's bits.

use chrono::NaiveDate;

use crate::models::prep::TimeUnit;
use crate::sql::{day_literal, double, header, Query, Source};

/// Options of the BTYD jobs (the local `custseg clv`'s names and defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct BtydJob {
    /// Last day of the calibration period (inclusive); None: the latest local date with a
    /// purchase line, computed in SQL (`custseg clv`'s default without --as-of).
    pub calibration_end: Option<NaiveDate>,
    /// Unit of t_x and T.
    pub time_unit: TimeUnit,
}

/// Options of `clv-join`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClvJoin {
    /// The summary options (must match those the histogram was made with).
    pub btyd: BtydJob,
    /// The predictions table written by `custseg clv --params P --from-histogram H -o F`.
    pub triples: String,
    /// Add the dert column (Pareto/NBD).
    pub dert: bool,
}

fn settings(job: &BtydJob, what: &str) -> Vec<String> {
    vec![
        format!("Job: {what}"),
        format!(
            "Calibration end: {}; time unit: {} ({} days).",
            job.calibration_end.map_or_else(
                || "the latest local date with a purchase line".to_string(),
                |d| d.to_string()
            ),
            job.time_unit.as_str(),
            job.time_unit.days()
        ),
    ]
}

/// The steps up to `summary` (one row per customer with a calibration transaction).
fn summary_steps(q: &mut Query, source: &Source, job: &BtydJob) {
    let d = source.dialect;
    // polars divides a column by a constant as a multiplication by the constant's reciprocal
    // (polars-compute `prim_true_div_scalar`), which can differ from a true division in the
    // last bit: the query multiplies by the same reciprocal so that the values, and the fits
    // on them, are bit-identical to `custseg clv`'s (a/b of BG/NBD drift on flat optima).
    let micro = double(1.0 / 1e6);
    q.push(source.lines_step());
    match job.calibration_end {
        Some(end) => q.step(
            "calibration",
            "The calibration end (--calibration-end, else --as-of) as a day number.",
            format!("SELECT {} AS end_day", day_literal(end)),
        ),
        None => q.step(
            "calibration",
            "The calibration end: the latest local date with a purchase line (is_return = false).",
            "SELECT MAX(day) AS end_day FROM lines WHERE NOT is_return".to_string(),
        ),
    }
    q.step(
        "customer_days",
        "Customer days (aggregation by customer and local date): value = the day's net amount (returns negative) summed in whole micro-units; purchase_lines = lines with is_return = false.",
        format!(
            "SELECT customer_id, day,\n         CAST(COALESCE(SUM(CAST(ROUND(amount * 1e6) AS BIGINT)), 0) AS DOUBLE) * {micro} AS value,\n         SUM(CASE WHEN NOT is_return THEN 1 ELSE 0 END) AS purchase_lines\n  FROM lines\n  GROUP BY customer_id, day"
        ),
    );
    q.step(
        "transactions",
        "Calibration transactions: customer days with a purchase line on or before the calibration end.",
        "SELECT c.customer_id, c.day, c.value\n  FROM customer_days c CROSS JOIN calibration e\n  WHERE c.purchase_lines > 0 AND c.day <= e.end_day".to_string(),
    );
    q.step(
        "first_last",
        "Per customer: number of calibration transactions, first and last transaction day.",
        "SELECT customer_id, COUNT(*) AS transactions, MIN(day) AS first_day, MAX(day) AS last_day\n  FROM transactions\n  GROUP BY customer_id".to_string(),
    );
    q.step(
        "repeat_value",
        "Per customer: the repeat transactions' values (days after the first) summed in micro-units (a join on customer_id and an aggregation).",
        "SELECT t.customer_id, f.transactions, f.first_day, f.last_day,\n         SUM(CASE WHEN t.day > f.first_day THEN CAST(ROUND(t.value * 1e6) AS BIGINT) ELSE 0 END) AS repeat_micros\n  FROM transactions t JOIN first_last f ON t.customer_id = f.customer_id\n  GROUP BY t.customer_id, f.transactions, f.first_day, f.last_day".to_string(),
    );
    let days = job.time_unit.days();
    let unit = double(days);
    let per_unit = double(1.0 / days);
    q.step(
        "summary",
        &format!(
            "x = transactions - 1; t_x = (last - first day) / {unit}; T = (calibration end - first day) / {unit}, each computed as days x {per_unit} (1 / {unit}); mean_repeat_spend = repeat value / x, 0 when x = 0."
        ),
        format!(
            "SELECT r.customer_id,\n         CAST(r.transactions - 1 AS BIGINT) AS x,\n         CAST(r.last_day - r.first_day AS DOUBLE) * {per_unit} AS t_x,\n         CAST(e.end_day - r.first_day AS DOUBLE) * {per_unit} AS {t},\n         CASE WHEN r.transactions > 1\n              THEN CAST(r.repeat_micros AS DOUBLE) * {micro} / CAST(r.transactions - 1 AS DOUBLE)\n              ELSE 0e0 END AS mean_repeat_spend\n  FROM repeat_value r CROSS JOIN calibration e",
            t = d.ident("T"),
        ),
    );
}

/// The `btyd-summary` query: customer_id, x, t_x, T, mean_repeat_spend, sorted by customer_id.
#[must_use]
pub fn summary_sql(source: &Source, job: &BtydJob) -> String {
    let mut q = Query::new(header(
        "btyd-summary",
        source,
        &settings(job, "one row per customer with a calibration transaction: customer_id, x, t_x, T, mean_repeat_spend, as `custseg clv` prepares them (docs/clv.md, docs/scale.md)."),
    ));
    summary_steps(&mut q, source, job);
    let t = source.dialect.ident("T");
    q.finish(
        "The summary, sorted by customer_id.",
        &format!("SELECT customer_id, x, t_x, {t}, mean_repeat_spend\nFROM summary\nORDER BY customer_id"),
    )
}

/// The `btyd-histogram` query: part, x, t_x, T, mean_repeat_spend, customers.
#[must_use]
pub fn histogram_sql(source: &Source, job: &BtydJob) -> String {
    let d = source.dialect;
    let mut q = Query::new(header(
        "btyd-histogram",
        source,
        &settings(job, "the summary collapsed: part 'triple' = distinct (x, t_x, T) with customer counts (the BG/NBD, MBG/NBD, Pareto/NBD likelihood depends on nothing else); part 'spend' = distinct (x, mean_repeat_spend) over all customers with counts (Gamma-Gamma; its fit uses x > 0). Fit it with `custseg clv --from-histogram FILE`."),
    ));
    summary_steps(&mut q, source, job);
    let t = d.ident("T");
    let st = d.string_type();
    q.finish(
        "Both parts in one table, sorted by part, x, t_x, T, mean_repeat_spend.",
        &format!(
            "SELECT CAST('triple' AS {st}) AS part, x, t_x, {t}, CAST(NULL AS DOUBLE) AS mean_repeat_spend, COUNT(*) AS customers\n  FROM summary\n  GROUP BY x, t_x, {t}\nUNION ALL\nSELECT CAST('spend' AS {st}) AS part, x, CAST(NULL AS DOUBLE) AS t_x, CAST(NULL AS DOUBLE) AS {t}, mean_repeat_spend, COUNT(*) AS customers\n  FROM summary\n  GROUP BY x, mean_repeat_spend\nORDER BY part, x, t_x, {t}, mean_repeat_spend"
        ),
    )
}

/// The `clv-join` query: the summary with each customer's predictions, as `custseg clv
/// --params P` prints them.
#[must_use]
pub fn clv_join_sql(source: &Source, job: &ClvJoin) -> String {
    let d = source.dialect;
    let mut q = Query::new(header(
        "clv-join",
        source,
        &settings(&job.btyd, &format!("predictions per distinct row from {} (written by `custseg clv --params P --from-histogram H -o F`) joined onto every customer's summary: the columns of `custseg clv --params P`; clv = discounted_purchases x expected_avg_spend x margin. A customer whose row is missing from the predictions gets nulls.", job.triples)),
    ));
    summary_steps(&mut q, source, &job.btyd);
    let t = d.ident("T");
    let dert = if job.dert { ", p.dert" } else { "" };
    q.step(
        "triple_predictions",
        "Predictions per distinct (x, t_x, T) (part 'triple' of the predictions table: a small table).",
        format!(
            "SELECT x, t_x, {t}, expected_purchases, p_alive, discounted_purchases, margin{}\n  FROM {}\n  WHERE part = 'triple'",
            if job.dert { ", dert" } else { "" },
            job.triples
        ),
    );
    q.step(
        "spend_predictions",
        "Expected spend per distinct (x, mean_repeat_spend) (part 'spend').",
        format!(
            "SELECT x, mean_repeat_spend, expected_avg_spend\n  FROM {}\n  WHERE part = 'spend'",
            job.triples
        ),
    );
    q.finish(
        "Every customer with its predictions (joins on exactly equal DOUBLE values: both sides come from the same integer day counts and divisions), sorted by customer_id.",
        &format!(
            "SELECT s.customer_id, s.x, s.t_x, s.{t}, s.mean_repeat_spend,\n       p.expected_purchases, p.p_alive, g.expected_avg_spend,\n       p.discounted_purchases * g.expected_avg_spend * p.margin AS clv{dert}\nFROM summary s\nLEFT JOIN triple_predictions p ON s.x = p.x AND s.t_x = p.t_x AND s.{t} = p.{t}\nLEFT JOIN spend_predictions g ON s.x = g.x AND s.mean_repeat_spend = g.mean_repeat_spend\nORDER BY s.customer_id"
        ),
    )
}
