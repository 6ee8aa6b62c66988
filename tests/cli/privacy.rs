//! Privacy and safe files (docs/privacy.md): masked reports, keyed pseudonyms, `--redact`,
//! `custseg forget` with its audit log, manifests, and refusing to overwrite an input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::support::{self, custseg};

const KEY: &str = "test-key-0123456789abcdef";

fn shop_config() -> PathBuf {
    support::root().join("examples/shop/custseg.toml")
}

fn tri_config() -> PathBuf {
    support::testdata("ingest/tri/custseg.toml")
}

/// `custseg run` on the shop example into `out` with extra arguments; returns stdout.
fn run_shop(out: &Path, extra: &[&str], key: Option<&str>) -> String {
    let mut cmd = custseg();
    cmd.args(["run", "--as-of", "2025-01-01", "--config"])
        .arg(shop_config())
        .arg("--out")
        .arg(out)
        .args(extra)
        .env_remove("CUSTSEG_PSEUDONYM_KEY");
    if let Some(k) = key {
        cmd.env("CUSTSEG_PSEUDONYM_KEY", k);
    }
    let output = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(output).unwrap()
}

fn ingest(config: &Path, out: &Path, extra: &[&str]) {
    custseg()
        .args(["ingest", "--quiet", "--as-of", "2025-01-01", "--config"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env_remove("CUSTSEG_PSEUDONYM_KEY")
        .assert()
        .success();
}

/// Every file under `dir`, relative path → its text (Parquet files decoded to CSV).
fn files_as_text(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let text = if rel.ends_with(".parquet") {
                support::frame_to_csv(&mut support::read_parquet(&p))
            } else {
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).to_string()
            };
            out.push((rel, text));
        }
    }
    out.sort();
    out
}

fn strings(df: &DataFrame, column: &str) -> Vec<String> {
    match df.column(column) {
        Ok(c) => c
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Every e-mail and phone of the shop input: the cleaned values ingest found (from an ingest
/// run that keeps them) and the e-mail addresses as typed in the UTF-8 exports.
fn shop_pii() -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    ingest(&shop_config(), dir.path(), &[]);
    let mut pii = BTreeSet::new();
    for table in ["orders", "customers", "events"] {
        let df = support::read_parquet(&dir.path().join(format!("{table}.parquet")));
        pii.extend(strings(&df, "email"));
        pii.extend(strings(&df, "phone"));
    }
    for file in [
        "crm_contacts.csv",
        "web_orders_2024H1.csv",
        "web_orders_2024H2.csv",
        "app_events.ndjson",
    ] {
        let text =
            std::fs::read_to_string(support::root().join("examples/shop").join(file)).unwrap();
        for token in text.split(|c: char| c == ',' || c == '"' || c.is_whitespace()) {
            if token.contains('@') && token.contains('.') {
                pii.insert(token.to_string());
            }
        }
    }
    pii.retain(|v| v.len() >= 6);
    pii
}

fn leaks<'a>(text: &str, pii: &'a BTreeSet<String>) -> Vec<&'a String> {
    pii.iter().filter(|v| text.contains(v.as_str())).collect()
}

#[test]
fn run_reports_hold_no_raw_email_or_phone_by_default() {
    let pii = shop_pii();
    assert!(
        pii.len() > 100,
        "the shop example has e-mails and phones: {}",
        pii.len()
    );
    let out = tempfile::tempdir().unwrap();
    let stdout = run_shop(out.path(), &[], None);
    assert!(
        leaks(&stdout, &pii).is_empty(),
        "stdout leaks {:?}",
        leaks(&stdout, &pii)
    );
    // Derived customer ids are masked, not dropped.
    let vip = std::fs::read_to_string(out.path().join("vip-2025-01-01.csv")).unwrap();
    assert!(vip.contains("email:") || vip.contains("phone:"), "{vip}");
    assert!(vip.contains("***"), "{vip}");
    let mut data_files_with_pii = Vec::new();
    for (file, text) in files_as_text(out.path()) {
        let found = leaks(&text, &pii);
        let is_data = file.starts_with("ingest-") || file.starts_with("value-");
        if is_data {
            if !found.is_empty() {
                data_files_with_pii.push(file);
            }
        } else {
            assert!(
                found.is_empty(),
                "{file} leaks {:?}",
                &found[..found.len().min(5)]
            );
        }
    }
    // The data tables keep what a join needs unless --pseudonymize (documented); the check above
    // would see it.
    assert!(
        data_files_with_pii.contains(&"ingest-2025-01-01/orders.parquet".to_string()),
        "{data_files_with_pii:?}"
    );
}

