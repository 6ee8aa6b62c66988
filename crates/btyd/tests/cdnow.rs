//! Reference test: the CDNOW sample against the published estimates listed in
//! shared/data/cdnow/README.md, each asserted to the precision it is printed with.

mod common;

use btyd::{BgNbd, FitOptions, GammaGamma, MbgNbd, ParetoNbd, PurchaseModel, Summary};

/// |got − want| ≤ half a unit of the last printed digit.
fn assert_printed(name: &str, got: f64, want: f64, decimals: i32) {
    let tol = 0.5 * 10f64.powi(-decimals);
    assert!(
        (got - want).abs() <= tol,
        "{name}: got {got:.6}, published {want} (±{tol})"
    );
}

fn summary() -> Option<(Vec<common::Customer>, Summary, Vec<u32>)> {
    let c = common::cdnow_sample()?;
    let x: Vec<f64> = c.iter().map(|c| c.x).collect();
    let tx: Vec<f64> = c.iter().map(|c| c.t_x).collect();
    let t: Vec<f64> = c.iter().map(|c| c.t).collect();
    let (s, idx) = Summary::collapse(&x, &tx, &t).unwrap();
    Some((c, s, idx))
}

#[test]
fn sample_shape_matches_readme() {
    let Some((c, s, _)) = summary() else { return };
    assert_eq!(c.len(), 2357);
    assert_eq!(c.iter().filter(|c| c.x > 0.0).count(), 946);
    assert_eq!(s.total_weight(), 2357.0);
    let holdout: f64 = c.iter().map(|c| c.holdout).sum();
    eprintln!(
        "unique (x, t_x, T) rows: {}; actual holdout repeat purchases: {holdout}",
        s.len()
    );
}

#[test]
fn bgnbd_matches_fhl_2005() {
    let Some((c, s, idx)) = summary() else { return };
    let fit = BgNbd::fit(&s, &FitOptions::default()).unwrap();
    let m = fit.params;
    eprintln!(
        "BG/NBD {m:?} LL {:.4} iter {} se {:?}",
        fit.log_likelihood, fit.iterations, fit.std_errors
    );
    assert!(fit.converged);
    assert_printed("r", m.r, 0.243, 3);
    assert_printed("alpha", m.alpha, 4.414, 3);
    assert_printed("a", m.a, 0.793, 3);
    assert_printed("b", m.b, 2.426, 3);
    assert_printed("LL", fit.log_likelihood, -9582.4, 1);
    assert!(fit.std_errors.is_some());

    // Aggregate holdout check: Σ E[Y(39) | x, t_x, T] over the sample vs the actual count.
    let per_row = m.expected_purchases_rows(&s, 39.0, 0);
    let per_customer = Summary::scatter(&per_row, &idx);
    let expected: f64 = per_customer.iter().sum();
    let actual: f64 = c.iter().map(|c| c.holdout).sum();
    eprintln!("holdout 39 weeks: expected {expected:.1}, actual {actual}");
    assert_eq!(actual, 1882.0);
    assert!(
        (expected - 1653.0).abs() < 5.0,
        "expected holdout purchases {expected}"
    );
}

#[test]
fn bgnbd_worked_example_from_hardie_spreadsheet() {
    let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let e = m.expected_purchases(39.0, 2.0, 30.43, 38.86);
    eprintln!("E[Y(39) | 2, 30.43, 38.86] = {e:.6}");
    assert_printed("E[Y(39)]", e, 1.226, 3);
}

#[test]
fn pareto_nbd_matches_fhl_2005() {
    let Some((_, s, _)) = summary() else { return };
    let fit = ParetoNbd::fit(&s, &FitOptions::default()).unwrap();
    let m = fit.params;
    eprintln!(
        "Pareto/NBD {m:?} LL {:.4} iter {} se {:?}",
        fit.log_likelihood, fit.iterations, fit.std_errors
    );
    assert!(fit.converged);
    assert_printed("r", m.r, 0.553, 3);
    assert_printed("alpha", m.alpha, 10.578, 3);
    assert_printed("s", m.s, 0.606, 3);
    assert_printed("beta", m.beta, 11.669, 3);
    assert_printed("LL", fit.log_likelihood, -9595.0, 1);
}

#[test]
fn mbgnbd_matches_batislam_2007() {
    let Some((_, s, _)) = summary() else { return };
    let fit = MbgNbd::fit(&s, &FitOptions::default()).unwrap();
    let m = fit.params;
    eprintln!(
        "MBG/NBD {m:?} LL {:.4} iter {} se {:?}",
        fit.log_likelihood, fit.iterations, fit.std_errors
    );
    assert!(fit.converged);
    assert_printed("r", m.r, 0.525, 3);
    assert_printed("alpha", m.alpha, 6.183, 3);
    assert_printed("a", m.a, 0.891, 3);
    assert_printed("b", m.b, 1.614, 3);
}

#[test]
fn gamma_gamma_matches_fader_hardie_2013() {
    let Some((c, _, _)) = summary() else { return };
    let x: Vec<f64> = c.iter().map(|c| c.x).collect();
    let m: Vec<f64> = c.iter().map(|c| c.mean_repeat_spend).collect();
    let fit = GammaGamma::fit(&x, &m, &FitOptions::default()).unwrap();
    let g = fit.fit.params;
    eprintln!(
        "Gamma-Gamma {g:?} LL {:.4} used {} excluded {}+{}",
        fit.fit.log_likelihood, fit.used, fit.excluded_no_repeat, fit.excluded_bad_spend
    );
    assert!(fit.fit.converged);
    assert_eq!(fit.used, 946);
    assert_eq!(fit.excluded_no_repeat, 2357 - 946);
    assert_printed("p", g.p, 6.25, 2);
    assert_printed("q", g.q, 3.74, 2);
    assert_printed("gamma", g.gamma, 15.44, 2);
}
