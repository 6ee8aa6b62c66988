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
/// Prefix of the trimmed text of a raw column, null when empty ([`parse::text`]), computed once
/// by [`with_text_columns`] and read by every parser and rule (`text:amount`).
pub const TEXT_PREFIX: &str = "text:";
/// Prefix of a raw value kept only on the lines that need it later (null on the others):
/// rejected lines, for their message and raw values in rejects.csv, and lines that may repeat
/// another (`keep_original` of [`clean_plan`]), for the exact duplicate check (`original:amount`).
const ORIGINAL_PREFIX: &str = "original:";
/// Prefix of a number column's text cast directly to a float (`number:amount`).
const NUMBER_PREFIX: &str = "number:";
/// Prefix of a number column's parsed value (`parsed:amount`), see [`with_numbers`].
const PARSED_PREFIX: &str = "parsed:";
/// Prefix of a timestamp column's text with a trailing `Z` read as `+00:00` (`utc_z:ordered_at`).
const UTC_Z_PREFIX: &str = "utc_z:";
/// Provenance: the file a row came from (as shown to users).
pub const FILE: &str = "__file";
/// Provenance: the line (CSV/TSV: physical line incl. header; NDJSON: line; Parquet: row), 1-based.
pub const LINE: &str = "__line";
/// The index of the first reject rule a line breaks (UInt32), null for kept lines. The reason
/// code and message are derived from it for the rejected lines alone ([`Plan::rejects`]).
pub const RULE: &str = "__rule";
/// True when every mapped field of a row is empty (a blank line): not a row at all.
pub const BLANK: &str = "__blank";

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

/// The trimmed text of a canonical column ([`TEXT_PREFIX`]); null when not mapped.
fn text(source: &Source, canonical: &str) -> Expr {
    if source.column(canonical).is_some() {
        col(format!("{TEXT_PREFIX}{canonical}"))
    } else {
        lit(NULL).cast(DataType::String)
    }
}

/// The raw value of a canonical column on rejected rows ([`ORIGINAL_PREFIX`]).
fn rejected_raw(source: &Source, canonical: &str) -> Expr {
    if source.column(canonical).is_some() {
        col(format!("{ORIGINAL_PREFIX}{canonical}"))
    } else {
        lit(NULL).cast(DataType::String)
    }
}

/// Adds the trimmed text of every mapped raw column ([`TEXT_PREFIX`]), once per column: trimmed
/// in one step, empty text made null in the next ([`parse::text`] in two steps, so each value is
/// trimmed once).
pub fn with_text_columns(lf: LazyFrame, source: &Source) -> LazyFrame {
    let names = || source.columns.keys().map(|c| format!("{TEXT_PREFIX}{c}"));
    lf.with_columns(
        source
            .columns
            .keys()
            .zip(names())
            .map(|(c, name)| parse::trimmed(col(format!("{RAW_PREFIX}{c}"))).alias(name))
            .collect::<Vec<_>>(),
    )
    .with_columns(
        names()
            .map(|name| parse::null_if_empty(col(name.as_str())).alias(name))
            .collect::<Vec<_>>(),
    )
}

/// A number column parsed by [`with_numbers`] ([`PARSED_PREFIX`]); a null float when not mapped.
fn number(source: &Source, canonical: &str) -> Expr {
    if mapped(source, canonical) {
        col(format!("{PARSED_PREFIX}{canonical}"))
    } else {
        lit(NULL).cast(DataType::Float64)
    }
}

/// Parses each mapped number column among `canonical` once: a direct float cast of its text
/// ([`NUMBER_PREFIX`]) in one step, then [`parse::number_text`] into [`PARSED_PREFIX`] in the
/// next, read by [`number`] wherever the value is used.
fn with_numbers(lf: LazyFrame, source: &Source, canonical: &[&str]) -> LazyFrame {
    let present: Vec<&str> = canonical
        .iter()
        .copied()
        .filter(|c| mapped(source, c))
        .collect();
    lf.with_columns(
        present
            .iter()
            .map(|c| {
                col(format!("{TEXT_PREFIX}{c}"))
                    .cast(DataType::Float64)
                    .alias(format!("{NUMBER_PREFIX}{c}"))
            })
            .collect::<Vec<_>>(),
    )
    .with_columns(
        present
            .iter()
            .map(|c| {
                parse::number_text(
                    col(format!("{TEXT_PREFIX}{c}")),
                    col(format!("{NUMBER_PREFIX}{c}")),
                )
                .alias(format!("{PARSED_PREFIX}{c}"))
            })
            .collect::<Vec<_>>(),
    )
}