#[test]
fn pseudonymized_run_has_no_raw_email_or_phone_in_any_file() {
    let pii = shop_pii();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let stdout = run_shop(a.path(), &["--pseudonymize"], Some(KEY));
    run_shop(b.path(), &["--pseudonymize"], Some(KEY));
    assert!(leaks(&stdout, &pii).is_empty());
    let texts = files_as_text(a.path());
    assert!(
        texts.len() >= 15,
        "{:?}",
        texts.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for (file, text) in &texts {
        let found = leaks(text, &pii);
        assert!(
            found.is_empty(),
            "{file} leaks {:?}",
            &found[..found.len().min(5)]
        );
    }
    // Same key: same pseudonyms, so lists of different runs join.
    let value_a = support::read_parquet(&a.path().join("value-2025-01-01.parquet"));
    let value_b = support::read_parquet(&b.path().join("value-2025-01-01.parquet"));
    assert!(value_a.equals_missing(&value_b));
    let ids = strings(&value_a, "customer_id");
    let pseudonyms: Vec<&String> = ids.iter().filter(|i| i.starts_with("cu_")).collect();
    assert!(!pseudonyms.is_empty(), "{ids:?}");
    for p in &pseudonyms {
        assert!(
            p.len() == 19 && p[3..].chars().all(|c| c.is_ascii_hexdigit()),
            "{p}"
        );
    }
    // CRM ids carry no personal data and stay as they are, so they still join to the CRM.
    assert!(ids.iter().any(|i| i == "C0006"));
    // The tables and the rejects' raw values are pseudonymized too.
    let orders = support::read_parquet(&a.path().join("ingest-2025-01-01/orders.parquet"));
    assert!(strings(&orders, "email")
        .iter()
        .all(|e| e.starts_with("em_")));
    assert!(strings(&orders, "phone")
        .iter()
        .all(|e| e.starts_with("ph_")));
    let rejects = std::fs::read_to_string(a.path().join("ingest-2025-01-01/rejects.csv")).unwrap();
    assert!(
        rejects.contains("em_") || rejects.contains("ph_"),
        "{rejects}"
    );
}

#[test]
fn pseudonyms_follow_the_documented_rule_and_change_with_the_key() {
    let out = tempfile::tempdir().unwrap();
    let csv = "customer_id,email,ordered_at,amount\n,Ann@Example.com ,2024-03-01 10:00,10\nC9,,2024-03-02 10:00,5\n";
    let rfm = |key: &str| {
        let output = custseg()
            .args([
                "rfm",
                "-",
                "--pseudonymize",
                "--as-of",
                "2024-12-31",
                "--format",
                "csv",
            ])
            .env("CUSTSEG_PSEUDONYM_KEY", key)
            .current_dir(out.path())
            .write_stdin(csv)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(output).unwrap()
    };
    let one = rfm(KEY);
    // cu_ + the first 16 hex digits of HMAC-SHA256(key, "email:ann@example.com").
    let mut mac = <hmac::Hmac<Sha256> as hmac::KeyInit>::new_from_slice(KEY.as_bytes()).unwrap();
    hmac::Mac::update(&mut mac, b"email:ann@example.com");
    let hex: String = hmac::Mac::finalize(mac)
        .into_bytes()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(one.contains(&format!("\ncu_{hex},")), "{one}");
    assert!(one.contains("\nC9,"), "{one}");
    let other = rfm("another-key-0123456789");
    assert!(!other.contains(&hex), "{other}");
    assert_ne!(one, other);
}

#[test]
fn pseudonymize_without_a_key_is_a_usage_error() {
    let out = tempfile::tempdir().unwrap();
    custseg()
        .args(["ingest", "--quiet", "--pseudonymize", "--config"])
        .arg(tri_config())
        .arg("--out")
        .arg(out.path())
        .env_remove("CUSTSEG_PSEUDONYM_KEY")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "custseg: error: --pseudonymize needs a key",
        ))
        .stderr(predicates::str::contains("CUSTSEG_PSEUDONYM_KEY"));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    // A short key is refused as well.
    custseg()
        .args(["rfm", "-", "--pseudonymize"])
        .env("CUSTSEG_PSEUDONYM_KEY", "short")
        .write_stdin("customer_id,ordered_at,amount\nC1,2024-01-01,1\n")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("at least 16 are needed"));
}

