//! Shared test helpers: the CDNOW sample prepared the way the literature does (see
//! shared/data/cdnow/README.md).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

/// One customer of the CDNOW sample, in weeks.
#[derive(Debug, Clone)]
pub struct Customer {
    /// Repeat purchase days in calibration.
    pub x: f64,
    /// Recency in weeks.
    pub t_x: f64,
    /// Age in weeks.
    pub t: f64,
    /// Mean value of the repeat purchase days in calibration (0 when x = 0).
    pub mean_repeat_spend: f64,
    /// Purchase days in the 39-week holdout.
    pub holdout: f64,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_date(s: &str) -> i64 {
    let n: i64 = s.parse().expect("date");
    days_from_civil(n / 10_000, (n / 100) % 100, n % 100)
}

/// Path of the sample file, relative to this crate.
pub fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cdnow/CDNOW_sample.txt")
}

/// The CDNOW sample prepared as in FHL 2005: same-day purchases merged (dollars summed),
/// calibration 1997-01-01..1997-09-30, holdout 1997-10-01..1998-06-30, weeks. `None` (with a
/// message) when the file is absent.
pub fn cdnow_sample() -> Option<Vec<Customer>> {
    let path = sample_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return None;
    };
    let cal_end = days_from_civil(1997, 9, 30);
    let hold_end = days_from_civil(1998, 6, 30);
    // customer (sample id) -> day -> dollars
    let mut by_customer: BTreeMap<u32, BTreeMap<i64, f64>> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 {
            continue;
        }
        let id: u32 = f[1].parse().expect("sample id");
        let day = parse_date(f[2]);
        let dollars: f64 = f[4].parse().expect("dollars");
        *by_customer.entry(id).or_default().entry(day).or_insert(0.0) += dollars;
    }
    let mut out = Vec::with_capacity(by_customer.len());
    for days in by_customer.values() {
        let cal: Vec<(i64, f64)> = days
            .iter()
            .filter(|(d, _)| **d <= cal_end)
            .map(|(d, v)| (*d, *v))
            .collect();
        let first = cal[0].0;
        let last = cal[cal.len() - 1].0;
        let repeat: Vec<f64> = cal[1..].iter().map(|(_, v)| *v).collect();
        let holdout = days
            .keys()
            .filter(|d| **d > cal_end && **d <= hold_end)
            .count();
        out.push(Customer {
            x: (cal.len() - 1) as f64,
            t_x: (last - first) as f64 / 7.0,
            t: (cal_end - first) as f64 / 7.0,
            mean_repeat_spend: if repeat.is_empty() {
                0.0
            } else {
                repeat.iter().sum::<f64>() / repeat.len() as f64
            },
            holdout: holdout as f64,
        });
    }
    Some(out)
}
