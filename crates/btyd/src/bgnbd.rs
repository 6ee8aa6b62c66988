//! BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way", Marketing Science
//! 24(2), 275–284; cited as FHL): likelihood with analytic gradient, fit, P(alive), conditional
//! and unconditional expected repeat purchases.
//!
//! While alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each repeat purchase they
//! drop out with probability p ~ Beta(a, b).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optimize::{fit_params, Fit, FitOptions};
use crate::par;
use crate::special::{digamma, hyp2f1, hyp2f1_minus_one_over_b, ln_gamma, one_minus_exp_over};
use crate::summary::Summary;
use crate::PurchaseModel;

/// Horizons are capped at this multiple of (α + T): beyond it the ₂F₁ argument rounds to 1.
pub(crate) const MAX_HORIZON_RATIO: f64 = 1e12;

/// BG/NBD parameters: r, α (shape and rate of the purchase-rate gamma; α in the time unit of
/// the data) and a, b (dropout-probability beta).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    /// Shape of the gamma heterogeneity in purchase rates.
    pub r: f64,
    /// Rate (scale) of the gamma heterogeneity, in the data's time unit.
    pub alpha: f64,
    /// First shape of the beta heterogeneity in dropout probabilities.
    pub a: f64,
    /// Second shape of the beta heterogeneity in dropout probabilities.
    pub b: f64,
}