/// A copy of the tri fixture's config with a `[privacy]` section, in `dir`.
fn private_config(dir: &Path, privacy: &str) -> PathBuf {
    let base = support::testdata("ingest/tri");
    let text = std::fs::read_to_string(base.join("custseg.toml")).unwrap();
    let text = text.replace("paths = [\"", &format!("paths = [\"{}/", base.display()));
    let path = dir.join("custseg.toml");
    std::fs::write(&path, format!("{text}\n[privacy]\n{privacy}\n")).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn key_file_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = private_config(
        dir.path(),
        "pseudonymize = true\nkey_file = \"custseg.key\"",
    );
    let key = dir.path().join("custseg.key");
    std::fs::write(&key, format!("{KEY}\n")).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = dir.path().join("out");
    custseg()
        .args(["ingest", "--quiet", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .env_remove("CUSTSEG_PSEUDONYM_KEY")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "may be read by other users (mode 644)",
        ))
        .stderr(predicates::str::contains("custseg: hint: run: chmod 600"));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    ingest(&config, &out, &[]);
    let customers = support::read_parquet(&out.join("customers.parquet"));
    assert!(strings(&customers, "email")
        .iter()
        .all(|e| e.starts_with("em_")));
    assert!(strings(&customers, "name")
        .iter()
        .all(|e| e.starts_with("nm_")));
}

#[test]
fn redact_masks_fields_in_data_outputs_and_rejects_unknown_fields() {
    let out = tempfile::tempdir().unwrap();
    ingest(&tri_config(), out.path(), &["--redact", "name,phone"]);
    let customers = support::read_parquet(&out.path().join("customers.parquet"));
    let names = strings(&customers, "name");
    assert!(!names.is_empty());
    for n in &names {
        assert!(n.ends_with("**"), "{n}");
    }
    for p in strings(&customers, "phone") {
        assert!(p.contains("****"), "{p}");
    }
    // E-mail is not redacted in a data file.
    assert!(strings(&customers, "email")
        .iter()
        .any(|e| !e.contains("***")));
    custseg()
        .args(["ingest", "--quiet", "--redact", "address", "--config"])
        .arg(tri_config())
        .arg("--out")
        .arg(out.path().join("x"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--redact: \"address\" is not a field custseg can mask",
        ));
}

#[test]
fn people_formats_mask_by_default_and_show_pii_shows() {
    let csv = "customer_id,email,phone,ordered_at,amount\n,ann@example.com,,2024-03-01 10:00,10\n,,13812345678,2024-03-02 10:00,5\n";
    let rfm = |args: &[&str]| {
        let output = custseg()
            .args(["rfm", "-", "--as-of", "2024-12-31"])
            .args(args)
            .write_stdin(csv)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(output).unwrap()
    };
    let md = rfm(&["--format", "markdown"]);
    assert!(
        md.contains("email:a***@example.com") && md.contains("phone:138****5678"),
        "{md}"
    );
    assert!(
        !md.contains("ann@example.com") && !md.contains("13812345678"),
        "{md}"
    );
    let shown = rfm(&["--format", "markdown", "--show-pii"]);
    assert!(shown.contains("email:ann@example.com"), "{shown}");
    // CSV for programs keeps the ids (they are join keys) unless asked.
    let data = rfm(&["--format", "csv"]);
    assert!(data.contains("phone:13812345678"), "{data}");
    let redacted = rfm(&["--format", "csv", "--redact", "phone"]);
    assert!(redacted.contains("phone:138****5678") && redacted.contains("email:ann@example.com"));
}

