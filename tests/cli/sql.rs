//! `custseg sql`: usage errors, and parity of the generated SQL run in DuckDB with the local
//! commands (tests/engines/duckdb_parity.py) on the shop example and on seeded generated data
//! with returns, same-day orders, ties, a returns-only customer and DST-crossing local dates;
//! and the engine-side CLV path (histogram in the engine, fit and triples locally, clv-join in
//! the engine) against `custseg clv --params` on the order lines, with the histogram fit's
//! params against the order-line fit's.
//!
//! The parity tests need `python3` with the `duckdb` and `pyarrow` packages; without them they
//! print why and pass, unless `CUSTSEG_REQUIRE_DUCKDB=1` (CI), which makes them fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{self, custseg};

const SHOP_ZONE: &str = "Asia/Shanghai";
const GENERATED_ZONE: &str = "America/New_York";

fn engines(rel: &str) -> PathBuf {
    support::root().join("tests/engines").join(rel)
}

/// True when python3 can import duckdb and pyarrow; otherwise explains, and fails the test
/// when CUSTSEG_REQUIRE_DUCKDB=1.
fn duckdb_available(test: &str) -> bool {
    let probe = Command::new("python3")
        .args(["-c", "import duckdb, pyarrow"])
        .output();
    let why = match probe {
        Ok(out) if out.status.success() => return true,
        Ok(out) => format!(
            "python3 cannot import duckdb and pyarrow: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ),
        Err(e) => format!("python3 is not runnable: {e}"),
    };
    assert!(
        std::env::var("CUSTSEG_REQUIRE_DUCKDB").as_deref() != Ok("1"),
        "{test}: CUSTSEG_REQUIRE_DUCKDB=1 but {why} (pip install duckdb pyarrow)"
    );
    eprintln!("{test}: skipped: {why}");
    false
}

/// An ingested orders table in a temporary directory.
struct Data {
    dir: tempfile::TempDir,
    zone: &'static str,
}

impl Data {
    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn orders(&self) -> PathBuf {
        self.out().join("orders.parquet")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn shop() -> Data {
    let dir = tempfile::tempdir().unwrap();
    custseg()
        .args(["ingest", "--quiet", "--as-of", "2025-01-01", "--config"])
        .arg(support::root().join("examples/shop/custseg.toml"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .success();
    Data {
        dir,
        zone: SHOP_ZONE,
    }
}

fn generated() -> Data {
    generated_with(&[])
}

/// The generator's data with extra options (`--heterogeneous`).
fn generated_with(options: &[&str]) -> Data {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(engines("gen_parity_orders.py"))
        .args(["--seed", "7", "--customers", "400"])
        .args(options)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(status.status.success(), "generator: {status:?}");
    custseg()
        .args(["ingest", "--quiet", "--as-of", "2025-01-01"])
        .arg(dir.path().join("orders.csv"))
        .args(["--timezone", GENERATED_ZONE, "--out"])
        .arg(dir.path().join("out"))
        .assert()
        .success();
    Data {
        dir,
        zone: GENERATED_ZONE,
    }
}

/// How the engine's result is compared with the local table.
enum Compare<'a> {
    /// All columns, rows matched by customer_id.
    Whole,
    /// These columns only (the summary inside `custseg clv`'s output).
    Columns(&'a str),
    /// The local clv output collapsed into the histogram.
    Histogram,
}

/// Runs `custseg LOCAL... -o expected.parquet`, `custseg sql SQL... -o query.sql` and the
/// parity script; panics with the script's report when they differ.
fn parity(data: &Data, label: &str, local: &[&str], sql: &[&str], compare: &Compare<'_>) {
    let expected = data.path("expected.parquet");
    let query = data.path("query.sql");
    let (command, options) = local.split_first().unwrap();
    custseg()
        .arg(command)
        .arg(data.out())
        .args(options)
        .arg("-o")
        .arg(&expected)
        .arg("--quiet")
        .assert()
        .success();
    custseg()
        .args(["sql"])
        .args(sql)
        .args(["--dialect", "duckdb", "--timezone", data.zone])
        .args(if sql.contains(&"--orders") {
            &[][..]
        } else {
            &["--orders", "orders"][..]
        })
        .arg("-o")
        .arg(&query)
        .arg("--quiet")
        .assert()
        .success();
    let mut script = Command::new("python3");
    script
        .arg(engines("duckdb_parity.py"))
        .arg("--sql")
        .arg(&query)
        .arg("--orders")
        .arg(data.orders())
        .arg("--expected")
        .arg(&expected)
        .args(["--label", label]);
    match compare {
        Compare::Whole => {}
        Compare::Columns(c) => {
            script.args(["--columns", c]);
        }
        Compare::Histogram => {
            script.args([
                "--histogram-of-expected",
                "--key",
                "part,x,t_x,T,mean_repeat_spend",
            ]);
        }
    }
    let out = script.output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success() && report.starts_with("PASS"),
        "{label}:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{report}");
}

const SUMMARY: Compare<'static> = Compare::Columns("customer_id,x,t_x,T,mean_repeat_spend");

fn rfm_cases(data: &Data, cases: &[&[&str]]) {
    for options in cases {
        let mut local = vec!["rfm"];
        local.extend_from_slice(options);
        let mut sql = vec!["rfm"];
        sql.extend_from_slice(options);
        parity(
            data,
            &format!("rfm {}", options.join(" ")),
            &local,
            &sql,
            &Compare::Whole,
        );
    }
}

fn btyd_cases(data: &Data, cases: &[&[&str]]) {
    for options in cases {
        let mut local = vec!["clv"];
        local.extend_from_slice(options);
        for (job, compare) in [
            ("btyd-summary", &SUMMARY),
            ("btyd-histogram", &Compare::Histogram),
        ] {
            let mut sql = vec![job];
            sql.extend_from_slice(options);
            parity(
                data,
                &format!("{job} {}", options.join(" ")),
                &local,
                &sql,
                compare,
            );
        }
    }
}

#[test]
fn sql_rfm_in_duckdb_equals_custseg_rfm_on_the_shop_example() {
    if !duckdb_available("sql_rfm_in_duckdb_equals_custseg_rfm_on_the_shop_example") {
        return;
    }
    let data = shop();
    rfm_cases(
        &data,
        &[
            &[],
            &["--as-of", "2025-01-01"],
            &["--as-of", "2024-09-30", "--window", "90d", "--bins", "4"],
        ],
    );
}

#[test]
fn sql_btyd_jobs_in_duckdb_equal_custseg_clv_on_the_shop_example() {
    if !duckdb_available("sql_btyd_jobs_in_duckdb_equal_custseg_clv_on_the_shop_example") {
        return;
    }
    let data = shop();
    btyd_cases(
        &data,
        &[
            &[],
            &["--as-of", "2024-12-31"],
            &["--calibration-end", "2024-09-30", "--time-unit", "day"],
        ],
    );
}

#[test]
fn sql_jobs_in_duckdb_equal_the_local_commands_on_generated_edge_cases() {
    if !duckdb_available("sql_jobs_in_duckdb_equal_the_local_commands_on_generated_edge_cases") {
        return;
    }
    let data = generated();
    let cuts = data.path("cuts.toml");
    std::fs::write(
        &cuts,
        "recency_days = [30, 90, 365]\nfrequency = [1, 2, 4]\nmonetary = [0, 150.5, 400]\n",
    )
    .unwrap();
    let cuts = cuts.to_str().unwrap();
    rfm_cases(
        &data,
        &[
            &[],
            &["--as-of", "2024-10-01"],
            &["--window", "180d", "--bins", "3"],
            &["--bins", "10"],
            &["--thresholds", cuts],
        ],
    );
    btyd_cases(
        &data,
        &[
            &[],
            &["--as-of", "2024-06-30"],
            &["--time-unit", "month"],
            &["--calibration-end", "2024-10-01", "--time-unit", "day"],
        ],
    );
    // The returns-only customer is in neither table; the negative-monetary one is ranked.
    let rfm = support::read_parquet(&data.path("expected.parquet"));
    let ids = rfm.column("customer_id").unwrap().str().unwrap().clone();
    assert!(!ids.iter().any(|c| c == Some("R-only")));
    // Renamed columns of a warehouse table, through --columns.
    let renamed = "(SELECT customer_id AS cust_no, order_id, ordered_at AS created_ts, amount AS net_amount, is_return FROM orders) src";
    parity(
        &data,
        "rfm --columns",
        &["rfm"],
        &[
            "rfm",
            "--columns",
            "customer_id=cust_no,ordered_at=created_ts,amount=net_amount",
            "--orders",
            renamed,
        ],
        &Compare::Whole,
    );
}

#[test]
fn sql_generated_customers_cover_the_planted_edge_cases() {
    // The generator's planted customers reach the local rfm table as intended, so the parity
    // runs above really exercise them.
    if !duckdb_available("sql_generated_customers_cover_the_planted_edge_cases") {
        return;
    }
    let data = generated();
    let out = custseg()
        .arg("rfm")
        .arg(data.out())
        .args(["--format", "csv", "--quiet"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let row = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .map(str::to_string)
    };
    assert_eq!(row("R-only"), None, "returns-only customers are not scored");
    let neg = row("NEG").expect("NEG is scored");
    assert!(neg.contains(",-30.0,"), "NEG: monetary 10 + 10 - 50: {neg}");
    let half = row("HALF").expect("HALF is scored");
    assert!(
        half.contains(",2.01,1.0,"),
        "HALF: 2.01 / 2 = 1.005 rounds to 1.0 as polars does: {half}"
    );
}

fn sql_command(args: &[&str]) -> assert_cmd::assert::Assert {
    custseg().arg("sql").args(args).assert()
}

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

#[test]
fn sql_bad_input_is_a_usage_error() {
    let base = ["--orders", "orders", "--timezone", "UTC"];
    let cases: Vec<(Vec<&str>, &str)> =
        vec![
        (vec!["rfm", "--dialect", "oracle"], "invalid value 'oracle'"),
        (vec!["churn", "--dialect", "spark"], "invalid value 'churn'"),
        (
            vec!["rfm", "--dialect", "spark", "--columns", "customer=cust"],
            "custseg: error: --columns names \"customer\", which is not a canonical orders column",
        ),
        (
            vec!["rfm", "--dialect", "duckdb", "--columns", "amount"],
            "custseg: error: --columns entry \"amount\" is not canonical=name",
        ),
        (
            vec!["rfm", "--dialect", "duckdb", "--as-of", "2024-13-01"],
            "custseg: error: --as-of \"2024-13-01\" is not a date",
        ),
        (
            vec!["btyd-summary", "--dialect", "duckdb", "--calibration-end", "yesterday"],
            "custseg: error: --calibration-end \"yesterday\" is not a date",
        ),
        (
            vec!["btyd-summary", "--dialect", "duckdb", "--window", "90d"],
            "custseg: error: --window does not apply to the btyd-summary job",
        ),
        (
            vec!["rfm", "--dialect", "duckdb", "--bins", "11"],
            "custseg: error: --bins 11 must be between 2 and 10",
        ),
        (
            vec!["clv-join", "--dialect", "spark"],
            "custseg: error: clv-join needs --triples TABLE",
        ),
        (
            vec!["rfm", "--dialect", "spark", "--format", "csv"],
            "custseg: error: --format does not apply to custseg sql",
        ),
    ];
    for (args, message) in cases {
        let mut all = args.clone();
        all.extend_from_slice(&base);
        let a = sql_command(&all).code(2);
        let err = stderr_of(&a);
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let a = sql_command(&[
        "rfm",
        "--dialect",
        "spark",
        "--orders",
        "o",
        "--timezone",
        "Mars/Base",
    ])
    .code(2);
    assert!(
        stderr_of(&a).contains("custseg: error: --timezone \"Mars/Base\" is not an IANA time zone"),
        "{}",
        stderr_of(&a)
    );
}

fn query(args: &[&str]) -> String {
    let out = sql_command(args).success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn sql_writes_one_commented_query_to_stdout_or_a_file() {
    let args = [
        "rfm",
        "--dialect",
        "spark",
        "--orders",
        "lake.orders",
        "--timezone",
        "Asia/Shanghai",
        "--as-of",
        "2025-01-01",
    ];
    let text = query(&args);
    assert_eq!(text, query(&args), "same flags, same bytes");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rfm.sql");
    let mut with_o = args.to_vec();
    with_o.extend_from_slice(&["-o", file.to_str().unwrap(), "--quiet"]);
    sql_command(&with_o).success().stdout("");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    // One statement; every step is commented; Spark escapes the quote in a segment name.
    let code: String = text
        .lines()
        .filter(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(code.matches(';').count(), 1, "{text}");
    assert!(text.trim_end().ends_with(';'));
    let steps = text.lines().filter(|l| l.ends_with(" AS (")).count();
    let comments = text
        .lines()
        .filter(|l| {
            l.starts_with("-- ")
                && l[3..]
                    .split('.')
                    .next()
                    .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .count();
    assert_eq!(
        comments,
        steps + 1,
        "each step and the final select numbered:\n{text}"
    );
    assert!(text.contains("'Can\\'t Lose Them'"), "{text}");
    assert!(text.contains("from_utc_timestamp(`ordered_at`, 'Asia/Shanghai')"));
    assert!(text.contains("20089 /* 2025-01-01 */"));
    // No window over all customers: every OVER without PARTITION BY runs over bucket totals.
    for line in text
        .lines()
        .filter(|l| l.contains(" OVER (") && !l.contains("PARTITION BY"))
    {
        assert!(line.contains("SUM(SUM(n)) OVER (ORDER BY b"), "{line}");
    }
    let duck = query(&[
        "rfm",
        "--dialect",
        "duckdb",
        "--orders",
        "o",
        "--timezone",
        "UTC",
    ]);
    assert!(duck.contains("'Can''t Lose Them'"));
    assert!(duck.contains("SELECT MAX(day) + 1 AS as_of_day FROM lines"));
}

/// Runs `custseg sql JOB... --dialect duckdb` and exports the result to `file` (parquet).
fn export_in_duckdb(data: &Data, sql: &[&str], file: &Path) {
    let query = data.path("export.sql");
    custseg()
        .arg("sql")
        .args(sql)
        .args([
            "--dialect",
            "duckdb",
            "--orders",
            "orders",
            "--timezone",
            data.zone,
        ])
        .arg("-o")
        .arg(&query)
        .arg("--quiet")
        .assert()
        .success();
    let out = Command::new("python3")
        .arg(engines("duckdb_parity.py"))
        .arg("--sql")
        .arg(&query)
        .arg("--orders")
        .arg(data.orders())
        .arg("--export")
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "export {sql:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the clv-join query in DuckDB over `triples` and compares it with `expected` (every
/// column, rows by customer_id); returns the script's exit status and report.
fn clv_join_report(
    data: &Data,
    label: &str,
    join_sql: &Path,
    triples: &Path,
    expected: &Path,
) -> (bool, String) {
    let out = Command::new("python3")
        .arg(engines("duckdb_parity.py"))
        .arg("--sql")
        .arg(join_sql)
        .arg("--orders")
        .arg(data.orders())
        .arg("--triples")
        .arg(triples)
        .arg("--expected")
        .arg(expected)
        .args(["--label", label])
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && report.starts_with("PASS"), report)
}

/// How the spend (Gamma-Gamma) parts of two params files are compared.
#[derive(Clone, Copy)]
enum SpendFit {
    /// p, q, γ within 1e-6 relative.
    Params,
    /// The log-likelihood within 1e-6 relative only: when every customer's spend comes from
    /// the same distribution the likelihood has no maximum (q, γ → ∞ with γ/q fixed), and two
    /// fits stop at different points of that ridge.
    LogLikelihood,
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// The histogram fit's params equal the order-line fit's: model, unit, calibration end and
/// customer counts exactly, purchase-model parameters within 1e-6 relative, and the spend model
/// as `spend` says.
fn assert_same_fit(label: &str, lines: &Path, histogram: &Path, spend: SpendFit) {
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (a, b) = (read(lines), read(histogram));
    for key in ["model", "time_unit", "calibration_end", "customers"] {
        assert_eq!(a[key], b[key], "{label}: {key}");
    }
    let params = |v: &serde_json::Value, model: &str| -> Vec<(String, f64)> {
        v[model]["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, x)| (k.clone(), x.as_f64().unwrap()))
            .collect()
    };
    let (pa, pb) = (params(&a, "purchase_model"), params(&b, "purchase_model"));
    assert_eq!(pa.len(), pb.len(), "{label}: purchase params");
    for ((k, x), (_, y)) in pa.iter().zip(&pb) {
        assert!(
            close(*x, *y, 1e-6),
            "{label}: {k}: order lines {x}, histogram {y}"
        );
    }
    let (sa, sb) = (&a["spend_model"], &b["spend_model"]);
    for key in ["customers", "excluded_no_repeat", "excluded_bad_spend"] {
        assert_eq!(sa[key], sb[key], "{label}: spend_model.{key}");
    }
    match spend {
        SpendFit::Params => {
            for ((k, x), (_, y)) in params(&a, "spend_model")
                .iter()
                .zip(&params(&b, "spend_model"))
            {
                assert!(
                    close(*x, *y, 1e-6),
                    "{label}: {k}: order lines {x}, histogram {y}"
                );
            }
        }
        SpendFit::LogLikelihood => {
            let ll = |v: &serde_json::Value| v["log_likelihood"].as_f64().unwrap();
            assert!(
                close(ll(sa), ll(sb), 1e-6),
                "{label}: spend log-likelihood: order lines {}, histogram {}",
                ll(sa),
                ll(sb)
            );
        }
    }
}

/// The engine-side CLV path against the local one, in DuckDB: btyd-histogram SQL → parquet →
/// `custseg clv --from-histogram` (fit, --save-params P) → `custseg clv --params P
/// --from-histogram H -o triples.parquet` → clv-join SQL over the triples, compared with
/// `custseg clv --params P` on the same order lines (every column, floats 1e-9 relative). The
/// histogram fit's params are compared with those of `custseg clv --save-params` on the order
/// lines. `options` go to every step (calibration end, time unit); `model` to the fits and the
/// join. Returns the paths of the join query, the triples and the expected table.
fn clv_join_parity(
    data: &Data,
    model: &str,
    options: &[&str],
    spend: SpendFit,
) -> (PathBuf, PathBuf, PathBuf) {
    let label = format!("clv-join --model {model} {}", options.join(" "));
    let p = |name: &str| data.path(name);
    let model = ["--model", model];
    // The fit on the order lines, for its params.
    custseg()
        .arg("clv")
        .arg(data.out())
        .args(model)
        .args(options)
        .arg("--save-params")
        .arg(p("lines-params.json"))
        .arg("-o")
        .arg(p("lines-clv.parquet"))
        .arg("--quiet")
        .assert()
        .success();
    // The histogram, computed in DuckDB and exported; fitted locally.
    let mut job = vec!["btyd-histogram"];
    job.extend_from_slice(options);
    export_in_duckdb(data, &job, &p("hist.parquet"));
    custseg()
        .args(["clv", "--from-histogram"])
        .arg(p("hist.parquet"))
        .args(model)
        .args(options)
        .arg("--save-params")
        .arg(p("params.json"))
        .arg("-o")
        .arg(p("fit-triples.parquet"))
        .arg("--quiet")
        .assert()
        .success();
    assert_same_fit(&label, &p("lines-params.json"), &p("params.json"), spend);
    // Predictions per distinct row, and the local scores under the same params.
    custseg()
        .args(["clv", "--params"])
        .arg(p("params.json"))
        .arg("--from-histogram")
        .arg(p("hist.parquet"))
        .arg("-o")
        .arg(p("triples.parquet"))
        .arg("--quiet")
        .assert()
        .success();
    custseg()
        .arg("clv")
        .arg(data.out())
        .arg("--params")
        .arg(p("params.json"))
        .args(options)
        .arg("-o")
        .arg(p("expected.parquet"))
        .arg("--quiet")
        .assert()
        .success();
    custseg()
        .args([
            "sql",
            "clv-join",
            "--dialect",
            "duckdb",
            "--orders",
            "orders",
        ])
        .args(["--triples", "triples", "--timezone", data.zone])
        .args(model)
        .args(options)
        .arg("-o")
        .arg(p("join.sql"))
        .arg("--quiet")
        .assert()
        .success();
    let (pass, report) = clv_join_report(
        data,
        &label,
        &p("join.sql"),
        &p("triples.parquet"),
        &p("expected.parquet"),
    );
    assert!(pass, "{label}:\n{report}");
    eprint!("{report}");
    (p("join.sql"), p("triples.parquet"), p("expected.parquet"))
}

#[test]
fn sql_clv_join_in_duckdb_equals_custseg_clv_with_params() {
    if !duckdb_available("sql_clv_join_in_duckdb_equals_custseg_clv_with_params") {
        return;
    }
    let data = shop();
    clv_join_parity(
        &data,
        "bgnbd",
        &["--calibration-end", "2024-12-31"],
        SpendFit::Params,
    );
}

#[test]
fn sql_clv_join_in_duckdb_equals_custseg_clv_on_generated_data() {
    if !duckdb_available("sql_clv_join_in_duckdb_equals_custseg_clv_on_generated_data") {
        return;
    }
    // The edge-case data: returns outweighing repeat purchases (negative mean_repeat_spend,
    // NEG among them), same-day orders, DST. Every customer buys from the same price list at
    // the same pace, so both models sit on flat ridges (BG/NBD a, b → ∞; Gamma-Gamma q, γ →
    // ∞): the purchase fit still agrees (its input rows are bit-identical), the spend fit
    // only in its log-likelihood.
    let data = generated();
    let (join_sql, _, expected) = clv_join_parity(
        &data,
        "bgnbd",
        &["--calibration-end", "2024-12-31"],
        SpendFit::LogLikelihood,
    );
    let hist = support::read_parquet(&data.path("hist.parquet"));
    let negative = hist
        .column("mean_repeat_spend")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .flatten()
        .filter(|m| *m < 0.0)
        .count();
    assert!(
        negative > 0,
        "the histogram has negative mean_repeat_spend rows"
    );
    // The comparison can fail: triples with another margin change every clv.
    let perturbed = data.path("triples-margin.parquet");
    custseg()
        .args(["clv", "--params"])
        .arg(data.path("params.json"))
        .arg("--from-histogram")
        .arg(data.path("hist.parquet"))
        .args(["--margin", "0.999", "-o"])
        .arg(&perturbed)
        .arg("--quiet")
        .assert()
        .success();
    let (pass, report) = clv_join_report(&data, "perturbed", &join_sql, &perturbed, &expected);
    assert!(!pass && report.contains(" clv: engine"), "{report}");

    // Customers who differ in spend level, pace and churn: both fits have a proper maximum
    // and every parameter agrees; in days, and in months with Pareto/NBD (the dert column).
    let data = generated_with(&["--heterogeneous"]);
    clv_join_parity(
        &data,
        "bgnbd",
        &["--calibration-end", "2024-10-01", "--time-unit", "day"],
        SpendFit::Params,
    );
    clv_join_parity(
        &data,
        "pnbd",
        &["--calibration-end", "2024-12-31", "--time-unit", "month"],
        SpendFit::Params,
    );
}
