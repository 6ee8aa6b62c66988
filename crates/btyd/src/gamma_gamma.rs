//! Gamma-Gamma spend model (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value",
//! brucehardie.com/notes/025; cited as FH13): the value of each transaction is Gamma(p, ν) with
//! ν ~ Gamma(q, γ) across customers, independent of the transaction process. Fitted on customers
//! with at least one repeat transaction, using the mean value m_x of their x repeat transactions.

use serde::{Deserialize, Serialize};

use crate::bgnbd::check_positive;
use crate::error::{Error, Result};
use crate::optimize::{fit_params, Fit, FitOptions};
use crate::par;
use crate::special::{digamma, ln_gamma};

/// Gamma-Gamma parameters p (shape of a customer's spend per transaction), q and γ (shape and
/// rate of the gamma heterogeneity in ν; γ in money units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    /// Shape of the per-transaction spend distribution.
    pub p: f64,
    /// Shape of the gamma heterogeneity in the spend scale ν.
    pub q: f64,
    /// Rate of the gamma heterogeneity in ν, in money units (written v in lifetimes).
    pub gamma: f64,
}

/// A Gamma-Gamma fit with the count of customers left out of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendFit {
    /// The fit.
    pub fit: Fit<GammaGamma>,
    /// Customers used (x ≥ 1 and a positive finite mean spend).
    pub used: usize,
    /// Customers left out because x = 0 (no repeat transaction, no repeat spend to average).
    pub excluded_no_repeat: usize,
    /// Customers with x ≥ 1 left out because their mean spend is ≤ 0 or not finite.
    pub excluded_bad_spend: usize,
}

/// A sum of weights as a whole number of customers (weights from counts are whole).
fn whole(weights: f64) -> usize {
    // Finite and non-negative: sums of checked positive weights.
    weights.round() as usize
}

impl GammaGamma {
    /// Parameters, checked to be finite and positive.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the bad parameter.
    pub fn new(p: f64, q: f64, gamma: f64) -> Result<GammaGamma> {
        check_positive(&[("p", p), ("q", q), ("gamma", gamma)])?;
        Ok(GammaGamma { p, q, gamma })
    }

