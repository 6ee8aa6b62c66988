//! Cleaning: value parsers, per-source rules with reject reasons, de-duplication, identity
//! resolution across channels, and the ingest pipeline that ties them together while accounting
//! for every row (read = kept + rejected + duplicates).

pub mod dedupe;
pub mod identity;
pub mod parse;
pub mod pipeline;
pub mod rules;

/// Why a row was rejected. The code is what rejects.csv and summary.json carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RejectReason {
    /// An NDJSON line that is not a JSON object (e.g. a truncated last line).
    MalformedLine,
    /// No customer_id, e-mail, phone or external id usable as a key.
    MissingCustomer,
    /// order_id is mapped but empty.
    MissingOrderId,
    /// The timestamp is empty or matches no format.
    BadTimestamp,
    /// The timestamp is before 1990-01-01 or after the as-of date.
    TimestampOutOfRange,
    /// quantity is present but not a number.
    BadQuantity,
    /// amount, unit_price, discount or value is present but not a finite number.
    BadAmount,
    /// Neither amount nor quantity × unit_price is available.
    MissingAmount,
    /// birth_date or signup_date is present but not a date.
    BadDate,
}

impl RejectReason {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::MalformedLine => "malformed_line",
            RejectReason::MissingCustomer => "missing_customer",
            RejectReason::MissingOrderId => "missing_order_id",
            RejectReason::BadTimestamp => "bad_timestamp",
            RejectReason::TimestampOutOfRange => "timestamp_out_of_range",
            RejectReason::BadQuantity => "bad_quantity",
            RejectReason::BadAmount => "bad_amount",
            RejectReason::MissingAmount => "missing_amount",
            RejectReason::BadDate => "bad_date",
        }
    }
}
