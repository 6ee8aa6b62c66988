//! Canonical column names, in one place. Grepping a name from the docs lands here and on the
//! code that computes it.

/// The kind of records a source holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Order lines: one row per product line of an order (or per order).
    Orders,
    /// Customer master data (CRM contacts, member lists).
    Customers,
    /// Interactions: page views, service chats, shares.
    Events,
}

impl Kind {
    /// The lower-case name used in configs, summaries and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Orders => "orders",
            Kind::Customers => "customers",
            Kind::Events => "events",
        }
    }

    /// Canonical input columns a source of this kind may map.
    pub fn canonical_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Orders => ORDER_INPUT_COLUMNS,
            Kind::Customers => CUSTOMER_INPUT_COLUMNS,
            Kind::Events => EVENT_INPUT_COLUMNS,
        }
    }

    /// The output file this kind is written to inside an ingest directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Orders => ORDERS_FILE,
            Kind::Customers => CUSTOMERS_FILE,
            Kind::Events => EVENTS_FILE,
        }
    }
}

pub const CUSTOMER_ID: &str = "customer_id";
pub const EMAIL: &str = "email";
pub const PHONE: &str = "phone";
pub const EXTERNAL_ID: &str = "external_id";
pub const ORDER_ID: &str = "order_id";
pub const ORDERED_AT: &str = "ordered_at";
pub const CHANNEL: &str = "channel";
pub const SOURCE: &str = "source";
pub const SKU: &str = "sku";
pub const CATEGORY: &str = "category";
pub const BRAND: &str = "brand";
pub const QUANTITY: &str = "quantity";
pub const UNIT_PRICE: &str = "unit_price";
pub const DISCOUNT: &str = "discount";
pub const AMOUNT: &str = "amount";
pub const IS_RETURN: &str = "is_return";
pub const NAME: &str = "name";
pub const GENDER: &str = "gender";
pub const BIRTH_DATE: &str = "birth_date";
pub const CITY: &str = "city";
pub const REGION: &str = "region";
pub const SIGNUP_DATE: &str = "signup_date";
pub const EVENT_TYPE: &str = "event_type";
pub const OCCURRED_AT: &str = "occurred_at";
pub const VALUE: &str = "value";

/// Columns an orders source may map.
pub const ORDER_INPUT_COLUMNS: &[&str] = &[
    CUSTOMER_ID,
    EMAIL,
    PHONE,
    EXTERNAL_ID,
    ORDER_ID,
    ORDERED_AT,
    CHANNEL,
    SKU,
    CATEGORY,
    BRAND,
    QUANTITY,
    UNIT_PRICE,
    DISCOUNT,
    AMOUNT,
];

/// Columns a customers source may map by name (any other mapped name becomes an attribute).
pub const CUSTOMER_INPUT_COLUMNS: &[&str] = &[
    CUSTOMER_ID,
    EMAIL,
    PHONE,
    EXTERNAL_ID,
    NAME,
    GENDER,
    BIRTH_DATE,
    CITY,
    REGION,
    SIGNUP_DATE,
];

/// Columns an events source may map.
pub const EVENT_INPUT_COLUMNS: &[&str] = &[
    CUSTOMER_ID,
    EMAIL,
    PHONE,
    EXTERNAL_ID,
    EVENT_TYPE,
    OCCURRED_AT,
    VALUE,
];

/// Column order of `orders.parquet`.
pub const ORDER_OUTPUT_COLUMNS: &[&str] = &[
    CUSTOMER_ID,
    ORDER_ID,
    ORDERED_AT,
    CHANNEL,
    SOURCE,
    SKU,
    CATEGORY,
    BRAND,
    QUANTITY,
    UNIT_PRICE,
    DISCOUNT,
    AMOUNT,
    IS_RETURN,
    EMAIL,
    PHONE,
    EXTERNAL_ID,
];

/// Column order of `customers.parquet` (attributes follow, sorted by name).
pub const CUSTOMER_OUTPUT_COLUMNS: &[&str] = &[
    CUSTOMER_ID,
    EMAIL,
    PHONE,
    EXTERNAL_ID,
    NAME,
    GENDER,
    BIRTH_DATE,
    CITY,
    REGION,
    SIGNUP_DATE,
    SOURCE,
];

/// Column order of `events.parquet`.
pub const EVENT_OUTPUT_COLUMNS: &[&str] = &[
    CUSTOMER_ID,
    EVENT_TYPE,
    OCCURRED_AT,
    VALUE,
    CHANNEL,
    SOURCE,
    EMAIL,
    PHONE,
    EXTERNAL_ID,
];

/// Ingest output file names.
pub const ORDERS_FILE: &str = "orders.parquet";
pub const CUSTOMERS_FILE: &str = "customers.parquet";
pub const EVENTS_FILE: &str = "events.parquet";
pub const REJECTS_FILE: &str = "rejects.csv";
pub const SUMMARY_FILE: &str = "summary.json";

/// Columns of `rejects.csv`, in order.
pub const REJECT_COLUMNS: &[&str] = &["source", "file", "line", "reason", "message", "raw"];
