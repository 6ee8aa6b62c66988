//! Progress on stderr: named stages for lazy plans (a spinner with the stage name), shown only
//! when stderr is a terminal and `--quiet` is off. Library code reports stages; this decides
//! whether anyone sees them.
//!
//! With `CUSTSEG_TIMINGS=1` in the environment, every stage's wall time is also printed to
//! stderr when the next stage starts (`custseg: timing: <stage>: 1.23 s`), whether or not the
//! spinner is shown: for benchmarks (bench/ingest.sh) and for finding a slow step.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// A stage reporter; silent unless stderr is a terminal and the user did not ask for quiet.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// The stage running and when it started, when timings are on.
    timing: Option<Mutex<Option<(String, Instant)>>>,
}

/// The environment variable that turns stage timings on.
pub const TIMINGS_VAR: &str = "CUSTSEG_TIMINGS";

/// Whether [`TIMINGS_VAR`] asks for stage timings.
pub fn timings_enabled() -> bool {
    std::env::var(TIMINGS_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn timings_on() -> Option<Mutex<Option<(String, Instant)>>> {
    timings_enabled().then(|| Mutex::new(None))
}

impl Progress {
    /// A reporter that shows stages when `enabled` and stderr is a terminal.
    pub fn new(enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            timing: timings_on(),
        }
    }

    /// A reporter that never shows anything (stage timings still print when turned on).
    pub fn hidden() -> Self {
        Self {
            bar: None,
            timing: timings_on(),
        }
    }

    /// Names the stage now running (and ends the previous one).
    pub fn stage(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_string());
        }
        self.lap(Some(name));
    }

    /// Removes the spinner (and ends the last stage).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.lap(None);
    }

    /// With timings on: prints the time of the stage that ends and starts timing `next`.
    fn lap(&self, next: Option<&str>) {
        let Some(timing) = &self.timing else {
            return;
        };
        let mut current = timing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((name, started)) = current.take() {
            let took = started.elapsed().as_secs_f64();
            if let Some(bar) = &self.bar {
                bar.suspend(|| eprintln!("custseg: timing: {name}: {took:.2} s"));
            } else {
                eprintln!("custseg: timing: {name}: {took:.2} s");
            }
        }
        *current = next.map(|n| (n.to_string(), Instant::now()));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
