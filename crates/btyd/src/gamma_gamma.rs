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
    ///
    /// # Errors
    /// [`Error::LengthMismatch`]; [`Error::Negative`], [`Error::NotFinite`] or
    /// [`Error::NonIntegerCount`] for a bad x; [`Error::Empty`] when no customer is left;
    /// [`Error::InvalidOption`] for bad options.
    pub fn fit(x: &[f64], spend: &[f64], options: &FitOptions) -> Result<SpendFit> {
        options.validate(3)?;
        if x.len() != spend.len() {
            return Err(Error::LengthMismatch {
                what: format!("x {}, spend {}", x.len(), spend.len()),
            });
        }
        let mut xs = Vec::new();
        let mut ms = Vec::new();
        let (mut no_repeat, mut bad_spend) = (0, 0);
        for (row, (&xi, &mi)) in x.iter().zip(spend).enumerate() {
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
            if xi == 0.0 {
                no_repeat += 1;
            } else if !(mi.is_finite() && mi > 0.0) {
                bad_spend += 1;
            } else {
                xs.push(xi);
                ms.push(mi);
            }
        }
        if xs.is_empty() {
            return Err(Error::Empty);
        }
        // Sorted by x so that the Γ and ψ terms, which depend on x only, are computed once per
        // distinct x; ln m is computed once.
        let mut pairs: Vec<(f64, f64)> = xs.iter().copied().zip(ms.iter().copied()).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let n = xs.len();
        let mean_m = ms.iter().sum::<f64>() / n as f64;
        let xs: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let ms: Vec<f64> = pairs.iter().map(|p| p.1).collect();
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
            let [ll, g0, g1, g2] = m.ll_grad_sum(&xs, &ms, &ln_ms, threads);
            (ll, vec![g0, g1, g2])
        };
        let (theta, ll, iterations, converged, starts_tried, std_errors) =
            fit_params(&ll_grad, n as f64, &starts, options);
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
            used: n,
            excluded_no_repeat: no_repeat,
            excluded_bad_spend: bad_spend,
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
        self.ll_grad_sum(&[x], &[spend], &[spend.ln()], 1)[0]
    }

    /// [LL, ∂/∂p, ∂/∂q, ∂/∂γ] over customers (all with x ≥ 1, m > 0), given x, m and ln m, sorted
    /// by x (any order is correct; sorted is fast).
    fn ll_grad_sum(&self, xs: &[f64], ms: &[f64], ln_ms: &[f64], threads: usize) -> [f64; 4] {
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
                acc[0] += k[0] + (px - 1.0) * ln_m - (px + q) * ln_gmx;
                acc[1] += k[1] + x * (ln_m - ln_gmx);
                acc[2] += k[2] - ln_gmx;
                acc[3] += q / gamma - (px + q) / gmx;
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
