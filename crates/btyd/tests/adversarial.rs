//! Invariant: predictions and likelihoods are finite for adversarial but valid summaries
//! (x = 0, x = 5000, t_x = T, t_x = 0 with x > 0, T = 0, tiny T, huge horizons), for published
//! and for extreme parameters; degenerate fits return instead of panicking.

use btyd::{
    clv, BgNbd, ClvOptions, FitOptions, GammaGamma, MbgNbd, ParetoNbd, PurchaseModel, Summary,
};

/// (x, t_x, T) histories.
const HISTORIES: [(f64, f64, f64); 12] = [
    (0.0, 0.0, 0.0),
    (0.0, 0.0, 1e-9),
    (0.0, 0.0, 38.86),
    (0.0, 0.0, 1e6),
    (1.0, 0.0, 0.0),
    (3.0, 0.0, 20.0),
    (5.0, 20.0, 20.0),
    (5000.0, 0.0, 1e-6),
    (5000.0, 1e-6, 1e-6),
    (5000.0, 0.5, 1.0),
    (5000.0, 10.0, 52.0),
    (2.0, 30.43, 38.86),
];

const HORIZONS: [f64; 7] = [0.0, 1e-9, 1.0, 39.0, 1e4, 1e9, f64::INFINITY];

fn models() -> Vec<(String, Box<dyn PurchaseModel>)> {
    let mut out: Vec<(String, Box<dyn PurchaseModel>)> = Vec::new();
    for &(r, alpha, a, b) in &[
        (0.243, 4.414, 0.793, 2.426),
        (5.0, 0.01, 0.05, 40.0),
        (0.01, 500.0, 30.0, 0.05),
        (1.0, 1.0, 1.0, 1.0),
        (0.243, 4.414, 150.0, 300.0),
        (40.0, 2.0, 0.3, 900.0),
    ] {
        out.push((
            format!("BG {r} {alpha} {a} {b}"),
            Box::new(BgNbd::new(r, alpha, a, b).unwrap()),
        ));
        out.push((
            format!("MBG {r} {alpha} {a} {b}"),
            Box::new(MbgNbd::new(r, alpha, a, b).unwrap()),
        ));
    }
    for &(r, alpha, s, beta) in &[
        (0.553, 10.578, 0.606, 11.669),
        (5.0, 0.01, 0.05, 40.0),
        (0.05, 400.0, 3.0, 0.01),
        (1.0, 1.0, 1.0, 1.0),
        (0.8, 400.0, 1.3, 0.5),
        (0.3, 0.5, 0.7, 300.0),
        (50.0, 1.0, 120.0, 3.0),
    ] {
        out.push((
            format!("PNBD {r} {alpha} {s} {beta}"),
            Box::new(ParetoNbd::new(r, alpha, s, beta).unwrap()),
        ));
    }
    out
}

#[test]
fn predictions_are_finite_everywhere() {
    let options = ClvOptions {
        months: 24,
        monthly_discount: 0.01,
        month_length: 4.345,
        margin: 0.3,
    };
    for (name, m) in models() {
        for &(x, tx, tt) in &HISTORIES {
            let p = m.p_alive(x, tx, tt);
            assert!(
                p.is_finite() && (0.0..=1.0).contains(&p),
                "{name} P({x},{tx},{tt}) = {p}"
            );
            let mut last = 0.0;
            for &t in &HORIZONS {
                let e = m.expected_purchases(t, x, tx, tt);
                assert!(
                    e.is_finite() && e >= 0.0,
                    "{name} E({t}|{x},{tx},{tt}) = {e}"
                );
                assert!(
                    e >= last * (1.0 - 1e-9),
                    "{name} E not monotone in t at {t}: {e} < {last}"
                );
                last = e;
            }
            let v = clv(m.as_ref(), x, tx, tt, 25.0, &options);
            assert!(v.is_finite() && v >= 0.0, "{name} CLV({x},{tx},{tt}) = {v}");
        }
        for &t in &HORIZONS {
            let e = m.expected_purchases_unconditional(t);
            assert!(e.is_finite() && e >= 0.0, "{name} E[X({t})] = {e}");
        }
    }
}

