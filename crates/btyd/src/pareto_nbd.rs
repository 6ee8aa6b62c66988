//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987, Management Science 33(1)): likelihood with
//! analytic gradient in the numerically stable form of Fader & Hardie (2005), "A Note on Deriving
//! the Pareto/NBD Model and Related Expressions" (brucehardie.com/notes/009; cited as FH05),
//! fit, P(alive), conditional and unconditional expected purchases, and DERT (Fader, Hardie &
//! Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42(4),
//! eq. 2; cited as FHL-JMR).
//!
//! While alive a customer buys at Poisson rate λ ~ Gamma(r, α) and dies at exponential rate
//! μ ~ Gamma(s, β).

use serde::{Deserialize, Serialize};

use crate::bgnbd::{check_positive, clean_history, clean_horizon, logistic, mean_age};
use crate::error::{Error, Result};
use crate::optimize::{fit_params, Fit, FitOptions};
use crate::par;
use crate::special::{
    digamma, discounted_lifetime_integral, hyp2f1_1bc_terms, ln_gamma, one_minus_exp_over,
};
use crate::summary::Summary;
use crate::PurchaseModel;

/// Pareto/NBD parameters: r, α (purchase-rate gamma) and s, β (dropout-rate gamma); α and β in
/// the data's time unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoNbd {
    /// Shape of the gamma heterogeneity in purchase rates.
    pub r: f64,
    /// Rate (scale) of the purchase-rate gamma, in the data's time unit.
    pub alpha: f64,
    /// Shape of the gamma heterogeneity in dropout rates.
    pub s: f64,
    /// Rate (scale) of the dropout-rate gamma, in the data's time unit.
    pub beta: f64,
}

/// ln L and its gradient for one customer, split as ln L = c(x) + ln(E₁ + s·D).
struct RowLl {
    /// ln E₁ = −(r+x) ln(α+T) − s ln(β+T): the "alive at T" term.
    ln_e1: f64,
    /// ln(s·D), D = ∫_{t_x}^T (α+τ)^−(r+x) (β+τ)^−(s+1) dτ; −∞ when t_x = T.
    ln_sd: f64,
    /// ∂ ln(E₁ + s·D)/∂(r, α, s, β).
    grad: [f64; 4],
}

impl ParetoNbd {
    /// Parameters, checked to be finite and positive.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the bad parameter.
    pub fn new(r: f64, alpha: f64, s: f64, beta: f64) -> Result<ParetoNbd> {
        check_positive(&[("r", r), ("alpha", alpha), ("s", s), ("beta", beta)])?;
        Ok(ParetoNbd { r, alpha, s, beta })
    }

