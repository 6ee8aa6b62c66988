//! `custseg report` and `custseg run`: the weekly job end to end on the shop example, its files,
//! determinism, and the planted VIP alerts.

use crate::support::{self, custseg};

fn run_into(out: &std::path::Path) -> String {
    let output = custseg()
        .args(["run", "--as-of", "2025-01-01", "--config"])
        .arg(support::root().join("examples/shop/custseg.toml"))
        .arg("--out")
        .arg(out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(output).unwrap()
}

#[test]
fn run_writes_the_full_set_and_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let summary = run_into(a.path());
    run_into(b.path());
    assert!(
        summary.contains("ingest: read 2000 rows, kept 1955, rejected 19, duplicates 26"),
        "{summary}"
    );
    assert!(summary.contains("VIP alerts:"), "{summary}");
    let files = [
        "ingest-2025-01-01/orders.parquet",
        "ingest-2025-01-01/customers.parquet",
        "ingest-2025-01-01/events.parquet",
        "ingest-2025-01-01/rejects.csv",
        "ingest-2025-01-01/summary.json",
        "ingest-2025-01-01/manifest.json",
        "value-2025-01-01.parquet",
        "report-2025-01-01.html",
        "report-2025-01-01.md",
        "vip-2025-01-01.csv",
        "alerts-2025-01-01.csv",
        "segments-2025-01-01.csv",
        "migration-2025-01-01.csv",
        "clv-params-2025-01-01.json",
        "manifest.json",
    ];
    for f in files {
        let x = std::fs::read(a.path().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let y = std::fs::read(b.path().join(f)).unwrap();
        if x != y {
            let (xs, ys) = (String::from_utf8_lossy(&x), String::from_utf8_lossy(&y));
            let first = xs
                .lines()
                .zip(ys.lines())
                .enumerate()
                .find(|(_, (l, r))| l != r)
                .map(|(i, (l, r))| format!("line {}:\n  {l}\n  {r}", i + 1))
                .unwrap_or_else(|| "lengths differ".into());
            panic!("{f} differs between two runs with the same --as-of, first at {first}");
        }
    }
    // Nothing but the published files: the staging folder is gone.
    let leftovers: Vec<_> = std::fs::read_dir(a.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "staging leftovers: {leftovers:?}");
    let value = support::read_parquet(&a.path().join("value-2025-01-01.parquet"));
    for c in [
        "clv",
        "p_alive",
        "expected_purchases",
        "tier",
        "segment",
        "lifecycle_stage",
    ] {
        assert!(value.column(c).is_ok(), "value table lacks {c}");
    }
    let html = std::fs::read_to_string(a.path().join("report-2025-01-01.html")).unwrap();
    assert!(
        html.contains("<svg") && !html.contains("src=\"http"),
        "self-contained page with charts"
    );
    // The analyses of `custseg analyze` follow the reports, with prefixed section ids.
    let md = std::fs::read_to_string(a.path().join("report-2025-01-01.md")).unwrap();
    for (id, title) in [
        (
            "time_weekday_hour",
            "Orders and revenue by weekday and hour",
        ),
        (
            "time_seasonality",
            "Seasonality: each month's share of its year",
        ),
        ("channels", "Customers and revenue per channel"),
        (
            "channels_multichannel",
            "Multi-channel versus single-channel customers",
        ),
        (
            "categories_vip_penetration",
            "Category penetration: VIPs (tier high) versus everyone",
        ),
        (
            "amounts_order_value",
            "Order value distribution (4 quantile bins)",
        ),
        ("cohorts_retention", "Retention by first-purchase month"),
        (
            "cohorts_revenue_per_member",
            "Revenue per cohort member by month",
        ),
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\"")),
            "html lacks {id}"
        );
        assert!(
            md.contains(&format!("\n## {title}\n")),
            "markdown lacks {title}"
        );
    }
    assert!(
        html.find("id=\"migration\"") < html.find("id=\"time_weekday_hour\""),
        "analyses come after the reports"
    );
}

#[test]
fn a_failing_run_leaves_nothing_half_written() {
    let out = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[sources]]\nname = \"web\"\nkind = \"orders\"\npaths = [\"orders.csv\"]\n[sources.columns]\nemail = \"e\"\nordered_at = \"t\"\namount = \"a\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("orders.csv"), "e,t,x\na@b.c,2024-01-01,1\n").unwrap();
    custseg()
        .args(["run", "--quiet", "--as-of", "2025-01-01", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2);
    let entries: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert!(entries.is_empty(), "a failed run wrote {entries:?}");
}

#[test]
fn a_second_job_on_the_same_output_directory_is_refused() {
    let out = tempfile::tempdir().unwrap();
    // A job in progress holds the lock file (this test process stands in for it: it runs).
    std::fs::write(
        out.path().join(".custseg.lock"),
        format!("{}\n", std::process::id()),
    )
    .unwrap();
    custseg()
        .args(["run", "--quiet", "--as-of", "2025-01-01", "--config"])
        .arg(support::root().join("examples/shop/custseg.toml"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "another custseg job is writing into",
        ));
    let entries: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .collect();
    assert_eq!(entries, [".custseg.lock"], "the refused job wrote nothing");
}

/// A lock left behind by a job that was killed (its process is gone) does not block the next
/// week's run forever: it is removed with a warning and the run goes ahead.
#[cfg(target_os = "linux")]
#[test]
fn a_stale_lock_of_a_dead_process_is_taken_over_with_a_warning() {
    let out = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::fs::write(out.path().join(".custseg.lock"), format!("{dead}\n")).unwrap();
    custseg()
        .args(["run", "--as-of", "2025-01-01", "--config"])
        .arg(support::root().join("examples/shop/custseg.toml"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stderr(predicates::str::contains(format!(
            "removed the stale lock file {}",
            out.path().join(".custseg.lock").display()
        )));
    assert!(out.path().join("report-2025-01-01.html").is_file());
    assert!(!out.path().join(".custseg.lock").exists(), "lock released");
}

/// Two runs started at the same moment on the same output directory: each either finishes or is
/// refused by the lock (exit 1, nothing written by it), at least one finishes, and what is in the
/// directory afterwards is one complete, consistent set of files (the manifest's checksums hold).
#[test]
fn two_runs_at_once_on_one_directory_never_mix_their_files() {
    use sha2::{Digest, Sha256};
    let out = tempfile::tempdir().unwrap();
    let start = |_: usize| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("custseg"))
            .args(["run", "--quiet", "--as-of", "2025-01-01", "--config"])
            .arg(support::root().join("examples/shop/custseg.toml"))
            .arg("--out")
            .arg(out.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let jobs: Vec<_> = (0..2).map(start).collect();
    let results: Vec<_> = jobs
        .into_iter()
        .map(|j| j.wait_with_output().unwrap())
        .collect();
    let mut finished = 0;
    for r in &results {
        match r.status.code() {
            Some(0) => finished += 1,
            Some(1) => assert!(
                String::from_utf8_lossy(&r.stderr).contains("another custseg job is writing into"),
                "{}",
                String::from_utf8_lossy(&r.stderr)
            ),
            other => panic!("exit {other:?}: {}", String::from_utf8_lossy(&r.stderr)),
        }
    }
    assert!(finished >= 1, "no run finished");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("manifest.json")).unwrap())
            .unwrap();
    let files = manifest["files"].as_array().expect("files in the manifest");
    assert!(files.len() >= 10, "{manifest}");
    for f in files {
        let path = out.path().join(f["path"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(f["sha256"].as_str().unwrap(), hex, "{}", path.display());
    }
    assert!(!out.path().join(".custseg.lock").exists(), "lock released");
}
