//! `custseg clv` end to end: the CDNOW sample against the published estimates (skipped when
//! ../shared/data/cdnow is absent), scoring with saved parameters, the hand-checked fixture in
//! testdata/clv/, adversarial customers, determinism under shuffled input, a cross-check of the
//! data preparation against a naive computation on generated orders, the library entry point
//! for `custseg score`, and the examples of `custseg clv --help`. Bad-input cases are golden
//! cases under testdata/cases/clv/.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use btyd::simulate::SplitMix64;
use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::Value;

use crate::support::{buckets_in, custseg, read_parquet, root, testdata};

/// |got − want| ≤ half a unit of the last printed digit.
fn assert_printed(name: &str, got: f64, want: f64, decimals: i32) {
    let tol = 0.5 * 10f64.powi(-decimals);
    assert!(
        (got - want).abs() <= tol,
        "{name}: got {got:.6}, published {want} (±{tol})"
    );
}

/// A CDNOW file (whitespace-separated, dates as YYYYMMDD) as a canonical orders CSV
/// `dir/name`: customer_id = the id in field `id`, order_id = id-date-row, ordered_at =
/// YYYY-MM-DD from field `date`, amount = dollars from field `amount`; the first `skip` lines are
/// headers. `None` (with a note) when the data is absent.
fn cdnow_csv(
    file: &str,
    dir: &Path,
    name: &str,
    skip: usize,
    (id, date, amount): (usize, usize, usize),
) -> Option<PathBuf> {
    let path = root().join("../shared/data/cdnow").join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return None;
    };
    let mut csv = String::from("customer_id,order_id,ordered_at,amount\n");
    for (row, line) in text.lines().enumerate().skip(skip) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() <= id.max(date).max(amount) {
            continue;
        }
        let d = f[date];
        writeln!(
            csv,
            "{},{}-{d}-{row},{}-{}-{},{}",
            f[id],
            f[id],
            &d[0..4],
            &d[4..6],
            &d[6..8],
            f[amount]
        )
        .unwrap();
    }
    let out = dir.join(name);
    std::fs::write(&out, csv).unwrap();
    Some(out)
}

/// The CDNOW sample as a canonical orders CSV in `dir` (customer_id = master id).
fn cdnow_orders(dir: &Path) -> Option<PathBuf> {
    cdnow_csv("CDNOW_sample.txt", dir, "cdnow.csv", 0, (0, 2, 4))
}

/// Runs `custseg clv` with `args`, asserting success; returns stderr.
fn clv(args: &[&str]) -> String {
    let out = custseg()
        .arg("clv")
        .args(args)
        .output()
        .expect("run custseg");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "custseg clv {args:?} failed ({:?}):\n{stderr}",
        out.status.code()
    );
    stderr
}

fn f64s(df: &DataFrame, name: &str) -> Vec<f64> {
    let c = df
        .column(name)
        .unwrap_or_else(|_| panic!("column {name}"))
        .cast(&DataType::Float64)
        .unwrap();
    c.f64()
        .unwrap()
        .iter()
        .map(|v| v.expect("no nulls"))
        .collect()
}

fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    let c = df.column(name).unwrap().str().unwrap().clone();
    c.iter().map(|v| v.unwrap().to_string()).collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn clv_cdnow_bgnbd_and_gamma_gamma_match_the_published_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let Some(orders) = cdnow_orders(dir.path()) else {
        return;
    };
    let (params, table, diag) = (
        dir.path().join("p.json"),
        dir.path().join("out.parquet"),
        dir.path().join("d.json"),
    );
    let stderr = clv(&[
        s(&orders),
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--time-unit",
        "week",
        "--timezone",
        "UTC",
        "--save-params",
        s(&params),
        "--diagnostics",
        s(&diag),
        "-o",
        s(&table),
    ]);
    eprintln!("{stderr}");
    let p = json(&params);
    assert_eq!(p["model"], "bgnbd");
    assert_eq!(p["time_unit"], "week");
    assert_eq!(p["calibration_end"], "1997-09-30");
    assert_eq!(p["customers"], 2357);
    let m = &p["purchase_model"];
    assert_eq!(m["converged"], true);
    let get = |v: &Value, k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k}"));
    assert_printed("r", get(&m["params"], "r"), 0.243, 3);
    assert_printed("alpha", get(&m["params"], "alpha"), 4.414, 3);
    assert_printed("a", get(&m["params"], "a"), 0.793, 3);
    assert_printed("b", get(&m["params"], "b"), 2.426, 3);
    assert_printed("LL", get(m, "log_likelihood"), -9582.4, 1);
    for k in ["r", "alpha", "a", "b"] {
        assert!(get(&m["std_errors"], k) > 0.0, "std error of {k}");
    }
    let g = &p["spend_model"];
    assert_eq!(g["customers"], 946);
    assert_eq!(g["excluded_no_repeat"], 2357 - 946);
    assert_eq!(g["excluded_bad_spend"], 0);
    assert_printed("p", get(&g["params"], "p"), 6.25, 2);
    assert_printed("q", get(&g["params"], "q"), 3.74, 2);
    assert_printed("gamma", get(&g["params"], "gamma"), 15.44, 2);

    // The per-customer table: 2,357 customers; customer 00004 is Hardie's worked example
    // (x = 2, t_x = 30.43, T = 38.86, 1.226 expected repeat purchases in 39 weeks).
    let df = read_parquet(&table);
    assert_eq!(df.height(), 2357);
    let ids = strings(&df, "customer_id");
    let i = ids
        .iter()
        .position(|c| c == "00004")
        .expect("customer 00004");
    assert_eq!(f64s(&df, "x")[i], 2.0);
    assert_printed("t_x", f64s(&df, "t_x")[i], 30.43, 2);
    assert_printed("T", f64s(&df, "T")[i], 38.86, 2);
    assert_printed(
        "E[Y(39)]",
        f64s(&df, "expected_holdout_purchases")[i],
        1.226,
        3,
    );

    // Holdout: 1,882 actual repeat purchases; BG/NBD predicts about 1,653.
    let rows = json(&diag);
    let all = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["section"] == "holdout_by_frequency" && r["frequency"] == "all")
        .expect("holdout total row");
    assert_eq!(get(all, "actual"), 1882.0);
    let predicted = get(all, "expected");
    assert!((predicted - 1653.0).abs() < 5.0, "predicted {predicted}");
    assert!(stderr.contains("1882"), "holdout table on stderr");
    let predicted_sum: f64 = f64s(&df, "expected_holdout_purchases").iter().sum();
    assert!((predicted_sum - predicted).abs() < 1e-6);
    let histogram_total = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["section"] == "calibration_histogram" && r["frequency"] == "all")
        .expect("histogram total row");
    assert!((get(histogram_total, "expected") - 2357.0).abs() < 1e-6);
}

