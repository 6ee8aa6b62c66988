//! `custseg clv`: probabilistic customer lifetime value (being written in this session).

use crate::commands::{Ctx, Status};
use crate::error::{Error, Result};

/// Probabilistic customer lifetime value.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `custseg clv`.
pub fn run(_args: Args, _ctx: &Ctx) -> Result<Status> {
    Err(Error::usage("custseg clv is not finished yet"))
}
