//! Customer lifetime value the way Python's lifetimes computes it
//! (`lifetimes.utils._customer_lifetime_value`, used by
//! `GammaGammaFitter.customer_lifetime_value`): a discounted sum of monthly increments of the
//! conditional expected purchases, times the expected spend per purchase and a margin.

use crate::error::{Error, Result};
use crate::PurchaseModel;

/// One month in days, as lifetimes' `freq="D"` (factor 30).
pub const MONTH_IN_DAYS: f64 = 30.0;
/// One month in weeks, as lifetimes' `freq="W"` (factor 4.345, i.e. 30.415 days; note that this
/// is not 30/7 = 4.2857 — lifetimes' day and week factors disagree slightly).
pub const MONTH_IN_WEEKS: f64 = 4.345;
/// One month in hours, as lifetimes' `freq="H"` (factor 30 × 24).
pub const MONTH_IN_HOURS: f64 = 720.0;

/// Settings of a CLV calculation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClvOptions {
    /// Number of monthly steps (lifetimes' `time`, default 12).
    pub months: u32,
    /// Discount rate per month, applied as 1/(1+d)^i to month i (lifetimes' `discount_rate`,
    /// default 0.01); see [`monthly_rate_from_annual`].
    pub monthly_discount: f64,
    /// Length of one month in the model's time unit ([`MONTH_IN_WEEKS`], [`MONTH_IN_DAYS`], ...).
    pub month_length: f64,
    /// Multiplier on spend (profit margin; 1 for revenue, as lifetimes, which has no margin).
    pub margin: f64,
}

impl ClvOptions {
    /// Checks ranges: month length > 0, discount > −1, margin finite, all finite.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the bad setting.
    pub fn validate(&self) -> Result<()> {
        if !(self.month_length.is_finite() && self.month_length > 0.0) {
            return Err(Error::InvalidOption(format!(
                "month length {} must be positive",
                self.month_length
            )));
        }
        if !(self.monthly_discount.is_finite() && self.monthly_discount > -1.0) {
            return Err(Error::InvalidOption(format!(
                "monthly discount rate {} must be finite and above -1",
                self.monthly_discount
            )));
        }
        if !self.margin.is_finite() {
            return Err(Error::InvalidOption(format!(
                "margin {} must be finite",
                self.margin
            )));
        }
        Ok(())
    }
}

/// Monthly rate equivalent to an annual one: (1 + annual)^(1/12) − 1 (compounding monthly, so
/// twelve monthly discounts equal one annual discount). lifetimes takes the monthly rate
/// directly; a CLI that asks for an annual rate converts with this.
#[must_use]
pub fn monthly_rate_from_annual(annual: f64) -> f64 {
    (annual.ln_1p() / 12.0).exp_m1()
}

/// CLV = Σ_{i=1}^{months} [E(i·m) − E((i−1)·m)] · spend · margin / (1 + d)^i, where
/// E(t) = `model.expected_purchases(t, x, t_x, T)`, m the month length in the model's time
/// unit and d the monthly discount rate. This is lifetimes' `_customer_lifetime_value` loop
/// (`for i in steps * factor: (predict(i) − predict(i − factor)) * monetary / (1 + d) ** (i /
/// factor)`), with `factor` = m and `monetary` = spend × margin. `spend` is the expected spend
/// per transaction, usually [`crate::GammaGamma::expected_spend`]. Options are assumed valid
/// (see [`ClvOptions::validate`]); the result is finite for finite inputs.
#[must_use]
pub fn clv<M: PurchaseModel + ?Sized>(
    model: &M,
    x: f64,
    t_x: f64,
    age: f64,
    spend: f64,
    options: &ClvOptions,
) -> f64 {
    let mut total = 0.0;
    let mut previous = 0.0;
    let mut discount = 1.0;
    let step = 1.0 / (1.0 + options.monthly_discount);
    for i in 1..=options.months {
        let now = model.expected_purchases(f64::from(i) * options.month_length, x, t_x, age);
        discount *= step;
        total += (now - previous) * discount;
        previous = now;
    }
    total * spend * options.margin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annual_to_monthly_compounds_back() {
        let m = monthly_rate_from_annual(0.1);
        assert!(((1.0 + m).powi(12) - 1.1).abs() < 1e-14);
        assert_eq!(monthly_rate_from_annual(0.0), 0.0);
    }
}