#[test]
fn clv_cdnow_pareto_nbd_and_mbgnbd_match_the_published_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let Some(orders) = cdnow_orders(dir.path()) else {
        return;
    };
    let base = [
        s(&orders),
        "--calibration-end",
        "1997-09-30",
        "--time-unit",
        "week",
        "--timezone",
        "UTC",
        "-q",
    ];
    let params = dir.path().join("pnbd.json");
    let table = dir.path().join("pnbd.parquet");
    let mut args = base.to_vec();
    args.extend([
        "--model",
        "pnbd",
        "--save-params",
        s(&params),
        "-o",
        s(&table),
    ]);
    clv(&args);
    let p = json(&params);
    let m = &p["purchase_model"];
    let get = |k: &str| m["params"][k].as_f64().unwrap();
    assert_eq!(p["model"], "pnbd");
    assert_eq!(m["converged"], true);
    assert_printed("r", get("r"), 0.553, 3);
    assert_printed("alpha", get("alpha"), 10.578, 3);
    assert_printed("s", get("s"), 0.606, 3);
    assert_printed("beta", get("beta"), 11.669, 3);
    assert_printed("LL", m["log_likelihood"].as_f64().unwrap(), -9595.0, 1);
    let df = read_parquet(&table);
    let dert = f64s(&df, "dert");
    assert_eq!(dert.len(), 2357);
    assert!(dert.iter().all(|v| v.is_finite() && *v > 0.0));

    let params = dir.path().join("mbgnbd.json");
    let mut args = base.to_vec();
    args.extend(["--model", "mbgnbd", "--save-params", s(&params), "-o", "-"]);
    clv(&args);
    let m = json(&params)["purchase_model"].clone();
    let get = |k: &str| m["params"][k].as_f64().unwrap();
    assert_eq!(m["converged"], true);
    assert_printed("r", get("r"), 0.525, 3);
    assert_printed("alpha", get("alpha"), 6.183, 3);
    assert_printed("a", get("a"), 0.891, 3);
    assert_printed("b", get("b"), 1.614, 3);
}

#[test]
fn clv_scoring_with_saved_params_reproduces_the_fitting_run() {
    let dir = tempfile::tempdir().unwrap();
    let Some(orders) = cdnow_orders(dir.path()) else {
        return;
    };
    for model in ["bgnbd", "pnbd"] {
        let params = dir.path().join(format!("{model}.json"));
        let (fitted, scored) = (
            dir.path().join(format!("{model}-fit.csv")),
            dir.path().join(format!("{model}-score.csv")),
        );
        let base = [
            s(&orders),
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--timezone",
            "UTC",
            "--horizon",
            "39w",
            "-q",
        ];
        let mut args = base.to_vec();
        args.extend([
            "--model",
            model,
            "--save-params",
            s(&params),
            "-o",
            s(&fitted),
        ]);
        clv(&args);
        let mut args = base.to_vec();
        args.extend(["--params", s(&params), "-o", s(&scored)]);
        clv(&args);
        let a = std::fs::read(&fitted).unwrap();
        assert!(!a.is_empty());
        assert_eq!(
            a,
            std::fs::read(&scored).unwrap(),
            "{model}: --params scoring differs from the fitting run"
        );
    }
}

