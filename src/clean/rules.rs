//! The cleaning plan of one source: raw string columns in, typed canonical columns plus a reject
//! reason, a human message and the raw values out. Builds expressions only; never collects.
//! Every rule is documented in docs/cleaning.md.

use std::ops::Neg;

use polars::prelude::*;

use crate::clean::parse;
use crate::clean::RejectReason;
use crate::config::{Settings, Source};
use crate::io::preflight::EXCERPT_CHARS;
pub use crate::io::preflight::MALFORMED;
use crate::schema::{self, Kind};

/// Prefix of the raw string columns a scan is renamed to (`raw:amount`).
pub const RAW_PREFIX: &str = "raw:";
/// Provenance: the file a row came from (as shown to users).
pub const FILE: &str = "__file";
/// Provenance: the line (CSV/TSV: physical line incl. header; NDJSON: line; Parquet: row), 1-based.
pub const LINE: &str = "__line";
/// The reject reason code, null for kept rows.
pub const REASON: &str = "__reason";
/// The human message for a rejected row.
pub const MESSAGE: &str = "__message";
/// True on the first occurrence of a row's raw values within its source (duplicates are false).
pub const FIRST: &str = "__first";
/// True when every mapped field of a row is empty (a blank line): not a row at all.
pub const BLANK: &str = "__blank";
/// The raw values of a row as a JSON object keyed by export column name.
pub const RAW_JSON: &str = "__raw";

/// The accepted time range for timestamps, as UTC epoch microseconds `[earliest, end)`.
#[derive(Debug, Clone, Copy)]
pub struct TimeWindow {
    /// 1990-01-01 00:00 local.
    pub earliest_us: i64,
    /// Start of the day after the as-of date, local.
    pub end_us: i64,
    /// The as-of date (inclusive), for messages.
    pub as_of: chrono::NaiveDate,
    /// The zone name, for messages.
    pub zone: &'static str,
}

impl TimeWindow {
    /// The window for as-of date `as_of` in `tz`.
    pub fn new(as_of: chrono::NaiveDate, tz: chrono_tz::Tz) -> Self {
        let (y, m, d) = parse::EARLIEST_DATE;
        let earliest = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        let end = as_of.succ_opt().unwrap_or(as_of);
        Self {
            earliest_us: local_midnight_us(earliest, tz),
            end_us: local_midnight_us(end, tz),
            as_of,
            zone: tz.name(),
        }
    }
}

/// Epoch microseconds of local midnight starting `date` in `tz` (earliest if ambiguous).
pub fn local_midnight_us(date: chrono::NaiveDate, tz: chrono_tz::Tz) -> i64 {
    use chrono::TimeZone as _;
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive).earliest() {
        Some(t) => t.timestamp_micros(),
        // Midnight skipped by a DST jump: take the UTC reading of the wall time.
        None => naive.and_utc().timestamp_micros(),
    }
}

fn raw(source: &Source, canonical: &str) -> Expr {
    if source.column(canonical).is_some() {
        col(format!("{RAW_PREFIX}{canonical}"))
    } else {
        lit(NULL).cast(DataType::String)
    }
}

fn mapped(source: &Source, canonical: &str) -> bool {
    source.column(canonical).is_some()
}

/// `"value"` for messages.
/// `"value"` for messages; a value over [`EXCERPT_CHARS`] characters is cut with `…` (the
/// rejects file's raw column keeps it whole).
fn quoted(e: Expr) -> Expr {
    let cut = e.clone().str().slice(lit(0), lit(EXCERPT_CHARS as u64));
    let shown = when(e.clone().str().len_chars().gt(lit(EXCERPT_CHARS as u32)))
        .then(concat_str([cut, lit("…")], "", false))
        .otherwise(e);
    concat_str([lit("\""), shown, lit("\"")], "", false)
}

fn column_note(source: &Source, canonical: &str) -> String {
    format!(
        " (column {})",
        source.column(canonical).unwrap_or(canonical)
    )
}

/// A present raw value whose parse came out null.
fn unparseable(raw_value: Expr, parsed: Expr) -> Expr {
    parse::text(raw_value).is_not_null().and(parsed.is_null())
}

/// One reject rule: condition, reason, message.
struct Rule {
    when: Expr,
    reason: RejectReason,
    message: Expr,
}

fn not_a_number(source: &Source, canonical: &str) -> Expr {
    concat_str(
        [
            lit(format!("{canonical} ")),
            quoted(raw(source, canonical)),
            lit(format!(
                " is not a number{}",
                column_note(source, canonical)
            )),
        ],
        "",
        false,
    )
}

