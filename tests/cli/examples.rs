//! The scripts in examples/ (the cron wrapper and the pipelines of docs/cookbook.md) and the
//! cookbook's one-liners, run with bash against the binary under test (`CUSTSEG`, or first on
//! `PATH` for the one-liners) into temporary folders, with fixed as-of dates.

use std::path::{Path, PathBuf};

use predicates::prelude::PredicateBooleanExt;

use crate::support;

/// The custseg binary cargo built for this test run.
fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_custseg"))
}

/// `bash SCRIPT ARGS...` from the repository root, with CUSTSEG set and no MAIL_TO.
fn script(rel: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new("bash");
    cmd.current_dir(support::root())
        .arg(support::root().join(rel))
        .env("CUSTSEG", binary())
        .env_remove("MAIL_TO")
        .env_remove("LOG")
        .env_remove("MAX_REJECT_RATE")
        .env_remove("SEGMENT")
        .env_remove("BY")
        .env_remove("HORIZON");
    cmd
}

/// `bash -o pipefail -c SNIPPET` from the repository root with the binary first on PATH.
fn snippet(code: &str) -> assert_cmd::Command {
    let dir = binary().parent().expect("binary folder").to_path_buf();
    let path = std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut cmd = assert_cmd::Command::new("bash");
    cmd.current_dir(support::root())
        .env("PATH", path)
        .args(["-e", "-u", "-o", "pipefail", "-c", code]);
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn shop_config() -> PathBuf {
    support::root().join("examples/shop/custseg.toml")
}

#[test]
fn weekly_script_publishes_reports_logs_one_line_and_keeps_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let log = out.join("custseg.log");

    // 0: silent, every report written, the summary saved, one "ok" line logged.
    let ok = script("examples/cron/weekly.sh")
        .arg(shop_config())
        .arg(&out)
        .env("AS_OF", "2025-01-01")
        .assert()
        .code(0)
        .get_output()
        .clone();
    assert!(ok.stdout.is_empty(), "stdout: {}", text(&ok.stdout));
    assert!(ok.stderr.is_empty(), "stderr: {}", text(&ok.stderr));
    for f in [
        "report-2025-01-01.html",
        "report-2025-01-01.md",
        "vip-2025-01-01.csv",
        "alerts-2025-01-01.csv",
        "segments-2025-01-01.csv",
        "migration-2025-01-01.csv",
        "value-2025-01-01.parquet",
        "clv-params-2025-01-01.json",
        "ingest-2025-01-01/rejects.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let summary = read(&out.join("summary-2025-01-01.txt"));
    assert!(
        summary.starts_with("custseg run, as of 2025-01-01 (Asia/Shanghai)\n"),
        "{summary}"
    );
    assert!(summary.contains("VIP alerts: "), "{summary}");
    let lines: Vec<String> = read(&log).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(" weekly as_of=2025-01-01 exit=0 ok: VIP alerts: "),
        "{}",
        lines[0]
    );

    // 3: the reports stay, a warning goes to stderr (cron mails it), the log says why.
    let warned = script("examples/cron/weekly.sh")
        .arg(shop_config())
        .arg(&out)
        .env("AS_OF", "2025-01-01")
        .env("MAX_REJECT_RATE", "0.01")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let err = text(&warned.stderr);
    assert!(
        err.contains("custseg weekly 2025-01-01: data-quality warning"),
        "{err}"
    );
    assert!(
        err.contains("source \"crm\" rejected 1.67% of its rows (limit 1.00%)"),
        "{err}"
    );
    assert!(err.contains("ingest-2025-01-01/rejects.csv"), "{err}");
    assert!(out.join("report-2025-01-01.html").is_file());
    let lines: Vec<String> = read(&log).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].contains(" weekly as_of=2025-01-01 exit=3 warning: source \"crm\" rejected"),
        "{}",
        lines[1]
    );

    // 2: a failure is reported and logged; the earlier reports are untouched.
    let before = std::fs::read(out.join("vip-2025-01-01.csv")).unwrap();
    let failed = script("examples/cron/weekly.sh")
        .arg(dir.path().join("no-such.toml"))
        .arg(&out)
        .env("AS_OF", "2025-01-01")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = text(&failed.stderr);
    assert!(err.contains("FAILED (exit 2)"), "{err}");
    assert!(err.contains("custseg: error: cannot read config"), "{err}");
    let lines: Vec<String> = read(&log).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[2].contains(" exit=2 failed: custseg: error: cannot read config"),
        "{}",
        lines[2]
    );
    assert_eq!(
        std::fs::read(out.join("vip-2025-01-01.csv")).unwrap(),
        before
    );
    // No temporary files of the wrapper or of custseg are left behind.
    let hidden: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