/// The fixture's customers, checked by hand (docs/clv.md, section 2, has the table).
#[test]
fn clv_fixture_summary_is_the_hand_computed_one() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t.parquet");
    let stderr = clv(&[
        s(&testdata("clv/orders.csv")),
        "--timezone",
        "Europe/Berlin",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--params",
        s(&testdata("clv/cdnow_bgnbd_published.json")),
        "--horizon",
        "39w",
        "-o",
        s(&table),
    ]);
    assert!(stderr.contains(
        "left out 1 customers whose first purchase is after the calibration end, 1 with returns only"
    ));
    let df = read_parquet(&table);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "customer_id",
            "x",
            "t_x",
            "T",
            "mean_repeat_spend",
            "expected_purchases",
            "p_alive",
            "expected_avg_spend",
            "clv",
            "holdout_purchases",
            "expected_holdout_purchases"
        ]
    );
    // customer: (x, t_x days, T days, mean repeat spend, holdout transactions)
    let want: BTreeMap<&str, (f64, f64, f64, f64, f64)> = BTreeMap::from([
        ("C01", (2.0, 213.0, 272.0, 22.345, 1.0)),
        ("C02", (1.0, 19.0, 232.0, 16.0, 0.0)),
        ("C04", (0.0, 0.0, 0.0, 0.0, 0.0)),
        ("C06", (1.0, 120.0, 268.0, 12.5, 0.0)),
        ("C07", (1.0, 31.0, 213.0, 10.0, 0.0)),
        ("C08", (1.0, 31.0, 263.0, 0.0, 0.0)),
        ("C09", (0.0, 0.0, 121.0, 0.0, 1.0)),
    ]);
    let ids = strings(&df, "customer_id");
    assert_eq!(ids, want.keys().map(|k| k.to_string()).collect::<Vec<_>>());
    let (x, tx, t, m, h) = (
        f64s(&df, "x"),
        f64s(&df, "t_x"),
        f64s(&df, "T"),
        f64s(&df, "mean_repeat_spend"),
        f64s(&df, "holdout_purchases"),
    );
    for (i, (id, w)) in want.iter().enumerate() {
        assert_eq!(x[i], w.0, "{id} x");
        assert!((tx[i] - w.1 / 7.0).abs() < 1e-12, "{id} t_x {}", tx[i]);
        assert!((t[i] - w.2 / 7.0).abs() < 1e-12, "{id} T {}", t[i]);
        assert!((m[i] - w.3).abs() < 1e-9, "{id} mean_repeat_spend {}", m[i]);
        assert_eq!(h[i], w.4, "{id} holdout");
    }
    // C01 is Hardie's worked BG/NBD example; its Gamma-Gamma spend by hand:
    // (γ + m x) p / (p x + q − 1) = (15.44 + 44.69) · 6.25 / 15.24.
    assert_printed("C01 E[Y(39)]", f64s(&df, "expected_purchases")[0], 1.226, 3);
    let spend = f64s(&df, "expected_avg_spend")[0];
    assert!((spend - (15.44 + 2.0 * 22.345) * 6.25 / (6.25 * 2.0 + 3.74 - 1.0)).abs() < 1e-9);
}

/// Adversarial customers: 5,000 purchases on distinct days, a single purchase on the
/// calibration end day (T = 0), x = 1 with a negative net repeat day, a $0.00 one-timer,
/// returns only, and a first purchase after the calibration end.
#[test]
fn clv_adversarial_customers_give_finite_predictions_for_every_model() {
    let dir = tempfile::tempdir().unwrap();
    let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let day = |n: i64| start + chrono::Duration::days(n);
    let mut csv = String::from("customer_id,order_id,ordered_at,amount\n");
    for i in 0..5000 {
        writeln!(csv, "heavy,h{i},{},10.00", day(i)).unwrap();
    }
    let end = day(5000);
    writeln!(csv, "late,l1,{end},25.00").unwrap();
    writeln!(csv, "returns,r1,{},-30.00", day(100)).unwrap();
    writeln!(csv, "returns,r2,{},-5.00", day(200)).unwrap();
    writeln!(csv, "negative,n1,{},20.00", day(0)).unwrap();
    writeln!(csv, "negative,n2,{},5.00", day(50)).unwrap();
    writeln!(csv, "negative,n3,{},-15.00", day(50)).unwrap();
    writeln!(csv, "zero,z1,{},0.00", day(10)).unwrap();
    writeln!(csv, "after,a1,{},9.00", day(5003)).unwrap();
    let orders = dir.path().join("adversarial.csv");
    std::fs::write(&orders, csv).unwrap();
    let end = end.to_string();
    let holdout_end = day(5100).to_string();
    for model in ["bgnbd", "mbgnbd", "pnbd"] {
        for unit in ["day", "week", "month"] {
            let table = dir.path().join(format!("{model}-{unit}.parquet"));
            clv(&[
                s(&orders),
                "--timezone",
                "UTC",
                "--as-of",
                "2020-01-01",
                "--calibration-end",
                &end,
                "--holdout-end",
                &holdout_end,
                "--model",
                model,
                "--time-unit",
                unit,
                "--horizon",
                "100y",
                "-q",
                "-o",
                s(&table),
            ]);
            let df = read_parquet(&table);
            assert_eq!(
                strings(&df, "customer_id"),
                ["heavy", "late", "negative", "zero"],
                "{model} {unit}"
            );
            assert_eq!(f64s(&df, "x"), [4999.0, 0.0, 1.0, 0.0]);
            assert_eq!(f64s(&df, "T")[1], 0.0, "T of the calibration-end buyer");
            for c in df.columns() {
                if c.dtype() == &DataType::Float64 {
                    let v = f64s(&df, c.name());
                    assert!(
                        v.iter().all(|v| v.is_finite()),
                        "{model} {unit}: column {} has {v:?}",
                        c.name()
                    );
                }
            }
            let alive = f64s(&df, "p_alive");
            assert!(alive.iter().all(|p| (0.0..=1.0).contains(p)));
            assert!(f64s(&df, "clv").iter().all(|v| *v >= 0.0));
        }
    }
}

/// Order lines of generated customers, with the summary a naive computation expects.
struct Generated {
    csv: String,
    lines: Vec<String>,
    /// customer → (x, t_x days, T days, mean repeat spend, holdout transactions)
    expected: BTreeMap<String, (f64, i64, i64, f64, u32)>,
}