/// Rules shared by every kind: a line the preflight found broken is rejected first, as it is.
fn malformed_rule() -> Rule {
    Rule {
        when: col(MALFORMED).is_not_null(),
        reason: RejectReason::MalformedLine,
        message: col(MALFORMED),
    }
}

/// Rules shared by every kind: a customer key must exist.
fn key_rule(has_key: Expr) -> Rule {
    Rule {
        when: has_key.not(),
        reason: RejectReason::MissingCustomer,
        message: lit(
            "no customer key: customer_id, email, phone and external_id are all empty or invalid",
        ),
    }
}

fn timestamp_rules(
    source: &Source,
    canonical: &str,
    parsed: Expr,
    window: &TimeWindow,
) -> Vec<Rule> {
    let note = column_note(source, canonical);
    let r = raw(source, canonical);
    let micros = parsed.clone().cast(DataType::Int64);
    vec![
        Rule {
            when: parsed.clone().is_null(),
            reason: RejectReason::BadTimestamp,
            message: when(parse::text(r.clone()).is_null())
                .then(lit(format!("{canonical} is empty{note}")))
                .otherwise(concat_str(
                    [
                        lit(format!("{canonical} ")),
                        quoted(r.clone()),
                        lit(format!(
                            " is not a valid timestamp (configured formats, ISO 8601, local time in {}){note}",
                            window.zone
                        )),
                    ],
                    "",
                    false,
                )),
        },
        Rule {
            when: micros
                .clone()
                .lt(lit(window.earliest_us))
                .or(micros.gt_eq(lit(window.end_us))),
            reason: RejectReason::TimestampOutOfRange,
            message: concat_str(
                [
                    lit(format!("{canonical} ")),
                    quoted(r),
                    lit(format!(
                        " is outside 1990-01-01 .. {} (the as-of date){note}",
                        window.as_of
                    )),
                ],
                "",
                false,
            ),
        },
    ]
}

/// Folds rules into (reason, message) expressions: the first matching rule wins.
fn fold_rules(rules: Vec<Rule>) -> (Expr, Expr) {
    let mut reason = lit(NULL).cast(DataType::String);
    let mut message = lit(NULL).cast(DataType::String);
    for rule in rules.into_iter().rev() {
        let hit = rule.when.fill_null(lit(false));
        reason = when(hit.clone())
            .then(lit(rule.reason.code()))
            .otherwise(reason);
        message = when(hit).then(rule.message).otherwise(message);
    }
    (reason, message)
}

/// JSON object of the raw values keyed by export column name: `{"金额":"—","小票号":null}`.
pub fn raw_json(source: &Source) -> Expr {
    let mut parts: Vec<Expr> = Vec::new();
    for (i, (canonical, export)) in source.columns.iter().enumerate() {
        let key = serde_json::to_string(export).unwrap_or_else(|_| "\"?\"".to_string());
        let sep = if i == 0 { "{" } else { "," };
        parts.push(lit(format!("{sep}{key}:")));
        let value = col(format!("{RAW_PREFIX}{canonical}"))
            .str()
            .replace_all(lit("\\"), lit("\\\\"), true)
            .str()
            .replace_all(lit("\""), lit("\\\""), true)
            .str()
            .replace_all(lit("\n"), lit("\\n"), true)
            .str()
            .replace_all(lit("\r"), lit("\\r"), true)
            .str()
            .replace_all(lit("\t"), lit("\\t"), true);
        parts.push(
            when(value.clone().is_null())
                .then(lit("null"))
                .otherwise(concat_str([lit("\""), value, lit("\"")], "", false)),
        );
    }
    parts.push(lit("}"));
    concat_str(parts, "", false)
}

/// Identity columns cleaned the same way for every kind.
fn key_columns(source: &Source, settings: &Settings) -> Vec<Expr> {
    vec![
        parse::text(raw(source, schema::CUSTOMER_ID)).alias(schema::CUSTOMER_ID),
        parse::email(raw(source, schema::EMAIL)).alias(schema::EMAIL),
        parse::phone(
            raw(source, schema::PHONE),
            settings.phone_country_code.as_deref(),
        )
        .alias(schema::PHONE),
        parse::text(raw(source, schema::EXTERNAL_ID)).alias(schema::EXTERNAL_ID),
    ]
}

fn has_key() -> Expr {
    col(schema::CUSTOMER_ID)
        .is_not_null()
        .or(col(schema::EMAIL).is_not_null())
        .or(col(schema::PHONE).is_not_null())
        .or(col(schema::EXTERNAL_ID).is_not_null())
}

