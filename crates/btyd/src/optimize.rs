//! Maximum-likelihood machinery shared by the models: fit options and results, a BFGS minimiser
//! over log-parameters with a backtracking line search, restarts from several starting points,
//! and standard errors from the numerical Hessian of the negative log-likelihood.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How to fit a model.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Largest number of BFGS iterations per starting point.
    pub max_iterations: usize,
    /// Convergence when every component of the gradient of the mean negative log-likelihood
    /// per customer, taken with respect to the log-parameters, is below this.
    pub gradient_tolerance: f64,
    /// Worker threads for the likelihood sums; 0 means the machine's available parallelism.
    /// Results do not depend on this number.
    pub threads: usize,
    /// Starting parameters in the model's natural order (e.g. r, α, a, b); the built-in starts
    /// are tried after it when it does not converge.
    pub start: Option<Vec<f64>>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            max_iterations: 500,
            gradient_tolerance: 1e-8,
            threads: 0,
            start: None,
        }
    }
}

impl FitOptions {
    /// Checks ranges; `n_params` is the model's parameter count.
    pub(crate) fn validate(&self, n_params: usize) -> Result<()> {
        if self.max_iterations == 0 {
            return Err(Error::InvalidOption(
                "max_iterations must be at least 1".into(),
            ));
        }
        if !(self.gradient_tolerance > 0.0 && self.gradient_tolerance.is_finite()) {
            return Err(Error::InvalidOption(
                "gradient_tolerance must be positive".into(),
            ));
        }
        if let Some(start) = &self.start {
            if start.len() != n_params || start.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(Error::InvalidOption(format!(
                    "start must be {n_params} positive finite numbers"
                )));
            }
        }
        Ok(())
    }
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit<M> {
    /// The maximum-likelihood parameters.
    pub params: M,
    /// The weighted log-likelihood at `params`, Σ_i w_i ln L_i (no constant dropped).
    pub log_likelihood: f64,
    /// BFGS iterations of the run that produced `params`.
    pub iterations: usize,
    /// Whether that run met the gradient tolerance.
    pub converged: bool,
    /// Starting points tried (a later one is tried only when the previous did not converge).
    pub starts_tried: usize,
    /// Asymptotic standard errors in the parameters' natural order: square roots of the diagonal
    /// of the inverse of the numerical Hessian of −LL in the original (not log) parameters;
    /// `None` when that Hessian is not positive definite.
    pub std_errors: Option<Vec<f64>>,
}

/// Parameters are searched within e^±35 (about 6e-16 to 1.6e15); a likelihood whose supremum
/// lies beyond (degenerate data) stops at that box, usually without `converged`.
const MAX_LOG_PARAM: f64 = 35.0;

/// Log-likelihood and its gradient with respect to the natural parameters.
pub(crate) type LlGrad<'a> = dyn Fn(&[f64]) -> (f64, Vec<f64>) + 'a;

/// Minimises the mean negative log-likelihood over log-parameters from each start in turn until
/// one converges, keeps the best run, and computes standard errors there.
pub(crate) fn fit_params(
    ll_grad: &LlGrad<'_>,
    total_weight: f64,
    starts: &[Vec<f64>],
    options: &FitOptions,
) -> (Vec<f64>, f64, usize, bool, usize, Option<Vec<f64>>) {
    let objective = |phi: &[f64], grad: &mut [f64]| -> f64 {
        if phi.iter().any(|p| p.abs() > MAX_LOG_PARAM) {
            return f64::INFINITY;
        }
        let theta: Vec<f64> = phi.iter().map(|p| p.exp()).collect();
        let (ll, g) = ll_grad(&theta);
        if !ll.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return f64::INFINITY;
        }
        for ((out, gi), th) in grad.iter_mut().zip(&g).zip(&theta) {
            *out = -gi * th / total_weight;
        }
        -ll / total_weight
    };
    let mut all: Vec<Vec<f64>> = Vec::new();
    if let Some(start) = &options.start {
        all.push(start.clone());
    }
    all.extend(starts.iter().cloned());
    let mut best: Option<Minimum> = None;
    let mut tried = 0;
    for start in &all {
        tried += 1;
        let phi0: Vec<f64> = start.iter().map(|v| v.ln()).collect();
        let run = bfgs(
            &objective,
            &phi0,
            options.max_iterations,
            options.gradient_tolerance,
        );
        let better = match &best {
            None => true,
            Some(b) => {
                (run.converged && !b.converged) || (run.converged == b.converged && run.f < b.f)
            }
        };
        let done = run.converged;
        if better {
            best = Some(run);
        }
        if done {
            break;
        }
    }
    let Some(best) = best else {
        return (Vec::new(), f64::NAN, 0, false, 0, None);
    };
    let theta: Vec<f64> = best.x.iter().map(|p| p.exp()).collect();
    let ll = -best.f * total_weight;
    let se = standard_errors(ll_grad, &theta);
    (theta, ll, best.iterations, best.converged, tried, se)
}

