//! Timing example: 1,000,000 simulated customers (BG/NBD process at the CDNOW estimates, seeded,
//! first purchases spread over 12 weeks, calibration ends on day 272, recency at day resolution,
//! times in weeks) collapsed to unique (x, t_x, T) rows, then BG/NBD, Gamma-Gamma and Pareto/NBD
//! fits and predictions for every customer, with the wall time of each phase.
//!
//! Run: `cargo run -p btyd --release --example bench_fit [customers] [threads]`.

use std::time::Instant;

use btyd::simulate::{bgnbd_customer, SplitMix64};
use btyd::{clv, BgNbd, ClvOptions, FitOptions, GammaGamma, ParetoNbd, PurchaseModel, Summary};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let options = FitOptions {
        threads,
        ..FitOptions::default()
    };
    let truth = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid parameters");
    let spend_truth = GammaGamma::new(6.25, 3.74, 15.44).expect("valid parameters");
    let total = Instant::now();

    let t0 = Instant::now();
    let mut rng = SplitMix64::new(42);
    let (mut x, mut t_x, mut age, mut spend) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for _ in 0..n {
        let first_day = (rng.uniform() * 84.0).floor();
        let age_days = 272.0 - first_day;
        let (xi, ti, _) = bgnbd_customer(&truth, age_days / 7.0, 0.0, &mut rng);
        let recency_days = (ti * 7.0).floor().min(age_days);
        x.push(f64::from(xi));
        t_x.push(if xi == 0 { 0.0 } else { recency_days / 7.0 });
        age.push(age_days / 7.0);
        // Mean of x Gamma(p, ν) spends is Gamma(p·x, ν·x); ν ~ Gamma(q, γ).
        let m = if xi == 0 {
            0.0
        } else {
            let nu = rng.gamma(spend_truth.q) / spend_truth.gamma;
            rng.gamma(spend_truth.p * f64::from(xi)) / (nu * f64::from(xi))
        };
        spend.push(m);
    }
    report("simulate", t0, n);

    let t0 = Instant::now();
    let (summary, index) = Summary::collapse(&x, &t_x, &age).expect("valid summary");
    report(&format!("collapse ({} unique rows)", summary.len()), t0, n);

    let t_bg = Instant::now();
    let t0 = Instant::now();
    let bg = BgNbd::fit(&summary, &options).expect("fit");
    report("fit BG/NBD", t0, summary.len());
    println!(
        "    r {:.4} alpha {:.4} a {:.4} b {:.4}  LL {:.1}  iterations {}  converged {}",
        bg.params.r,
        bg.params.alpha,
        bg.params.a,
        bg.params.b,
        bg.log_likelihood,
        bg.iterations,
        bg.converged
    );

    let t0 = Instant::now();
    let gg = GammaGamma::fit(&x, &spend, &options).expect("fit");
    report(
        &format!("fit Gamma-Gamma ({} customers)", gg.used),
        t0,
        gg.used,
    );
    let g = gg.fit.params;
    println!(
        "    p {:.4} q {:.4} gamma {:.4}  iterations {}",
        g.p, g.q, g.gamma, gg.fit.iterations
    );

    let t0 = Instant::now();
    let m = bg.params;
    let expected = Summary::scatter(&m.expected_purchases_rows(&summary, 39.0, threads), &index);
    let alive = Summary::scatter(&m.p_alive_rows(&summary, threads), &index);
    report("predict BG/NBD E[Y(39)] + P(alive), all customers", t0, n);

    let t0 = Instant::now();
    let expected_spend: Vec<f64> = x
        .iter()
        .zip(&spend)
        .map(|(&xi, &mi)| g.expected_spend(xi, mi).unwrap_or(0.0))
        .collect();
    report("predict expected spend, all customers", t0, n);

    let t0 = Instant::now();
    let clv_options = ClvOptions {
        months: 12,
        monthly_discount: 0.01,
        month_length: 4.345,
        margin: 1.0,
    };
    // CLV per unique row for a unit spend, then × each customer's own expected spend.
    let mut unit = vec![0.0; summary.len()];
    std::thread::scope(|scope| {
        let per = summary.len().div_ceil(2).max(1);
        for (k, part) in unit.chunks_mut(per).enumerate() {
            let summary = &summary;
            scope.spawn(move || {
                for (j, o) in part.iter_mut().enumerate() {
                    let i = k * per + j;
                    *o = clv(
                        &m,
                        summary.x[i],
                        summary.t_x[i],
                        summary.t[i],
                        1.0,
                        &clv_options,
                    );
                }
            });
        }
    });
    let values: Vec<f64> = index
        .iter()
        .zip(&expected_spend)
        .map(|(&k, s)| unit[k as usize] * s)
        .collect();
    report("predict CLV 12 months, all customers", t0, n);
    println!(
        "  BG/NBD + Gamma-Gamma fits and predictions: {:.3} s",
        t_bg.elapsed().as_secs_f64()
    );

    let t_p = Instant::now();
    let t0 = Instant::now();
    let pn = ParetoNbd::fit(&summary, &options).expect("fit");
    report("fit Pareto/NBD", t0, summary.len());
    println!(
        "    r {:.4} alpha {:.4} s {:.4} beta {:.4}  LL {:.1}  iterations {}  converged {}",
        pn.params.r,
        pn.params.alpha,
        pn.params.s,
        pn.params.beta,
        pn.log_likelihood,
        pn.iterations,
        pn.converged
    );
    let t0 = Instant::now();
    let p = pn.params;
    let p_expected = Summary::scatter(&p.expected_purchases_rows(&summary, 39.0, threads), &index);
    let p_alive = Summary::scatter(&p.p_alive_rows(&summary, threads), &index);
    report(
        "predict Pareto/NBD E[Y(39)] + P(alive), all customers",
        t0,
        n,
    );
    println!(
        "  Pareto/NBD fit and predictions: {:.3} s",
        t_p.elapsed().as_secs_f64()
    );

    let finite = [&expected, &alive, &values, &p_expected, &p_alive]
        .iter()
        .all(|v| v.iter().all(|x| x.is_finite()));
    println!(
        "sums: E[Y(39)] BG {:.0}, Pareto {:.0}; CLV {:.0}; all finite: {finite}",
        expected.iter().sum::<f64>(),
        p_expected.iter().sum::<f64>(),
        values.iter().sum::<f64>()
    );
    println!("total {:.3} s", total.elapsed().as_secs_f64());
}

fn report(phase: &str, t0: Instant, rows: usize) {
    let s = t0.elapsed().as_secs_f64();
    println!(
        "{phase:<55} {s:>8.3} s  ({:.1} M rows/s)",
        rows as f64 / s / 1e6
    );
}
