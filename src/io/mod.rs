//! Input and output: readers for every supported input format and encoding, and the one writer
//! that owns every output format and atomic file writes.

pub mod cleanup;
pub mod input;
pub mod lock;
pub mod memory;
pub mod preflight;
pub mod read;
pub mod spill;
pub mod write;
