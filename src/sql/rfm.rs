//! The `rfm` job: every column of `custseg rfm` (src/metrics/rfm.rs, docs/metrics.md §4) as one
//! SQL query.
//!
//! Rank-based scores need rank_min of each customer's value among all n customers. A window
//! `RANK() OVER (ORDER BY v)` over all customers would run in one Spark task, so rank_min is
//! built from aggregates instead: the distinct values with their customer counts, each in a
//! bucket `b = floor(sqrt(|v|))` (mirrored below zero; sqrt is correctly rounded in IEEE 754, so
//! b never decreases as v grows); rank_min(v) = 1 + (customers in lower buckets) + (customers
//! with a smaller value in v's bucket). The first term is a running sum over the bucket totals
//! (at most 2·sqrt(max |v|) + 2 rows: about 200 for recency in days, 60,000 for monetary in
//! cents up to 10⁷), the second a window partitioned by bucket; both are joined back by value.
//! Monetary is ranked by its whole number of cents, which orders and ties exactly like the
//! rounded amount.

use chrono::NaiveDate;

use crate::metrics::rfm::{Scoring, SegmentRule};
use crate::sql::{day_literal, double, header, Dialect, Query, Source};

/// Options of the `rfm` job (the local command's, resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct RfmJob {
    /// The as-of date; None: the day after the latest local order date, computed in SQL.
    pub as_of: Option<NaiveDate>,
    /// Look-back window in days (None: everything up to the as-of date).
    pub window_days: Option<i64>,
    /// Rank-based or cut-point scores.
    pub scoring: Scoring,
    /// Named segments, first match wins.
    pub segments: Vec<SegmentRule>,
}

/// One ranked metric: its prefix, the output column and the integer rank key (ascending).
struct Ranked {
    prefix: &'static str,
    key: &'static str,
}

const RANKED: [Ranked; 3] = [
    // Fewer days since the last purchase rank higher: rank the negated days ascending.
    Ranked {
        prefix: "r",
        key: "-recency_days",
    },
    Ranked {
        prefix: "f",
        key: "frequency",
    },
    // Whole cents: monetary is already rounded to cents, so this is exact and order-preserving.
    Ranked {
        prefix: "m",
        key: "CAST(ROUND(monetary * 1e2) AS BIGINT)",
    },
];

/// `floor(sqrt(|v|))`, mirrored to `−1 − floor(sqrt(−v))` below zero: a non-decreasing bucket.
fn bucket(v: &str) -> String {
    format!(
        "CASE WHEN {v} >= 0 THEN CAST(FLOOR(SQRT(CAST({v} AS DOUBLE))) AS BIGINT)\n              ELSE -1 - CAST(FLOOR(SQRT(CAST(-{v} AS DOUBLE))) AS BIGINT) END"
    )
}

