//! Calibration/holdout diagnostics of a purchase-count model (Fader, Hardie & Lee 2005,
//! section 4, figures 2–4): the calibration-period histogram of repeat transactions, actual vs
//! the model's expected number of customers, and the holdout transactions per calibration
//! frequency, actual vs conditional expectation; plus the probability mass P(X(t) = x) the
//! histogram needs, which the `btyd` crate does not provide.

use btyd::special::{hyp2f1, ln_beta, ln_gamma};
use btyd::{BgNbd, MbgNbd, ParetoNbd, Summary};
use polars::prelude::*;

use crate::error::Result;
use crate::models::params::CountModel;

/// Frequencies 0..=6 get their own row; 7 and more share the row "7+".
pub const TOP_BUCKET: usize = 7;

/// Section of the histogram rows.
pub const CALIBRATION: &str = "calibration_histogram";
/// Section of the holdout rows.
pub const HOLDOUT: &str = "holdout_by_frequency";

/// One row of a diagnostics table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// [`CALIBRATION`] or [`HOLDOUT`].
    pub section: &'static str,
    /// "0" … "6", "7+" or "all".
    pub frequency: String,
    /// Customers with that calibration frequency x.
    pub customers: usize,
    /// Calibration: customers with that x. Holdout: their holdout transactions.
    pub actual: f64,
    /// Calibration: the model's expected number of customers with that x,
    /// Σ_i P(X(T_i) = x). Holdout: Σ_i E[Y(t) | x_i, t_x,i, T_i] over those customers.
    pub expected: f64,
    /// Holdout only: mean over those customers of |actual_i − expected_i| (None without
    /// customers).
    pub mean_abs_error: Option<f64>,
}

/// The diagnostics of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostics {
    /// Holdout length in the model's time unit.
    pub holdout_length: f64,
    /// Calibration histogram rows, then holdout rows (each with an "all" row last).
    pub rows: Vec<Row>,
}

impl Diagnostics {
    /// The "all" row of the holdout section.
    #[must_use]
    pub fn holdout_total(&self) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.section == HOLDOUT && r.frequency == "all")
    }

    /// The rows as a frame: section, frequency, customers, actual, expected,
    /// actual_per_customer, expected_per_customer, mean_abs_error (the last three null in the
    /// calibration section and for frequencies without customers).
    ///
    /// # Errors
    /// Engine errors only.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let per = |r: &Row, v: f64| match (r.section, r.customers) {
            (CALIBRATION, _) | (_, 0) => None,
            (_, n) => Some(v / n as f64),
        };
        let rows = &self.rows;
        let df = df!(
            "section" => rows.iter().map(|r| r.section).collect::<Vec<_>>(),
            "frequency" => rows.iter().map(|r| r.frequency.as_str()).collect::<Vec<_>>(),
            "customers" => rows.iter().map(|r| r.customers as u64).collect::<Vec<_>>(),
            "actual" => rows.iter().map(|r| r.actual).collect::<Vec<_>>(),
            "expected" => rows.iter().map(|r| r.expected).collect::<Vec<_>>(),
            "actual_per_customer" => rows.iter().map(|r| per(r, r.actual)).collect::<Vec<_>>(),
            "expected_per_customer" => rows.iter().map(|r| per(r, r.expected)).collect::<Vec<_>>(),
            "mean_abs_error" => rows.iter().map(|r| r.mean_abs_error).collect::<Vec<_>>(),
        )?;
        Ok(df)
    }
}

fn bucket(x: f64) -> usize {
    // x is a whole number ≥ 0 (validated by Summary::collapse).
    (x as usize).min(TOP_BUCKET)
}

fn label(k: usize) -> String {
    if k == TOP_BUCKET {
        format!("{TOP_BUCKET}+")
    } else {
        k.to_string()
    }
}

/// Calibration histogram: for x = 0..6 and 7+, the customers with that many repeat transactions
/// and the model's expectation Σ_i P(X(T_i) = x) (FHL 2005 eq. 8 and figure 2), T_i being each
/// customer's own age; the "7+" expectation is the rest, n − Σ_{x<7}.
#[must_use]
pub fn calibration_histogram(model: &CountModel, summary: &Summary) -> Vec<Row> {
    let mut actual = [0.0; TOP_BUCKET + 1];
    let mut expected = [0.0; TOP_BUCKET + 1];
    let mut last_t = f64::NAN;
    let mut pmf = Vec::new();
    // The probabilities depend on T only; rows are sorted by (x, t_x, T), so cache by T.
    let mut by_t: std::collections::HashMap<u64, Vec<f64>> = std::collections::HashMap::new();
    for i in 0..summary.len() {
        let (x, t, w) = (summary.x[i], summary.t[i], summary.weight[i]);
        actual[bucket(x)] += w;
        if t.to_bits() != last_t.to_bits() {
            pmf = by_t
                .entry(t.to_bits())
                .or_insert_with(|| count_pmf(model, t, TOP_BUCKET))
                .clone();
            last_t = t;
        }
        let mut below = 0.0;
        for (k, p) in pmf.iter().enumerate() {
            expected[k] += w * p;
            below += p;
        }
        expected[TOP_BUCKET] += w * (1.0 - below).max(0.0);
    }
    let n = summary.total_weight();
    let mut rows: Vec<Row> = (0..=TOP_BUCKET)
        .map(|k| Row {
            section: CALIBRATION,
            frequency: label(k),
            customers: actual[k] as usize,
            actual: actual[k],
            expected: expected[k],
            mean_abs_error: None,
        })
        .collect();
    rows.push(Row {
        section: CALIBRATION,
        frequency: "all".into(),
        customers: n as usize,
        actual: n,
        expected: expected.iter().sum(),
        mean_abs_error: None,
    });
    rows
}

