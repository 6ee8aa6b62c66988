//! `custseg ingest` end to end: the shop example against its generator's ground truth, the
//! accounting invariant, identity across channels, epoch time zones, GBK, determinism, and a
//! cross-check on freshly generated messy data against totals the generator kept itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

use crate::support::{self, custseg, read_parquet, summary, testdata};

fn ingest(config: &Path, out: &Path, as_of: &str) {
    custseg()
        .args(["ingest", "--quiet", "--as-of", as_of, "--config"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// Per customer: (net amount, distinct order ids with a purchase line) from orders.parquet.
fn per_customer(orders: &DataFrame) -> BTreeMap<String, (f64, u32)> {
    let df = orders
        .clone()
        .lazy()
        .group_by([col("customer_id")])
        .agg([
            col("amount").sum().alias("net"),
            col("order_id")
                .filter(col("is_return").not())
                .n_unique()
                .cast(DataType::UInt32)
                .alias("orders"),
        ])
        .collect()
        .expect("group");
    let ids = df.column("customer_id").unwrap().str().unwrap().clone();
    let net = df.column("net").unwrap().f64().unwrap().clone();
    let n = df.column("orders").unwrap().u32().unwrap().clone();
    ids.iter()
        .zip(net.iter())
        .zip(n.iter())
        .map(|((id, net), n)| (id.unwrap().to_string(), (net.unwrap(), n.unwrap())))
        .collect()
}

fn assert_accounting(summary: &Value) {
    for s in summary["sources"].as_array().expect("sources") {
        let get = |k: &str| s[k].as_u64().expect(k);
        assert_eq!(
            get("read"),
            get("kept") + get("rejected") + get("duplicates"),
            "source {}: read != kept + rejected + duplicates",
            s["name"]
        );
        let by_reason: u64 = s["rejected_by_reason"]
            .as_object()
            .expect("reasons")
            .values()
            .map(|v| v.as_u64().expect("count"))
            .sum();
        assert_eq!(
            by_reason,
            get("rejected"),
            "source {}: reasons do not add up",
            s["name"]
        );
    }
}

#[test]
fn shop_example_matches_the_generators_truth() {
    let out = tempfile::tempdir().unwrap();
    let shop = support::root().join("examples/shop");
    ingest(&shop.join("custseg.toml"), out.path(), "2025-01-01");
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(shop.join("expected.json")).unwrap())
            .unwrap();
    let got = summary(out.path());
    assert_accounting(&got);
    for want in truth["sources"].as_array().unwrap() {
        let name = want["name"].as_str().unwrap();
        let have = got["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("source {name} missing"));
        for key in [
            "kind",
            "read",
            "kept",
            "rejected",
            "duplicates",
            "rejected_by_reason",
        ] {
            assert_eq!(have[key], want[key], "source {name}: {key}");
        }
        assert_eq!(
            have["files"].as_array().unwrap().len() as u64,
            want["files"].as_u64().unwrap()
        );
    }
    let orders = read_parquet(&out.path().join("orders.parquet"));
    assert_eq!(
        orders.height() as u64,
        truth["orders"]["lines_kept"].as_u64().unwrap()
    );
    let have = per_customer(&orders);
    let want = truth["customers"].as_object().unwrap();
    assert_eq!(have.len(), want.len(), "customer count");
    for (id, w) in want {
        let (net, n) = have
            .get(id)
            .unwrap_or_else(|| panic!("customer {id} missing"));
        assert!(
            (net - w["net_amount"].as_f64().unwrap()).abs() < 0.005,
            "{id}: net {net} vs {}",
            w["net_amount"]
        );
        assert_eq!(u64::from(*n), w["orders"].as_u64().unwrap(), "{id}: orders");
    }
}

#[test]
fn one_customer_across_three_channels_and_epoch_times_in_local_zone() {
    let out = tempfile::tempdir().unwrap();
    ingest(
        &testdata("ingest/tri/custseg.toml"),
        out.path(),
        "2024-12-31",
    );
    let orders = read_parquet(&out.path().join("orders.parquet"));
    let c1 = orders
        .clone()
        .lazy()
        .filter(col("customer_id").eq(lit("C1")))
        .select([col("channel").unique().sort(Default::default())])
        .collect()
        .unwrap();
    let channels: Vec<&str> = c1
        .column("channel")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(
        channels,
        ["market", "store", "web"],
        "C1 is one customer on three channels"
    );
    // M3 was paid at 1709308800000 ms = 2024-03-01T16:00:00Z = 2024-03-02 00:00 in Shanghai.
    let m3 = orders
        .lazy()
        .filter(col("order_id").eq(lit("M3")))
        .select([col("ordered_at")
            .dt()
            .strftime("%Y-%m-%d %H:%M:%S%:z")
            .alias("t")])
        .collect()
        .unwrap();
    assert_eq!(
        m3.column("t").unwrap().str().unwrap().get(0),
        Some("2024-03-02 00:00:00+08:00")
    );
}

#[test]
fn gbk_export_with_chinese_headers_is_decoded() {
    let out = tempfile::tempdir().unwrap();
    ingest(
        &testdata("ingest/tri/custseg.toml"),
        out.path(),
        "2024-12-31",
    );
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    assert!(
        rejects.contains("amount \"\"元\"\" is not a number (column 金额)"),
        "{rejects}"
    );
    let s = summary(out.path());
    let store = s["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "store")
        .unwrap();
    assert_eq!(store["kept"], 3);
}

#[test]
fn same_input_and_as_of_give_identical_files() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let config = support::root().join("examples/shop/custseg.toml");
    ingest(&config, a.path(), "2025-01-01");
    ingest(&config, b.path(), "2025-01-01");
    for name in [
        "orders.parquet",
        "customers.parquet",
        "events.parquet",
        "rejects.csv",
        "summary.json",
    ] {
        let x = std::fs::read(a.path().join(name)).unwrap();
        let y = std::fs::read(b.path().join(name)).unwrap();
        assert!(x == y, "{name} differs between two runs");
    }
}

/// Ingest sorts and writes order and event lines a range at a time (`CUSTSEG_SPILL_ROWS` lines);
/// ranges of 3 lines, with and without pseudonyms, must give the same tables as one range.
#[test]
fn small_sort_ranges_and_write_slices_give_the_same_tables() {
    let config = support::root().join("examples/shop/custseg.toml");
    let run = |rows: Option<&str>, pseudonymize: bool| {
        let out = tempfile::tempdir().unwrap();
        let mut cmd = custseg();
        cmd.args(["ingest", "--quiet", "--as-of", "2025-01-01", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(out.path())
            .env(
                "CUSTSEG_PSEUDONYM_KEY",
                "a test key of enough length 0123456789",
            );
        if let Some(rows) = rows {
            cmd.env("CUSTSEG_SPILL_ROWS", rows);
        }
        if pseudonymize {
            cmd.arg("--pseudonymize");
        }
        cmd.assert().success();
        out
    };
    for pseudonymize in [false, true] {
        let whole = run(None, pseudonymize);
        let sliced = run(Some("3"), pseudonymize);
        for name in ["orders.parquet", "events.parquet", "customers.parquet"] {
            let a = read_parquet(&whole.path().join(name));
            let b = read_parquet(&sliced.path().join(name));
            assert!(a.height() > 3, "{name}: too few rows to test slicing");
            assert!(
                a.equals_missing(&b),
                "{name} (pseudonymize {pseudonymize}) differs:\n{a}\n{b}"
            );
        }
        for name in ["rejects.csv", "summary.json"] {
            let a = std::fs::read(whole.path().join(name)).unwrap();
            let b = std::fs::read(sliced.path().join(name)).unwrap();
            assert!(a == b, "{name} (pseudonymize {pseudonymize}) differs");
        }
    }
}

#[test]
fn help_and_version() {
    let help = custseg()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(help).unwrap();
    assert!(
        help.contains("Exit status") && help.contains("ingest"),
        "{help}"
    );
    let ingest_help = custseg()
        .args(["ingest", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let ingest_help = String::from_utf8(ingest_help).unwrap();
    assert!(ingest_help.contains("Examples:") && ingest_help.contains("--max-reject-rate"));
    custseg()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicates::str::starts_with("custseg "));
    custseg().args(["ingest", "--bogus"]).assert().code(2);
}

/// A tiny deterministic generator (xorshift64*), independent of custseg's code.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Generates messy canonical order lines, keeping the expected outcome on the side, and checks
/// custseg's counts and per-customer totals against it.
#[test]
fn generated_messy_orders_match_the_generators_own_totals() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut csv = String::from("customer_id,order_id,ordered_at,sku,amount\n");
    let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
    let mut duplicates = 0u64;
    let mut kept = 0u64;
    // customer → (net cents, set of purchase order ids)
    let mut truth: BTreeMap<String, (i64, std::collections::BTreeSet<String>)> = BTreeMap::new();
    let lines = 4000;
    for i in 0..lines {
        let customer = format!("c{:03}", rng.below(250));
        let order = format!("o{}", i / 2);
        let (y, m, d) = (2023 + rng.below(2), 1 + rng.below(12), 1 + rng.below(28));
        let (hh, mm) = (rng.below(24), rng.below(60));
        let cents = 100 + rng.below(500_000) as i64;
        let is_return = rng.below(30) == 0;
        let signed = if is_return { -cents } else { cents };
        let whole = cents / 100;
        let frac = cents % 100;
        let amount = match rng.below(4) {
            0 => format!("{whole}.{frac:02}"),
            1 => format!("\"¥{},{:03}.{frac:02}\"", whole / 1000, whole % 1000),
            2 => format!("CNY {whole}.{frac:02}"),
            _ => format!("{whole}.{frac:02}元"),
        };
        let amount = if is_return {
            format!("({amount})")
                .replace("(\"", "\"(")
                .replace("\")", ")\"")
        } else {
            amount
        };
        let timestamp = if rng.below(2) == 0 {
            format!("{y}-{m:02}-{d:02} {hh:02}:{mm:02}:00")
        } else {
            format!("{y}-{m:02}-{d:02}T{hh:02}:{mm:02}:00")
        };
        let kind = rng.below(100);
        let (line, reason) = match kind {
            0 | 1 => (
                format!(",{order},{timestamp},s1,{amount}"),
                Some("missing_customer"),
            ),
            2 => (
                format!("{customer},{order},{y}-02-30 10:00:00,s1,{amount}"),
                Some("bad_timestamp"),
            ),
            3 => (
                format!("{customer},{order},1989-06-01 10:00:00,s1,{amount}"),
                Some("timestamp_out_of_range"),
            ),
            4 => (
                format!("{customer},{order},{timestamp},s1,n/a"),
                Some("bad_amount"),
            ),
            _ => (
                format!("{customer},{order},{timestamp},s{i},{amount}"),
                None,
            ),
        };
        writeln!(csv, "{line}").unwrap();
        match reason {
            Some(r) => *reasons.entry(r).or_default() += 1,
            None => {
                kept += 1;
                let entry = truth.entry(customer).or_default();
                entry.0 += signed;
                if !is_return {
                    entry.1.insert(order);
                }
            }
        }
        if kind >= 5 && rng.below(40) == 0 {
            writeln!(csv, "{line}").unwrap();
            duplicates += 1;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("orders.csv");
    std::fs::write(&input, csv).unwrap();
    let out = dir.path().join("out");
    custseg()
        .args(["ingest", "--quiet", "--as-of", "2025-01-01"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let s = summary(&out);
    assert_accounting(&s);
    let src = &s["sources"][0];
    assert_eq!(src["kept"].as_u64().unwrap(), kept);
    assert_eq!(src["duplicates"].as_u64().unwrap(), duplicates);
    let want_reasons: BTreeMap<String, u64> =
        reasons.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let have_reasons: BTreeMap<String, u64> =
        serde_json::from_value(src["rejected_by_reason"].clone()).unwrap();
    assert_eq!(have_reasons, want_reasons);
    let have = per_customer(&read_parquet(&out.join("orders.parquet")));
    assert_eq!(have.len(), truth.len());
    for (id, (cents, orders)) in &truth {
        let (net, n) = have[id];
        assert!(
            (net * 100.0 - *cents as f64).abs() < 0.5,
            "{id}: {net} vs {cents} cents"
        );
        assert_eq!(n as usize, orders.len(), "{id}: purchase orders");
    }
}

/// A 10 MB single field (a runaway export column) is rejected with a short message that says
/// how long the value was, while the rejects file keeps the raw value whole; the row count adds
/// up and the other row is kept.
#[test]
fn a_ten_megabyte_field_is_rejected_with_a_short_message_and_kept_raw() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("huge.csv");
    let field = "7".repeat(10 * 1024 * 1024);
    let mut text = String::from("customer_id,order_id,ordered_at,amount\n");
    text.push_str("c1,o1,2024-05-01 10:00:00,10\n");
    writeln!(text, "c2,o2,2024-05-01 10:00:00,{field}").unwrap();
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("out");
    custseg()
        .args(["ingest", "--quiet", "--as-of", "2024-12-31", "--out"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    let s = summary(&out);
    assert_accounting(&s);
    assert_eq!(s["totals"]["kept"], 1);
    let mut rejects = csv::Reader::from_path(out.join("rejects.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rejects.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][2], "3");
    assert_eq!(&rows[0][3], "bad_amount");
    let message = &rows[0][4];
    assert!(message.len() < 400, "message of {} bytes", message.len());
    assert!(message.contains('…'), "{message}");
    assert!(rows[0][5].contains(&field), "raw value cut");
}

/// Interrupted (SIGTERM from a cron timeout, or Ctrl-C), custseg removes its scratch folder
/// and exits 130. The ingest here waits on standard input, which the test never closes.
#[cfg(unix)]
#[test]
fn an_interrupted_ingest_removes_its_scratch_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("custseg"))
        .args(["ingest", "-", "--quiet", "--out"])
        .arg(out.path().join("x"))
        .env("TMPDIR", tmp.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"customer_id,ordered_at,amount\n").unwrap();
    let scratch = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("custseg-")
            })
            .collect()
    };
    let started = std::time::Instant::now();
    while scratch().is_empty() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(scratch().len(), 1, "no scratch folder appeared");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(scratch().is_empty(), "left behind: {:?}", scratch());
    assert!(String::from_utf8_lossy(&output.stderr).contains("custseg: interrupted"));
}

#[test]
fn stage_timings_print_only_when_asked() {
    let out = tempfile::tempdir().unwrap();
    let config = testdata("ingest/tri/custseg.toml");
    let run = |timings: Option<&str>| {
        let mut cmd = custseg();
        cmd.env_remove("CUSTSEG_TIMINGS");
        if let Some(v) = timings {
            cmd.env("CUSTSEG_TIMINGS", v);
        }
        let output = cmd
            .args(["ingest", "--quiet", "--as-of", "2024-12-31", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stderr).unwrap()
    };
    let timed = run(Some("1"));
    let stages: Vec<&str> = timed
        .lines()
        .filter_map(|l| l.strip_prefix("custseg: timing: "))
        .collect();
    // Every source's passes and the sort appear, each with a time in seconds.
    for stage in [
        "web: reading",
        "web: duplicate candidates",
        "store: cleaning",
        "sorting orders",
        "writing",
    ] {
        assert!(
            stages
                .iter()
                .any(|s| s.starts_with(&format!("{stage}: ")) && s.ends_with(" s")),
            "{stage} missing in {timed}"
        );
    }
    // Off (also with 0), --quiet prints nothing at all.
    assert_eq!(run(None), "");
    assert_eq!(run(Some("0")), "");
}