#[test]
fn likelihoods_and_dert_are_finite() {
    for &(r, alpha, s, beta) in &[
        (0.553, 10.578, 0.606, 11.669),
        (5.0, 0.01, 0.05, 40.0),
        (0.05, 400.0, 3.0, 0.01),
    ] {
        let m = ParetoNbd::new(r, alpha, s, beta).unwrap();
        for &(x, tx, tt) in &HISTORIES {
            let ll = m.log_likelihood_one(x, tx, tt);
            assert!(ll.is_finite(), "PNBD LL {x} {tx} {tt} = {ll}");
            for delta in [1e-9, 0.0027, 0.5, 50.0] {
                let d = m.dert(delta, x, tx, tt);
                assert!(
                    d.is_finite() && d >= 0.0,
                    "DERT({delta}) {x} {tx} {tt} = {d}"
                );
            }
        }
    }
    let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    for &(x, tx, tt) in &HISTORIES {
        assert!(bg.log_likelihood_one(x, tx, tt).is_finite());
    }
}

#[test]
fn spend_expectation_edges() {
    let g = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
    assert!((g.expected_spend(0.0, 123.0).unwrap() - 15.44 * 6.25 / 2.74).abs() < 1e-12);
    let big = g.expected_spend(5000.0, 40.0).unwrap();
    assert!((big - 40.0).abs() < 0.1);
    let low_q = GammaGamma::new(0.5, 0.8, 10.0).unwrap();
    assert_eq!(low_q.expected_spend(0.0, 0.0), None);
    assert!(low_q.expected_spend(1.0, 30.0).is_some());
    assert_eq!(g.expected_spend(-1.0, 30.0), None);
    assert_eq!(g.expected_spend(2.0, f64::NAN), None);
}

#[test]
fn degenerate_fits_return() {
    // Nobody ever came back: the likelihood has no interior maximum.
    let (s, _) = Summary::collapse(&[0.0; 50], &[0.0; 50], &[10.0; 50]).unwrap();
    let options = FitOptions {
        max_iterations: 200,
        ..FitOptions::default()
    };
    let f = BgNbd::fit(&s, &options).unwrap();
    assert!(f.log_likelihood.is_finite());
    let f = ParetoNbd::fit(&s, &options).unwrap();
    assert!(f.log_likelihood.is_finite());
    let f = MbgNbd::fit(&s, &options).unwrap();
    assert!(f.log_likelihood.is_finite());
    // Everyone bought on the same day every time, at age 0.
    let (s, _) = Summary::collapse(&[3.0, 0.0], &[0.0, 0.0], &[0.0, 0.0]).unwrap();
    assert!(BgNbd::fit(&s, &options).is_ok());
    assert!(ParetoNbd::fit(&s, &options).is_ok());
    // Spend: all excluded is an error, not a panic.
    assert!(GammaGamma::fit(&[0.0, 1.0], &[5.0, -2.0], &options).is_err());
    let one = GammaGamma::fit(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0], &options).unwrap();
    assert!(one.fit.log_likelihood.is_finite());
}

#[test]
fn bad_options_are_refused() {
    let (s, _) = Summary::collapse(&[1.0], &[1.0], &[2.0]).unwrap();
    let bad = FitOptions {
        start: Some(vec![1.0, -1.0, 1.0, 1.0]),
        ..FitOptions::default()
    };
    assert!(BgNbd::fit(&s, &bad).is_err());
    assert!(BgNbd::new(0.0, 1.0, 1.0, 1.0).is_err());
    assert!(ParetoNbd::new(1.0, f64::NAN, 1.0, 1.0).is_err());
    let clv_bad = ClvOptions {
        months: 12,
        monthly_discount: -1.5,
        month_length: 4.345,
        margin: 1.0,
    };
    assert!(clv_bad.validate().is_err());
}

#[test]
fn params_round_trip_through_json() {
    let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let text = serde_json::to_string(&m).unwrap();
    assert_eq!(text, r#"{"r":0.243,"alpha":4.414,"a":0.793,"b":2.426}"#);
    let back: BgNbd = serde_json::from_str(&text).unwrap();
    assert_eq!(back, m);
    let p: ParetoNbd =
        serde_json::from_str(r#"{"r":0.553,"alpha":10.578,"s":0.606,"beta":11.669}"#).unwrap();
    assert_eq!(p.s, 0.606);
}