    /// Parameters in natural order [p, q, γ].
    #[must_use]
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.p, self.q, self.gamma]
    }

    /// Maximum-likelihood fit (FH13 eq. 1a summed over customers) by BFGS over ln p, ln q, ln γ
    /// with the analytic gradient. `x` is each customer's repeat-transaction count and `spend`
    /// the mean value of those repeat transactions (first purchase excluded). Customers with
    /// x = 0, or with a mean spend that is not a positive finite number, are left out and
    /// counted in the result. Starts at (1, 1, 1) (as lifetimes), then at data-scaled points.
    /// Equal to [`GammaGamma::fit_weighted`] with every weight 1.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`]; [`Error::Negative`], [`Error::NotFinite`] or
    /// [`Error::NonIntegerCount`] for a bad x; [`Error::Empty`] when no customer is left;
    /// [`Error::InvalidOption`] for bad options.
    pub fn fit(x: &[f64], spend: &[f64], options: &FitOptions) -> Result<SpendFit> {
        Self::fit_weighted(x, spend, &vec![1.0; x.len()], options)
    }

    /// [`GammaGamma::fit`] over aggregated rows: row i stands for `weight[i]` customers who all
    /// have `x[i]` repeat transactions of mean value `spend[i]` (a histogram of (x, m_x) pairs).
    /// The log-likelihood is Σ weight · ln f(m_x | x), so the estimates equal those of
    /// [`GammaGamma::fit`] on the customers the rows stand for. The counts in the result
    /// (`used`, `excluded_*`) are sums of weights, rounded to whole customers.
    ///
    /// # Errors
    /// As [`GammaGamma::fit`], plus [`Error::NotFinite`] or [`Error::Negative`] for a weight
    /// that is not a positive finite number.
    pub fn fit_weighted(
        x: &[f64],
        spend: &[f64],
        weight: &[f64],
        options: &FitOptions,
    ) -> Result<SpendFit> {
        options.validate(3)?;
        if x.len() != spend.len() || x.len() != weight.len() {
            return Err(Error::LengthMismatch {
                what: format!(
                    "x {}, spend {}, weight {}",
                    x.len(),
                    spend.len(),
                    weight.len()
                ),
            });
        }
        let mut rows: Vec<(f64, f64, f64)> = Vec::new();
        let (mut no_repeat, mut bad_spend) = (0.0, 0.0);
        for (row, ((&xi, &mi), &wi)) in x.iter().zip(spend).zip(weight).enumerate() {
            if !xi.is_finite() {
                return Err(Error::NotFinite { row, column: "x" });
            }
            if xi < 0.0 {
                return Err(Error::Negative {
                    row,
                    column: "x",
                    value: xi,
                });
            }
            if xi != xi.trunc() {
                return Err(Error::NonIntegerCount { row, value: xi });
            }
            if !wi.is_finite() {
                return Err(Error::NotFinite {
                    row,
                    column: "weight",
                });
            }
            if wi <= 0.0 {
                return Err(Error::Negative {
                    row,
                    column: "weight",
                    value: wi,
                });
            }
            if xi == 0.0 {
                no_repeat += wi;
            } else if !(mi.is_finite() && mi > 0.0) {
                bad_spend += wi;
            } else {
                rows.push((xi, mi, wi));
            }
        }
        if rows.is_empty() {
            return Err(Error::Empty);
        }
        // Summed in input order (the scale of the starting points).
        let total: f64 = rows.iter().map(|r| r.2).sum();
        let mean_m = rows.iter().map(|r| r.2 * r.1).sum::<f64>() / total;
        // Sorted by x so that the Γ and ψ terms, which depend on x only, are computed once per
        // distinct x; ln m is computed once.
        rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let xs: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let ms: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let ws: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let ln_ms: Vec<f64> = ms.iter().map(|m| m.ln()).collect();
        let starts = vec![
            vec![1.0, 1.0, 1.0],
            vec![2.0, 3.0, 2.0 * mean_m],
            vec![5.0, 2.0, mean_m],
        ];
        let threads = options.threads;
        let ll_grad = |theta: &[f64]| {
            let m = GammaGamma {
                p: theta[0],
                q: theta[1],
                gamma: theta[2],
            };
            let [ll, g0, g1, g2] = m.ll_grad_sum(&xs, &ms, &ln_ms, &ws, threads);
            (ll, vec![g0, g1, g2])
        };
        let (theta, ll, iterations, converged, starts_tried, std_errors) =
            fit_params(&ll_grad, total, &starts, options);
        if theta.len() != 3 {
            return Err(Error::Empty);
        }
        Ok(SpendFit {
            fit: Fit {
                params: GammaGamma {
                    p: theta[0],
                    q: theta[1],
                    gamma: theta[2],
                },
                log_likelihood: ll,
                iterations,
                converged,
                starts_tried,
                std_errors,
            },
            used: whole(total),
            excluded_no_repeat: whole(no_repeat),
            excluded_bad_spend: whole(bad_spend),
        })
    }

    /// ln f(m_x | p, q, γ, x), the density of a customer's mean spend (FH13 eq. 1a):
    /// ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ + m x).
    /// Needs x ≥ 1 and m > 0 (NaN otherwise).
    #[must_use]
    pub fn log_likelihood_one(&self, x: f64, spend: f64) -> f64 {
        if !(x >= 1.0 && spend > 0.0) {
            return f64::NAN;
        }
        self.ll_grad_sum(&[x], &[spend], &[spend.ln()], &[1.0], 1)[0]
    }

    /// [LL, ∂/∂p, ∂/∂q, ∂/∂γ] over rows (all with x ≥ 1, m > 0), given x, m, ln m and the
    /// row weights, sorted by x (any order is correct; sorted is fast).
    fn ll_grad_sum(
        &self,
        xs: &[f64],
        ms: &[f64],
        ln_ms: &[f64],
        ws: &[f64],
        threads: usize,
    ) -> [f64; 4] {
        let GammaGamma { p, q, gamma } = *self;
        let (lg_q, psi_q, ln_g) = (ln_gamma(q), digamma(q), gamma.ln());
        par::reduce(xs.len(), threads, |rows| {
            let mut acc = [0.0; 4];
            let mut cur_x = f64::NAN;
            // Per-x: [Γ part of LL, ∂p part, ∂q part].
            let mut k = [0.0; 3];
            for i in rows {
                let (x, ln_m) = (xs[i], ln_ms[i]);
                let px = p * x;
                if x != cur_x {
                    cur_x = x;
                    let (psi_pxq, ln_x) = (digamma(px + q), x.ln());
                    k[0] = ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_g + px * ln_x;
                    k[1] = x * (psi_pxq - digamma(px) + ln_x);
                    k[2] = psi_pxq - psi_q + ln_g;
                }
                let gmx = gamma + ms[i] * x;
                let ln_gmx = gmx.ln();
                // A weight of 1 multiplies exactly: unweighted fits keep their bits.
                let w = ws[i];
                acc[0] += w * (k[0] + (px - 1.0) * ln_m - (px + q) * ln_gmx);
                acc[1] += w * (k[1] + x * (ln_m - ln_gmx));
                acc[2] += w * (k[2] - ln_gmx);
                acc[3] += w * (q / gamma - (px + q) / gmx);
            }
            acc
        })
    }

    /// E[M | x, m_x] = (γ + m_x x) p / (p x + q − 1) (FH13 eq. 5): a weighted mean of the
    /// population mean γp/(q−1) and the customer's own mean m_x, with weight px/(px+q−1) on
    /// m_x. For x = 0 (m_x ignored) this is the population mean γp/(q−1).
    /// Returns `None` when p x + q ≤ 1: the posterior mean of the spend is then infinite (for
    /// x = 0 this is q ≤ 1, the population mean not existing). Negative or non-finite x or m_x
    /// also give `None`.
    #[must_use]
    pub fn expected_spend(&self, x: f64, spend: f64) -> Option<f64> {
        if !(x.is_finite() && x >= 0.0) {
            return None;
        }
        let m = if x == 0.0 { 0.0 } else { spend };
        if !(m.is_finite() && m >= 0.0) {
            return None;
        }
        let denom = self.p * x + self.q - 1.0;
        if denom <= 0.0 {
            return None;
        }
        let v = (self.gamma + m * x) * self.p / denom;
        v.is_finite().then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns of f64.
    type Columns = (Vec<f64>, Vec<f64>);

    /// Customers with repeated (x, m) pairs (x, m), the same collapsed into weighted rows
    /// ((x, m), weight).
    fn customers_and_histogram() -> (Columns, Columns, Vec<f64>) {
        let pairs = [
            (0.0, 0.0, 40),
            (1.0, 12.5, 9),
            (1.0, 30.0, 4),
            (2.0, 18.25, 7),
            (3.0, 45.0, 2),
            (3.0, -4.0, 1),
            (5.0, 22.0, 5),
            (8.0, 15.5, 3),
            (2.0, 61.0, 1),
        ];
        let (mut x, mut m) = (Vec::new(), Vec::new());
        // Interleaved, so that the customer order differs from the histogram's.
        for round in 0..40 {
            for &(xi, mi, n) in &pairs {
                if round < n {
                    x.push(xi);
                    m.push(mi);
                }
            }
        }
        let hx = pairs.iter().map(|p| p.0).collect();
        let hm = pairs.iter().map(|p| p.1).collect();
        let hw = pairs.iter().map(|p| f64::from(p.2)).collect();
        ((x, m), (hx, hm), hw)
    }

    #[test]
    fn weighted_fit_on_a_histogram_equals_the_fit_on_its_customers() {
        let ((x, m), (hx, hm), hw) = customers_and_histogram();
        let options = FitOptions::default();
        let plain = GammaGamma::fit(&x, &m, &options).unwrap();
        let weighted = GammaGamma::fit_weighted(&hx, &hm, &hw, &options).unwrap();
        for (a, b) in plain
            .fit
            .params
            .to_vec()
            .iter()
            .zip(weighted.fit.params.to_vec())
        {
            assert!((a - b).abs() <= 1e-7 * a.abs(), "{a} vs {b}");
        }
        let (la, lb) = (plain.fit.log_likelihood, weighted.fit.log_likelihood);
        assert!((la - lb).abs() <= 1e-9 * la.abs(), "{la} vs {lb}");
        assert_eq!(
            (
                plain.used,
                plain.excluded_no_repeat,
                plain.excluded_bad_spend
            ),
            (31, 40, 1)
        );
        assert_eq!(
            (
                weighted.used,
                weighted.excluded_no_repeat,
                weighted.excluded_bad_spend
            ),
            (31, 40, 1)
        );
    }

    #[test]
    fn bad_weights_are_refused() {
        let options = FitOptions::default();
        assert!(matches!(
            GammaGamma::fit_weighted(&[1.0], &[5.0], &[0.0], &options),
            Err(Error::Negative {
                column: "weight",
                ..
            })
        ));
        assert!(matches!(
            GammaGamma::fit_weighted(&[1.0], &[5.0], &[f64::NAN], &options),
            Err(Error::NotFinite {
                column: "weight",
                ..
            })
        ));
        assert!(matches!(
            GammaGamma::fit_weighted(&[1.0, 2.0], &[5.0], &[1.0, 1.0], &options),
            Err(Error::LengthMismatch { .. })
        ));
    }
}
