//! Buy-till-you-die customer-base models, pure math over column slices: BG/NBD, MBG/NBD and
//! Pareto/NBD for purchase counts, Gamma-Gamma for spend, and lifetimes-style CLV.
//!
//! Input is a [`Summary`] of unique (x, t_x, T) rows with weights, built from per-customer
//! columns by [`Summary::collapse`], which also returns the index that scatters per-row
//! predictions back to customers. Models fit by maximum likelihood over log-parameters
//! ([`FitOptions`], [`Fit`]); predictions are plain functions of (t, x, t_x, T) that never
//! return NaN or ±∞ for finite input. Special functions live in [`special`]; seeded generators
//! for tests and benchmarks in [`simulate`]. See README.md for the conventions.

#![warn(missing_docs)]

mod bgnbd;
pub mod clv;
mod error;
mod gamma_gamma;
mod mbgnbd;
mod optimize;
mod par;
mod pareto_nbd;
pub mod simulate;
pub mod special;
mod summary;

pub use bgnbd::BgNbd;
pub use clv::{clv, monthly_rate_from_annual, ClvOptions};
pub use error::{Error, Result};
pub use gamma_gamma::{GammaGamma, SpendFit};
pub use mbgnbd::MbgNbd;
pub use optimize::{invert, Fit, FitOptions};
pub use pareto_nbd::ParetoNbd;
pub use summary::Summary;

/// What every purchase-count model predicts for a customer with history (x, t_x, T). Inputs
/// outside the domain are clamped (x, T, t to ≥ 0, t_x into [0, T]); NaN input gives NaN;
/// finite input never gives NaN or ±∞.
pub trait PurchaseModel: Sync {
    /// Expected repeat purchases in the next `t` time units, E[Y(t) | x, t_x, T].
    fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> f64;

    /// Probability that the customer is still active at T.
    fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64;

    /// Expected repeat purchases in (0, t] of a customer just acquired, E[X(t)].
    fn expected_purchases_unconditional(&self, t: f64) -> f64;

    /// [`PurchaseModel::expected_purchases`] for every row of a summary, on `threads` threads
    /// (0 = all); scatter to customers with [`Summary::scatter`].
    fn expected_purchases_rows(&self, summary: &Summary, t: f64, threads: usize) -> Vec<f64> {
        let mut out = vec![0.0; summary.len()];
        par::fill(&mut out, threads, |i| {
            self.expected_purchases(t, summary.x[i], summary.t_x[i], summary.t[i])
        });
        out
    }

    /// [`PurchaseModel::p_alive`] for every row of a summary, on `threads` threads (0 = all).
    fn p_alive_rows(&self, summary: &Summary, threads: usize) -> Vec<f64> {
        let mut out = vec![0.0; summary.len()];
        par::fill(&mut out, threads, |i| {
            self.p_alive(summary.x[i], summary.t_x[i], summary.t[i])
        });
        out
    }
}