fn sha256_hex(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks manifest.json of `dir` against the files: sizes, hashes and row counts.
fn check_manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let files = manifest["files"].as_array().unwrap();
    assert!(!files.is_empty());
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted, "sorted by path");
    for f in files {
        let path = dir.join(f["path"].as_str().unwrap());
        assert_eq!(
            f["bytes"].as_u64().unwrap(),
            std::fs::metadata(&path).unwrap().len()
        );
        assert_eq!(
            f["sha256"].as_str().unwrap(),
            sha256_hex(&path),
            "{}",
            path.display()
        );
        let name = path.display().to_string();
        if name.ends_with(".parquet") {
            assert_eq!(
                f["rows"].as_u64().unwrap(),
                support::read_parquet(&path).height() as u64
            );
        } else if name.ends_with(".csv") {
            let lines = std::fs::read_to_string(&path).unwrap();
            let records = csv::Reader::from_path(&path).unwrap().records().count();
            assert_eq!(f["rows"].as_u64().unwrap(), records as u64, "{lines}");
        } else {
            assert!(f.get("rows").is_none());
        }
    }
    manifest
}

#[test]
fn ingest_and_run_write_a_verifiable_deterministic_manifest() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    ingest(&tri_config(), a.path(), &[]);
    ingest(&tri_config(), b.path(), &[]);
    let m = check_manifest(a.path());
    let names: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "customers.parquet",
            "orders.parquet",
            "rejects.csv",
            "summary.json"
        ]
    );
    assert_eq!(
        std::fs::read(a.path().join("manifest.json")).unwrap(),
        std::fs::read(b.path().join("manifest.json")).unwrap()
    );
    let run = tempfile::tempdir().unwrap();
    run_shop(run.path(), &["--quiet"], None);
    let m = check_manifest(run.path());
    let listed: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&"ingest-2025-01-01/manifest.json"),
        "{listed:?}"
    );
    assert!(listed.contains(&"report-2025-01-01.html"), "{listed:?}");
    assert!(!listed.contains(&"manifest.json"));
    check_manifest(&run.path().join("ingest-2025-01-01"));
}

#[test]
fn outputs_are_created_owner_only() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let out = tempfile::tempdir().unwrap();
        ingest(&tri_config(), out.path(), &[]);
        for f in [
            "orders.parquet",
            "customers.parquet",
            "rejects.csv",
            "summary.json",
            "manifest.json",
        ] {
            let mode = std::fs::metadata(out.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{f} has mode {mode:o}");
        }
    }
}

#[test]
fn an_output_over_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let orders = dir.path().join("orders.csv");
    let text = "customer_id,ordered_at,amount\nC1,2024-01-01 10:00,10\n";
    std::fs::write(&orders, text).unwrap();
    custseg()
        .args([
            "rfm",
            "orders.csv",
            "-o",
            "./orders.csv",
            "--as-of",
            "2024-12-31",
        ])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "custseg: error: refusing to write ./orders.csv: it is one of this command's inputs",
        ));
    assert_eq!(std::fs::read_to_string(&orders).unwrap(), text);
    // ingest into the folder of its own canonical input file of the same name.
    let ingested = dir.path().join("first");
    custseg()
        .args(["ingest", "--quiet", "orders.csv", "--out"])
        .arg(&ingested)
        .current_dir(dir.path())
        .assert()
        .success();
    let before = std::fs::read(ingested.join("orders.parquet")).unwrap();
    custseg()
        .args(["ingest", "--quiet", "orders.parquet", "--out", "."])
        .current_dir(&ingested)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("refusing to write"));
    assert_eq!(
        std::fs::read(ingested.join("orders.parquet")).unwrap(),
        before
    );
}