/// The generated query.
#[must_use]
pub fn sql(source: &Source, job: &RfmJob) -> String {
    let d = source.dialect;
    let bins = job.scoring.bins();
    let mut settings = vec![format!(
        "Job: the table of `custseg rfm`: one row per customer with a purchase line in the period, sorted by customer_id; docs/metrics.md section 4."
    )];
    settings.push(format!(
        "As of: {}; window: {}; scores: {}.",
        job.as_of.map_or_else(
            || "the day after the latest local order date".to_string(),
            |a| a.to_string()
        ),
        job.window_days
            .map_or_else(|| "none".to_string(), |w| format!("{w} days")),
        match &job.scoring {
            Scoring::Ranks { bins } => format!("rank-based, {bins} bins"),
            Scoring::Thresholds { bins, .. } => format!("fixed cut points, {bins} bins"),
        }
    ));
    let mut q = Query::new(header("rfm", source, &settings));
    q.push(source.lines_step());
    match job.as_of {
        Some(date) => q.step(
            "as_of",
            "The as-of date (--as-of) as a day number.",
            format!("SELECT {} AS as_of_day", day_literal(date)),
        ),
        None => q.step(
            "as_of",
            "The as-of date: the day after the latest local order date (all lines, returns included).",
            "SELECT MAX(day) + 1 AS as_of_day FROM lines".to_string(),
        ),
    }
    let window = job.window_days.map_or_else(String::new, |w| {
        format!("\n     AND l.day > a.as_of_day - {w}")
    });
    q.step(
        "period",
        "Lines of the period: as_of - window < day <= as_of (one-row as_of, broadcast).",
        format!(
            "SELECT l.customer_id, l.order_id, l.amount, l.is_return, l.day\n  FROM lines l CROSS JOIN as_of a\n   WHERE l.day <= a.as_of_day{window}"
        ),
    );
    q.step(
        "totals",
        "Per customer (a distributed aggregation): distinct orders with a purchase line (is_return = false; a null order_id counts once, as in polars' n_unique), the net amount of all lines (returns are negative), first and last purchase day.",
        "SELECT customer_id,\n         COUNT(DISTINCT CASE WHEN NOT is_return THEN order_id END)\n           + MAX(CASE WHEN NOT is_return AND order_id IS NULL THEN 1 ELSE 0 END) AS frequency,\n         SUM(amount) AS amount_sum,\n         MIN(CASE WHEN NOT is_return THEN day END) AS first_day,\n         MAX(CASE WHEN NOT is_return THEN day END) AS last_day\n  FROM period\n  GROUP BY customer_id".to_string(),
    );
    q.step(
        "metrics",
        "Raw metrics of customers with a purchase: monetary rounded to cents (half away from zero); day counts from the as-of date.",
        "SELECT t.customer_id,\n         CAST(a.as_of_day - t.last_day AS BIGINT) AS recency_days,\n         CAST(t.frequency AS BIGINT) AS frequency,\n         ROUND(t.amount_sum * 1e2) / 1e2 AS monetary,\n         t.first_day, t.last_day,\n         CAST(a.as_of_day - t.first_day AS BIGINT) AS tenure_days\n  FROM totals t CROSS JOIN as_of a\n  WHERE t.frequency > 0".to_string(),
    );
    let (r, f, m) = match &job.scoring {
        Scoring::Ranks { bins } => {
            q.step(
                "customer_count",
                "n, the number of customers scored (one row).",
                "SELECT COUNT(*) AS n FROM metrics".to_string(),
            );
            for ranked in &RANKED {
                rank_steps(&mut q, ranked);
            }
            let score = |p: &str| {
                format!(
                    "CAST(1 + FLOOR({} * CAST({p}r.rank_min - 1 AS DOUBLE) / CAST(c.n AS DOUBLE)) AS INT)",
                    double(f64::from(*bins))
                )
            };
            (score("r"), score("f"), score("m"))
        }
        Scoring::Thresholds { bins, cuts } => {
            let below = |column: &str, cuts: &[f64]| {
                let terms: Vec<String> = cuts
                    .iter()
                    .map(|c| {
                        format!(
                            "CASE WHEN CAST({column} AS DOUBLE) > {} THEN 1 ELSE 0 END",
                            double(*c)
                        )
                    })
                    .collect();
                format!("({})", terms.join(" + "))
            };
            (
                format!(
                    "CAST({bins} - {} AS INT)",
                    below("m.recency_days", &cuts.recency_days)
                ),
                format!("CAST(1 + {} AS INT)", below("m.frequency", &cuts.frequency)),
                format!("CAST(1 + {} AS INT)", below("m.monetary", &cuts.monetary)),
            )
        }
    };
    let (joins, comment) = match job.scoring {
        Scoring::Ranks { .. } => (
            format!(
                "\n  CROSS JOIN customer_count c\n  JOIN r_rank rr ON rr.v = -m.recency_days\n  JOIN f_rank fr ON fr.v = m.frequency\n  JOIN m_rank mr ON mr.v = {}",
                "CAST(ROUND(m.monetary * 1e2) AS BIGINT)"
            ),
            format!("Scores: 1 + floor({bins} x (rank_min - 1) / n); ties share rank_min and so the score."),
        ),
        Scoring::Thresholds { .. } => (
            String::new(),
            "Scores from the cut points c_i: recency bins - #{c_i < v}; frequency and monetary 1 + #{c_i < v}.".to_string(),
        ),
    };
    q.step(
        "scored",
        &comment,
        format!(
            "SELECT m.*,\n         {r} AS r_score,\n         {f} AS f_score,\n         {m} AS m_score\n  FROM metrics m{joins}"
        ),
    );
    let segment = segment_case(d, &job.segments, bins);
    let st = d.string_type();
    let select = format!(
        "SELECT customer_id, recency_days, frequency, monetary,\n       ROUND(monetary / CAST(frequency AS DOUBLE) * 1e2) / 1e2 AS avg_order_value,\n       {} AS first_purchase,\n       {} AS last_purchase,\n       tenure_days, r_score, f_score, m_score,\n       concat(CAST(r_score AS {st}), CAST(f_score AS {st}), CAST(m_score AS {st})) AS rfm_cell,\n       {segment} AS segment\nFROM scored\nORDER BY customer_id",
        d.date_of_day("first_day"),
        d.date_of_day("last_day"),
    );
    q.finish(
        "The rfm table: avg_order_value = monetary / frequency rounded to cents, dates, the cell and the first matching named segment (null when none matches).",
        &select,
    )
}