#[test]
fn weekly_script_without_custseg_fails_with_exit_2_and_a_log_line() {
    if Path::new("/usr/bin/custseg").exists() || Path::new("/bin/custseg").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let result = script("examples/cron/weekly.sh")
        .arg(shop_config())
        .arg(&out)
        .env_remove("CUSTSEG")
        .env("PATH", "/usr/bin:/bin")
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(text(&result.stderr).contains("custseg not found"));
    let log = read(&out.join("custseg.log"));
    assert!(log.contains(" exit=2 failed: custseg not found"), "{log}");
}

#[test]
fn pipeline_data_is_what_its_generator_writes() {
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !python {
        return;
    }
    // The generator writes next to itself: run a copy in a temporary folder.
    let dir = tempfile::tempdir().unwrap();
    let data = support::root().join("examples/pipelines/data");
    std::fs::copy(data.join("make_data.py"), dir.path().join("make_data.py")).unwrap();
    assert_cmd::Command::new("python3")
        .arg(dir.path().join("make_data.py"))
        .assert()
        .success();
    for f in ["orders.csv", "customers.csv"] {
        assert!(
            read(&dir.path().join(f)) == read(&data.join(f)),
            "examples/pipelines/data/{f} differs from what make_data.py writes"
        );
    }
}

#[test]
fn crontab_runs_the_weekly_script_on_mondays_at_six() {
    let crontab = read(&support::root().join("examples/cron/crontab.txt"));
    let jobs: Vec<&str> = crontab
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.split_whitespace().next().unwrap_or("").contains('='))
        .collect();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let fields: Vec<&str> = jobs[0].split_whitespace().collect();
    assert_eq!(&fields[..5], &["0", "6", "*", "*", "1"], "{}", jobs[0]);
    assert!(
        fields[5].ends_with("examples/cron/weekly.sh"),
        "{}",
        jobs[0]
    );
    assert!(crontab.contains("\nCUSTSEG="), "the crontab sets CUSTSEG");
}

#[test]
fn at_risk_mailing_from_stdin_joins_addresses_and_skips_opt_outs() {
    let orders = support::root().join("examples/pipelines/data/orders.csv");
    let result = script("examples/pipelines/at_risk_mailing.sh")
        .env("AS_OF", "2025-01-01")
        .pipe_stdin(&orders)
        .unwrap()
        .assert()
        .code(0)
        .get_output()
        .clone();
    assert_eq!(
        text(&result.stdout),
        "email,name,customer_id,recency_days,frequency,monetary\n\
         jun.10@example.com,Jun,K10,177,14,346.74\n\
         kai.11@example.com,Kai,K11,184,13,349.7\n\
         lena.12@example.com,Lena,K12,182,12,255.77\n"
    );
    assert!(
        text(&result.stderr).contains(
            "segment \"At Risk\": 5 members, 3 addresses, 1 opted out, 1 without an address"
        ),
        "{}",
        text(&result.stderr)
    );

    // A file argument, another segment (with a quote in its name) and explicit customers.
    let result = script("examples/pipelines/at_risk_mailing.sh")
        .arg(&orders)
        .arg(support::root().join("examples/pipelines/data/customers.csv"))
        .env("AS_OF", "2025-01-01")
        .env("SEGMENT", "Can't Lose Them")
        .assert()
        .code(0)
        .get_output()
        .clone();
    assert_eq!(
        text(&result.stdout),
        "email,name,customer_id,recency_days,frequency,monetary\n\
         greta.07@example.com,Greta,K07,186,14,418.64\n"
    );

    // Failures keep custseg's exit status.
    script("examples/pipelines/at_risk_mailing.sh")
        .arg("no-such-orders.csv")
        .env("AS_OF", "2025-01-01")
        .assert()
        .code(2);
    script("examples/pipelines/at_risk_mailing.sh")
        .arg(&orders)
        .arg(&orders)
        .env("AS_OF", "2025-01-01")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "needs customer_id and email columns",
        ));
}