/// `clv` reads the `[privacy]` section of `--config` like the other commands, and refuses to
/// write over any file it reads (the orders, `--params`).
#[test]
fn clv_applies_the_privacy_section_and_never_writes_over_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    ingest(&support::testdata("ingest/tri/custseg.toml"), &plain, &[]);
    let config = private_config(dir.path(), "pseudonymize = true");
    let clv = |extra: &[&str], out: &str| {
        let mut cmd = custseg();
        cmd.args(["clv", "--quiet", "--as-of", "2025-01-01", "-o", out])
            .arg(&plain)
            .args(extra)
            .env("CUSTSEG_PSEUDONYM_KEY", KEY)
            .current_dir(dir.path());
        cmd.assert()
    };
    clv(&[], "open.csv").success();
    let open = std::fs::read_to_string(dir.path().join("open.csv")).unwrap();
    assert!(open.contains("email:"), "{open}");
    clv(&["--config", config.to_str().unwrap()], "private.csv").success();
    let private = std::fs::read_to_string(dir.path().join("private.csv")).unwrap();
    assert!(!private.contains("email:"), "{private}");
    assert!(private.contains("\ncu_"), "{private}");

    let before = std::fs::read(plain.join("orders.parquet")).unwrap();
    clv(&[], "plain/orders.parquet")
        .code(2)
        .stderr(predicates::str::contains("refusing to write"));
    assert_eq!(std::fs::read(plain.join("orders.parquet")).unwrap(), before);
    clv(&["--save-params", "p.json"], "scores.csv").success();
    let params = std::fs::read(dir.path().join("p.json")).unwrap();
    clv(&["--params", "p.json"], "p.json")
        .code(2)
        .stderr(predicates::str::contains("refusing to write"));
    assert_eq!(std::fs::read(dir.path().join("p.json")).unwrap(), params);
}

fn forget(dir: &Path, config: Option<&Path>, args: &[&str]) -> assert_cmd::assert::Assert {
    let mut cmd = custseg();
    cmd.arg("forget").arg("--out").arg(dir).args(args);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.env_remove("CUSTSEG_PSEUDONYM_KEY").assert()
}

fn audit_lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("audit.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count_where(df: &DataFrame, column: &str, value: &str) -> usize {
    strings(df, column).iter().filter(|v| *v == value).count()
}