/// The cleaning plan for one source. `lf` has the raw columns (`raw:<canonical>`), [`FILE`] and
/// [`LINE`]; the result has the kind's canonical columns, `source`, provenance, [`REASON`],
/// [`MESSAGE`] and the raw columns (for [`raw_json`] on rejected rows).
pub fn clean_plan(
    lf: LazyFrame,
    source: &Source,
    settings: &Settings,
    window: &TimeWindow,
) -> LazyFrame {
    let tz = settings.timezone;
    // The raw columns stay in the result: rejects quote them (the JSON is built for rejected rows
    // only, in the pipeline), kept rows drop them.
    let mut provenance = vec![col(FILE), col(LINE), col(FIRST), col(BLANK), col(MALFORMED)];
    // Raw columns stay until the rules have read them, then go.
    let raw_names: Vec<String> = source
        .columns
        .keys()
        .map(|c| format!("{RAW_PREFIX}{c}"))
        .collect();
    provenance.extend(raw_names.iter().map(|n| col(n.as_str())));

    match source.kind {
        Kind::Orders => {
            let scale = lit(source.amount_scale);
            // Scaled values are rounded to 6 decimals so 17970 x 0.01 is 179.7, not 179.70000000000002.
            let scaled = |e: Expr| (e * scale.clone()).round(6, RoundMode::HalfAwayFromZero);
            let ordered_at = parse::timestamp(
                raw(source, schema::ORDERED_AT),
                &source.timestamp_formats,
                source.timestamp_unit,
                tz,
            );
            let quantity = parse::number(raw(source, schema::QUANTITY));
            let unit_price = scaled(parse::number(raw(source, schema::UNIT_PRICE)));
            let discount = scaled(parse::number(raw(source, schema::DISCOUNT)));
            let amount_given = scaled(parse::number(raw(source, schema::AMOUNT)));
            // A discount lowers what was paid, and on a return line what is refunded.
            let signed_discount = when(quantity.clone().lt(lit(0.0)))
                .then(discount.clone().fill_null(lit(0.0)).neg())
                .otherwise(discount.clone().fill_null(lit(0.0)));
            let computed = (quantity.clone() * unit_price.clone() - signed_discount)
                .round(6, RoundMode::HalfAwayFromZero);
            // The amount column when it holds a value (an unparseable one stays null and is
            // rejected as bad_amount), else quantity × unit_price − discount.
            let amount = when(parse::text(raw(source, schema::AMOUNT)).is_not_null())
                .then(amount_given.clone())
                .otherwise(computed);
            let mut cols = key_columns(source, settings);
            cols.extend([
                order_id(source).alias(schema::ORDER_ID),
                ordered_at.alias(schema::ORDERED_AT),
                coalesce(&[
                    parse::text(raw(source, schema::CHANNEL)),
                    lit(source.name.clone()),
                ])
                .alias(schema::CHANNEL),
                lit(source.name.clone()).alias(schema::SOURCE),
                parse::text(raw(source, schema::SKU)).alias(schema::SKU),
                parse::text(raw(source, schema::CATEGORY)).alias(schema::CATEGORY),
                parse::text(raw(source, schema::BRAND)).alias(schema::BRAND),
                quantity.alias(schema::QUANTITY),
                unit_price.alias(schema::UNIT_PRICE),
                discount.alias(schema::DISCOUNT),
                amount.alias(schema::AMOUNT),
            ]);
            cols.extend(provenance);
            let mut rules = vec![malformed_rule(), key_rule(has_key())];
            if mapped(source, schema::ORDER_ID) {
                rules.push(Rule {
                    when: col(schema::ORDER_ID).is_null(),
                    reason: RejectReason::MissingOrderId,
                    message: lit(format!(
                        "order_id is empty{}",
                        column_note(source, schema::ORDER_ID)
                    )),
                });
            }
            rules.extend(timestamp_rules(
                source,
                schema::ORDERED_AT,
                col(schema::ORDERED_AT),
                window,
            ));
            rules.push(Rule {
                when: unparseable(raw(source, schema::QUANTITY), col(schema::QUANTITY)),
                reason: RejectReason::BadQuantity,
                message: not_a_number(source, schema::QUANTITY),
            });
            for c in [schema::AMOUNT, schema::UNIT_PRICE, schema::DISCOUNT] {
                if mapped(source, c) {
                    // amount is null exactly when its text does not parse (see above).
                    rules.push(Rule {
                        when: unparseable(raw(source, c), col(c)),
                        reason: RejectReason::BadAmount,
                        message: not_a_number(source, c),
                    });
                }
            }
            rules.push(Rule {
                when: col(schema::AMOUNT).is_null(),
                reason: RejectReason::MissingAmount,
                message: lit(
                    "no amount: amount is empty and quantity × unit_price cannot be computed",
                ),
            });
            let (reason, message) = fold_rules(rules);
            // A return is a negative quantity or amount; its amount always counts negative.
            let is_return = col(schema::AMOUNT)
                .lt(lit(0.0))
                .or(col(schema::QUANTITY).lt(lit(0.0)).fill_null(lit(false)))
                .fill_null(lit(false));
            lf.select(cols)
                .with_columns([reason.alias(REASON), message.alias(MESSAGE)])
                .with_columns([
                    is_return.clone().alias(schema::IS_RETURN),
                    parse::no_negative_zero(
                        when(is_return)
                            .then(col(schema::AMOUNT).abs().neg())
                            .otherwise(col(schema::AMOUNT)),
                    )
                    .alias(schema::AMOUNT),
                ])
        }
        Kind::Events => {
            let occurred_at = parse::timestamp(
                raw(source, schema::OCCURRED_AT),
                &source.timestamp_formats,
                source.timestamp_unit,
                tz,
            );
            let mut cols = key_columns(source, settings);
            cols.extend([
                parse::text(raw(source, schema::EVENT_TYPE)).alias(schema::EVENT_TYPE),
                occurred_at.alias(schema::OCCURRED_AT),
                parse::number(raw(source, schema::VALUE)).alias(schema::VALUE),
                lit(source.name.clone()).alias(schema::CHANNEL),
                lit(source.name.clone()).alias(schema::SOURCE),
            ]);
            cols.extend(provenance);
            let mut rules = vec![malformed_rule(), key_rule(has_key())];
            rules.extend(timestamp_rules(
                source,
                schema::OCCURRED_AT,
                col(schema::OCCURRED_AT),
                window,
            ));
            rules.push(Rule {
                when: unparseable(raw(source, schema::VALUE), col(schema::VALUE)),
                reason: RejectReason::BadAmount,
                message: not_a_number(source, schema::VALUE),
            });
            let (reason, message) = fold_rules(rules);
            lf.select(cols)
                .with_columns([reason.alias(REASON), message.alias(MESSAGE)])
        }
        Kind::Customers => {
            let mut cols = key_columns(source, settings);
            for c in [schema::NAME, schema::GENDER, schema::CITY, schema::REGION] {
                cols.push(parse::text(raw(source, c)).alias(c));
            }
            for c in [schema::BIRTH_DATE, schema::SIGNUP_DATE] {
                cols.push(parse::date(raw(source, c), &source.timestamp_formats).alias(c));
            }
            cols.push(lit(source.name.clone()).alias(schema::SOURCE));
            for attr in attributes(source) {
                cols.push(parse::text(col(format!("{RAW_PREFIX}{attr}"))).alias(attr));
            }
            cols.extend(provenance);
            let mut rules = vec![malformed_rule(), key_rule(has_key())];
            for c in [schema::BIRTH_DATE, schema::SIGNUP_DATE] {
                rules.push(Rule {
                    when: unparseable(raw(source, c), col(c)),
                    reason: RejectReason::BadDate,
                    message: concat_str(
                        [
                            lit(format!("{c} ")),
                            quoted(raw(source, c)),
                            lit(format!(" is not a date{}", column_note(source, c))),
                        ],
                        "",
                        false,
                    ),
                });
            }
            let (reason, message) = fold_rules(rules);
            lf.select(cols)
                .with_columns([reason.alias(REASON), message.alias(MESSAGE)])
        }
    }
}

/// The order id: the mapped column, else one order per line (`<source>:<file>:<line>`).
fn order_id(source: &Source) -> Expr {
    if mapped(source, schema::ORDER_ID) {
        parse::text(raw(source, schema::ORDER_ID))
    } else {
        concat_str(
            [
                lit(source.name.clone()),
                col(FILE),
                col(LINE).cast(DataType::String),
            ],
            ":",
            false,
        )
    }
}

/// Mapped names of a customers source that are not canonical: kept as attribute columns.
pub fn attributes(source: &Source) -> Vec<&str> {
    if source.kind != Kind::Customers {
        return Vec::new();
    }
    source
        .columns
        .keys()
        .map(String::as_str)
        .filter(|c| !schema::CUSTOMER_INPUT_COLUMNS.contains(c))
        .collect()
}