/// Result of one BFGS run.
struct Minimum {
    x: Vec<f64>,
    f: f64,
    iterations: usize,
    converged: bool,
}

/// BFGS (Nocedal & Wright 2006, Algorithm 6.1) with an Armijo backtracking line search; the
/// inverse-Hessian estimate starts as the identity, is rescaled by sᵀy/yᵀy after the first step
/// and is reset to the identity when a search direction fails. Steps are capped at 5 in every
/// log-parameter. A non-finite objective counts as "too far".
fn bfgs(
    f: &dyn Fn(&[f64], &mut [f64]) -> f64,
    x0: &[f64],
    max_iterations: usize,
    gtol: f64,
) -> Minimum {
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    if !fx.is_finite() {
        return Minimum {
            x,
            f: f64::INFINITY,
            iterations: 0,
            converged: false,
        };
    }
    let identity = |h: &mut Vec<f64>, scale: f64| {
        h.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..n {
            h[i * n + i] = scale;
        }
    };
    let mut h = vec![0.0; n * n];
    identity(&mut h, 1.0);
    let mut fresh = true;
    let mut g_new = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    for iteration in 0..max_iterations {
        let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if gmax < gtol {
            return Minimum {
                x,
                f: fx,
                iterations: iteration,
                converged: true,
            };
        }
        let mut p: Vec<f64> = (0..n)
            .map(|i| -(0..n).map(|j| h[i * n + j] * g[j]).sum::<f64>())
            .collect();
        let mut slope: f64 = p.iter().zip(&g).map(|(a, b)| a * b).sum();
        if slope.is_nan() || slope >= 0.0 {
            identity(&mut h, 1.0);
            fresh = true;
            p = g.iter().map(|v| -v).collect();
            slope = -g.iter().map(|v| v * v).sum::<f64>();
        }
        let pmax = p.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if pmax > 5.0 {
            let k = 5.0 / pmax;
            p.iter_mut().for_each(|v| *v *= k);
            slope *= k;
        }
        let mut step = 1.0;
        let mut accepted = false;
        let mut f_new = f64::INFINITY;
        for _ in 0..60 {
            for i in 0..n {
                x_new[i] = x[i] + step * p[i];
            }
            f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * step * slope {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            if fresh {
                // Even steepest descent cannot decrease f: at the floating-point floor.
                return Minimum {
                    x,
                    f: fx,
                    iterations: iteration,
                    converged: gmax < 1e3 * gtol,
                };
            }
            identity(&mut h, 1.0);
            fresh = true;
            continue;
        }
        let s: Vec<f64> = (0..n).map(|i| x_new[i] - x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| g_new[i] - g[i]).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        let yy: f64 = y.iter().map(|v| v * v).sum();
        let stalled = (fx - f_new).abs() <= 1e-16 * fx.abs().max(1.0);
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        fx = f_new;
        if sy > 1e-12 * yy.sqrt() * s.iter().map(|v| v * v).sum::<f64>().sqrt() && yy > 0.0 {
            if fresh {
                identity(&mut h, sy / yy);
                fresh = false;
            }
            // H ← (I − ρsyᵀ) H (I − ρysᵀ) + ρssᵀ, ρ = 1/sᵀy.
            let rho = 1.0 / sy;
            let hy: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| h[i * n + j] * y[j]).sum())
                .collect();
            let yhy: f64 = y.iter().zip(&hy).map(|(a, b)| a * b).sum();
            for i in 0..n {
                for j in 0..n {
                    h[i * n + j] += -rho * (hy[i] * s[j] + s[i] * hy[j])
                        + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
        }
        if stalled {
            let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if gmax < 1e3 * gtol {
                return Minimum {
                    x,
                    f: fx,
                    iterations: iteration + 1,
                    converged: true,
                };
            }
        }
    }
    let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    Minimum {
        x,
        f: fx,
        iterations: max_iterations,
        converged: gmax < gtol,
    }
}

/// Standard errors from the Hessian of −LL in the natural parameters, by central differences of
/// the analytic gradient (relative step 1e-5), symmetrised and inverted by Gauss–Jordan
/// elimination; `None` unless the inverse exists with a positive diagonal.
fn standard_errors(ll_grad: &LlGrad<'_>, theta: &[f64]) -> Option<Vec<f64>> {
    let n = theta.len();
    let mut hess = vec![0.0; n * n];
    for j in 0..n {
        let h = 1e-5 * theta[j];
        let mut up = theta.to_vec();
        let mut down = theta.to_vec();
        up[j] += h;
        down[j] -= h;
        let (_, gu) = ll_grad(&up);
        let (_, gd) = ll_grad(&down);
        for i in 0..n {
            // −LL: the Hessian of the negative log-likelihood.
            hess[i * n + j] = -(gu[i] - gd[i]) / (2.0 * h);
        }
    }
    for i in 0..n {
        for j in 0..i {
            let m = 0.5 * (hess[i * n + j] + hess[j * n + i]);
            hess[i * n + j] = m;
            hess[j * n + i] = m;
        }
    }
    let inv = invert(&hess, n)?;
    let se: Vec<f64> = (0..n).map(|i| inv[i * n + i]).collect();
    if se.iter().all(|v| v.is_finite() && *v > 0.0) {
        Some(se.iter().map(|v| v.sqrt()).collect())
    } else {
        None
    }
}

/// Inverse of a dense row-major n×n matrix by Gauss–Jordan elimination with partial pivoting;
/// `None` when a pivot vanishes (relative to the matrix's largest entry) or values are not finite.
#[must_use]
pub fn invert(m: &[f64], n: usize) -> Option<Vec<f64>> {
    if m.len() != n * n || m.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let scale = m.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    if scale == 0.0 {
        return None;
    }
    let mut a = m.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        if a[pivot * n + col].abs() <= 1e-13 * scale {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(pivot * n + k, col * n + k);
                inv.swap(pivot * n + k, col * n + k);
            }
        }
        let d = a[col * n + col];
        for k in 0..n {
            a[col * n + k] /= d;
            inv[col * n + k] /= d;
        }
        for row in 0..n {
            if row != col {
                let factor = a[row * n + col];
                if factor != 0.0 {
                    for k in 0..n {
                        a[row * n + k] -= factor * a[col * n + k];
                        inv[row * n + k] -= factor * inv[col * n + k];
                    }
                }
            }
        }
    }
    inv.iter().all(|v| v.is_finite()).then_some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bfgs_minimises_rosenbrock() {
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let m = bfgs(&f, &[-1.2, 1.0], 1000, 1e-10);
        assert!(m.converged);
        assert!((m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn invert_known_and_singular() {
        let m = [4.0, 7.0, 2.0, 6.0];
        let inv = invert(&m, 2).unwrap();
        let want = [0.6, -0.7, -0.2, 0.4];
        for (a, b) in inv.iter().zip(want) {
            assert!((a - b).abs() < 1e-12);
        }
        assert!(invert(&[1.0, 2.0, 2.0, 4.0], 2).is_none());
        assert!(invert(&[f64::NAN, 0.0, 0.0, 1.0], 2).is_none());
    }
}