    /// Parameters in natural order [r, α, s, β].
    #[must_use]
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.s, self.beta]
    }

    /// Maximum-likelihood fit by BFGS over ln r, ln α, ln s, ln β with the analytic gradient;
    /// starts at (1, 1, 1, 1) (as lifetimes) and then at two data-scaled points if a run does
    /// not converge.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options, [`Error::Empty`] for an empty summary.
    pub fn fit(summary: &Summary, options: &FitOptions) -> Result<Fit<ParetoNbd>> {
        options.validate(4)?;
        if summary.is_empty() {
            return Err(Error::Empty);
        }
        let scale = mean_age(summary);
        let starts = vec![
            vec![1.0, 1.0, 1.0, 1.0],
            vec![0.5, 0.25 * scale, 0.5, 0.25 * scale],
            vec![1.0, scale, 1.0, scale],
        ];
        let threads = options.threads;
        let ll_grad = |theta: &[f64]| {
            let m = ParetoNbd {
                r: theta[0],
                alpha: theta[1],
                s: theta[2],
                beta: theta[3],
            };
            let [ll, g0, g1, g2, g3] = m.ll_grad_sum(summary, threads);
            (ll, vec![g0, g1, g2, g3])
        };
        let (theta, ll, iterations, converged, starts_tried, std_errors) =
            fit_params(&ll_grad, summary.total_weight(), &starts, options);
        if theta.len() != 4 {
            return Err(Error::Empty);
        }
        Ok(Fit {
            params: ParetoNbd {
                r: theta[0],
                alpha: theta[1],
                s: theta[2],
                beta: theta[3],
            },
            log_likelihood: ll,
            iterations,
            converged,
            starts_tried,
            std_errors,
        })
    }

    /// Weighted log-likelihood Σ w_i ln L_i (FH05 eqs. 18–20).
    #[must_use]
    pub fn log_likelihood(&self, summary: &Summary) -> f64 {
        self.ll_grad_sum(summary, 0)[0]
    }

    /// ln L for one customer (FH05 eq. 18 with A₀ from eqs. 19–20):
    /// L = Γ(r+x) α^r β^s / Γ(r) · [(α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · A₀], where
    /// s/(r+s+x)·A₀ = s·∫_{t_x}^T (α+τ)^−(r+x) (β+τ)^−(s+1) dτ; see [`ParetoNbd::log_likelihood`].
    #[must_use]
    pub fn log_likelihood_one(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let s = Summary {
            x: vec![x],
            t_x: vec![t_x],
            t: vec![age],
            weight: vec![1.0],
        };
        self.ll_grad_sum(&s, 1)[0]
    }

    /// [LL, ∂LL/∂r, ∂LL/∂α, ∂LL/∂s, ∂LL/∂β] summed over rows with weights.
    fn ll_grad_sum(&self, s: &Summary, threads: usize) -> [f64; 5] {
        let ParetoNbd {
            r,
            alpha,
            s: sh,
            beta,
        } = *self;
        let (ln_alpha, ln_beta) = (alpha.ln(), beta.ln());
        let (lg_r, psi_r) = (ln_gamma(r), digamma(r));
        par::reduce(s.len(), threads, |rows| {
            let mut acc = [0.0; 5];
            let mut cur_x = f64::NAN;
            let (mut c0, mut dr0) = (0.0, 0.0);
            for i in rows {
                let (x, tx, tt, w) = (s.x[i], s.t_x[i], s.t[i], s.weight[i]);
                if x != cur_x {
                    cur_x = x;
                    c0 = ln_gamma(r + x) - lg_r + r * ln_alpha + sh * ln_beta;
                    dr0 = digamma(r + x) - psi_r + ln_alpha;
                }
                let row = self.row(x, tx, tt, true);
                let m = row.ln_e1.max(row.ln_sd);
                let ln_q = m + ((row.ln_e1 - m).exp() + (row.ln_sd - m).exp()).ln();
                acc[0] += w * (c0 + ln_q);
                acc[1] += w * (dr0 + row.grad[0]);
                acc[2] += w * (r / alpha + row.grad[1]);
                acc[3] += w * (ln_beta + row.grad[2]);
                acc[4] += w * (sh / beta + row.grad[3]);
            }
            acc
        })
    }

    /// The parameter-dependent part of one customer's likelihood (FH05 eqs. 18–20). With
    /// A = r+s+x, s·D = s/A · (G(t_x) − G(T)), where, by Euler's transformation of FH05's
    /// ₂F₁(A, ·; A+1; z) (DLMF 15.8.1) into H(B, C, z) = ₂F₁(1, B; C; z) whose terms are all
    /// positive and whose parameters do not make terms grow with x:
    /// α ≥ β: G(τ) = (α+τ)^−(r+x) (β+τ)^−s H(r+x, A+1, (α−β)/(α+τ)),
    /// α < β: G(τ) = (α+τ)^(1−r−x) (β+τ)^−(s+1) H(s+1, A+1, (β−α)/(β+τ)),
    /// the argument always in [0, 1). `grad` false skips work only the gradient needs.
    /// Everything is kept in logs; G(t_x) − G(T) is formed as
    /// G(t_x)·(1 − e^(ln G(T) − ln G(t_x))).
    fn row(&self, x: f64, t_x: f64, age: f64, grad: bool) -> RowLl {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let rx = r + x;
        let (la_t, lb_t) = ((alpha + age).ln(), (beta + age).ln());
        let ln_e1 = -rx * la_t - s * lb_t;
        let g_e1 = [-la_t, -rx / (alpha + age), -lb_t, -s / (beta + age)];
        if t_x >= age {
            return RowLl {
                ln_e1,
                ln_sd: f64::NEG_INFINITY,
                grad: g_e1,
            };
        }
        let big_a = r + s + x;
        let (g1, d1) = self.ln_g(x, t_x, grad);
        let (g2, d2) = self.ln_g(x, age, grad);
        let ln_sa = s.ln() - big_a.ln();
        let d_sa = [-1.0 / big_a, 0.0, 1.0 / s - 1.0 / big_a, 0.0];
        let diff = g2 - g1;
        if diff.is_nan() || diff >= 0.0 {
            return RowLl {
                ln_e1,
                ln_sd: f64::NEG_INFINITY,
                grad: g_e1,
            };
        }
        let ln_sd = ln_sa + g1 + (-diff.exp()).ln_1p();
        // Weights of the pieces of Q = E₁ + s/A·(G₁ − G₂), scaled by e^−m.
        let m = ln_e1.max(ln_sa + g1);
        let e1 = (ln_e1 - m).exp();
        let t1 = (ln_sa + g1 - m).exp();
        let t2 = (ln_sa + g2 - m).exp();
        let q = e1 + (t1 - t2).max(0.0);
        let mut grad = [0.0; 4];
        for k in 0..4 {
            grad[k] = (e1 * g_e1[k] + (t1 - t2) * d_sa[k] + t1 * d1[k] - t2 * d2[k]) / q;
        }
        RowLl { ln_e1, ln_sd, grad }
    }

    /// ln G(τ) and its gradient in (r, α, s, β) (parameter parts exact only with `grad`); see
    /// [`ParetoNbd::row`].
    fn ln_g(&self, x: f64, tau: f64, grad: bool) -> (f64, [f64; 4]) {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let rx = r + x;
        let c = r + s + x + 1.0;
        let (pa, pb) = (alpha + tau, beta + tau);
        let (lpa, lpb) = (pa.ln(), pb.ln());
        if alpha >= beta {
            let z = (alpha - beta) / pa;
            let [h, hb, hc, hz] = hyp2f1_1bc_terms(rx, c, z, grad);
            let ln_g = -rx * lpa - s * lpb + h.ln();
            let grad = [
                -lpa + (hb + hc) / h,
                -rx / pa + hz / h * pb / (pa * pa),
                -lpb + hc / h,
                -s / pb - hz / h / pa,
            ];
            (ln_g, grad)
        } else {
            let z = (beta - alpha) / pb;
            let [h, hb, hc, hz] = hyp2f1_1bc_terms(s + 1.0, c, z, grad);
            let ln_g = (1.0 - rx) * lpa - (s + 1.0) * lpb + h.ln();
            let grad = [
                -lpa + hc / h,
                (1.0 - rx) / pa - hz / h / pb,
                -lpb + (hb + hc) / h,
                -(s + 1.0) / pb + hz / h * pa / (pb * pb),
            ];
            (ln_g, grad)
        }
    }

    /// P(alive | x, t_x, T) = E₁ / (E₁ + s·D) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A₀)
    /// (FH05 eq. 36–37), as a logistic of ln E₁ − ln(s·D).
    #[must_use]
    pub fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let (x, t_x, age) = clean_history(x, t_x, age);
        let row = self.row(x, t_x, age, false);
        if row.ln_sd == f64::NEG_INFINITY {
            return 1.0;
        }
        logistic(row.ln_e1 - row.ln_sd)
    }

    /// E[Y(t) | x, t_x, T] = P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)]
    /// (FH05 eq. 41; SMC eq. 22), with the bracket over (s−1) evaluated as
    /// (1 − e^−(s−1)ℓ)/(s−1), ℓ = ln(1 + t/(β+T)), which is finite at s = 1 (value ℓ).
    #[must_use]
    pub fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        let (x, t_x, age) = clean_history(x, t_x, age);
        let t = clean_horizon(t, self.beta + age);
        if t == 0.0 {
            return 0.0;
        }
        let ell = (t / (self.beta + age)).ln_1p();
        let alive = (self.r + x) * (self.beta + age) / (self.alpha + age)
            * one_minus_exp_over(self.s - 1.0, ell);
        self.p_alive(x, t_x, age) * alive
    }

    /// E[X(t)] for a customer just acquired: rβ/(α(s−1)) · [1 − (β/(β+t))^(s−1)] (FH05 eq. 27;
    /// SMC eq. 17).
    #[must_use]
    pub fn expected_purchases_unconditional(&self, t: f64) -> f64 {
        let t = clean_horizon(t, self.beta);
        if t == 0.0 || t.is_nan() {
            return t.max(0.0);
        }
        let ell = (t / self.beta).ln_1p();
        self.r * self.beta / self.alpha * one_minus_exp_over(self.s - 1.0, ell)
    }

    /// Discounted expected residual transactions (FHL-JMR eq. 2):
    /// DERT(δ) = α^r β^s δ^(s−1) Γ(r+x+1) U(s, s; δ(β+T)) / (Γ(r) (α+T)^(r+x+1) L), with δ the
    /// continuously compounded discount rate per unit of time (for an annual rate d and weekly
    /// data, δ = ln(1+d)/52) and U the Tricomi confluent hypergeometric function. Computed in the
    /// equivalent form P(alive) · (r+x)/(α+T) · (β+T) · K(s, δ(β+T)), K(s, y) = y^(s−1) U(s, s; y)
    /// = E[1/(y+ν)], ν ~ Gamma(s, 1) (see [`discounted_lifetime_integral`] for the method).
    /// Returns 0 for δ ≤ 0 or NaN (the undiscounted sum can be infinite).
    #[must_use]
    pub fn dert(&self, delta: f64, x: f64, t_x: f64, age: f64) -> f64 {
        if delta.is_nan() || delta <= 0.0 {
            return 0.0;
        }
        let (x, t_x, age) = clean_history(x, t_x, age);
        let k = discounted_lifetime_integral(self.s, delta * (self.beta + age));
        self.p_alive(x, t_x, age) * (self.r + x) / (self.alpha + age) * (self.beta + age) * k
    }
}

