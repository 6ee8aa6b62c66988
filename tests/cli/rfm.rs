//! `custseg rfm`, `lifecycle` and `score`: cross-checks against independent, straightforward
//! computations (loops over generated lines in the test) and against the shop generator's truth.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde_json::Value;

use crate::support::{self, buckets_in, custseg, read_parquet};

/// Parses CSV text into rows of column → value.
fn rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn run_csv(args: &[&str]) -> String {
    let out = custseg()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).expect("utf-8")
}

/// rank_min-based score computed the naive way: rank_min = 1 + #values strictly better-ranked.
fn naive_score(values: &[f64], v: f64, descending: bool, bins: usize) -> i64 {
    let n = values.len();
    let before = values
        .iter()
        .filter(|&&o| if descending { o > v } else { o < v })
        .count();
    1 + ((bins * before) / n) as i64
}

#[derive(Default)]
struct Truth {
    orders: BTreeSet<String>,
    cents: i64,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    days: BTreeSet<NaiveDate>,
    /// Earliest moment of each purchase order.
    moments: BTreeMap<String, chrono::NaiveDateTime>,
}

/// value_score as custseg stores it: rounded to 6 decimals.
fn have_rounded(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[test]
fn rfm_matches_a_straightforward_computation_on_generated_lines() {
    let mut state: u64 = 0x00C0_FFEE_1234_5678;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let as_of = NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let mut csv = String::from("customer_id,order_id,ordered_at,amount\n");
    let mut truth: BTreeMap<String, Truth> = BTreeMap::new();
    for order in 0..900 {
        let customer = format!("k{:02}", next(70));
        let day = start + chrono::Duration::days(next(600) as i64);
        let lines = 1 + next(3);
        let is_return = next(12) == 0;
        let hour = next(24);
        for line in 0..lines {
            // Amounts from a small set so that ties in monetary and frequency are common.
            let cents: i64 =
                [500, 1000, 2500, 9999][next(4) as usize] * if is_return { -1 } else { 1 };
            writeln!(
                csv,
                "{customer},{}{order},{day} {:02}:{:02}:00,{}.{:02}",
                if is_return { "r" } else { "o" },
                (hour + line) % 24,
                line * 7 % 60,
                cents / 100,
                (cents % 100).abs()
            )
            .unwrap();
            if day > as_of {
                continue;
            }
            let t = truth.entry(customer.clone()).or_default();
            t.cents += cents;
            if !is_return {
                let at = day
                    .and_hms_opt(((hour + line) % 24) as u32, (line * 7 % 60) as u32, 0)
                    .unwrap();
                let m = t.moments.entry(format!("o{order}")).or_insert(at);
                *m = (*m).min(at);
                t.days.insert(day);
                t.orders.insert(format!("o{order}"));
                t.first = Some(t.first.map_or(day, |f| f.min(day)));
                t.last = Some(t.last.map_or(day, |l| l.max(day)));
            }
        }
    }
    truth.retain(|_, t| !t.orders.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("orders.csv");
    std::fs::write(&input, csv).unwrap();
    let text = run_csv(&[
        "rfm",
        input.to_str().unwrap(),
        "--as-of",
        "2024-06-30",
        "--format",
        "csv",
        "--quiet",
    ]);
    let got = rows(&text);
    assert_eq!(
        got.len(),
        truth.len(),
        "one row per customer with a purchase"
    );
    let recency: Vec<f64> = truth
        .values()
        .map(|t| (as_of - t.last.unwrap()).num_days() as f64)
        .collect();
    let frequency: Vec<f64> = truth.values().map(|t| t.orders.len() as f64).collect();
    let monetary: Vec<f64> = truth.values().map(|t| t.cents as f64 / 100.0).collect();
    for (row, (id, t)) in got.iter().zip(&truth) {
        assert_eq!(&row["customer_id"], id);
        let r = (as_of - t.last.unwrap()).num_days();
        let f = t.orders.len();
        let m = t.cents as f64 / 100.0;
        assert_eq!(
            row["recency_days"].parse::<i64>().unwrap(),
            r,
            "{id} recency"
        );
        assert_eq!(
            row["frequency"].parse::<usize>().unwrap(),
            f,
            "{id} frequency"
        );
        assert!(
            (row["monetary"].parse::<f64>().unwrap() - m).abs() < 1e-9,
            "{id} monetary"
        );
        assert_eq!(
            row["first_purchase"],
            t.first.unwrap().to_string(),
            "{id} first"
        );
        assert_eq!(
            row["last_purchase"],
            t.last.unwrap().to_string(),
            "{id} last"
        );
        assert_eq!(
            row["tenure_days"].parse::<i64>().unwrap(),
            (as_of - t.first.unwrap()).num_days()
        );
        let aov = (m / f as f64 * 100.0).round() / 100.0;
        assert!(
            (row["avg_order_value"].parse::<f64>().unwrap() - aov).abs() < 1e-9,
            "{id} aov"
        );
        let rs = naive_score(&recency, r as f64, true, 5);
        let fs = naive_score(&frequency, f as f64, false, 5);
        let ms = naive_score(&monetary, m, false, 5);
        assert_eq!(row["r_score"].parse::<i64>().unwrap(), rs, "{id} r_score");
        assert_eq!(row["f_score"].parse::<i64>().unwrap(), fs, "{id} f_score");
        assert_eq!(row["m_score"].parse::<i64>().unwrap(), ms, "{id} m_score");
        assert_eq!(row["rfm_cell"], format!("{rs}{fs}{ms}"));
        assert!(
            !row["segment"].is_empty(),
            "{id}: the built-in segments cover every cell"
        );
    }

    // The value table: tiers, lifecycle and behaviour, against the same straightforward truth.
    let text = run_csv(&[
        "score",
        input.to_str().unwrap(),
        "--as-of",
        "2024-06-30",
        "--format",
        "csv",
        "--quiet",
    ]);
    let got = rows(&text);
    assert_eq!(got.len(), truth.len());
    let norm = |v: &[f64], x: f64| {
        let (lo, hi) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &y| (a.min(y), b.max(y)));
        if hi > lo {
            (x - lo) / (hi - lo)
        } else {
            0.0
        }
    };
    // Without events the interaction weight (0.2) is dropped: 0.3 and 0.5 rescale to 0.375 / 0.625.
    let scores: Vec<f64> = truth
        .values()
        .map(|t| {
            0.375 * norm(&frequency, t.orders.len() as f64)
                + 0.625 * norm(&monetary, t.cents as f64 / 100.0)
        })
        .collect();
    for ((row, (id, t)), score) in got.iter().zip(&truth).zip(&scores) {
        assert_eq!(&row["customer_id"], id);
        let have: f64 = row["value_score"].parse().unwrap();
        assert!(
            (have - score).abs() < 1e-6,
            "{id} value_score {have} vs {score}"
        );
        // Tiers rank the stored (rounded) value_score: count the strictly better customers.
        let mine = have_rounded(*score);
        let better = scores.iter().filter(|&&o| have_rounded(o) > mine).count() as f64;
        let share = better / scores.len() as f64;
        let tier = if share < 0.2 {
            "high"
        } else if share < 0.5 {
            "mid"
        } else {
            "low"
        };
        assert_eq!(
            row["tier"],
            tier,
            "{id} tier: score {mine}, {better} better of {}",
            scores.len()
        );
        // Lifecycle with the defaults 30 / 90 / 180.
        let recency = (as_of - t.last.unwrap()).num_days();
        let tenure = (as_of - t.first.unwrap()).num_days();
        let days: Vec<NaiveDate> = t.days.iter().copied().collect();
        let reactivated = days
            .windows(2)
            .any(|w| (as_of - w[1]).num_days() <= 90 && (w[1] - w[0]).num_days() > 180);
        let stage = if tenure <= 30 {
            "new"
        } else if reactivated {
            "reactivated"
        } else if recency <= 90 {
            "active"
        } else if recency <= 180 {
            "at_risk"
        } else {
            "churned"
        };
        assert_eq!(row["lifecycle_stage"], stage, "{id} lifecycle");
        assert_eq!(row["purchase_days"].parse::<usize>().unwrap(), days.len());
        // Behaviour: gaps, expected next purchase, weekend share, usual hour.
        let mut gaps: Vec<f64> = days
            .windows(2)
            .map(|w| (w[1] - w[0]).num_days() as f64)
            .collect();
        if gaps.is_empty() {
            assert_eq!(row["median_days_between_orders"], "", "{id}");
        } else {
            let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
            let med = median(&mut gaps).unwrap();
            let have_mean: f64 = row["mean_days_between_orders"].parse().unwrap();
            assert!(
                (have_mean - (mean * 100.0).round() / 100.0).abs() < 1e-9,
                "{id} mean gap"
            );
            let have_median: f64 = row["median_days_between_orders"].parse().unwrap();
            assert!((have_median - med).abs() < 1e-9, "{id} median gap");
            let next = t.last.unwrap() + chrono::Duration::days(med.round() as i64);
            assert_eq!(
                row["expected_next_purchase"],
                next.to_string(),
                "{id} next purchase"
            );
        }
        let weekend = t
            .moments
            .values()
            .filter(|m| {
                matches!(
                    chrono::Datelike::weekday(*m),
                    chrono::Weekday::Sat | chrono::Weekday::Sun
                )
            })
            .count() as f64
            / t.moments.len() as f64;
        let have_weekend: f64 = row["weekend_share"].parse().unwrap();
        assert!(
            (have_weekend - (weekend * 10_000.0).round() / 10_000.0).abs() < 1e-9,
            "{id} weekend"
        );
        let mut hours: BTreeMap<u32, usize> = BTreeMap::new();
        for m in t.moments.values() {
            *hours.entry(chrono::Timelike::hour(m)).or_default() += 1;
        }
        let top = hours.values().max().copied().unwrap();
        let usual = hours
            .iter()
            .find(|(_, n)| **n == top)
            .map(|(h, _)| *h)
            .unwrap();
        assert_eq!(
            row["usual_hour"].parse::<u32>().unwrap(),
            usual,
            "{id} usual hour"
        );
    }
}

#[test]
fn shop_rfm_agrees_with_the_generators_truth_and_lifecycle_finds_the_prospects() {
    let out = support::ingest_shop();
    let shop = support::root().join("examples/shop");
    let dir = out.path().to_str().unwrap();
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(shop.join("expected.json")).unwrap())
            .unwrap();
    let got = rows(&run_csv(&[
        "rfm",
        dir,
        "--as-of",
        "2025-01-01",
        "--format",
        "csv",
        "--quiet",
    ]));
    let want = truth["customers"].as_object().unwrap();
    assert_eq!(got.len(), want.len());
    for row in &got {
        let w = &want[&row["customer_id"]];
        assert_eq!(
            row["frequency"].parse::<u64>().unwrap(),
            w["orders"].as_u64().unwrap()
        );
        assert!(
            (row["monetary"].parse::<f64>().unwrap() - w["net_amount"].as_f64().unwrap()).abs()
                < 0.005
        );
        assert_eq!(row["first_purchase"], w["first_purchase"].as_str().unwrap());
        assert_eq!(row["last_purchase"], w["last_purchase"].as_str().unwrap());
    }
    // Prospects: known customers (customers.parquet) with no order line at all.
    let customers = read_parquet(&out.path().join("customers.parquet"));
    let orders = read_parquet(&out.path().join("orders.parquet"));
    let buyers: BTreeSet<&str> = orders
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let expected_prospects: BTreeSet<String> = customers
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .filter(|c| !buyers.contains(c))
        .map(str::to_string)
        .collect();
    let stages = rows(&run_csv(&[
        "lifecycle",
        dir,
        "--as-of",
        "2025-01-01",
        "--format",
        "csv",
        "--quiet",
    ]));
    let prospects: BTreeSet<String> = stages
        .iter()
        .filter(|r| r["lifecycle_stage"] == "prospect")
        .map(|r| r["customer_id"].clone())
        .collect();
    assert!(!prospects.is_empty());
    assert_eq!(prospects, expected_prospects);
    assert_eq!(
        stages.len(),
        buyers
            .union(&expected_prospects.iter().map(String::as_str).collect())
            .count()
    );
}

