//! Next purchase (`custseg analyze next-purchase`): per customer the expected next purchase date,
//! the probability of a purchase within the next N days, and who is due. docs/analyses.md,
//! "next-purchase".
//!
//! - `expected_next_purchase` is the value table's (docs/metrics.md, "Behaviour"): last purchase
//!   day + round(median gap between distinct purchase days), null with fewer than two purchase
//!   days. `days_until_expected` = expected_next_purchase − as_of (negative: overdue). `due`:
//!   as_of < expected_next_purchase ≤ as_of + N.
//! - `purchase_probability` = P(at least one purchase on days as_of + 1 … as_of + N):
//!   - BG/NBD (method `bgnbd`), exact: P(alive) · (1 − ((α+T)/(α+T+t))^(r+x)), t = N days in the
//!     model's time unit. Derivation: a BG/NBD customer only drops out right after a purchase,
//!     so one alive at T makes no purchase in (T, T+t] with probability e^(−λt); given alive
//!     and the history (x, t_x, T), λ ~ Gamma(r+x, α+T) (Fader, Hardie & Lee 2005, eq. 2 with
//!     the dropout branch removed), whose Laplace transform at t is ((α+T)/(α+T+t))^(r+x).
//!     `expected_purchases` = E[Y(t) | x, t_x, T] (FHL eq. 10) and `p_alive` come from btyd.
//!   - Own gaps (method `gaps`): with gaps g₁…g_k (days between consecutive distinct purchase
//!     days in the period) and s = as_of − last purchase day, the share of the gaps longer than
//!     s that end within s + N: #{s < gᵢ ≤ s + N} / #{gᵢ > s}: the empirical chance that the
//!     gap in progress ends in the next N days. 0 when no gap is longer than s (longer away than
//!     ever); null without gaps (one purchase day).
//! - Rounding (half away from zero, output only): probabilities and expectations 6 decimals.

use btyd::BgNbd;
use chrono::NaiveDate;
use polars::prelude::*;

use crate::error::Result;
use crate::metrics::behaviour::{EXPECTED_NEXT_PURCHASE, MEDIAN_DAYS_BETWEEN_ORDERS};
use crate::metrics::rfm::{LAST_PURCHASE, RECENCY_DAYS, SEGMENT};
use crate::metrics::{day_number, gap_to_previous_day, lines_in_period, Period, DAY};
use crate::models::clv::P_ALIVE;
use crate::models::prep;
use crate::report::{Chart, Section};
use crate::schema;

/// Column: expected_next_purchase − as_of in days.
pub const DAYS_UNTIL_EXPECTED: &str = "days_until_expected";
/// Column: expected_next_purchase within (as_of, as_of + N].
pub const DUE: &str = "due";
/// Column: number of gaps between distinct purchase days in the period.
pub const GAPS: &str = "gaps";
/// Column: E[purchases in the next N days] (BG/NBD).
pub const EXPECTED_PURCHASES: &str = "expected_purchases";
/// Column: P(at least one purchase in the next N days).
pub const PURCHASE_PROBABILITY: &str = "purchase_probability";
/// Column: `bgnbd` or `gaps`.
pub const METHOD: &str = "method";

/// Per-customer table columns, in order.
pub const CUSTOMER_COLUMNS: &[&str] = &[
    schema::CUSTOMER_ID,
    SEGMENT,
    LAST_PURCHASE,
    RECENCY_DAYS,
    GAPS,
    MEDIAN_DAYS_BETWEEN_ORDERS,
    EXPECTED_NEXT_PURCHASE,
    DAYS_UNTIL_EXPECTED,
    DUE,
    P_ALIVE,
    EXPECTED_PURCHASES,
    PURCHASE_PROBABILITY,
    METHOD,
];

/// Due-list columns, in order.
pub const DUE_COLUMNS: &[&str] = &[
    schema::CUSTOMER_ID,
    SEGMENT,
    EXPECTED_NEXT_PURCHASE,
    DAYS_UNTIL_EXPECTED,
    PURCHASE_PROBABILITY,
    LAST_PURCHASE,
    MEDIAN_DAYS_BETWEEN_ORDERS,
];

/// Where the probabilities come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The BG/NBD model.
    BgNbd,
    /// Each customer's own gaps.
    Gaps,
}