impl BgNbd {
    /// Parameters, checked to be finite and positive.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the bad parameter.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<BgNbd> {
        check_positive(&[("r", r), ("alpha", alpha), ("a", a), ("b", b)])?;
        Ok(BgNbd { r, alpha, a, b })
    }

    /// Parameters in natural order [r, α, a, b].
    #[must_use]
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    /// Maximum-likelihood fit (FHL eq. 6 summed over customers with weights) by BFGS over
    /// ln r, ln α, ln a, ln b with the analytic gradient; starts at (1, 1, 1, 1) (as lifetimes)
    /// and then at two data-scaled points if a run does not converge.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options, [`Error::Empty`] for an empty summary.
    pub fn fit(summary: &Summary, options: &FitOptions) -> Result<Fit<BgNbd>> {
        options.validate(4)?;
        if summary.is_empty() {
            return Err(Error::Empty);
        }
        let scale = mean_age(summary);
        let starts = vec![
            vec![1.0, 1.0, 1.0, 1.0],
            vec![0.5, 0.25 * scale, 0.5, 2.0],
            vec![2.0, scale, 2.0, 5.0],
        ];
        let threads = options.threads;
        let ll_grad = |theta: &[f64]| {
            let m = BgNbd {
                r: theta[0],
                alpha: theta[1],
                a: theta[2],
                b: theta[3],
            };
            let [ll, g0, g1, g2, g3] = m.ll_grad_sum(summary, threads, false);
            (ll, vec![g0, g1, g2, g3])
        };
        let (theta, ll, iterations, converged, starts_tried, std_errors) =
            fit_params(&ll_grad, summary.total_weight(), &starts, options);
        if theta.len() != 4 {
            return Err(Error::Empty);
        }
        Ok(Fit {
            params: BgNbd {
                r: theta[0],
                alpha: theta[1],
                a: theta[2],
                b: theta[3],
            },
            log_likelihood: ll,
            iterations,
            converged,
            starts_tried,
            std_errors,
        })
    }

    /// Weighted log-likelihood Σ w_i ln L(r, α, a, b | x_i, t_x,i, T_i) (FHL eq. 6).
    #[must_use]
    pub fn log_likelihood(&self, summary: &Summary) -> f64 {
        self.ll_grad_sum(summary, 0, false)[0]
    }

    /// ln L for one customer (FHL eq. 6, in log-space):
    /// ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
    ///        + ln[(α+T)^−(r+x) + δ_{x>0} a/(b+x−1) (α+t_x)^−(r+x)].
    #[must_use]
    pub fn log_likelihood_one(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let s = Summary {
            x: vec![x],
            t_x: vec![t_x],
            t: vec![age],
            weight: vec![1.0],
        };
        self.ll_grad_sum(&s, 1, false)[0]
    }

    /// [LL, ∂LL/∂r, ∂LL/∂α, ∂LL/∂a, ∂LL/∂b] summed over rows with weights. `modified` selects
    /// the MBG/NBD variant (Batislam, Denizel & Filiztekin 2007, eq. 2 of their appendix): the
    /// beta terms use b + x + 1 and the dropout term applies at x = 0 too, with b + x.
    pub(crate) fn ll_grad_sum(&self, s: &Summary, threads: usize, modified: bool) -> [f64; 5] {
        let BgNbd { r, alpha, a, b } = *self;
        let ln_alpha = alpha.ln();
        let (lg_r, psi_r) = (ln_gamma(r), digamma(r));
        let (lg_b, psi_b) = (ln_gamma(b), digamma(b));
        let (lg_ab, psi_ab) = (ln_gamma(a + b), digamma(a + b));
        let ln_a = a.ln();
        par::reduce(s.len(), threads, |rows| {
            let mut acc = [0.0; 5];
            let mut cur_x = f64::NAN;
            // Per-x constants: [ln-constant, dr, da, db, ln(a/(b+x−1)) or MBG's ln(a/(b+x)), 1/(b+x−1)].
            let mut k = [0.0; 6];
            let mut dropout = false;
            for i in rows {
                let (x, tx, tt, w) = (s.x[i], s.t_x[i], s.t[i], s.weight[i]);
                if x != cur_x {
                    cur_x = x;
                    let bx = if modified { b + x + 1.0 } else { b + x };
                    k[0] = ln_gamma(r + x) - lg_r + r * ln_alpha + lg_ab + ln_gamma(bx)
                        - lg_b
                        - ln_gamma(a + bx);
                    k[1] = digamma(r + x) - psi_r + ln_alpha;
                    k[2] = psi_ab - digamma(a + bx);
                    k[3] = psi_ab + digamma(bx) - psi_b - digamma(a + bx);
                    dropout = modified || x > 0.0;
                    let denom = if modified { b + x } else { b + x - 1.0 };
                    k[4] = ln_a - denom.ln();
                    k[5] = 1.0 / denom;
                }
                let rx = r + x;
                let (la_t, la_tx) = ((alpha + tt).ln(), (alpha + tx).ln());
                let l3 = -rx * la_t;
                let (ll, w4) = if dropout {
                    let l4 = k[4] - rx * la_tx;
                    let m = l3.max(l4);
                    let (e3, e4) = ((l3 - m).exp(), (l4 - m).exp());
                    (m + (e3 + e4).ln(), e4 / (e3 + e4))
                } else {
                    (l3, 0.0)
                };
                let w3 = 1.0 - w4;
                acc[0] += w * (k[0] + ll);
                acc[1] += w * (k[1] - w3 * la_t - w4 * la_tx);
                acc[2] += w * (r / alpha - rx * (w3 / (alpha + tt) + w4 / (alpha + tx)));
                acc[3] += w * (k[2] + w4 / a);
                acc[4] += w * (k[3] - w4 * k[5]);
            }
            acc
        })
    }

    /// P(alive | x, t_x, T) = 1 / (1 + δ_{x>0} a/(b+x−1) ((α+T)/(α+t_x))^(r+x)) (Fader, Hardie &
    /// Lee 2008, "Computing P(alive) using the BG/NBD model", note 021, eq. 2), evaluated as a
    /// logistic of the log-odds so that x in the thousands neither overflows nor gives NaN.
    #[must_use]
    pub fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let (x, t_x, age) = clean_history(x, t_x, age);
        if x == 0.0 {
            return 1.0;
        }
        let log_odds = (self.a / (self.b + x - 1.0)).ln()
            + (self.r + x) * ((self.alpha + age).ln() - (self.alpha + t_x).ln());
        logistic(-log_odds)
    }

    /// E[Y(t) | x, t_x, T]: expected repeat purchases in (T, T + t] (FHL eq. 10):
    /// P(alive) · (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))].
    /// The bracket is evaluated in a Pfaff-transformed form (see the crate README), which is
    /// finite at a = 1 and for x in the thousands.
    #[must_use]
    pub fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        let (x, _, age) = clean_history(x, t_x, age);
        let t = clean_horizon(t, self.alpha + age);
        if t == 0.0 {
            return 0.0;
        }
        let alive = alive_expectation(self.a, self.b + x, self.r + x, t / (self.alpha + age));
        self.p_alive(x, t_x, age) * alive
    }

    /// E[X(t)] for a customer just acquired (FHL eq. 9):
    /// (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))].
    #[must_use]
    pub fn expected_purchases_unconditional(&self, t: f64) -> f64 {
        let t = clean_horizon(t, self.alpha);
        alive_expectation(self.a, self.b, self.r, t / self.alpha)
    }
}

