//! The one integration-test binary: runs the real `custseg` binary over fixtures in testdata/.
//! Golden cases live as plain files under testdata/cases/<command>/<case>/; set
//! `CUSTSEG_BLESS=1` to rewrite their expectations, then review with `git diff`.

mod analyze_a;
mod analyze_b;
mod clv;
mod examples;
mod golden;
mod ingest;
mod privacy;
mod report;
mod rfm;
mod sql;
mod support;
