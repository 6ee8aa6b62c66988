//! The params file of `custseg clv --save-params` / `--params`: the fitted purchase-count model
//! and Gamma-Gamma spend model with their fit statistics, the time unit their rates are in and
//! the calibration end they were fitted with. JSON, written with full f64 precision (shortest
//! round-trip form), so scoring with `--params` reproduces the fitting run's predictions bit for
//! bit. The format is documented in docs/clv.md. Only `format`, `model`, `time_unit`,
//! `calibration_end` and the `params` objects are required, so published estimates can be
//! written by hand; the fit statistics default to 0 / false / null.

use btyd::{BgNbd, Fit, GammaGamma, MbgNbd, ParetoNbd, SpendFit};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::prep::TimeUnit;

/// Value of the `format` key; bumped when the layout changes incompatibly.
pub const FORMAT: &str = "custseg-clv-params/1";

/// A purchase-count model: which one, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CountModel {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    BgNbd(BgNbd),
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007).
    MbgNbd(MbgNbd),
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987).
    ParetoNbd(ParetoNbd),
}

/// The purchase-count models `--model` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// BG/NBD.
    Bgnbd,
    /// MBG/NBD.
    Mbgnbd,
    /// Pareto/NBD.
    Pnbd,
}

impl ModelKind {
    /// The name on the command line and in params files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Bgnbd => "bgnbd",
            ModelKind::Mbgnbd => "mbgnbd",
            ModelKind::Pnbd => "pnbd",
        }
    }

    /// The name in the literature.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            ModelKind::Bgnbd => "BG/NBD",
            ModelKind::Mbgnbd => "MBG/NBD",
            ModelKind::Pnbd => "Pareto/NBD",
        }
    }

    /// Parameter names in natural order.
    #[must_use]
    pub fn parameter_names(self) -> [&'static str; 4] {
        match self {
            ModelKind::Bgnbd | ModelKind::Mbgnbd => ["r", "alpha", "a", "b"],
            ModelKind::Pnbd => ["r", "alpha", "s", "beta"],
        }
    }
}

impl CountModel {
    /// Which model this is.
    #[must_use]
    pub fn kind(&self) -> ModelKind {
        match self {
            CountModel::BgNbd(_) => ModelKind::Bgnbd,
            CountModel::MbgNbd(_) => ModelKind::Mbgnbd,
            CountModel::ParetoNbd(_) => ModelKind::Pnbd,
        }
    }

    /// Parameters in natural order (see [`ModelKind::parameter_names`]).
    #[must_use]
    pub fn to_vec(&self) -> Vec<f64> {
        match self {
            CountModel::BgNbd(m) => m.to_vec(),
            CountModel::MbgNbd(m) => m.to_vec(),
            CountModel::ParetoNbd(m) => m.to_vec(),
        }
    }

    /// The model as the prediction interface.
    #[must_use]
    pub fn as_model(&self) -> &dyn btyd::PurchaseModel {
        match self {
            CountModel::BgNbd(m) => m,
            CountModel::MbgNbd(m) => m,
            CountModel::ParetoNbd(m) => m,
        }
    }

    /// Weighted log-likelihood of a summary under these parameters.
    #[must_use]
    pub fn log_likelihood(&self, summary: &btyd::Summary) -> f64 {
        match self {
            CountModel::BgNbd(m) => m.log_likelihood(summary),
            CountModel::MbgNbd(m) => m.log_likelihood(summary),
            CountModel::ParetoNbd(m) => m.log_likelihood(summary),
        }
    }
}

/// Purchase-model parameters by name; a/b for the BG/NBD family, s/beta for Pareto/NBD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseParams {
    /// r: shape of the gamma heterogeneity in purchase rates.
    pub r: f64,
    /// α: its rate, in the file's time unit.
    pub alpha: f64,
    /// a: first shape of the beta dropout heterogeneity (BG/NBD, MBG/NBD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<f64>,
    /// b: second shape of the beta dropout heterogeneity (BG/NBD, MBG/NBD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<f64>,
    /// s: shape of the gamma heterogeneity in dropout rates (Pareto/NBD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<f64>,
    /// β: its rate, in the file's time unit (Pareto/NBD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
}

