//! Progress on stderr: named stages for lazy plans (a spinner with the stage name), shown only
//! when stderr is a terminal and `--quiet` is off. Library code reports stages; this decides
//! whether anyone sees them.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A stage reporter; silent unless stderr is a terminal and the user did not ask for quiet.
pub struct Progress {
    bar: Option<ProgressBar>,
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
        Self { bar }
    }

    /// A reporter that never shows anything.
    pub fn hidden() -> Self {
        Self { bar: None }
    }

    /// Names the stage now running.
    pub fn stage(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_string());
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