#[test]
fn score_writes_the_full_table_with_tiers_holding_their_shares() {
    let out = support::ingest_shop();
    let table = out.path().join("customers_value.parquet");
    custseg()
        .args(["score", out.path().to_str().unwrap(), "--quiet", "-o"])
        .arg(&table)
        .assert()
        .success();
    let df = read_parquet(&table);
    assert_eq!(df.height(), 144);
    for c in [
        "r_score",
        "tier",
        "lifecycle_stage",
        "preferred_channel",
        "interaction_count",
        "age_band",
        "value_score",
    ] {
        assert!(df.column(c).is_ok(), "missing column {c}");
    }
    let tiers = df.column("tier").unwrap().str().unwrap().clone();
    let high = tiers.iter().filter(|t| *t == Some("high")).count();
    // Top 20 % by rank share: ceil(0.2 n) customers unless ties push more in.
    assert!(
        high >= (144.0f64 * 0.2).ceil() as usize && high < 144 / 2,
        "high tier size {high}"
    );
}

/// `custseg score` with `CUSTSEG_SCORE_BUCKET_LINES` set (0: one plan; else lines per bucket),
/// plus `--explain` so the plan of every bucket is on stderr. Returns (stdout, stderr).
fn score_in_buckets(args: &[&str], bucket_lines: Option<&str>) -> (String, String) {
    let mut cmd = custseg();
    cmd.args(args)
        .args(["--format", "csv", "--quiet", "--explain"]);
    match bucket_lines {
        Some(n) => cmd.env("CUSTSEG_SCORE_BUCKET_LINES", n),
        None => cmd.env_remove("CUSTSEG_SCORE_BUCKET_LINES"),
    };
    let out = cmd.assert().success().get_output().clone();
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

#[test]
fn score_in_buckets_of_customers_equals_score_in_one_plan() {
    // The shop example: customers and events tables too (tiers, last_interaction, age_band).
    let out = support::ingest_shop();
    let dir = out.path().to_str().unwrap();
    // A raw orders file whose lines are not grouped by customer (each bucket's range filter
    // must find a customer's lines wherever they are), with ties in amounts and days.
    let mut csv = String::from("customer_id,order_id,ordered_at,channel,category,amount\n");
    for line in 0..600u32 {
        let customer = (line * 37) % 53;
        writeln!(
            csv,
            "c{customer:03},o{},2024-{:02}-{:02} {:02}:00:00,{},{},{}.{:02}",
            line / 2,
            1 + line % 12,
            1 + (line * 7) % 28,
            line % 24,
            ["app", "store", "web"][(line % 3) as usize],
            ["shoes", "bags"][(line % 2) as usize],
            10 + (line * 13) % 90,
            (line * 29) % 100
        )
        .unwrap();
    }
    let raw = out.path().join("unsorted.csv");
    std::fs::write(&raw, csv).unwrap();
    let raw = raw.to_str().unwrap();

    for args in [
        vec!["score", dir, "--as-of", "2025-01-01"],
        vec!["score", dir, "--as-of", "2024-10-01", "--window", "120d"],
        vec![
            "score",
            raw,
            "--as-of",
            "2024-12-31",
            "--timezone",
            "Asia/Shanghai",
        ],
    ] {
        let (one_plan, stderr) = score_in_buckets(&args, Some("0"));
        assert_eq!(buckets_in(&stderr), 0, "{args:?}: one plan");
        assert!(one_plan.lines().count() > 40, "{args:?}: {one_plan}");
        for lines in ["1", "7", "40", "100000"] {
            let (bucketed, stderr) = score_in_buckets(&args, Some(lines));
            let n = buckets_in(&stderr);
            assert!(n >= 1, "{args:?}: {lines} lines per bucket: no buckets");
            if lines != "100000" {
                assert!(n > 3, "{args:?}: {lines} lines per bucket gave {n} buckets");
            }
            assert!(
                bucketed == one_plan,
                "{args:?}: {lines} lines per bucket ({n} buckets) differs from one plan"
            );
        }
        let (default, _) = score_in_buckets(&args, None);
        assert!(default == one_plan, "{args:?}: default buckets");
    }
}