/// Parses the timestamp column `canonical` into a column of that name, one step at a time
/// ([`parse::timestamp_stages`]); null when not mapped.
fn with_timestamp(lf: LazyFrame, source: &Source, canonical: &str, tz: chrono_tz::Tz) -> LazyFrame {
    if !mapped(source, canonical) {
        let none = lit(NULL).cast(DataType::String);
        return lf.with_column(
            parse::timestamp(none, &source.timestamp_formats, source.timestamp_unit, tz)
                .alias(canonical),
        );
    }
    let stages = parse::timestamp_stages(
        &format!("{TEXT_PREFIX}{canonical}"),
        &format!("{UTC_Z_PREFIX}{canonical}"),
        canonical,
        &source.timestamp_formats,
        source.timestamp_unit,
        tz,
    );
    stages
        .into_iter()
        .fold(lf, |lf, stage| lf.with_column(stage))
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

/// `prefix"value"suffix` for a rejected row's raw value of `canonical` ([`quoted`]), null where
/// that value is null (every kept row): built on the rejected rows alone.
fn quoting(source: &Source, canonical: &str, prefix: String, suffix: String) -> Expr {
    let message = move |value: Expr| {
        concat_str(
            [lit(prefix.clone()), quoted(value), lit(suffix.clone())],
            "",
            false,
        )
    };
    if mapped(source, canonical) {
        parse::on_present(rejected_raw(source, canonical), message, DataType::String)
    } else {
        message(lit(NULL).cast(DataType::String))
    }
}

fn column_note(source: &Source, canonical: &str) -> String {
    format!(
        " (column {})",
        source.column(canonical).unwrap_or(canonical)
    )
}

/// A present value (its trimmed text is not null) whose parse came out null.
fn unparseable(trimmed: Expr, parsed: Expr) -> Expr {
    trimmed.is_not_null().and(parsed.is_null())
}

/// One reject rule: condition, reason, message.
struct Rule {
    when: Expr,
    reason: RejectReason,
    message: Expr,
}

fn not_a_number(source: &Source, canonical: &str) -> Expr {
    quoting(
        source,
        canonical,
        format!("{canonical} "),
        format!(" is not a number{}", column_note(source, canonical)),
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
    let micros = parsed.clone().cast(DataType::Int64);
    vec![
        Rule {
            when: parsed.clone().is_null(),
            reason: RejectReason::BadTimestamp,
            message: when(text(source, canonical).is_null())
                .then(lit(format!("{canonical} is empty{note}")))
                .otherwise(quoting(
                    source,
                    canonical,
                    format!("{canonical} "),
                    format!(
                        " is not a valid timestamp (configured formats, ISO 8601, local time in {}){note}",
                        window.zone
                    ),
                )),
        },
        Rule {
            when: micros
                .clone()
                .lt(lit(window.earliest_us))
                .or(micros.gt_eq(lit(window.end_us))),
            reason: RejectReason::TimestampOutOfRange,
            message: quoting(
                source,
                canonical,
                format!("{canonical} "),
                format!(
                    " is outside 1990-01-01 .. {} (the as-of date){note}",
                    window.as_of
                ),
            ),
        },
    ]
}

/// Folds rules into the rule index of each line ([`RULE`]: the first matching rule wins), and
/// the reason code and message of a line from its [`RULE`]. The index is computed on every line;
/// the reason and message only on rejected lines, where the [`ORIGINAL_PREFIX`] and
/// [`TEXT_PREFIX`] columns the messages read are present ([`Plan::rejects`]).
fn fold_rules(rules: Vec<Rule>) -> (Expr, Expr, Expr) {
    let mut index = lit(NULL).cast(DataType::UInt32);
    let mut reason = lit(NULL).cast(DataType::String);
    let mut message = lit(NULL).cast(DataType::String);
    for (i, rule) in rules.into_iter().enumerate().rev() {
        let i = i as u32;
        index = when(rule.when.fill_null(lit(false)))
            .then(lit(i))
            .otherwise(index);
        let this = col(RULE).eq(lit(i));
        reason = when(this.clone())
            .then(lit(rule.reason.code()))
            .otherwise(reason);
        message = when(this).then(rule.message).otherwise(message);
    }
    (index, reason, message)
}

/// JSON object of the raw values keyed by export column name: `{"金额":"—","小票号":null}`, for
/// the rejected lines ([`Plan::rejects`]), from their [`ORIGINAL_PREFIX`] columns. Values are the
/// raw strings with `\`, `"`, newline, carriage return and tab escaped, `null` when absent; keys
/// are the export names as JSON strings, in the order of the canonical names.
fn raw_json(source: &Source) -> Expr {
    let keys: Vec<String> = source
        .columns
        .values()
        .map(|export| serde_json::to_string(export).unwrap_or_else(|_| "\"?\"".to_string()))
        .collect();
    let inputs: Vec<Expr> = source
        .columns
        .keys()
        .map(|c| col(format!("{ORIGINAL_PREFIX}{c}")))
        .collect();
    map_multiple(
        move |columns: &mut [Column]| {
            let values = columns
                .iter()
                .map(Column::str)
                .collect::<PolarsResult<Vec<_>>>()?;
            let rows = values.first().map_or(0, |v| v.len());
            let mut out = StringChunkedBuilder::new("raw".into(), rows);
            let mut json = String::new();
            for row in 0..rows {
                json.clear();
                for (i, (key, value)) in keys.iter().zip(&values).enumerate() {
                    json.push(if i == 0 { '{' } else { ',' });
                    json.push_str(key);
                    json.push(':');
                    match value.get(row) {
                        None => json.push_str("null"),
                        Some(v) => {
                            json.push('"');
                            push_escaped(&mut json, v);
                            json.push('"');
                        }
                    }
                }
                json.push('}');
                out.append_value(&json);
            }
            Ok(out.finish().into_column())
        },
        inputs,
        |_, _| Ok(Field::new("raw".into(), DataType::String)),
    )
}

/// `value` with `\`, `"`, newline, carriage return and tab escaped as in JSON.
fn push_escaped(out: &mut String, value: &str) {
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
}

/// Identity columns cleaned the same way for every kind.
fn key_columns(source: &Source, settings: &Settings) -> Vec<Expr> {
    vec![
        text(source, schema::CUSTOMER_ID).alias(schema::CUSTOMER_ID),
        parse::email_text(text(source, schema::EMAIL)).alias(schema::EMAIL),
        parse::phone_text(
            text(source, schema::PHONE),
            settings.phone_country_code.as_deref(),
        )
        .alias(schema::PHONE),
        text(source, schema::EXTERNAL_ID).alias(schema::EXTERNAL_ID),
    ]
}

fn has_key() -> Expr {
    col(schema::CUSTOMER_ID)
        .is_not_null()
        .or(col(schema::EMAIL).is_not_null())
        .or(col(schema::PHONE).is_not_null())
        .or(col(schema::EXTERNAL_ID).is_not_null())
}

/// The cleaning plan of one source ([`clean_plan`]).
pub struct Plan {
    /// One row per line read: the kind's canonical columns, `source`, [`FILE`] and [`LINE`]
    /// (null on kept lines), [`BLANK`], [`MALFORMED`], the `pass_through` columns, [`RULE`]
    /// (null on kept lines) and the [`ORIGINAL_PREFIX`] raw values (null on lines neither
    /// rejected nor `keep_original`).
    pub lines: LazyFrame,
    /// The reason code of a rejected line, from its [`RULE`].
    reason: Expr,
    /// The human message of a rejected line.
    message: Expr,
    /// The source's name, its mapped canonical columns.
    source: String,
    mapped: Vec<String>,
}

impl Plan {
    /// The rows of rejects.csv ([`schema::REJECT_COLUMNS`]) from `rejected`: lines of [`Plan::lines`]
    /// (e.g. read back from a scratch file) whose [`RULE`] is set. The messages and raw JSON are
    /// built here, for those lines alone.
    pub fn rejects(&self, rejected: LazyFrame, source: &Source) -> LazyFrame {
        let text: Vec<Expr> = self
            .mapped
            .iter()
            .map(|c| {
                parse::text(col(format!("{ORIGINAL_PREFIX}{c}"))).alias(format!("{TEXT_PREFIX}{c}"))
            })
            .collect();
        rejected.with_columns(text).select([
            lit(self.source.clone()).alias(schema::REJECT_COLUMNS[0]),
            col(FILE).alias(schema::REJECT_COLUMNS[1]),
            col(LINE).alias(schema::REJECT_COLUMNS[2]),
            self.reason.clone().alias(schema::REJECT_COLUMNS[3]),
            self.message.clone().alias(schema::REJECT_COLUMNS[4]),
            raw_json(source).alias(schema::REJECT_COLUMNS[5]),
        ])
    }

    /// The helper columns of [`Plan::lines`] that are not part of the kind's table: [`RULE`],
    /// [`MALFORMED`] and the [`ORIGINAL_PREFIX`] columns.
    pub fn helper_columns(&self) -> Vec<String> {
        let mut names = vec![RULE.to_string(), MALFORMED.to_string()];
        names.extend(self.original_columns());
        names
    }

    /// The [`ORIGINAL_PREFIX`] columns, in the order of the canonical names.
    pub fn original_columns(&self) -> Vec<String> {
        self.mapped
            .iter()
            .map(|c| format!("{ORIGINAL_PREFIX}{c}"))
            .collect()
    }
}

/// The cleaning plan for one source. `lf` has the raw columns (`raw:<canonical>`), their
/// trimmed text ([`with_text_columns`]), [`FILE`], [`LINE`], [`BLANK`], [`MALFORMED`] and the
/// columns named in `pass_through`. The raw values of a line are kept ([`ORIGINAL_PREFIX`])
/// when it is rejected or `keep_original` holds; the other raw and helper columns are dropped at
/// the end, so the result holds no copy of the raw text of most lines.
///
/// Steps: cheap helpers (direct number casts, then the full parse of the rest; timestamps with
/// the first format, then the rest), the typed columns, the rule index, then the raw values of
/// the lines that keep them. Reasons, messages and raw JSON are strings built per rejected line,
/// not per line read ([`Plan::rejects`]).
pub fn clean_plan(
    lf: LazyFrame,
    source: &Source,
    settings: &Settings,
    window: &TimeWindow,
    pass_through: &[String],
    keep_original: Expr,
) -> Plan {
    let tz = settings.timezone;
    let mut keep = vec![col(FILE), col(LINE), col(BLANK), col(MALFORMED)];
    keep.extend(pass_through.iter().map(|c| col(c.as_str())));
    let helper_names: Vec<String> = source
        .columns
        .keys()
        .flat_map(|c| {
            [RAW_PREFIX, TEXT_PREFIX]
                .into_iter()
                .map(move |prefix| format!("{prefix}{c}"))
        })
        .collect();
    keep.extend(helper_names.iter().map(|n| col(n.as_str())));

    let (lf, cols, rules, finish) = match source.kind {
        Kind::Orders => {
            let lf = with_numbers(
                lf,
                source,
                &[
                    schema::QUANTITY,
                    schema::UNIT_PRICE,
                    schema::DISCOUNT,
                    schema::AMOUNT,
                ],
            );
            let lf = with_timestamp(lf, source, schema::ORDERED_AT, tz);
            let scale = lit(source.amount_scale);
            // Scaled values are rounded to 6 decimals so 17970 x 0.01 is 179.7, not 179.70000000000002.
            let scaled = |e: Expr| (e * scale.clone()).round(6, RoundMode::HalfAwayFromZero);
            let quantity = number(source, schema::QUANTITY);
            let unit_price = scaled(number(source, schema::UNIT_PRICE));
            let discount = scaled(number(source, schema::DISCOUNT));
            let amount_given = scaled(number(source, schema::AMOUNT));
            // A discount lowers what was paid, and on a return line what is refunded.
            let signed_discount = when(quantity.clone().lt(lit(0.0)))
                .then(discount.clone().fill_null(lit(0.0)).neg())
                .otherwise(discount.clone().fill_null(lit(0.0)));
            let computed = (quantity.clone() * unit_price.clone() - signed_discount)
                .round(6, RoundMode::HalfAwayFromZero);
            // The amount column when it holds a value (an unparseable one stays null and is
            // rejected as bad_amount), else quantity × unit_price − discount.
            let amount = when(text(source, schema::AMOUNT).is_not_null())
                .then(amount_given.clone())
                .otherwise(computed);
            let mut cols = key_columns(source, settings);
            cols.extend([
                order_id(source).alias(schema::ORDER_ID),
                col(schema::ORDERED_AT),
                coalesce(&[text(source, schema::CHANNEL), lit(source.name.clone())])
                    .alias(schema::CHANNEL),
                lit(source.name.clone()).alias(schema::SOURCE),
                text(source, schema::SKU).alias(schema::SKU),
                text(source, schema::CATEGORY).alias(schema::CATEGORY),
                text(source, schema::BRAND).alias(schema::BRAND),
                quantity.alias(schema::QUANTITY),
                unit_price.alias(schema::UNIT_PRICE),
                discount.alias(schema::DISCOUNT),
                amount.alias(schema::AMOUNT),
            ]);
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
                when: unparseable(text(source, schema::QUANTITY), col(schema::QUANTITY)),
                reason: RejectReason::BadQuantity,
                message: not_a_number(source, schema::QUANTITY),
            });
            for c in [schema::AMOUNT, schema::UNIT_PRICE, schema::DISCOUNT] {
                if mapped(source, c) {
                    // amount is null exactly when its text does not parse (see above).
                    rules.push(Rule {
                        when: unparseable(text(source, c), col(c)),
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
            // A return is a negative quantity or amount; its amount always counts negative.
            let is_return = col(schema::AMOUNT)
                .lt(lit(0.0))
                .or(col(schema::QUANTITY).lt(lit(0.0)).fill_null(lit(false)))
                .fill_null(lit(false));
            let finish = vec![
                is_return.clone().alias(schema::IS_RETURN),
                parse::no_negative_zero(
                    when(is_return)
                        .then(col(schema::AMOUNT).abs().neg())
                        .otherwise(col(schema::AMOUNT)),
                )
                .alias(schema::AMOUNT),
            ];
            (lf, cols, rules, finish)
        }
        Kind::Events => {
            let lf = with_numbers(lf, source, &[schema::VALUE]);
            let lf = with_timestamp(lf, source, schema::OCCURRED_AT, tz);
            let mut cols = key_columns(source, settings);
            cols.extend([
                text(source, schema::EVENT_TYPE).alias(schema::EVENT_TYPE),
                col(schema::OCCURRED_AT),
                number(source, schema::VALUE).alias(schema::VALUE),
                lit(source.name.clone()).alias(schema::CHANNEL),
                lit(source.name.clone()).alias(schema::SOURCE),
            ]);
            let mut rules = vec![malformed_rule(), key_rule(has_key())];
            rules.extend(timestamp_rules(
                source,
                schema::OCCURRED_AT,
                col(schema::OCCURRED_AT),
                window,
            ));
            rules.push(Rule {
                when: unparseable(text(source, schema::VALUE), col(schema::VALUE)),
                reason: RejectReason::BadAmount,
                message: not_a_number(source, schema::VALUE),
            });
            (lf, cols, rules, Vec::new())
        }
        Kind::Customers => {
            let mut cols = key_columns(source, settings);
            for c in [schema::NAME, schema::GENDER, schema::CITY, schema::REGION] {
                cols.push(text(source, c).alias(c));
            }
            for c in [schema::BIRTH_DATE, schema::SIGNUP_DATE] {
                cols.push(parse::date_text(text(source, c), &source.timestamp_formats).alias(c));
            }
            cols.push(lit(source.name.clone()).alias(schema::SOURCE));
            for attr in attributes(source) {
                cols.push(col(format!("{TEXT_PREFIX}{attr}")).alias(attr));
            }
            let mut rules = vec![malformed_rule(), key_rule(has_key())];
            for c in [schema::BIRTH_DATE, schema::SIGNUP_DATE] {
                rules.push(Rule {
                    when: unparseable(text(source, c), col(c)),
                    reason: RejectReason::BadDate,
                    message: quoting(
                        source,
                        c,
                        format!("{c} "),
                        format!(" is not a date{}", column_note(source, c)),
                    ),
                });
            }
            (lf, cols, rules, Vec::new())
        }
    };
    let mut cols = cols;
    cols.extend(keep);
    let (index, reason, message) = fold_rules(rules);
    let keeps_original = col(RULE).is_not_null().or(keep_original);
    let originals: Vec<Expr> = source
        .columns
        .keys()
        .map(|c| {
            when(keeps_original.clone())
                .then(col(format!("{RAW_PREFIX}{c}")))
                .otherwise(lit(NULL).cast(DataType::String))
                .alias(format!("{ORIGINAL_PREFIX}{c}"))
        })
        .collect();
    // Provenance is read for rejected lines only: null on the others, it costs the scratch file
    // next to nothing.
    let provenance = [(FILE, DataType::String), (LINE, DataType::Int64)].map(|(name, dtype)| {
        when(col(RULE).is_not_null())
            .then(col(name))
            .otherwise(lit(NULL).cast(dtype))
            .alias(name)
    });
    let lf = lf
        .select(cols)
        .with_column(index.alias(RULE))
        .with_columns(originals)
        .with_columns(provenance)
        .drop(by_name(helper_names, true, false));
    let lines = if finish.is_empty() {
        lf
    } else {
        lf.with_columns(finish)
    };
    Plan {
        lines,
        reason,
        message,
        source: source.name.clone(),
        mapped: source.columns.keys().cloned().collect(),
    }
}

/// The order id: the mapped column, else one order per line (`<source>:<file>:<line>`).
fn order_id(source: &Source) -> Expr {
    if mapped(source, schema::ORDER_ID) {
        text(source, schema::ORDER_ID)
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