fn generate(customers: usize, seed: u64) -> Generated {
    let mut rng = SplitMix64::new(seed);
    let start = NaiveDate::from_ymd_opt(1997, 1, 1).unwrap();
    let calibration_end = 272; // 1997-09-30
    let holdout_end = 545; // 1998-06-30
    let mut lines = Vec::new();
    let mut expected = BTreeMap::new();
    for c in 0..customers {
        let id = format!("K{c:05}");
        // day → (net cents, purchase lines)
        let mut days: BTreeMap<i64, (i64, u32)> = BTreeMap::new();
        let n = 1 + (rng.next_u64() % 8) as usize;
        let first = (rng.next_u64() % 400) as i64;
        for k in 0..n {
            let d = first + (rng.next_u64() % 200) as i64;
            let lines_today = 1 + (rng.next_u64() % 3) as usize;
            for l in 0..lines_today {
                let roll = rng.next_u64() % 10;
                let cents: i64 = match roll {
                    0 => -((rng.next_u64() % 3000) as i64) - 1, // a return
                    1 => 0,
                    _ => (rng.next_u64() % 20_000) as i64 + 1,
                };
                let hour = rng.next_u64() % 24;
                let e = days.entry(d).or_insert((0, 0));
                e.0 += cents;
                if cents >= 0 {
                    e.1 += 1;
                }
                lines.push(format!(
                    "{id},{id}-{k}-{l},{} {hour:02}:{:02}:00,{}.{:02}",
                    start + chrono::Duration::days(d),
                    rng.next_u64() % 60,
                    if cents < 0 { "-" } else { "" }.to_string() + &(cents.abs() / 100).to_string(),
                    cents.abs() % 100
                ));
            }
        }
        let calibration: Vec<(i64, i64)> = days
            .iter()
            .filter(|(d, v)| **d <= calibration_end && v.1 > 0)
            .map(|(d, v)| (*d, v.0))
            .collect();
        if calibration.is_empty() {
            continue;
        }
        let x = calibration.len() - 1;
        let repeat: i64 = calibration[1..].iter().map(|v| v.1).sum();
        let holdout = days
            .iter()
            .filter(|(d, v)| **d > calibration_end && **d <= holdout_end && v.1 > 0)
            .count() as u32;
        expected.insert(
            id,
            (
                x as f64,
                calibration[x].0 - calibration[0].0,
                calibration_end - calibration[0].0,
                if x == 0 {
                    0.0
                } else {
                    repeat as f64 / 100.0 / x as f64
                },
                holdout,
            ),
        );
    }
    let csv = format!(
        "customer_id,order_id,ordered_at,amount\n{}\n",
        lines.join("\n")
    );
    Generated {
        csv,
        lines,
        expected,
    }
}

#[test]
fn clv_preparation_matches_a_naive_computation_on_generated_orders() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(400, 7);
    let orders = dir.path().join("orders.csv");
    std::fs::write(&orders, &g.csv).unwrap();
    let table = dir.path().join("t.parquet");
    clv(&[
        s(&orders),
        "--timezone",
        "UTC",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--time-unit",
        "day",
        "-q",
        "-o",
        s(&table),
    ]);
    let df = read_parquet(&table);
    let ids = strings(&df, "customer_id");
    assert_eq!(
        ids.iter().cloned().collect::<BTreeSet<_>>(),
        g.expected.keys().cloned().collect::<BTreeSet<_>>()
    );
    let (x, tx, t, m, h) = (
        f64s(&df, "x"),
        f64s(&df, "t_x"),
        f64s(&df, "T"),
        f64s(&df, "mean_repeat_spend"),
        f64s(&df, "holdout_purchases"),
    );
    for (i, id) in ids.iter().enumerate() {
        let w = g.expected[id];
        assert_eq!(x[i], w.0, "{id} x");
        assert_eq!(tx[i], w.1 as f64, "{id} t_x");
        assert_eq!(t[i], w.2 as f64, "{id} T");
        assert!((m[i] - w.3).abs() < 1e-9, "{id} m {} vs {}", m[i], w.3);
        assert_eq!(h[i], f64::from(w.4), "{id} holdout");
    }
}

