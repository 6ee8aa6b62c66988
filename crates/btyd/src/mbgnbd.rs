//! MBG/NBD (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison of models
//! for customer base analysis", IJRM 24(3), 201–209; cited as BDF): the BG/NBD with one more
//! dropout opportunity, right after the first purchase, so that customers with x = 0 can also
//! be inactive. Likelihood and gradient share the BG/NBD code path.

use serde::{Deserialize, Serialize};

use crate::bgnbd::{
    alive_expectation, check_positive, clean_history, clean_horizon, logistic, mean_age, BgNbd,
};
use crate::error::{Error, Result};
use crate::optimize::{fit_params, Fit, FitOptions};
use crate::summary::Summary;
use crate::PurchaseModel;

/// MBG/NBD parameters: r, α (purchase-rate gamma; α in the data's time unit) and a, b
/// (dropout-probability beta).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MbgNbd {
    /// Shape of the gamma heterogeneity in purchase rates.
    pub r: f64,
    /// Rate (scale) of the gamma heterogeneity, in the data's time unit.
    pub alpha: f64,
    /// First shape of the beta heterogeneity in dropout probabilities.
    pub a: f64,
    /// Second shape of the beta heterogeneity in dropout probabilities.
    pub b: f64,
}

impl MbgNbd {
    /// Parameters, checked to be finite and positive.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the bad parameter.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<MbgNbd> {
        check_positive(&[("r", r), ("alpha", alpha), ("a", a), ("b", b)])?;
        Ok(MbgNbd { r, alpha, a, b })
    }

    /// Parameters in natural order [r, α, a, b].
    #[must_use]
    pub fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    fn as_bg(&self) -> BgNbd {
        BgNbd {
            r: self.r,
            alpha: self.alpha,
            a: self.a,
            b: self.b,
        }
    }

    /// Maximum-likelihood fit by BFGS over log-parameters with the analytic gradient, from the
    /// same starting points as [`BgNbd::fit`].
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options, [`Error::Empty`] for an empty summary.
    pub fn fit(summary: &Summary, options: &FitOptions) -> Result<Fit<MbgNbd>> {
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
            let [ll, g0, g1, g2, g3] = m.ll_grad_sum(summary, threads, true);
            (ll, vec![g0, g1, g2, g3])
        };
        let (theta, ll, iterations, converged, starts_tried, std_errors) =
            fit_params(&ll_grad, summary.total_weight(), &starts, options);
        if theta.len() != 4 {
            return Err(Error::Empty);
        }
        Ok(Fit {
            params: MbgNbd {
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

    /// Weighted log-likelihood (BDF appendix; lifetimes' `ModifiedBetaGeoFitter`):
    /// ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x+1) − ln B(a, b)
    ///        + ln[(α+T)^−(r+x) + a/(b+x) (α+t_x)^−(r+x)].
    #[must_use]
    pub fn log_likelihood(&self, summary: &Summary) -> f64 {
        self.as_bg().ll_grad_sum(summary, 0, true)[0]
    }

    /// P(alive | x, t_x, T) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)) (BDF appendix A, eq. 5),
    /// for every x including 0, as a logistic of the log-odds.
    #[must_use]
    pub fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        let (x, t_x, age) = clean_history(x, t_x, age);
        let log_odds = (self.a / (self.b + x)).ln()
            + (self.r + x) * ((self.alpha + age).ln() - (self.alpha + t_x).ln());
        logistic(-log_odds)
    }

    /// E[Y(t) | x, t_x, T] (BDF appendix; Wagner & Hoppe 2008):
    /// P(alive) · (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; t/(α+T+t))],
    /// i.e. the BG/NBD alive-expectation with dropout posterior Beta(a, b+x+1).
    #[must_use]
    pub fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        let (x, _, age) = clean_history(x, t_x, age);
        let t = clean_horizon(t, self.alpha + age);
        if t == 0.0 {
            return 0.0;
        }
        let alive = alive_expectation(self.a, self.b + x + 1.0, self.r + x, t / (self.alpha + age));
        self.p_alive(x, t_x, age) * alive
    }

    /// E[X(t)] for a customer just acquired: b/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))]
    /// (BDF; equal to the conditional expectation at x = t_x = T = 0).
    #[must_use]
    pub fn expected_purchases_unconditional(&self, t: f64) -> f64 {
        self.expected_purchases(t, 0.0, 0.0, 0.0)
    }
}

impl PurchaseModel for MbgNbd {
    fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64 {
        MbgNbd::expected_purchases(self, t, x, t_x, age)
    }
    fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        MbgNbd::p_alive(self, x, t_x, age)
    }
    fn expected_purchases_unconditional(&self, t: f64) -> f64 {
        MbgNbd::expected_purchases_unconditional(self, t)
    }
}
