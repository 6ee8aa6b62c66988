//! Customer-base models on top of the `btyd` crate: data preparation from order lines (polars
//! plans) and per-customer predictions.