/// `lines` in a seeded random order (Fisher-Yates).
fn shuffled<T: Clone>(lines: &[T], seed: u64) -> Vec<T> {
    let mut out = lines.to_vec();
    let mut rng = SplitMix64::new(seed);
    for i in (1..out.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

#[test]
fn clv_output_is_identical_for_shuffled_input_and_repeated_runs() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(300, 11);
    let shuffled = shuffled(&g.lines, 99);
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    std::fs::write(&a, &g.csv).unwrap();
    std::fs::write(
        &b,
        format!(
            "customer_id,order_id,ordered_at,amount\n{}\n",
            shuffled.join("\n")
        ),
    )
    .unwrap();
    let run = |input: &Path, out: &str| {
        let out = dir.path().join(out);
        clv(&[
            s(input),
            "--timezone",
            "UTC",
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "-q",
            "-o",
            s(&out),
        ]);
        std::fs::read(out).unwrap()
    };
    let first = run(&a, "1.csv");
    assert_eq!(first, run(&a, "2.csv"), "repeated runs differ");
    assert_eq!(first, run(&b, "3.csv"), "shuffled input gives other bytes");
}

/// `custseg clv` with `args` and `CUSTSEG_CLV_BUCKET_LINES` set (0: one plan; else lines per
/// bucket; None: the default), writing the table, params and diagnostics into `dir` under
/// `name`, with `--explain` so the plan of every bucket is on stderr. Returns the table, the
/// params and diagnostics files' text, and the number of buckets (0 for one plan).
fn clv_in_buckets(
    args: &[&str],
    dir: &Path,
    name: &str,
    bucket_lines: Option<&str>,
) -> (DataFrame, String, String, usize) {
    let table = dir.join(format!("{name}.parquet"));
    let params = dir.join(format!("{name}.json"));
    let diagnostics = dir.join(format!("{name}-diagnostics.csv"));
    let mut cmd = custseg();
    cmd.arg("clv")
        .args(args)
        .args(["--quiet", "--explain", "--save-params", s(&params)])
        .args(["--diagnostics", s(&diagnostics), "-o", s(&table)]);
    match bucket_lines {
        Some(n) => cmd.env("CUSTSEG_CLV_BUCKET_LINES", n),
        None => cmd.env_remove("CUSTSEG_CLV_BUCKET_LINES"),
    };
    let out = cmd.assert().success().get_output().clone();
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    (
        read_parquet(&table),
        std::fs::read_to_string(params).unwrap(),
        std::fs::read_to_string(diagnostics).unwrap(),
        buckets_in(&stderr),
    )
}

/// The customer summary collected bucket by bucket of customers (on integer positions) gives
/// the one-plan run's table, parameters and diagnostics, on an unsorted raw file in a zone east
/// of UTC and on its ingest directory (sorted, where the range filter meets parquet
/// statistics), in weeks and in days.
#[test]
fn clv_in_buckets_of_customers_equals_clv_in_one_plan() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(300, 13);
    let shuffled = shuffled(&g.lines, 5);
    let raw = dir.path().join("unsorted.csv");
    std::fs::write(
        &raw,
        format!(
            "customer_id,order_id,ordered_at,amount\n{}\n",
            shuffled.join("\n")
        ),
    )
    .unwrap();
    let ingested = dir.path().join("ingested");
    custseg()
        .args([
            "ingest",
            "--quiet",
            "--timezone",
            "UTC",
            "--as-of",
            "1998-06-30",
        ])
        .arg(&raw)
        .arg("--out")
        .arg(&ingested)
        .assert()
        .success();
    let periods = [
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
    ];
    let raw_args = [&[s(&raw), "--timezone", "Asia/Shanghai"][..], &periods].concat();
    let dir_args = [&[s(&ingested), "--time-unit", "day"][..], &periods].concat();
    for (case, args) in [raw_args, dir_args].iter().enumerate() {
        let (one_plan, params, diagnostics, n) =
            clv_in_buckets(args, dir.path(), &format!("{case}-one"), Some("0"));
        assert_eq!(n, 0, "{args:?}: one plan");
        assert!(one_plan.height() > 100, "{args:?}: {one_plan}");
        for lines in ["1", "7", "40", "100000", "default"] {
            let setting = (lines != "default").then_some(lines);
            let name = format!("{case}-{lines}");
            let (table, p, d, n) = clv_in_buckets(args, dir.path(), &name, setting);
            assert!(n >= 1, "{args:?}: {lines} lines per bucket: no buckets");
            if matches!(lines, "1" | "7" | "40") {
                assert!(n > 3, "{args:?}: {lines} lines per bucket gave {n} buckets");
            }
            assert!(
                table.equals_missing(&one_plan),
                "{args:?}: {lines} lines per bucket ({n} buckets): table differs from one plan"
            );
            assert_eq!(p, params, "{args:?}: {lines} lines per bucket: params");
            assert_eq!(
                d, diagnostics,
                "{args:?}: {lines} lines per bucket: diagnostics"
            );
        }
    }
}

/// The library entry point `custseg score` uses.
#[test]
fn clv_predict_table_has_the_documented_columns() {
    use custseg::models::clv::{predict_table, ClvOptions, Horizon, OUTPUT_COLUMNS};
    use custseg::models::params::{ModelKind, ParamsFile};
    use custseg::models::prep::{PrepOptions, TimeUnit};

    let as_of = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let data = custseg::io::input::load(&testdata("clv/orders.csv"), Some("Europe/Berlin"), as_of)
        .unwrap();
    let text = std::fs::read_to_string(testdata("clv/cdnow_bgnbd_published.json")).unwrap();
    let options = ClvOptions {
        prep: PrepOptions {
            calibration_end: NaiveDate::from_ymd_opt(1997, 9, 30).unwrap(),
            holdout_end: None,
            time_unit: TimeUnit::Week,
        },
        model: ModelKind::Bgnbd,
        horizon: Horizon::parse("12m").unwrap(),
        annual_discount_rate: 0.1,
        margin: 1.0,
        params: Some(ParamsFile::parse(&text, "published").unwrap()),
        threads: 1,
    };
    let df = predict_table(data.orders, &options).unwrap();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, OUTPUT_COLUMNS);
    assert_eq!(df.height(), 7);
    assert!(f64s(&df, "clv").iter().all(|v| v.is_finite() && *v > 0.0));
}

/// Orders of `customers` simulated from the BG/NBD story at the CDNOW estimates (FHL 2005,
/// section 3): first purchases spread over 1997's first 12 weeks, purchase days up to
/// 1998-06-30, each transaction 1–2 lines worth Gamma(6.25)/ν, ν ~ Gamma(3.74)/15.44.
fn simulated_orders(customers: usize, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed);
    let start = NaiveDate::from_ymd_opt(1997, 1, 1).unwrap();
    let end = 545.0; // 1998-06-30 in days after start
    let mut csv = String::from("customer_id,order_id,ordered_at,amount\n");
    for c in 0..customers {
        let lambda = rng.gamma(0.243) / 4.414 / 7.0; // per day
        let p = rng.beta(0.793, 2.426);
        let nu = rng.gamma(3.74) / 15.44;
        let mut t = (rng.uniform() * 84.0).floor();
        let mut k = 0;
        loop {
            let day = start + chrono::Duration::days(t as i64);
            for line in 0..1 + (rng.next_u64() % 2) {
                let cents = (rng.gamma(6.25) / nu * 100.0).round() / 2.0;
                writeln!(csv, "S{c:05},S{c:05}-{k}-{line},{day},{:.2}", cents / 100.0).unwrap();
            }
            k += 1;
            if k > 1 && rng.uniform() < p {
                break;
            }
            t += rng.exponential(lambda);
            if t > end {
                break;
            }
        }
    }
    csv
}

