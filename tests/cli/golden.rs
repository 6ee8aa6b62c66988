//! Golden cases: `testdata/cases/<command>/<case>/` holds `cmd` (the arguments, one line, run
//! from the case folder; `{out}` is a fresh temporary directory), optional `stdin`, `code` (the
//! expected exit status), optional `expout` / `experr` (exact stdout / stderr) and optional
//! `expected/` (files expected in `{out}`; `X.parquet` is compared as `X.parquet.csv`).
//! `CUSTSEG_CASES=text` runs (and with `CUSTSEG_BLESS=1` rewrites) only the cases whose path
//! contains `text`.

use std::path::{Path, PathBuf};

use crate::support;

fn bless() -> bool {
    std::env::var_os("CUSTSEG_BLESS").is_some_and(|v| v == "1")
}

fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let base = support::testdata("cases");
    for command in std::fs::read_dir(&base).expect("testdata/cases") {
        let command = command.expect("entry").path();
        if !command.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&command).expect("case dir") {
            let case = case.expect("entry").path();
            let wanted = std::env::var("CUSTSEG_CASES")
                .map_or(true, |only| case.to_string_lossy().contains(only.as_str()));
            if case.join("cmd").is_file() && wanted {
                out.push(case);
            }
        }
    }
    out.sort();
    out
}

fn compare(path: &Path, actual: &str, failures: &mut Vec<String>) {
    if bless() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, actual).expect("bless write");
        return;
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{} differs\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )),
        Err(_) => failures.push(format!("{} is missing; actual:\n{actual}", path.display())),
    }
}

fn run_case(case: &Path) -> Vec<String> {
    let out = tempfile::tempdir().expect("temp dir");
    let cmd = std::fs::read_to_string(case.join("cmd")).expect("cmd");
    let args: Vec<String> = cmd
        .split_whitespace()
        .map(|a| a.replace("{out}", &out.path().display().to_string()))
        .collect();
    let mut command = support::custseg();
    command.current_dir(case).args(&args).env("NO_COLOR", "1");
    if case.join("stdin").is_file() {
        command.write_stdin(std::fs::read(case.join("stdin")).expect("stdin"));
    }
    let output = command.output().expect("run custseg");
    let mut failures = Vec::new();
    let code = output.status.code().unwrap_or(-1);
    let want_code: i32 = std::fs::read_to_string(case.join("code"))
        .map(|c| c.trim().parse().expect("code is a number"))
        .unwrap_or(0);
    let stderr =
        String::from_utf8_lossy(&output.stderr).replace(&out.path().display().to_string(), "{out}");
    // A panic is never the expected outcome, blessed or not (the house rule: never a panic).
    if code == 101 {
        failures.push(format!("custseg panicked (exit 101); stderr:\n{stderr}"));
    }
    if code != want_code && !bless() {
        failures.push(format!(
            "exit {code}, expected {want_code}; stderr:\n{stderr}"
        ));
    }
    if bless() {
        std::fs::write(case.join("code"), format!("{code}\n")).expect("bless code");
    }
    if case.join("expout").exists() || bless() && !output.stdout.is_empty() {
        compare(
            &case.join("expout"),
            &String::from_utf8_lossy(&output.stdout),
            &mut failures,
        );
    }
    if case.join("experr").exists() {
        compare(&case.join("experr"), &stderr, &mut failures);
    }
    let expected = case.join("expected");
    let mut produced: Vec<PathBuf> = std::fs::read_dir(out.path())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    produced.sort();
    for file in produced {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let (golden, text) = if name.ends_with(".parquet") {
            let mut df = support::read_parquet(&file);
            (
                expected.join(format!("{name}.csv")),
                support::frame_to_csv(&mut df),
            )
        } else {
            (
                expected.join(&name),
                std::fs::read_to_string(&file).expect("output is text"),
            )
        };
        if golden.exists() || bless() {
            compare(&golden, &text, &mut failures);
        }
    }
    failures
}

#[test]
fn golden_cases() {
    let cases = cases();
    assert!(!cases.is_empty(), "no golden cases found");
    let mut report = Vec::new();
    for case in &cases {
        for failure in run_case(case) {
            report.push(format!("case {}: {failure}", case.display()));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}