/// The rank steps of one metric: distinct values in buckets, bucket running totals, rank_min.
fn rank_steps(q: &mut Query, ranked: &Ranked) {
    let p = ranked.prefix;
    q.step(
        &format!("{p}_values"),
        &format!(
            "Distinct values v = {} with their customer counts (aggregation), and bucket b = floor(sqrt(|v|)) (non-decreasing in v).",
            ranked.key
        ),
        format!(
            "SELECT v, {} AS b, n\n  FROM (SELECT v, COUNT(*) AS n FROM (SELECT {} AS v FROM metrics) k GROUP BY v) g",
            bucket("v"),
            ranked.key
        ),
    );
    q.step(
        &format!("{p}_buckets"),
        "Customers in lower buckets: a running sum over the bucket totals (a small table: one row per bucket).",
        format!(
            "SELECT b, SUM(SUM(n)) OVER (ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - SUM(n) AS below\n  FROM {p}_values\n  GROUP BY b"
        ),
    );
    q.step(
        &format!("{p}_rank"),
        "rank_min(v) = 1 + customers in lower buckets + customers with a smaller value in v's bucket (a window partitioned by bucket).",
        format!(
            "SELECT x.v,\n         1 + k.below + SUM(x.n) OVER (PARTITION BY x.b ORDER BY x.v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - x.n AS rank_min\n  FROM {p}_values x JOIN {p}_buckets k ON x.b = k.b"
        ),
    );
}

/// A score on the 1..5 scale of the segment rules: `1 + floor(4 × (s − 1) / (bins − 1))`.
fn on_five(score: &str, bins: u32) -> String {
    if bins == 5 {
        return score.to_string();
    }
    let steps = bins.max(2) - 1;
    format!(
        "(1 + CAST(FLOOR(CAST(4 * ({score} - 1) AS DOUBLE) / {}) AS INT))",
        double(f64::from(steps))
    )
}

/// `CASE WHEN rule 1 THEN name 1 … ELSE NULL END`, first match wins.
fn segment_case(d: Dialect, rules: &[SegmentRule], bins: u32) -> String {
    let (r, f, m) = (
        on_five("r_score", bins),
        on_five("f_score", bins),
        on_five("m_score", bins),
    );
    let mut arms = Vec::new();
    for rule in rules {
        let mut conds = Vec::new();
        for (score, range) in [(&r, rule.r), (&f, rule.f), (&m, rule.m)] {
            if let Some([lo, hi]) = range {
                conds.push(format!("{score} BETWEEN {lo} AND {hi}"));
            }
        }
        let cond = if conds.is_empty() {
            "TRUE".to_string()
        } else {
            conds.join(" AND ")
        };
        arms.push(format!("WHEN {cond} THEN {}", d.string(&rule.name)));
    }
    if arms.is_empty() {
        return format!("CAST(NULL AS {})", d.string_type());
    }
    format!("CASE {}\n         ELSE NULL END", arms.join("\n         "))
}