/// The examples of `custseg clv --help`, on the fixture (ingested for the directory input).
#[test]
fn clv_help_examples_run() {
    let help = custseg().args(["clv", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    for needle in [
        "custseg clv out/ --calibration-end 1997-09-30 --holdout-end 1998-06-30 --save-params p.json",
        "custseg clv orders.csv --timezone Europe/Berlin --model pnbd --horizon 12m -o clv.csv",
        "custseg clv out/ --params p.json --calibration-end 2025-03-31 --horizon 39w -o scores.parquet",
        "expected_avg_spend",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let orders = d.join("orders.csv");
    std::fs::write(&orders, simulated_orders(500, 3)).unwrap();
    let out = d.join("out");
    custseg()
        .args(["ingest", "--quiet", "--timezone", "Europe/Berlin", "--out"])
        .arg(&out)
        .arg(&orders)
        .assert()
        .success();
    let params = d.join("p.json");
    clv(&[
        s(&out),
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--save-params",
        s(&params),
        "-o",
        s(&d.join("fit.csv")),
    ]);
    clv(&[
        s(&orders),
        "--timezone",
        "Europe/Berlin",
        "--model",
        "pnbd",
        "--horizon",
        "12m",
        "--calibration-end",
        "1997-09-30",
        "-o",
        s(&d.join("clv.csv")),
    ]);
    let scores = d.join("scores.parquet");
    clv(&[
        s(&out),
        "--params",
        s(&params),
        "--calibration-end",
        "1998-06-30",
        "--horizon",
        "39w",
        "-o",
        s(&scores),
    ]);
    assert_eq!(read_parquet(&scores).height(), 500);
    // The ingest directory and the raw file give the same table.
    clv(&[
        s(&orders),
        "--timezone",
        "Europe/Berlin",
        "--params",
        s(&params),
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "-o",
        s(&d.join("raw.csv")),
    ]);
    clv(&[
        s(&out),
        "--params",
        s(&params),
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "-o",
        s(&d.join("dir.csv")),
    ]);
    assert_eq!(
        std::fs::read(d.join("raw.csv")).unwrap(),
        std::fs::read(d.join("dir.csv")).unwrap()
    );
}

// ---- issue 9: --from-histogram, --from-summary and the triples table ----

/// The CDNOW master file (23,570 customers) as a canonical orders CSV in `dir`.
fn cdnow_master_orders(dir: &Path) -> Option<PathBuf> {
    cdnow_csv("CDNOW_master.txt", dir, "cdnow_master.csv", 1, (0, 1, 3))
}

fn ints(df: &DataFrame, name: &str) -> Vec<i64> {
    let c = df.column(name).unwrap().cast(&DataType::Int64).unwrap();
    c.i64()
        .unwrap()
        .iter()
        .map(|v| v.expect("no nulls"))
        .collect()
}

/// A btyd-histogram CSV of a per-customer `custseg clv` table, counted with plain maps (not
/// with custseg's own code): triple rows by (x, t_x, T), spend rows by (x, mean_repeat_spend),
/// floats printed in Rust's shortest round-trip form.
fn histogram_csv(customers: &DataFrame) -> String {
    let (x, t_x, age, m) = (
        ints(customers, "x"),
        f64s(customers, "t_x"),
        f64s(customers, "T"),
        f64s(customers, "mean_repeat_spend"),
    );
    let mut triples: BTreeMap<(i64, u64, u64), (f64, f64, i64)> = BTreeMap::new();
    let mut spend: BTreeMap<(i64, u64), (f64, i64)> = BTreeMap::new();
    for i in 0..x.len() {
        // Non-negative floats order like their bit patterns.
        let e = triples
            .entry((x[i], t_x[i].to_bits(), age[i].to_bits()))
            .or_insert((t_x[i], age[i], 0));
        e.2 += 1;
        spend.entry((x[i], m[i].to_bits())).or_insert((m[i], 0)).1 += 1;
    }
    let mut csv = String::from("part,x,t_x,T,mean_repeat_spend,customers\n");
    for ((x, _), (m, n)) in &spend {
        writeln!(csv, "spend,{x},,,{m},{n}").unwrap();
    }
    for ((x, ..), (t_x, age, n)) in &triples {
        writeln!(csv, "triple,{x},{t_x},{age},,{n}").unwrap();
    }
    csv
}

fn close(name: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-300),
        "{name}: got {got}, want {want} (relative {rel})"
    );
}

/// Issue 9's done-when line: on the CDNOW master data the BG/NBD and Gamma-Gamma estimates from
/// a histogram equal the fit on the order lines; the triples table, joined back per customer
/// (here by hand, with maps), gives every customer the order-line run's predictions.
#[test]
fn clv_from_histogram_reproduces_the_cdnow_master_fit_and_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(orders) = cdnow_master_orders(d) else {
        return;
    };
    let (params, table) = (d.join("p.json"), d.join("customers.parquet"));
    let common = ["--calibration-end", "1997-09-30", "--time-unit", "week"];
    let mut args = vec![s(&orders), "--timezone", "UTC", "-q"];
    args.extend(common);
    args.extend(["--save-params", s(&params), "-o", s(&table)]);
    clv(&args);
    let customers = read_parquet(&table);
    assert_eq!(customers.height(), 23570);
    let histogram = d.join("histogram.csv");
    std::fs::write(&histogram, histogram_csv(&customers)).unwrap();

    let (fitted, triples) = (d.join("h.json"), d.join("triples.parquet"));
    let mut args = vec!["--from-histogram", s(&histogram), "-q"];
    args.extend(common);
    args.extend(["--save-params", s(&fitted), "-o", s(&triples)]);
    clv(&args);
    let (a, b) = (json(&params), json(&fitted));
    assert_eq!(b["customers"], 23570);
    assert_eq!(b["calibration_end"], "1997-09-30");
    assert_eq!(b["purchase_model"]["converged"], true);
    for k in ["r", "alpha", "a", "b"] {
        let (x, y) = (
            &a["purchase_model"]["params"][k],
            &b["purchase_model"]["params"][k],
        );
        close(k, y.as_f64().unwrap(), x.as_f64().unwrap(), 1e-6);
    }
    close(
        "log-likelihood",
        b["purchase_model"]["log_likelihood"].as_f64().unwrap(),
        a["purchase_model"]["log_likelihood"].as_f64().unwrap(),
        1e-9,
    );
    for k in ["p", "q", "gamma"] {
        let (x, y) = (
            &a["spend_model"]["params"][k],
            &b["spend_model"]["params"][k],
        );
        close(k, y.as_f64().unwrap(), x.as_f64().unwrap(), 1e-6);
    }
    for k in ["customers", "excluded_no_repeat", "excluded_bad_spend"] {
        assert_eq!(a["spend_model"][k], b["spend_model"][k], "{k}");
    }

    // Predictions with the order-line fit's params, per distinct row, joined back by hand.
    let scored = d.join("scored.parquet");
    let mut args = vec![
        s(&orders),
        "--timezone",
        "UTC",
        "-q",
        "--params",
        s(&params),
        "--horizon",
        "39w",
        "--margin",
        "0.3",
        "-o",
        s(&scored),
    ];
    args.extend(common);
    clv(&args);
    let mut args = vec![
        "--from-histogram",
        s(&histogram),
        "-q",
        "--params",
        s(&params),
        "--horizon",
        "39w",
        "--margin",
        "0.3",
        "-o",
        s(&triples),
    ];
    args.extend(common);
    clv(&args);
    let t = read_parquet(&triples);
    let names: Vec<String> = t.get_column_names().iter().map(|n| n.to_string()).collect();
    assert_eq!(
        names,
        [
            "part",
            "x",
            "t_x",
            "T",
            "mean_repeat_spend",
            "expected_purchases",
            "p_alive",
            "discounted_purchases",
            "dert",
            "expected_avg_spend",
            "margin"
        ]
    );
    let part = strings(&t, "part");
    let col = |name: &str| -> Vec<Option<f64>> {
        let c = t.column(name).unwrap().cast(&DataType::Float64).unwrap();
        c.f64().unwrap().iter().collect()
    };
    let (tx, tt, tm) = (col("x"), col("t_x"), col("T"));
    let (tmean, te, tp, td, ts, tmargin, tdert) = (
        col("mean_repeat_spend"),
        col("expected_purchases"),
        col("p_alive"),
        col("discounted_purchases"),
        col("expected_avg_spend"),
        col("margin"),
        col("dert"),
    );
    let mut by_triple: BTreeMap<(u64, u64, u64), (f64, f64, f64)> = BTreeMap::new();
    let mut by_spend: BTreeMap<(u64, u64), (f64, f64)> = BTreeMap::new();
    for i in 0..t.height() {
        let x = tx[i].unwrap().to_bits();
        assert!(tdert[i].is_none(), "dert is null for BG/NBD");
        match part[i].as_str() {
            "triple" => {
                assert!(tmean[i].is_none() && ts[i].is_none());
                by_triple.insert(
                    (x, tt[i].unwrap().to_bits(), tm[i].unwrap().to_bits()),
                    (te[i].unwrap(), tp[i].unwrap(), td[i].unwrap()),
                );
            }
            "spend" => {
                assert!(tt[i].is_none() && te[i].is_none());
                by_spend.insert(
                    (x, tmean[i].unwrap().to_bits()),
                    (ts[i].unwrap(), tmargin[i].unwrap()),
                );
            }
            other => panic!("part {other}"),
        }
    }
    // Spend rows first, each part sorted by its key.
    let first_triple = part.iter().position(|p| p == "triple").unwrap();
    assert!(part[first_triple..].iter().all(|p| p == "triple"));
    let local = read_parquet(&scored);
    let (x, t_x, age, m) = (
        f64s(&local, "x"),
        f64s(&local, "t_x"),
        f64s(&local, "T"),
        f64s(&local, "mean_repeat_spend"),
    );
    let (want_e, want_p, want_s, want_clv) = (
        f64s(&local, "expected_purchases"),
        f64s(&local, "p_alive"),
        f64s(&local, "expected_avg_spend"),
        f64s(&local, "clv"),
    );
    for i in 0..local.height() {
        let (e, p, disc) = by_triple[&(x[i].to_bits(), t_x[i].to_bits(), age[i].to_bits())];
        let (spend, margin) = by_spend[&(x[i].to_bits(), m[i].to_bits())];
        assert_eq!(margin, 0.3);
        close("expected_purchases", e, want_e[i], 1e-12);
        close("p_alive", p, want_p[i], 1e-12);
        close("expected_avg_spend", spend, want_s[i], 1e-12);
        close("clv", disc * spend * margin, want_clv[i], 1e-9);
    }
}