#[test]
fn value_by_city_scores_once_and_groups_the_parquet_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("work");
    let result = script("examples/pipelines/value_by_city.sh")
        .arg(shop_config())
        .arg(&out)
        .env("AS_OF", "2025-01-01")
        .assert()
        .code(0)
        .get_output()
        .clone();
    let csv = text(&result.stdout);
    assert_eq!(csv, read(&out.join("by_city_tier.csv")));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("city,tier,customers,revenue,customer_share,revenue_share")
    );
    let customers: i64 = lines
        .map(|l| l.split(',').nth(2).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(
        customers, 144,
        "every buying customer of the shop in one group"
    );
    assert!(out.join("ingest/orders.parquet").is_file());
    let value = support::read_parquet(&out.join("value.parquet"));
    assert_eq!(value.height(), 144);
}

#[test]
fn clv_fit_monthly_then_score_weekly_with_the_saved_parameters() {
    let dir = tempfile::tempdir().unwrap();
    // A `custseg run` style folder: the script picks its newest ingest-DATE folder.
    let runs = dir.path().join("reports");
    support::custseg()
        .args(["ingest", "--quiet", "--as-of", "2025-01-01", "--config"])
        .arg(shop_config())
        .arg("--out")
        .arg(runs.join("ingest-2025-01-01"))
        .assert()
        .success();
    std::fs::create_dir_all(runs.join("ingest-2024-01-01")).unwrap();
    let params = dir.path().join("clv-params.json");
    let fit = script("examples/pipelines/clv_fit_score.sh")
        .arg("fit")
        .arg(&runs)
        .arg(&params)
        .env("AS_OF", "2024-12-01")
        .assert()
        .code(0)
        .get_output()
        .clone();
    assert!(fit.stdout.is_empty(), "{}", text(&fit.stdout));
    let saved: serde_json::Value = serde_json::from_str(&read(&params)).unwrap();
    assert_eq!(saved["model"], "bgnbd");
    assert_eq!(saved["calibration_end"], "2024-12-01");
    let report = read(&dir.path().join("clv-params.txt"));
    assert!(report.contains("calibration end 2024-12-01"), "{report}");

    let scores = dir.path().join("clv-2025-01-01.csv");
    script("examples/pipelines/clv_fit_score.sh")
        .arg("score")
        .arg(runs.join("ingest-2025-01-01"))
        .arg(&params)
        .arg(&scores)
        .env("AS_OF", "2025-01-01")
        .assert()
        .code(0);
    let csv = read(&scores);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("customer_id,x,t_x,T,mean_repeat_spend,expected_purchases,p_alive,expected_avg_spend,clv")
    );
    assert_eq!(lines.count(), 144);
    // The parameters were read, not refitted: the file is unchanged.
    let again: serde_json::Value = serde_json::from_str(&read(&params)).unwrap();
    assert_eq!(again, saved);

    script("examples/pipelines/clv_fit_score.sh")
        .arg("score")
        .arg(&runs)
        .arg(dir.path().join("missing.json"))
        .arg(&scores)
        .assert()
        .code(2);
    script("examples/pipelines/clv_fit_score.sh")
        .arg("refit")
        .assert()
        .code(2);
}

/// `custseg ingest` of the shop example into `dir/shop` (the cookbook's /tmp/shop).
fn ingest_shop(dir: &Path) -> String {
    let shop = dir.join("shop");
    support::custseg()
        .args(["ingest", "--quiet", "--as-of", "2025-01-01", "--config"])
        .arg(shop_config())
        .arg("--out")
        .arg(&shop)
        .assert()
        .success();
    shop.display().to_string()
}

