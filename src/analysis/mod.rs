//! Behaviour analyses as plan builders and report sections (`custseg analyze`): LazyFrames in,
//! LazyFrames or [`crate::report::Section`]s out. docs/analyses.md defines every number.
//!
//! The analyses `custseg run` includes (time, categories, amounts, channels, cohorts) each have a
//! `report_sections` function: their plans, collected through the caller's [`Collect`], turned
//! into the sections `custseg analyze <what>` writes and `custseg run` appends to its report.

use polars::prelude::{DataFrame, LazyFrame};

use crate::error::Result;

pub mod amounts;
pub mod basket;
pub mod campaign;
pub mod categories;
pub mod channels;
pub mod cohorts;
pub mod filter;
pub mod next_purchase;
pub mod time;

/// How `report_sections` functions run their plans: the caller's collect, given the plan and a
/// name for the stage (printed with the plan under `--explain`). The library never decides how
/// a plan is run.
pub type Collect<'a> = dyn Fn(LazyFrame, &str) -> Result<DataFrame> + 'a;