#[test]
fn forget_removes_the_customer_everywhere_and_logs_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    ingest(&shop_config(), out, &[]);
    let orders = support::read_parquet(&out.join("orders.parquet"));
    let events = support::read_parquet(&out.join("events.parquet"));
    // C0002 is jia_liu2002@163.com in the CRM (typed " Jia_liu2002@163.COM" there).
    let n_orders = count_where(&orders, "customer_id", "C0002");
    let n_events = count_where(&events, "customer_id", "C0002");
    assert!(n_orders > 0 && n_events > 0);
    forget(
        out,
        Some(&shop_config()),
        &["--email", " JIA_liu2002@163.com "],
    )
    .success()
    .stderr(predicates::str::contains(format!(
        "removed customers 1, events {n_events}, orders {n_orders}, rejects 0"
    )));
    for table in ["orders", "customers", "events"] {
        let df = support::read_parquet(&out.join(format!("{table}.parquet")));
        assert_eq!(count_where(&df, "customer_id", "C0002"), 0, "{table}");
        assert_eq!(
            count_where(&df, "email", "jia_liu2002@163.com"),
            0,
            "{table}"
        );
    }
    // Still consistent: per source read = kept + rejected + duplicates + erased, and the
    // outputs' counts and the manifest match the files.
    let summary = support::summary(out);
    let mut erased = 0;
    for s in summary["sources"].as_array().unwrap() {
        let n = |k: &str| s[k].as_u64().unwrap_or(0);
        assert_eq!(
            n("read"),
            n("kept") + n("rejected") + n("duplicates") + n("erased"),
            "{s}"
        );
        erased += n("erased");
    }
    assert_eq!(erased, (n_orders + n_events + 1) as u64);
    assert_eq!(summary["totals"]["erased"].as_u64().unwrap(), erased);
    let orders_after = support::read_parquet(&out.join("orders.parquet"));
    assert_eq!(
        summary["outputs"]["orders.parquet"].as_u64().unwrap(),
        orders_after.height() as u64
    );
    assert_eq!(orders_after.height(), orders.height() - n_orders);
    check_manifest(out);
    // Again: nothing left to remove, logged all the same; a stranger is logged with zeros.
    forget(
        out,
        Some(&shop_config()),
        &["--email", "jia_liu2002@163.com"],
    )
    .success()
    .stderr(predicates::str::contains(
        "custseg: note: no rows for this email",
    ));
    forget(out, None, &["--customer", "C9999", "--quiet"]).success();
    let lines = audit_lines(out);
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0]["removed"]["orders"].as_u64().unwrap(),
        n_orders as u64
    );
    assert_eq!(lines[0]["id"], lines[1]["id"], "same request, same hash");
    assert_eq!(lines[1]["removed"]["orders"].as_u64().unwrap(), 0);
    assert_eq!(lines[2]["by"], "customer_id");
    let log = std::fs::read_to_string(out.join("audit.log")).unwrap();
    assert!(
        !log.contains("jia_liu2002") && !log.contains("C0002"),
        "{log}"
    );
    assert!(lines[0]["id"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(custseg::privacy::audit::broken_link(&log), None);
    let tampered = log.replacen("\"orders\":", "\"orders\":1", 1);
    assert_eq!(custseg::privacy::audit::broken_link(&tampered), Some(2));
}

#[test]
fn forget_by_phone_cleans_it_like_ingest_and_removes_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    ingest(&tri_config(), out, &[]);
    let rejects_before = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    // bob's CRM row (mobile 13900139000) was rejected for its birthday.
    assert!(rejects_before.contains("13900139000"));
    forget(out, Some(&tri_config()), &["--phone", "+86 139-0013-9000"]).success();
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert!(!rejects.contains("13900139000"), "{rejects}");
    assert_eq!(
        rejects.lines().count() + 1,
        rejects_before.lines().count(),
        "one rejected row removed"
    );
    let lines = audit_lines(out);
    assert_eq!(lines[0]["removed"]["rejects"].as_u64().unwrap(), 1);
    let summary = support::summary(out);
    let crm = &summary["sources"][0];
    assert_eq!(crm["rejected"].as_u64().unwrap(), 1);
    assert_eq!(crm["erased"].as_u64().unwrap(), 1);
    assert!(crm["rejected_by_reason"].get("bad_date").is_none(), "{crm}");
    check_manifest(out);
}

#[test]
fn forget_finds_pseudonymized_rows_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    custseg()
        .args([
            "ingest",
            "--quiet",
            "--pseudonymize",
            "--as-of",
            "2025-01-01",
            "--config",
        ])
        .arg(shop_config())
        .arg("--out")
        .arg(out)
        .env("CUSTSEG_PSEUDONYM_KEY", KEY)
        .assert()
        .success();
    custseg()
        .args(["forget", "--email", "wang.min85@gmail.com", "--out"])
        .arg(out)
        .env("CUSTSEG_PSEUDONYM_KEY", KEY)
        .assert()
        .success()
        .stderr(predicates::str::contains("forgot 1 customer id(s)"));
    let lines = audit_lines(out);
    assert!(lines[0]["id"].as_str().unwrap().starts_with("hmac-sha256:"));
    assert!(lines[0]["removed"]["orders"].as_u64().unwrap() > 0);
}

#[test]
fn report_vip_masks_derived_ids_unless_show_pii() {
    let dir = tempfile::tempdir().unwrap();
    ingest(&shop_config(), dir.path(), &[]);
    let vip = |extra: &[&str]| {
        let output = custseg()
            .args([
                "report",
                "vip",
                "--as-of",
                "2025-01-01",
                "--top",
                "60",
                "--format",
                "json",
            ])
            .arg(dir.path())
            .args(extra)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(output).unwrap()
    };
    let masked = vip(&[]);
    let shown = vip(&["--show-pii"]);
    assert!(
        masked.contains("\"email:") || masked.contains("\"phone:"),
        "{masked}"
    );
    let pii = shop_pii();
    assert!(
        leaks(&masked, &pii).is_empty(),
        "{:?}",
        leaks(&masked, &pii)
    );
    assert!(
        !leaks(&shown, &pii).is_empty(),
        "--show-pii shows derived ids as they are"
    );
}
