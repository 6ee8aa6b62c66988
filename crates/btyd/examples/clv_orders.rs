//! Seeded generator of a canonical orders CSV for `custseg clv` benchmarks (bench/clv.sh):
//! customers whose first purchase falls in the first 12 weeks of 1997 (like the CDNOW cohort),
//! buying by the BG/NBD story at the CDNOW estimates (r = 0.243, α = 4.414 per week, a = 0.793,
//! b = 2.426) until 1998-06-30, each transaction worth Gamma(p = 6.25, ν) with
//! ν ~ Gamma(q = 3.74, γ = 15.44) per customer (the Gamma-Gamma estimates), one line per
//! transaction (one in ten split into two lines on the same day). Purchase times are continuous;
//! two purchases on one calendar day become one transaction in custseg, so fitted parameters
//! recover the generating ones up to that day resolution.
//!
//! Run: `cargo run -p btyd --release --example clv_orders -- [customers] [seed] > orders.csv`.
//! Columns: customer_id, order_id, ordered_at (YYYY-MM-DD), amount.

use std::io::{BufWriter, Write};

use btyd::simulate::SplitMix64;

/// Days from 1970-01-01 to 1997-01-01.
const START: i64 = 9862;
/// 1998-06-30 in days after 1997-01-01.
const END: f64 = 545.0;

/// (year, month, day) of a day number since 1970-01-01 (Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let customers: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let (r, alpha, a, b) = (0.243, 4.414, 0.793, 2.426);
    let (p, q, gamma) = (6.25, 3.74, 15.44);
    let mut rng = SplitMix64::new(seed);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    writeln!(out, "customer_id,order_id,ordered_at,amount")?;
    let mut lines = 0u64;
    for c in 0..customers {
        // λ per day from a weekly rate; p the dropout probability; ν the spend scale.
        let lambda = rng.gamma(r) / alpha / 7.0;
        let dropout = rng.beta(a, b);
        let nu = rng.gamma(q) / gamma;
        let mut t = (rng.uniform() * 84.0).floor();
        let mut k = 0u32;
        loop {
            let (y, m, d) = civil(START + t as i64);
            let cents = (rng.gamma(p) / nu * 100.0).round().max(1.0) as u64;
            if rng.uniform() < 0.1 && cents > 1 {
                let first = cents / 2;
                for (part, value) in [(0, first), (1, cents - first)] {
                    writeln!(
                        out,
                        "C{c:07},C{c:07}-{k}-{part},{y:04}-{m:02}-{d:02},{}.{:02}",
                        value / 100,
                        value % 100
                    )?;
                    lines += 1;
                }
            } else {
                writeln!(
                    out,
                    "C{c:07},C{c:07}-{k},{y:04}-{m:02}-{d:02},{}.{:02}",
                    cents / 100,
                    cents % 100
                )?;
                lines += 1;
            }
            k += 1;
            // BG/NBD: a dropout chance after every repeat purchase, not after the first.
            if k > 1 && rng.uniform() < dropout {
                break;
            }
            t += rng.exponential(lambda);
            if t > END {
                break;
            }
        }
    }
    out.flush()?;
    eprintln!("clv_orders: {customers} customers, {lines} order lines, seed {seed}");
    Ok(())
}