impl PurchaseParams {
    /// Named parameters from the natural-order vector of `kind`.
    fn from_vec(kind: ModelKind, v: &[f64]) -> Self {
        let get = |i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        let (third, fourth) = (Some(get(2)), Some(get(3)));
        match kind {
            ModelKind::Bgnbd | ModelKind::Mbgnbd => PurchaseParams {
                r: get(0),
                alpha: get(1),
                a: third,
                b: fourth,
                s: None,
                beta: None,
            },
            ModelKind::Pnbd => PurchaseParams {
                r: get(0),
                alpha: get(1),
                a: None,
                b: None,
                s: third,
                beta: fourth,
            },
        }
    }
}

/// The purchase-count model's part of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseModelFit {
    /// The maximum-likelihood parameters.
    pub params: PurchaseParams,
    /// Their asymptotic standard errors (null when the Hessian is not positive definite).
    #[serde(default)]
    pub std_errors: Option<PurchaseParams>,
    /// Σ ln L over the calibration customers, in the file's time unit.
    #[serde(default)]
    pub log_likelihood: f64,
    /// BFGS iterations of the run that produced the parameters.
    #[serde(default)]
    pub iterations: usize,
    /// Whether that run met the gradient tolerance.
    #[serde(default)]
    pub converged: bool,
    /// Starting points tried.
    #[serde(default)]
    pub starts_tried: usize,
}

/// The Gamma-Gamma spend model's part of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendModelFit {
    /// p, q, γ.
    pub params: GammaGamma,
    /// Their asymptotic standard errors (null when the Hessian is not positive definite).
    #[serde(default)]
    pub std_errors: Option<GammaGamma>,
    /// Σ ln f(m_x) over the customers used.
    #[serde(default)]
    pub log_likelihood: f64,
    /// BFGS iterations.
    #[serde(default)]
    pub iterations: usize,
    /// Whether the fit met the gradient tolerance.
    #[serde(default)]
    pub converged: bool,
    /// Starting points tried.
    #[serde(default)]
    pub starts_tried: usize,
    /// Customers used: x ≥ 1 and a positive mean repeat spend.
    #[serde(default)]
    pub customers: usize,
    /// Customers left out because x = 0.
    #[serde(default)]
    pub excluded_no_repeat: usize,
    /// Customers with x ≥ 1 left out because their mean repeat spend is ≤ 0.
    #[serde(default)]
    pub excluded_bad_spend: usize,
}

impl From<&SpendFit> for SpendModelFit {
    fn from(s: &SpendFit) -> Self {
        SpendModelFit {
            params: s.fit.params,
            std_errors: s.fit.std_errors.as_deref().map(|se| GammaGamma {
                p: se.first().copied().unwrap_or(f64::NAN),
                q: se.get(1).copied().unwrap_or(f64::NAN),
                gamma: se.get(2).copied().unwrap_or(f64::NAN),
            }),
            log_likelihood: s.fit.log_likelihood,
            iterations: s.fit.iterations,
            converged: s.fit.converged,
            starts_tried: s.fit.starts_tried,
            customers: s.used,
            excluded_no_repeat: s.excluded_no_repeat,
            excluded_bad_spend: s.excluded_bad_spend,
        }
    }
}

/// The whole params file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The purchase-count model.
    pub model: ModelKind,
    /// Unit of α, β and of t_x, T in the fit.
    pub time_unit: TimeUnit,
    /// Calibration end of the fit (YYYY-MM-DD).
    pub calibration_end: String,
    /// Customers in the fit.
    #[serde(default)]
    pub customers: usize,
    /// The purchase-count model.
    pub purchase_model: PurchaseModelFit,
    /// The spend model; null when it could not be fitted (no customer with repeat purchases).
    pub spend_model: Option<SpendModelFit>,
}

impl ParamsFile {
    /// A file for a fitted purchase model (`params` in natural order) without a spend model;
    /// set `spend_model` from a [`SpendFit`] with `SpendModelFit::from`.
    #[must_use]
    pub fn new<M>(
        model: ModelKind,
        fit: &Fit<M>,
        params: &[f64],
        time_unit: TimeUnit,
        calibration_end: NaiveDate,
        customers: usize,
    ) -> Self {
        ParamsFile {
            format: FORMAT.to_string(),
            model,
            time_unit,
            calibration_end: calibration_end.format("%Y-%m-%d").to_string(),
            customers,
            purchase_model: PurchaseModelFit {
                params: PurchaseParams::from_vec(model, params),
                std_errors: fit
                    .std_errors
                    .as_deref()
                    .map(|se| PurchaseParams::from_vec(model, se)),
                log_likelihood: fit.log_likelihood,
                iterations: fit.iterations,
                converged: fit.converged,
                starts_tried: fit.starts_tried,
            },
            spend_model: None,
        }
    }

