//! Customer-base models on top of the `btyd` crate: data preparation from order lines (polars
//! plans), fitting, per-customer predictions and CLV, the params file, and the
//! calibration/holdout diagnostics. `custseg clv` drives it; `custseg score` can call
//! [`clv::predict_table`].

pub mod clv;
pub mod diagnostics;
pub mod interchange;
pub mod params;
pub mod prep;