#[test]
fn cookbook_mailing_list_one_liners() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().display().to_string();

    // Orders on stdin -> rfm -> segment -> the customer ids.
    snippet(
        "custseg rfm - --as-of 2025-01-01 --format csv < examples/pipelines/data/orders.csv \
           | custseg segment - --where \"segment = 'At Risk'\" --format csv \
           | cut -d, -f1 | tail -n +2",
    )
    .assert()
    .code(0)
    .stdout("K08\nK09\nK10\nK11\nK12\n")
    .stderr(predicates::str::contains(
        "custseg: 5 of 30 customers selected",
    ));

    // A doubled quote inside an SQL string literal.
    snippet(
        "custseg rfm - --as-of 2025-01-01 --format csv --quiet < examples/pipelines/data/orders.csv \
           | custseg segment - --where \"segment IN ('At Risk', 'Can''t Lose Them')\" --format csv --quiet \
           | cut -d, -f1 | tail -n +2 | tr '\\n' ' '",
    )
    .assert()
    .code(0)
    .stdout("K07 K08 K09 K10 K11 K12 ");

    // A compressed export on stdin.
    snippet(&format!(
        "gzip -c examples/pipelines/data/orders.csv > {tmp}/orders.csv.gz
         zcat {tmp}/orders.csv.gz | custseg rfm - --as-of 2025-01-01 --format csv --quiet | wc -l"
    ))
    .assert()
    .code(0)
    .stdout(predicates::str::contains("31"));

    // The e-mail addresses with join and awk.
    snippet(&format!(
        "custseg rfm - --as-of 2025-01-01 --format csv --quiet < examples/pipelines/data/orders.csv \
           | custseg segment - --where \"segment = 'At Risk'\" --format csv --quiet \
           | cut -d, -f1 | tail -n +2 | sort > {tmp}/at_risk.txt
         tail -n +2 examples/pipelines/data/customers.csv | sort -t, -k1,1 \
           | join -t, {tmp}/at_risk.txt - | awk -F, '$5 == \"Y\" && $3 != \"\" {{ print $3 }}'"
    ))
    .assert()
    .code(0)
    .stdout("jun.10@example.com\nkai.11@example.com\nlena.12@example.com\n");
}

#[test]
fn cookbook_head_and_sort() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().display().to_string();
    // `| head` on a large output: custseg ends quietly with 0, so pipefail stays happy.
    snippet(&format!(
        r#"awk 'BEGIN {{ print "customer_id,order_id,ordered_at,amount"
             for (i = 0; i < 60000; i++)
               printf "c%05d,o%06d,2024-%02d-%02d 10:00:00,%d.50\n", i % 20000, i, 1 + i % 12, 1 + i % 28, 10 + i % 90 }}' > {tmp}/big_orders.csv
         test "$(custseg rfm {tmp}/big_orders.csv --as-of 2025-01-01 --format csv --quiet | wc -c)" -gt 1000000
         custseg rfm {tmp}/big_orders.csv --as-of 2025-01-01 --format csv | head -n 3"#
    ))
    .assert()
    .code(0)
    .stdout(predicates::str::starts_with(
        "customer_id,recency_days,frequency,monetary,avg_order_value,first_purchase,last_purchase,tenure_days,r_score,f_score,m_score,rfm_cell,segment\n\
         c00000,114,3,91.5,30.5,2024-01-01,2024-09-09,366,1,1,1,111,Lost\n",
    ))
    .stderr(predicates::str::contains("error").not());

    snippet(
        r#"custseg rfm - --as-of 2025-01-01 --format csv --quiet < examples/pipelines/data/orders.csv \
             | (read -r header; echo "$header"; sort -t, -k4,4gr) | head -n 4 | cut -d, -f1,4"#,
    )
    .assert()
    .code(0)
    .stdout("customer_id,monetary\nK01,6800.6\nK02,6589.43\nK04,6427.06\n");
}