    /// Parses and validates a params file's text; `origin` names it in errors.
    ///
    /// # Errors
    /// An input error (exit 2) saying what is wrong, with a hint.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let hint = "write one with custseg clv INPUT --calibration-end DATE --save-params FILE";
        let file: ParamsFile = serde_json::from_str(text).map_err(|e| {
            Error::input(format!("{origin}: not a custseg clv params file: {e}")).hint(hint)
        })?;
        if file.format != FORMAT {
            return Err(Error::input(format!(
                "{origin}: params format \"{}\" is not supported (expected \"{FORMAT}\")",
                file.format
            ))
            .hint(hint));
        }
        file.calibration_end_date(origin)?;
        file.count_model(origin)?;
        if let Some(spend) = &file.spend_model {
            let g = spend.params;
            GammaGamma::new(g.p, g.q, g.gamma)
                .map_err(|e| Error::input(format!("{origin}: spend_model: {e}")).hint(hint))?;
        }
        Ok(file)
    }

    /// The calibration end as a date.
    ///
    /// # Errors
    /// An input error when it is not YYYY-MM-DD.
    pub fn calibration_end_date(&self, origin: &str) -> Result<NaiveDate> {
        NaiveDate::parse_from_str(&self.calibration_end, "%Y-%m-%d").map_err(|_| {
            Error::input(format!(
                "{origin}: calibration_end \"{}\" is not a date (YYYY-MM-DD)",
                self.calibration_end
            ))
        })
    }

    /// The purchase-count model with its parameters, checked (the right names, all positive).
    ///
    /// # Errors
    /// An input error naming the missing, extra or bad parameter.
    pub fn count_model(&self, origin: &str) -> Result<CountModel> {
        let p = &self.purchase_model.params;
        let bad = |what: String| {
            Error::input(format!(
                "{origin}: purchase_model of model {}: {what}",
                self.model.as_str()
            ))
            .hint("the parameters are r, alpha, a, b (bgnbd, mbgnbd) or r, alpha, s, beta (pnbd)")
        };
        let model = match self.model {
            ModelKind::Bgnbd | ModelKind::Mbgnbd => {
                let (Some(a), Some(b), None, None) = (p.a, p.b, p.s, p.beta) else {
                    return Err(bad("needs a and b, and no s or beta".into()));
                };
                if self.model == ModelKind::Bgnbd {
                    CountModel::BgNbd(
                        BgNbd::new(p.r, p.alpha, a, b).map_err(|e| bad(e.to_string()))?,
                    )
                } else {
                    CountModel::MbgNbd(
                        MbgNbd::new(p.r, p.alpha, a, b).map_err(|e| bad(e.to_string()))?,
                    )
                }
            }
            ModelKind::Pnbd => {
                let (None, None, Some(s), Some(beta)) = (p.a, p.b, p.s, p.beta) else {
                    return Err(bad("needs s and beta, and no a or b".into()));
                };
                CountModel::ParetoNbd(
                    ParetoNbd::new(p.r, p.alpha, s, beta).map_err(|e| bad(e.to_string()))?,
                )
            }
        };
        Ok(model)
    }

    /// Pretty JSON with a final newline.
    ///
    /// # Errors
    /// A runtime error if encoding fails (non-finite numbers are written as null and would not
    /// read back, so they are refused).
    pub fn to_json(&self) -> Result<String> {
        let all_finite = self.purchase_model.log_likelihood.is_finite()
            && [self.purchase_model.params]
                .iter()
                .chain(self.purchase_model.std_errors.iter())
                .all(|p| {
                    [Some(p.r), Some(p.alpha), p.a, p.b, p.s, p.beta]
                        .iter()
                        .flatten()
                        .all(|v| v.is_finite())
                });
        if !all_finite {
            return Err(Error::runtime(
                "cannot save parameters: the fit produced a non-finite number",
            ));
        }
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| Error::runtime(format!("cannot encode parameters: {e}")))
    }
}