impl Method {
    /// The name in the `method` column.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::BgNbd => "bgnbd",
            Method::Gaps => "gaps",
        }
    }
}

/// Settings.
#[derive(Debug, Clone, Copy)]
pub struct NextPurchaseOptions {
    /// The value table's period (as_of, window).
    pub period: Period,
    /// N: days ahead.
    pub days: u32,
}

fn round6(e: Expr) -> Expr {
    e.round(6, RoundMode::HalfAwayFromZero)
}

/// Plan: the gap rule per customer with a purchase line in the period: `customer_id`, [`GAPS`],
/// and the gap-rule [`PURCHASE_PROBABILITY`] (see the module docs). Never collects.
pub fn gap_probabilities(orders: LazyFrame, options: &NextPurchaseOptions) -> LazyFrame {
    let as_of = options.period.as_of_day();
    let days = lines_in_period(orders, &options.period)
        .filter(col(schema::IS_RETURN).not())
        .select([col(schema::CUSTOMER_ID), col(DAY)])
        .unique(None, UniqueKeepStrategy::Any)
        .sort([schema::CUSTOMER_ID, DAY], SortMultipleOptions::default())
        .with_column(gap_to_previous_day().cast(DataType::Int64).alias("__gap"));
    let last = days
        .clone()
        .group_by([col(schema::CUSTOMER_ID)])
        .agg([(lit(as_of) - col(DAY).max())
            .cast(DataType::Int64)
            .alias("__since")]);
    let n = i64::from(options.days);
    let over = col("__gap").gt(col("__since"));
    let within = over
        .clone()
        .and(col("__gap").lt_eq(col("__since") + lit(n)));
    days.join(
        last,
        [col(schema::CUSTOMER_ID)],
        [col(schema::CUSTOMER_ID)],
        JoinArgs::new(JoinType::Inner),
    )
    .group_by([col(schema::CUSTOMER_ID)])
    .agg([
        col("__gap").count().cast(DataType::Int64).alias(GAPS),
        over.cast(DataType::Int64).sum().alias("__over"),
        within.cast(DataType::Int64).sum().alias("__within"),
    ])
    .with_column(
        when(col(GAPS).eq(lit(0i64)))
            .then(lit(NULL).cast(DataType::Float64))
            .when(col("__over").eq(lit(0i64)))
            .then(lit(0.0))
            .otherwise(round6(
                col("__within").cast(DataType::Float64) / col("__over").cast(DataType::Float64),
            ))
            .alias(PURCHASE_PROBABILITY),
    )
    .select([
        col(schema::CUSTOMER_ID),
        col(GAPS),
        col(PURCHASE_PROBABILITY),
    ])
}

/// P(Y(t) > 0 | x, t_x, T) under BG/NBD: P(alive) · (1 − ((α+T)/(α+T+t))^(r+x)) (module docs),
/// evaluated as P(alive) · −expm1(−(r+x) · ln1p(t/(α+T))) so that small t and large x stay exact.
#[must_use]
pub fn bgnbd_purchase_probability(m: &BgNbd, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
    let (x, age, t) = (x.max(0.0), age.max(0.0), t.max(0.0));
    let none_while_alive = (-(m.r + x) * (t / (m.alpha + age)).ln_1p()).exp_m1();
    m.p_alive(x, t_x, age) * -none_while_alive
}