impl PurchaseModel for ParetoNbd {
    fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        ParetoNbd::expected_purchases(self, t, x, t_x, age)
    }
    fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        ParetoNbd::p_alive(self, x, t_x, age)
    }
    fn expected_purchases_unconditional(&self, t: f64) -> f64 {
        ParetoNbd::expected_purchases_unconditional(self, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ln L by direct quadrature of FH05's integral form (midpoint rule on a fine grid, in logs
    /// relative to the integrand at τ = t_x so that x in the thousands does not underflow).
    fn brute_ll(m: &ParetoNbd, x: f64, t_x: f64, age: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *m;
        let n = 200_000;
        let h = (age - t_x) / n as f64;
        let mut d = 0.0;
        for i in 0..n {
            let tau = t_x + (i as f64 + 0.5) * h;
            d += (-(r + x) * ((alpha + tau) / (alpha + t_x)).ln() - (s + 1.0) * (beta + tau).ln())
                .exp();
        }
        let ln_sd = s.ln() + (d * h).ln() - (r + x) * (alpha + t_x).ln();
        let ln_e1 = -(r + x) * (alpha + age).ln() - s * (beta + age).ln();
        let m = ln_sd.max(ln_e1);
        let ln_q = m + ((ln_sd - m).exp() + (ln_e1 - m).exp()).ln();
        ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln() + ln_q
    }

    #[test]
    fn likelihood_matches_quadrature_both_branches() {
        for m in [
            ParetoNbd {
                r: 0.553,
                alpha: 10.578,
                s: 0.606,
                beta: 11.669,
            },
            ParetoNbd {
                r: 0.8,
                alpha: 30.0,
                s: 1.3,
                beta: 4.0,
            },
            ParetoNbd {
                r: 2.0,
                alpha: 3.0,
                s: 1.0,
                beta: 3.0,
            },
            ParetoNbd {
                r: 0.8,
                alpha: 400.0,
                s: 1.3,
                beta: 0.5,
            },
            ParetoNbd {
                r: 0.3,
                alpha: 0.5,
                s: 0.7,
                beta: 300.0,
            },
        ] {
            for &(x, tx, tt) in &[
                (0.0, 0.0, 30.0),
                (2.0, 30.43, 38.86),
                (7.0, 3.0, 20.0),
                (1.0, 0.0, 5.0),
                (5000.0, 0.0, 1e-3),
                (5000.0, 0.3, 0.5),
                (3000.0, 1.0, 2.0),
            ] {
                let got = m.log_likelihood_one(x, tx, tt);
                let want = brute_ll(&m, x, tx, tt);
                assert!(
                    (got - want).abs() < 1e-8 * want.abs().max(10.0),
                    "{m:?} {x} {tx} {tt}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn gradient_matches_differences() {
        let data = Summary::new(
            vec![0.0, 1.0, 2.0, 7.0, 40.0],
            vec![0.0, 0.0, 30.43, 3.0, 12.0],
            vec![30.0, 5.0, 38.86, 20.0, 12.5],
            vec![3.0, 1.0, 2.0, 1.0, 1.0],
        )
        .unwrap();
        for m in [
            ParetoNbd {
                r: 0.553,
                alpha: 10.578,
                s: 0.606,
                beta: 11.669,
            },
            ParetoNbd {
                r: 0.8,
                alpha: 30.0,
                s: 1.3,
                beta: 4.0,
            },
            ParetoNbd {
                r: 0.8,
                alpha: 3000.0,
                s: 1.3,
                beta: 0.01,
            },
            ParetoNbd {
                r: 0.3,
                alpha: 0.02,
                s: 0.5,
                beta: 900.0,
            },
        ] {
            let g = m.ll_grad_sum(&data, 1);
            let theta = m.to_vec();
            for k in 0..4 {
                let h = 1e-6 * theta[k];
                let mut up = theta.clone();
                let mut dn = theta.clone();
                up[k] += h;
                dn[k] -= h;
                let f = |t: &[f64]| {
                    ParetoNbd {
                        r: t[0],
                        alpha: t[1],
                        s: t[2],
                        beta: t[3],
                    }
                    .log_likelihood(&data)
                };
                let num = (f(&up) - f(&dn)) / (2.0 * h);
                assert!(
                    (g[k + 1] - num).abs() < 1e-5 * num.abs().max(1.0),
                    "{m:?} param {k}: analytic {} numeric {num}",
                    g[k + 1]
                );
            }
        }
    }
}