/// Holdout transactions per calibration frequency (FHL 2005 figure 4): per customer `x`,
/// `actual` holdout transactions and `expected` = E[Y(t) | x, t_x, T] for the holdout length t.
/// Sums per bucket 0..6, 7+ and "all", with the mean absolute per-customer error.
#[must_use]
pub fn holdout_by_frequency(x: &[f64], actual: &[f64], expected: &[f64]) -> Vec<Row> {
    let mut n = [0usize; TOP_BUCKET + 1];
    let mut act = [0.0; TOP_BUCKET + 1];
    let mut exp = [0.0; TOP_BUCKET + 1];
    let mut abs = [0.0; TOP_BUCKET + 1];
    for ((&xi, &ai), &ei) in x.iter().zip(actual).zip(expected) {
        let k = bucket(xi);
        n[k] += 1;
        act[k] += ai;
        exp[k] += ei;
        abs[k] += (ai - ei).abs();
    }
    let mae = |a: f64, n: usize| (n > 0).then(|| a / n as f64);
    let mut rows: Vec<Row> = (0..=TOP_BUCKET)
        .map(|k| Row {
            section: HOLDOUT,
            frequency: label(k),
            customers: n[k],
            actual: act[k],
            expected: exp[k],
            mean_abs_error: mae(abs[k], n[k]),
        })
        .collect();
    let total: usize = n.iter().sum();
    rows.push(Row {
        section: HOLDOUT,
        frequency: "all".into(),
        customers: total,
        actual: act.iter().sum(),
        expected: exp.iter().sum(),
        mean_abs_error: mae(abs.iter().sum(), total),
    });
    rows
}

/// P(X(t) = k) for k = 0..k_max−1: the probability that a customer just acquired makes k repeat
/// purchases in (0, t]. Finite, in [0, 1]; t = 0 gives P(X = 0) = 1.
#[must_use]
pub fn count_pmf(model: &CountModel, t: f64, k_max: usize) -> Vec<f64> {
    let mut out = vec![0.0; k_max];
    if k_max == 0 {
        return out;
    }
    if !(t > 0.0 && t.is_finite()) {
        out[0] = 1.0;
        return out;
    }
    for (k, p) in out.iter_mut().enumerate() {
        let v = match model {
            CountModel::BgNbd(m) => bgnbd_pmf(m, t, k, false),
            CountModel::MbgNbd(m) => bgnbd_pmf(&bg_of(m), t, k, true),
            CountModel::ParetoNbd(m) => pareto_nbd_pmf(m, t, k),
        };
        *p = if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    out
}

fn bg_of(m: &MbgNbd) -> BgNbd {
    BgNbd {
        r: m.r,
        alpha: m.alpha,
        a: m.a,
        b: m.b,
    }
}

/// ln of the NBD mass Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j, t > 0.
fn ln_nbd(r: f64, alpha: f64, t: f64, j: usize) -> f64 {
    let j = j as f64;
    let l = (alpha + t).ln();
    ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0) + r * (alpha.ln() - l) + j * (t.ln() - l)
}

/// BG/NBD (FHL 2005 eq. 8):
/// P(X(t)=x) = B(a, b+x)/B(a, b) · NBD(x) + δ_{x>0} B(a+1, b+x−1)/B(a, b) · [1 − Σ_{j<x} NBD(j)].
/// MBG/NBD (`modified`; Batislam, Denizel & Filiztekin 2007, the customer may also drop out
/// right after the first purchase): B(a, b+x+1)/B(a, b) · NBD(x) + B(a+1, b+x)/B(a, b) ·
/// [1 − Σ_{j<x} NBD(j)], for every x including 0.
fn bgnbd_pmf(m: &BgNbd, t: f64, x: usize, modified: bool) -> f64 {
    let xf = x as f64;
    let lb = ln_beta(m.a, m.b);
    let shift = if modified { 1.0 } else { 0.0 };
    let alive = (ln_beta(m.a, m.b + xf + shift) - lb + ln_nbd(m.r, m.alpha, t, x)).exp();
    if x == 0 && !modified {
        return alive;
    }
    let below: f64 = (0..x).map(|j| ln_nbd(m.r, m.alpha, t, j).exp()).sum();
    let dead = (ln_beta(m.a + 1.0, m.b + xf - 1.0 + shift) - lb).exp() * (1.0 - below).max(0.0);
    alive + dead
}