/// Writes the first five columns of a `custseg clv` table as a btyd-summary file.
fn summary_file(table: &DataFrame, path: &Path) {
    let mut df = table
        .select(["customer_id", "x", "t_x", "T", "mean_repeat_spend"])
        .unwrap();
    let file = std::fs::File::create(path).unwrap();
    if path.extension().is_some_and(|e| e == "parquet") {
        ParquetWriter::new(file).finish(&mut df).unwrap();
    } else {
        CsvWriter::new(file).finish(&mut df).unwrap();
    }
}

/// `--from-summary` gives the bytes of `custseg clv --params` on the order lines, for BG/NBD and
/// Pareto/NBD (dert), from CSV and Parquet summaries, with non-default horizon, discount and
/// margin.
#[test]
fn clv_from_summary_equals_scoring_the_shop_order_lines() {
    // The --help examples these tests run (file names aside).
    let help = custseg().args(["clv", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    for needle in [
        "custseg clv --from-histogram hist.parquet --calibration-end 2024-12-31 --save-params p.json",
        "custseg clv --from-histogram hist.parquet --params p.json --margin 0.3 -o triples.parquet",
        "custseg clv --from-summary summary.parquet --params p.json -o clv.parquet",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shop = d.join("shop");
    custseg()
        .args(["ingest", "-q", "--as-of", "2025-01-01", "--config"])
        .arg(root().join("examples/shop/custseg.toml"))
        .arg("--out")
        .arg(&shop)
        .assert()
        .success();
    for model in ["bgnbd", "pnbd"] {
        let params = d.join(format!("{model}.json"));
        let fit = d.join(format!("{model}-fit.parquet"));
        clv(&[
            s(&shop),
            "-q",
            "--calibration-end",
            "2024-12-31",
            "--model",
            model,
            "--save-params",
            s(&params),
            "-o",
            s(&fit),
        ]);
        let scoring = [
            "--params",
            s(&params),
            "--horizon",
            "39w",
            "--discount-rate",
            "0.05",
            "--margin",
            "0.4",
            "-q",
        ];
        let local = d.join(format!("{model}-local.csv"));
        let mut args = vec![s(&shop), "--calibration-end", "2024-12-31", "-o", s(&local)];
        args.extend(scoring);
        clv(&args);
        let expected = std::fs::read_to_string(&local).unwrap();
        assert_eq!(expected.lines().count(), 145, "144 customers");
        assert_eq!(
            expected.lines().next().unwrap().ends_with(",dert"),
            model == "pnbd"
        );
        for ext in ["csv", "parquet"] {
            let summary = d.join(format!("{model}-summary.{ext}"));
            summary_file(&read_parquet(&fit), &summary);
            let out = d.join(format!("{model}-from-{ext}.csv"));
            let mut args = vec!["--from-summary", s(&summary), "-o", s(&out)];
            args.extend(scoring);
            clv(&args);
            assert_eq!(
                std::fs::read_to_string(&out).unwrap(),
                expected,
                "{model}, {ext} summary"
            );
        }
    }
}

/// Issue 9: `segment` and `report segments` take a per-customer table with the `rfm` job's
/// columns (as exported from an engine) and say which columns are missing when they need more.
#[test]
fn segment_and_report_accept_an_exported_rfm_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shop = d.join("shop");
    custseg()
        .args(["ingest", "-q", "--as-of", "2025-01-01", "--config"])
        .arg(root().join("examples/shop/custseg.toml"))
        .arg("--out")
        .arg(&shop)
        .assert()
        .success();
    let run = |args: &[&str]| -> String {
        let out = custseg().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let from_orders = run(&[
        "segment",
        s(&shop),
        "--as-of",
        "2025-01-01",
        "--by",
        "segment",
        "--format",
        "csv",
        "-q",
    ]);
    for ext in ["parquet", "csv"] {
        let table = d.join(format!("rfm.{ext}"));
        run(&[
            "rfm",
            s(&shop),
            "--as-of",
            "2025-01-01",
            "-q",
            "-o",
            s(&table),
        ]);
        let by = ["--by", "segment", "--format", "csv", "-q"];
        let mut args = vec!["segment", s(&table)];
        args.extend(by);
        assert_eq!(run(&args), from_orders, "segment --by from rfm.{ext}");
        let report = run(&["report", "segments", s(&table), "--format", "csv", "-q"]);
        assert!(report.starts_with("segment,customers,"), "{report}");
        assert!(report.lines().last().unwrap().starts_with("Total,144,"));
    }
    // Whole-number amounts exported as integers still give fractional shares.
    let ints = d.join("ints.csv");
    std::fs::write(
        &ints,
        "customer_id,segment,monetary\nA,Champions,3\nB,Lost,4\n",
    )
    .unwrap();
    let groups = run(&[
        "segment",
        s(&ints),
        "--by",
        "segment",
        "--format",
        "csv",
        "-q",
    ]);
    assert!(groups.contains("Lost,1,4.0,0.5,0.5714"), "{groups}");
    // A report that needs more than the table has names what is missing (exit 2).
    let out = custseg()
        .args(["report", "segments", s(&ints), "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("report segments needs the columns recency_days, frequency"),
        "{stderr}"
    );
}