#[test]
fn cookbook_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().display().to_string();
    let gate = format!(
        "status=0
         custseg report vip testdata/report/vip/orders.csv --as-of 2024-06-30 --top 3 \
           --fail-on-alerts -o {tmp}/vip.html --quiet || status=$?
         case $status in
           0) echo 'no alerts' ;;
           3) echo 'alerts: report written' ;;
           *) echo \"failed ($status)\"; exit $status ;;
         esac
         custseg report segments testdata/rfm/ties/orders.csv --by nosuch --quiet || echo \"usage error $?\""
    );
    snippet(&gate)
        .assert()
        .code(0)
        .stdout("alerts: report written\nusage error 2\n")
        .stderr(predicates::str::contains(
            "custseg: error: --by: no column \"nosuch\" in the value table",
        ));
    assert!(read(&dir.path().join("vip.html")).contains("<svg"));
}

#[test]
fn cookbook_score_once_slice_often() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().display().to_string();
    let shop = ingest_shop(dir.path());
    snippet(&format!(
        "custseg score {shop} --as-of 2025-01-01 -o {tmp}/value.parquet --quiet
         custseg segment {tmp}/value.parquet --by city,tier --quiet | head -n 3
         custseg segment {tmp}/value.parquet --where \"tier = 'high' AND recency_days > 60\" \
           --format csv --quiet | cut -d, -f1 | tail -n +2 | tr '\\n' ' '
         custseg report segments {tmp}/value.parquet --by tier -o {tmp}/tiers.md --quiet"
    ))
    .assert()
    .code(0)
    .stdout(
        "city,tier,customers,revenue,customer_share,revenue_share\n\
         苏州,high,5,111739.7,0.0347,0.1058\n\
         南京,high,5,99764.3,0.0347,0.0944\n\
         C0053 C0088 C0096 C0102 ",
    );
    let tiers = read(&dir.path().join("tiers.md"));
    assert!(
        tiers.contains("| Total | 144 | 1 | 1056576.7 | 1 | 75.65 | 6.23 | 7337.34 |"),
        "{tiers}"
    );
}

#[test]
fn cookbook_clv_fit_monthly_score_weekly() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().display().to_string();
    let shop = ingest_shop(dir.path());
    snippet(&format!(
        "custseg clv {shop} --as-of 2024-12-01 --save-params {tmp}/clv-params.json --quiet --format csv > /dev/null
         custseg clv {shop} --as-of 2025-01-01 --params {tmp}/clv-params.json -o {tmp}/clv-2025-01-01.parquet"
    ))
    .assert()
    .code(0)
    .stderr(predicates::str::contains(format!(
        "parameters from {tmp}/clv-params.json (fitted on 139 customers, calibration end 2024-12-01)"
    )));
    let scores = support::read_parquet(&dir.path().join("clv-2025-01-01.parquet"));
    assert_eq!(scores.height(), 144);
    assert!(scores.column("clv").is_ok());
}

#[test]
fn cookbook_report_files_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().display().to_string();
    let shop = ingest_shop(dir.path());
    snippet(&format!(
        "custseg report vip {shop} --as-of 2025-01-01 -o {tmp}/vip.html
         custseg report vip {shop} --as-of 2025-01-01 -o {tmp}/vip.csv"
    ))
    .assert()
    .code(0);
    for f in ["vip.html", "vip.vip.csv", "vip.alerts.csv", "vip.trend.csv"] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let has_jq = std::process::Command::new("jq")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_jq {
        snippet(&format!(
            "custseg report vip {shop} --as-of 2025-01-01 --format json --quiet \
               | jq -r '.sections.alerts[] | [.customer_id, .alert, .detail] | @tsv' | head -n 3"
        ))
        .assert()
        .code(0)
        .stdout(
            "C0006\torders_drop\torders 0 vs 1.0 per week average of the previous 4 weeks\n\
             C0012\torders_drop\torders 0 vs 0.5 per week average of the previous 4 weeks\n\
             C0015\torders_drop\torders 0 vs 0.5 per week average of the previous 4 weeks\n",
        );
    }
}