/// Pareto/NBD P(X(t) = x) (Fader & Hardie 2006, "Deriving an expression for P(X(t) = x) under
/// the Pareto/NBD model", brucehardie.com/notes/012; derivation in docs/clv.md):
/// (β/(β+t))^s NBD(x) + α^r β^s B(r+x, s+1)/(Γ(r)Γ(s)) · [Γ(r+s) A(0, 0) − Σ_{i=0}^{x} t^i/i!
/// Γ(r+s+i) A(i, t)], where for α ≥ β
/// A(i, t) = ₂F₁(r+s+i, s+1; r+s+x+1; (α−β)/(α+t)) / (α+t)^(r+s+i), and for α < β
/// A(i, t) = ₂F₁(r+s+i, r+x; r+s+x+1; (β−α)/(β+t)) / (β+t)^(r+s+i). Evaluated in logs.
fn pareto_nbd_pmf(m: &ParetoNbd, t: f64, x: usize) -> f64 {
    let ParetoNbd { r, alpha, s, beta } = *m;
    let xf = x as f64;
    let alive = (s * (beta.ln() - (beta + t).ln()) + ln_nbd(r, alpha, t, x)).exp();
    let ln_c =
        r * alpha.ln() + s * beta.ln() + ln_beta(r + xf, s + 1.0) - ln_gamma(r) - ln_gamma(s);
    let c = r + s + xf + 1.0;
    let ln_a = |i: f64, t: f64| -> f64 {
        let a = r + s + i;
        if alpha >= beta {
            let h = alpha + t;
            hyp2f1(a, s + 1.0, c, (alpha - beta) / h).ln() - a * h.ln()
        } else {
            let h = beta + t;
            hyp2f1(a, r + xf, c, (beta - alpha) / h).ln() - a * h.ln()
        }
    };
    let whole = (ln_c + ln_gamma(r + s) + ln_a(0.0, 0.0)).exp();
    let seen: f64 = (0..=x)
        .map(|i| {
            let i = i as f64;
            (ln_c + i * t.ln() - ln_gamma(i + 1.0) + ln_gamma(r + s + i) + ln_a(i, t)).exp()
        })
        .sum();
    alive + (whole - seen).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models() -> Vec<CountModel> {
        vec![
            CountModel::BgNbd(BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap()),
            CountModel::MbgNbd(MbgNbd::new(0.525, 6.183, 0.891, 1.614).unwrap()),
            CountModel::ParetoNbd(ParetoNbd::new(0.553, 10.578, 0.606, 11.669).unwrap()),
            // β > α takes the other ₂F₁ branch.
            CountModel::ParetoNbd(ParetoNbd::new(0.8, 10.0, 1.4, 20.0).unwrap()),
        ]
    }

    /// Σ_x P(X(t)=x) = 1 and Σ_x x P(X(t)=x) = E[X(t)] (the unconditional expectation btyd
    /// computes independently, FHL eq. 9 and its analogues).
    #[test]
    fn pmf_sums_to_one_and_matches_the_mean() {
        for model in models() {
            for t in [0.5, 10.0, 38.86, 78.0] {
                let pmf = count_pmf(&model, t, 400);
                let total: f64 = pmf.iter().sum();
                let mean: f64 = pmf.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
                let want = model.as_model().expected_purchases_unconditional(t);
                assert!((total - 1.0).abs() < 1e-9, "{model:?} t {t}: Σ P = {total}");
                assert!(
                    (mean - want).abs() < 1e-7 * want.max(1.0),
                    "{model:?} t {t}: mean {mean} vs E[X(t)] {want}"
                );
            }
        }
    }

    #[test]
    fn pmf_at_zero_is_a_point_mass() {
        for model in models() {
            assert_eq!(count_pmf(&model, 0.0, 3), vec![1.0, 0.0, 0.0]);
        }
    }

    #[test]
    fn holdout_buckets_and_totals() {
        let rows = holdout_by_frequency(
            &[0.0, 0.0, 1.0, 9.0],
            &[1.0, 0.0, 2.0, 5.0],
            &[0.5, 0.5, 1.0, 4.0],
        );
        assert_eq!(rows.len(), TOP_BUCKET + 2);
        assert_eq!(rows[0].customers, 2);
        assert_eq!(rows[0].actual, 1.0);
        assert_eq!(rows[0].mean_abs_error, Some(0.5));
        assert_eq!(rows[TOP_BUCKET].frequency, "7+");
        assert_eq!(rows[TOP_BUCKET].actual, 5.0);
        let all = &rows[TOP_BUCKET + 1];
        assert_eq!((all.customers, all.actual, all.expected), (4, 8.0, 6.0));
        assert_eq!(all.mean_abs_error, Some((0.5 + 0.5 + 1.0 + 1.0) / 4.0));
    }
}
