//! custseg: customer value analysis from flat files.
//!
//! The library does the work; the binary (`src/main.rs`) parses flags and maps results to exit
//! codes. Library modules know nothing about clap except [`cli`] and [`commands`], which turn
//! typed arguments into library calls.

pub mod analysis;
pub mod clean;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod io;
pub mod metrics;
pub mod models;
pub mod privacy;
pub mod progress;
pub mod report;
pub mod schema;
pub mod sql;

pub use error::{Error, ErrorKind, Result};