impl PurchaseModel for BgNbd {
    fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        BgNbd::expected_purchases(self, t, x, t_x, age)
    }
    fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        BgNbd::p_alive(self, x, t_x, age)
    }
    fn expected_purchases_unconditional(&self, t: f64) -> f64 {
        BgNbd::expected_purchases_unconditional(self, t)
    }
}

/// E_p[(1 − (1 + p·k)^−n) / p] for p ~ Beta(a, β): expected purchases in a horizon t of a
/// customer known to be alive, whose rate posterior is Gamma(n, α+T) and dropout posterior
/// Beta(a, β), with k = t/(α+T). With C = a+β−1 this equals (FHL eq. 10 with β = b+x, n = r+x)
/// C/(a−1) · [1 − (1+k)^−n ₂F₁(n, β; C; k/(1+k))], C/(a−1) being E[1/p]; the Pfaff transformation (DLMF 15.8.1, on
/// the second parameter) turns the bracket into 1 − (1+k)^(1−a) ₂F₁(C−n, a−1; C; k/(1+k)),
/// whose series converges fast for large x (C − n = a+b−1−r does not grow with x). Writing
/// ₂F₁ = 1 + (a−1)·F₁ ([`hyp2f1_minus_one_over_b`]) gives
/// C · [(1 − (1+k)^(1−a))/(a−1) − (1+k)^(1−a) F₁], continuous at a = 1. When a − 1 > n and
/// z > ½ the untransformed form is used instead (see the comment there).
#[must_use]
pub(crate) fn alive_expectation(a: f64, beta: f64, n: f64, k: f64) -> f64 {
    if k <= 0.0 {
        return 0.0;
    }
    let c = a + beta - 1.0;
    let u = a - 1.0;
    let l = k.ln_1p();
    let z = k / (1.0 + k);
    let value = if u > n && z > 0.5 {
        // Here ₂F₁(C−n, a−1; C; z) grows like (1−z)^(n+1−a) and can overflow although its
        // product with (1+k)^(1−a) is bounded; use the untransformed product
        // (1+k)^−n ₂F₁(n, β; C; z), which converges at z = 1 (C − n − β = a − 1 − n > 0).
        // a − 1 > n > 0 keeps the division away from 0.
        let g = (-n * l).exp() * hyp2f1(n, beta, c, z);
        c * (1.0 - g) / u
    } else {
        let f1 = hyp2f1_minus_one_over_b(c - n, u, c, z);
        c * (one_minus_exp_over(u, l) - (-u * l).exp() * f1)
    };
    // The expectation is positive; rounding can only push it below zero when it is ~0.
    value.max(0.0)
}

/// 1/(1 + e^(−v)) without overflow.
#[inline]
pub(crate) fn logistic(v: f64) -> f64 {
    if v >= 0.0 {
        1.0 / (1.0 + (-v).exp())
    } else {
        let e = v.exp();
        e / (1.0 + e)
    }
}

/// Clamps a customer history into the model's domain: x, T ≥ 0 and t_x within [0, T]; NaN
/// stays NaN. Used by the prediction functions, which never refuse input.
#[inline]
pub(crate) fn clean_history(x: f64, t_x: f64, age: f64) -> (f64, f64, f64) {
    let x = x.max(0.0);
    let age = age.max(0.0);
    let t_x = t_x.max(0.0).min(age);
    (x, t_x, age)
}

/// Clamps a horizon to [0, MAX_HORIZON_RATIO · scale].
#[inline]
pub(crate) fn clean_horizon(t: f64, scale: f64) -> f64 {
    if t.is_nan() {
        return t;
    }
    t.max(0.0).min(MAX_HORIZON_RATIO * scale)
}

/// Weighted mean of T, at least a tiny positive number: a scale for starting values.
pub(crate) fn mean_age(s: &Summary) -> f64 {
    let w = s.total_weight();
    let m = s.t.iter().zip(&s.weight).map(|(t, w)| t * w).sum::<f64>() / w;
    if m.is_finite() && m > 0.0 {
        m
    } else {
        1.0
    }
}

/// Checks that every named parameter is finite and positive.
pub(crate) fn check_positive(params: &[(&str, f64)]) -> Result<()> {
    for (name, v) in params {
        if !(v.is_finite() && *v > 0.0) {
            return Err(Error::InvalidOption(format!(
                "parameter {name} = {v} must be positive and finite"
            )));
        }
    }
    Ok(())
}