/// The BG/NBD columns for every customer of a CLV prediction table (customer_id, x, t_x, T):
/// `customer_id`, `p_alive`, `expected_purchases` and `purchase_probability` over the next
/// `days` days; `unit_days` is the length of the model's time unit. Runs over column slices.
///
/// # Errors
/// Engine errors (missing columns).
pub fn model_probabilities(
    clv_table: &DataFrame,
    model: &BgNbd,
    unit_days: f64,
    days: u32,
) -> Result<DataFrame> {
    let t = f64::from(days) / unit_days;
    let column = |name: &str| -> Result<Vec<f64>> {
        let c = clv_table.column(name)?.cast(&DataType::Float64)?;
        Ok(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let (x, t_x, age) = (column(prep::X)?, column(prep::T_X)?, column(prep::T_AGE)?);
    let mut alive = Vec::with_capacity(x.len());
    let mut expected = Vec::with_capacity(x.len());
    let mut probability = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        alive.push(model.p_alive(x[i], t_x[i], age[i]));
        expected.push(model.expected_purchases(t, x[i], t_x[i], age[i]));
        probability.push(bgnbd_purchase_probability(model, t, x[i], t_x[i], age[i]));
    }
    let out = DataFrame::new(
        x.len(),
        vec![
            clv_table.column(schema::CUSTOMER_ID)?.clone(),
            Column::new(P_ALIVE.into(), alive),
            Column::new(EXPECTED_PURCHASES.into(), expected),
            Column::new(PURCHASE_PROBABILITY.into(), probability),
        ],
    )?;
    Ok(out
        .lazy()
        .with_columns([
            round6(col(P_ALIVE)),
            round6(col(EXPECTED_PURCHASES)),
            round6(col(PURCHASE_PROBABILITY)),
        ])
        .collect()?)
}

/// Plan: the per-customer table (columns [`CUSTOMER_COLUMNS`], sorted by customer_id) from the
/// value table rows to report, the gap rule and, with the BG/NBD method, the model columns.
pub fn customers(
    value_table: LazyFrame,
    gaps: LazyFrame,
    model: Option<LazyFrame>,
    options: &NextPurchaseOptions,
) -> LazyFrame {
    let as_of = i64::from(options.period.as_of_day());
    let until = col(EXPECTED_NEXT_PURCHASE)
        .cast(DataType::Int32)
        .cast(DataType::Int64)
        - lit(as_of);
    let key = || [col(schema::CUSTOMER_ID)];
    let base = value_table
        .select([
            col(schema::CUSTOMER_ID),
            col(SEGMENT),
            col(LAST_PURCHASE),
            col(RECENCY_DAYS),
            col(MEDIAN_DAYS_BETWEEN_ORDERS),
            col(EXPECTED_NEXT_PURCHASE),
        ])
        .with_column(until.alias(DAYS_UNTIL_EXPECTED))
        .with_column(
            col(DAYS_UNTIL_EXPECTED)
                .gt(lit(0i64))
                .and(col(DAYS_UNTIL_EXPECTED).lt_eq(lit(i64::from(options.days))))
                .fill_null(lit(false))
                .alias(DUE),
        );
    let (with_model, method) = match model {
        Some(m) => (
            base.join(
                gaps.select([col(schema::CUSTOMER_ID), col(GAPS)]),
                key(),
                key(),
                JoinArgs::new(JoinType::Left),
            )
            .join(m, key(), key(), JoinArgs::new(JoinType::Left)),
            Method::BgNbd,
        ),
        None => (
            base.join(gaps, key(), key(), JoinArgs::new(JoinType::Left))
                .with_columns([
                    lit(NULL).cast(DataType::Float64).alias(P_ALIVE),
                    lit(NULL).cast(DataType::Float64).alias(EXPECTED_PURCHASES),
                ]),
            Method::Gaps,
        ),
    };
    with_model
        .with_columns([
            col(GAPS).fill_null(lit(0i64)),
            lit(method.as_str()).alias(METHOD),
        ])
        .select(CUSTOMER_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .sort([schema::CUSTOMER_ID], SortMultipleOptions::default())
}

/// Plan: the due list from a [`customers`] table: due customers by purchase_probability
/// descending (nulls last), then expected date, then customer_id; columns [`DUE_COLUMNS`].
pub fn due(customers: LazyFrame) -> LazyFrame {
    customers
        .filter(col(DUE))
        .sort(
            [
                PURCHASE_PROBABILITY,
                EXPECTED_NEXT_PURCHASE,
                schema::CUSTOMER_ID,
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false, false])
                .with_nulls_last(true),
        )
        .select(DUE_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
}

/// The report sections: the due list (with a chart of customers due per day) and the
/// per-customer table.
///
/// # Errors
/// Engine errors.
pub fn sections(
    customers: DataFrame,
    due: DataFrame,
    options: &NextPurchaseOptions,
    method: Method,
) -> Result<Vec<Section>> {
    let as_of = options.period.as_of;
    let n = options.days;
    let mut per_day = vec![0.0; n as usize];
    let dates = due.column(EXPECTED_NEXT_PURCHASE)?.cast(&DataType::Int32)?;
    for d in dates.i32()?.iter().flatten() {
        let k = i64::from(d) - i64::from(day_number(as_of)) - 1;
        if let Some(slot) = usize::try_from(k).ok().and_then(|k| per_day.get_mut(k)) {
            *slot += 1.0;
        }
    }
    let labels: Vec<String> = (1..=i64::from(n))
        .map(|k| (as_of + chrono::Duration::days(k)).to_string())
        .collect();
    let source = match method {
        Method::BgNbd => "the BG/NBD model",
        Method::Gaps => "each customer's own gaps between purchase days",
    };
    let end: NaiveDate = as_of + chrono::Duration::days(i64::from(n));
    Ok(vec![
        Section {
            id: "due".to_string(),
            title: format!("Customers due in the next {n} days"),
            note: Some(format!(
                "{} of {} customers expected to buy from {} to {end} (last purchase + median gap); purchase_probability from {source}",
                due.height(),
                customers.height(),
                as_of + chrono::Duration::days(1)
            )),
            table: due,
            chart: Some(Chart::Line {
                labels,
                series: vec![("customers due".to_string(), per_day)],
            }),
        },
        Section {
            id: "customers".to_string(),
            title: "Next purchase per customer".to_string(),
            note: Some(format!(
                "purchase_probability: at least one purchase in the next {n} days, from {source}"
            )),
            table: customers,
            chart: None,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use btyd::simulate::{bgnbd_customer, SplitMix64};

    #[test]
    fn closed_form_matches_numerical_integration_over_the_rate() {
        let m = BgNbd::new(0.8, 3.0, 0.7, 2.5).unwrap();
        for (x, t_x, age, t) in [
            (0.0, 0.0, 10.0, 4.0),
            (3.0, 8.0, 20.0, 2.0),
            (12.0, 30.0, 31.0, 8.0),
        ] {
            // E[e^(−λt)] with λ ~ Gamma(r + x, α + T), by the midpoint rule in y = ln λ (smooth
            // even where the density of λ is unbounded at 0).
            let (shape, rate) = (m.r + x, m.alpha + age);
            let ln_norm = shape * f64::ln(rate) - btyd::special::ln_gamma(shape);
            let h: f64 = 1e-4;
            let mut integral = 0.0;
            let mut y = -60.0 + h / 2.0;
            while y < 5.0 {
                let l = y.exp();
                integral += (ln_norm + shape * y - rate * l - l * t).exp() * h;
                y += h;
            }
            let expected = m.p_alive(x, t_x, age) * (1.0 - integral);
            let got = bgnbd_purchase_probability(&m, t, x, t_x, age);
            assert!(
                (got - expected).abs() < 2e-4,
                "{x} {t_x} {age} {t}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn averaged_over_customers_it_is_the_share_that_buys() {
        // Law of total probability: the mean of P(Y(t) > 0 | history) over customers simulated
        // from the model equals the share of them with a purchase in (T, T + t].
        let m = BgNbd::new(0.5, 4.0, 0.8, 2.4).unwrap();
        let (age, t) = (26.0, 4.0);
        let mut rng = SplitMix64::new(11);
        let n = 200_000;
        let (mut predicted, mut bought) = (0.0, 0u32);
        for _ in 0..n {
            let (x, t_x, later) = bgnbd_customer(&m, age, t, &mut rng);
            predicted += bgnbd_purchase_probability(&m, t, f64::from(x), t_x, age);
            bought += u32::from(later > 0);
        }
        let (predicted, observed) = (predicted / f64::from(n), f64::from(bought) / f64::from(n));
        // Standard error of the observed share is below 0.0011.
        assert!(
            (predicted - observed).abs() < 0.004,
            "{predicted} vs {observed}"
        );
    }

    #[test]
    fn probability_is_bounded_and_monotone_in_the_horizon() {
        let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let mut last = 0.0;
        for t in [0.0, 0.1, 1.0, 4.0, 52.0, 1e6] {
            let p = bgnbd_purchase_probability(&m, t, 2.0, 30.43, 38.86);
            assert!((0.0..=1.0).contains(&p) && p >= last, "{t}: {p}");
            last = p;
        }
        assert!((last - m.p_alive(2.0, 30.43, 38.86)).abs() < 1e-9);
    }
}
