//! Parameter recovery: simulate populations from the models' own stories with the CDNOW
//! estimates (seeded) and check that the fits land within four standard errors of the truth.

use btyd::simulate::{bgnbd_customer, pareto_nbd_customer, SplitMix64};
use btyd::{BgNbd, Fit, FitOptions, GammaGamma, ParetoNbd, Summary};

fn check_within(name: &str, got: &[f64], truth: &[f64], se: Option<&Vec<f64>>) {
    let se = se.unwrap_or_else(|| panic!("{name}: no standard errors"));
    for i in 0..truth.len() {
        let z = (got[i] - truth[i]) / se[i];
        eprintln!(
            "{name}[{i}]: true {} est {:.4} se {:.4} z {z:.2}",
            truth[i], got[i], se[i]
        );
        assert!(
            z.abs() < 4.0,
            "{name}[{i}]: estimate {} vs true {} (se {})",
            got[i],
            truth[i],
            se[i]
        );
    }
}

/// Ages like the CDNOW cohort: first purchase uniform over the first 12 weeks, 39-week window.
fn age(rng: &mut SplitMix64) -> f64 {
    39.0 - 12.0 * rng.uniform()
}

#[test]
fn bgnbd_recovers_cdnow_parameters() {
    let truth = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let mut rng = SplitMix64::new(20_050_501);
    let n = 20_000;
    let (mut x, mut tx, mut tt) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let a = age(&mut rng);
        let (xi, ti, _) = bgnbd_customer(&truth, a, 0.0, &mut rng);
        x.push(f64::from(xi));
        tx.push(ti);
        tt.push(a);
    }
    let (s, _) = Summary::collapse(&x, &tx, &tt).unwrap();
    let fit: Fit<BgNbd> = BgNbd::fit(&s, &FitOptions::default()).unwrap();
    assert!(fit.converged);
    check_within(
        "BG/NBD",
        &fit.params.to_vec(),
        &truth.to_vec(),
        fit.std_errors.as_ref(),
    );
}

#[test]
fn pareto_nbd_recovers_cdnow_parameters() {
    let truth = ParetoNbd::new(0.553, 10.578, 0.606, 11.669).unwrap();
    let mut rng = SplitMix64::new(19_870_101);
    let n = 20_000;
    let (mut x, mut tx, mut tt) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let a = age(&mut rng);
        let (xi, ti) = pareto_nbd_customer(&truth, a, &mut rng);
        x.push(f64::from(xi));
        tx.push(ti);
        tt.push(a);
    }
    let (s, _) = Summary::collapse(&x, &tx, &tt).unwrap();
    let fit = ParetoNbd::fit(&s, &FitOptions::default()).unwrap();
    assert!(fit.converged);
    check_within(
        "Pareto/NBD",
        &fit.params.to_vec(),
        &truth.to_vec(),
        fit.std_errors.as_ref(),
    );
}

#[test]
fn gamma_gamma_recovers_parameters() {
    let truth = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
    let mut rng = SplitMix64::new(2013);
    let (mut xs, mut ms) = (Vec::new(), Vec::new());
    for _ in 0..20_000 {
        let x = 1 + (rng.uniform() * 6.0) as u32;
        // ν ~ Gamma(q, γ); each transaction ~ Gamma(p, ν).
        let nu = rng.gamma(truth.q) / truth.gamma;
        let total: f64 = (0..x).map(|_| rng.gamma(truth.p) / nu).sum();
        xs.push(f64::from(x));
        ms.push(total / f64::from(x));
    }
    let fit = GammaGamma::fit(&xs, &ms, &FitOptions::default()).unwrap();
    assert!(fit.fit.converged);
    check_within(
        "Gamma-Gamma",
        &fit.fit.params.to_vec(),
        &truth.to_vec(),
        fit.fit.std_errors.as_ref(),
    );
}

#[test]
fn thread_count_does_not_change_results() {
    let truth = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let mut rng = SplitMix64::new(7);
    let (mut x, mut tx, mut tt) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..30_000 {
        let a = age(&mut rng);
        let (xi, ti, _) = bgnbd_customer(&truth, a, 0.0, &mut rng);
        x.push(f64::from(xi));
        tx.push(ti);
        tt.push(a);
    }
    let (s, _) = Summary::collapse(&x, &tx, &tt).unwrap();
    let one = BgNbd::fit(
        &s,
        &FitOptions {
            threads: 1,
            ..FitOptions::default()
        },
    )
    .unwrap();
    let two = BgNbd::fit(
        &s,
        &FitOptions {
            threads: 2,
            ..FitOptions::default()
        },
    )
    .unwrap();
    assert_eq!(one, two);
}
