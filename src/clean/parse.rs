//! Value parsers as polars expressions: text, e-mail, phone, numbers (amounts with currency
//! signs, separators and accounting negatives), timestamps (strftime patterns, ISO 8601, epoch
//! numbers) and calendar dates. Each takes the raw string column and returns a clean typed column
//! that is null where the raw value is absent *or* unusable; [`crate::clean::rules`] compares
//! raw with clean to decide rejects. The exact rules are in docs/cleaning.md.

use polars::prelude::*;

use crate::config::EpochUnit;

/// Earliest accepted timestamp (local calendar date): 1990-01-01.
pub const EARLIEST_DATE: (i32, u32, u32) = (1990, 1, 1);

/// Trimmed text; empty or whitespace-only becomes null.
pub fn text(raw: Expr) -> Expr {
    null_if_empty(trimmed(raw))
}

/// The first step of [`text`]: leading and trailing whitespace removed (as `str::trim`).
pub fn trimmed(raw: Expr) -> Expr {
    raw.map(
        |column: Column| Ok(trim_values(column.str()?)?.into_column()),
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// `text` with leading and trailing whitespace removed. Values without any are shared with
/// `text`, not copied: in a typical export almost none have any, and copying every value of
/// every column was the largest cost of trimming (polars' `strip_chars` rebuilds them all).
fn trim_values(text: &StringChunked) -> PolarsResult<StringChunked> {
    let padded: BooleanChunked = text
        .iter()
        .map(|v| Some(v.is_some_and(|s| s.trim().len() != s.len())))
        .collect();
    if !padded.any() {
        return Ok(text.clone());
    }
    let trimmed: StringChunked = text
        .iter()
        .zip(padded.iter())
        .map(|(v, p)| {
            if p == Some(true) {
                v.map(str::trim)
            } else {
                None
            }
        })
        .collect();
    Ok(trimmed
        .zip_with(&padded, text)?
        .with_name(text.name().clone()))
}

/// The second step of [`text`]: empty text becomes null. Applied to [`trimmed`] text in a later
/// step (a column computed once), rather than to the expression, which would trim twice.
pub fn null_if_empty(t: Expr) -> Expr {
    when(t.clone().eq(lit("")))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(t)
}

/// E-mail: trimmed, lower-cased; a value that is not `local@domain` (one `@`, something on both
/// sides, no spaces) is treated as absent.
pub fn email(raw: Expr) -> Expr {
    email_text(text(raw))
}

/// [`email`] of text already trimmed by [`text`].
pub fn email_text(t: Expr) -> Expr {
    let e = t.str().to_lowercase();
    when(e.clone().str().contains(lit(r"^[^@\s]+@[^@\s]+$"), true))
        .then(e)
        .otherwise(lit(NULL).cast(DataType::String))
}

/// Phone: digits only; the country code `cc` is removed when written in international form
/// (`+86…`, `0086…`), or as a bare prefix of a number longer than 11 digits. No digits → null.
pub fn phone(raw: Expr, country_code: Option<&str>) -> Expr {
    phone_text(text(raw), country_code)
}

/// [`phone`] of text already trimmed by [`text`].
pub fn phone_text(t: Expr, country_code: Option<&str>) -> Expr {
    // ASCII and full-width digits (１３８… typed with a CJK input method) are kept, the latter
    // turned into ASCII: the same number must give the same key in every channel.
    let digits = t.clone().map(
        |column: Column| Ok(phone_digits(column.str()?).into_column()),
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    );
    let digits = match country_code {
        None => digits,
        Some(cc) => {
            let international = t
                .clone()
                .str()
                .starts_with(lit("+"))
                .or(t.str().starts_with(lit("＋")));
            let with_00 = format!("00{cc}");
            when(digits.clone().str().starts_with(lit(with_00.clone())))
                .then(digits.clone().str().strip_prefix(lit(with_00)))
                .when(
                    digits
                        .clone()
                        .str()
                        .starts_with(lit(cc.to_string()))
                        .and(international.or(digits.clone().str().len_chars().gt(lit(11u32)))),
                )
                .then(digits.clone().str().strip_prefix(lit(cc.to_string())))
                .otherwise(digits)
        }
    };
    when(digits.clone().eq(lit("")))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(digits)
}

/// The digits of phone text, full-width ones made ASCII; everything else dropped. One pass over
/// each value's characters (polars' amortised apply): a regex replace followed by ten literal
/// replaces over every value took 17 s for 10M phones.
fn phone_digits(t: &StringChunked) -> StringChunked {
    t.apply_into_string_amortized(|value, digits| {
        digits.extend(value.chars().filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')),
            _ => None,
        }));
    })
}

/// A number from export text: currency signs (¥ ￥ $ € £ 元) and three-letter upper-case codes
/// (CNY, USD …), thousands commas and spaces are removed; a leading `-` (also `−`) or surrounding
/// parentheses mean negative. Non-finite results (`NaN`, `1e309`) are null. `-0` becomes `0`.
/// A comma must separate thousands (exactly three digits follow it): `1,5` or `3,50` (decimal
/// commas) are null rather than silently misread.
pub fn number(raw: Expr) -> Expr {
    let t = text(raw);
    number_text(t.clone(), t.cast(DataType::Float64))
}

/// [`number`] of text `t` already trimmed by [`text`], given `direct` = `t` cast to `Float64`
/// (null where the text is not a plain number). A finite `direct` is the answer: such text holds
/// no currency sign, comma, parenthesis, space or three upper-case letters, so the clean-up below
/// would leave it unchanged. Only the other rows (usually few) go through the regex clean-up.
pub fn number_text(t: Expr, direct: Expr) -> Expr {
    let plain = direct.clone().is_finite().fill_null(lit(false));
    let rest = when(plain.clone())
        .then(lit(NULL).cast(DataType::String))
        .otherwise(t);
    when(plain)
        .then(no_negative_zero(direct))
        .otherwise(on_present_values(
            rest,
            |t| Ok(number_cleaned(t.str()?)?.into_series()),
            DataType::Float64,
        ))
}

/// Full-width digits and the full-width `．，－（）＋` (U+FF0x–FF1x, typed with CJK input
/// methods) and their ASCII forms.
const FULLWIDTH: [(&str, &str); 16] = [
    ("０", "0"),
    ("１", "1"),
    ("２", "2"),
    ("３", "3"),
    ("４", "4"),
    ("５", "5"),
    ("６", "6"),
    ("７", "7"),
    ("８", "8"),
    ("９", "9"),
    ("．", "."),
    ("，", ","),
    ("－", "-"),
    ("（", "("),
    ("）", ")"),
    ("＋", "+"),
];

/// The full clean-up of [`number`] on trimmed text: full-width forms made ASCII; signs, codes,
/// commas, parentheses and spaces removed; parentheses make the value negative; a decimal comma
/// or a non-finite result gives null; `-0` gives `0`.
///
/// Written with polars' column kernels rather than as an expression: it runs on the few rows
/// per batch that a plain cast could not read ([`number_text`]), and planning an expression of
/// this size once per batch of a streaming pass cost more than the parsing itself (about 2 s
/// per number column on 10M lines).
fn number_cleaned(t: &StringChunked) -> PolarsResult<Float64Chunked> {
    let mut t = t.clone();
    for (wide, ascii) in FULLWIDTH {
        t = t.replace_literal_all(wide, ascii)?;
    }
    let decimal_comma = t
        .contains(r",(\d{0,2}(\D|$)|\d{4})", true)?
        .fill_null_with_values(false)?;
    let parenthesised = t
        .contains(r"(?s)^\(.*\)$", true)?
        .fill_null_with_values(false)?;
    let stripped = t
        .replace_all(r"[¥￥$€£元,()\s]|[A-Z]{3}", "")?
        .replace_literal_all("−", "-")?;
    let v = stripped
        .cast_with_options(
            &DataType::Float64,
            polars::chunked_array::cast::CastOptions::NonStrict,
        )?
        .f64()?
        .clone();
    let v = v.apply_values(|x| -x.abs()).zip_with(&parenthesised, &v)?;
    let usable = v.is_finite() & !decimal_comma;
    v.apply_values(|x| if x == 0.0 { 0.0 } else { x })
        .set(&!usable, None)
}

/// `f(e)` evaluated on the rows where `e` is not null only, null elsewhere; `dtype` is the type
/// of `f`'s result. For the slow paths that run on the few rows a cheap parse left over:
/// polars' string kernels visit every slot of an array, null or not, so masking rows to null
/// still costs a regex call or a string copy per row; this filters them out first and gathers
/// the results back into place. `f` must be elementwise (a row's result depends on that row
/// alone), which makes the result the same as `f(e)`.
///
/// `f` is planned as a query for every batch that has such rows; for a large `f` on a hot path
/// write it with column kernels and use [`on_present_values`].
pub fn on_present(
    e: Expr,
    f: impl Fn(Expr) -> Expr + Send + Sync + 'static,
    dtype: DataType,
) -> Expr {
    const VALUE: &str = "value";
    let out_dtype = dtype.clone();
    on_present_values(
        e,
        move |subset| {
            let n = subset.len();
            let done = DataFrame::new(n, vec![subset.clone().with_name(VALUE.into()).into()])?
                .lazy()
                .select([f(col(VALUE)).cast(out_dtype.clone()).alias(VALUE)])
                .collect()?;
            Ok(done.column(VALUE)?.as_materialized_series().clone())
        },
        dtype,
    )
}

/// [`on_present`] with `f` a function of the present values themselves (a series without
/// nulls, in row order), returning one value per input value, of type `dtype`.
pub fn on_present_values(
    e: Expr,
    f: impl Fn(&Series) -> PolarsResult<Series> + Send + Sync + 'static,
    dtype: DataType,
) -> Expr {
    let out_dtype = dtype.clone();
    e.map(
        move |column: Column| {
            let present = column.is_not_null();
            let n = present.sum().unwrap_or(0) as usize;
            if n == 0 {
                return Ok(Column::full_null(
                    column.name().clone(),
                    column.len(),
                    &dtype,
                ));
            }
            let subset = column.filter(&present)?;
            let done = f(subset.as_materialized_series())?.cast(&dtype)?;
            polars_ensure!(
                done.len() == n,
                ComputeError: "a value function returned {} values for {n}", done.len()
            );
            let mut next: IdxSize = 0;
            let positions: IdxCa = present
                .iter()
                .map(|p| {
                    p.unwrap_or(false).then(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect();
            Ok(done
                .take(&positions)?
                .with_name(column.name().clone())
                .into_column())
        },
        move |_, field| Ok(Field::new(field.name().clone(), out_dtype.clone())),
    )
}

/// Replaces −0.0 by 0.0 (so outputs never show "-0").
pub fn no_negative_zero(v: Expr) -> Expr {
    when(v.clone().eq(lit(0.0))).then(lit(0.0)).otherwise(v)
}

/// Naive ISO 8601 patterns always tried after the configured ones.
const ISO_NAIVE: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
];

/// ISO 8601 patterns with a UTC offset (a trailing `Z` is read as `+00:00`).
const ISO_OFFSET: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%:z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%z",
];

/// Date-only ISO patterns.
const ISO_DATE: &[&str] = &["%Y-%m-%d"];

fn has_time_part(fmt: &str) -> bool {
    ["%H", "%I", "%M", "%S", "%T", "%R", "%c", "%s", "%X", "%r"]
        .iter()
        .any(|p| fmt.contains(p))
}

fn has_offset(fmt: &str) -> bool {
    fmt.contains("%z") || fmt.contains("%:z") || fmt.contains("%#z")
}

fn lenient(fmt: &str) -> StrptimeOptions {
    StrptimeOptions {
        format: Some(fmt.into()),
        strict: false,
        exact: true,
        cache: true,
    }
}

fn utc_us() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
}

/// Time zone handle for polars from a validated chrono-tz zone.
pub fn polars_zone(tz: chrono_tz::Tz) -> TimeZone {
    // SAFETY: chrono-tz names are valid IANA names, which is all polars requires.
    unsafe { TimeZone::new_unchecked(tz.name()) }
}

/// Timestamp: tries `formats` in order, then ISO 8601 (with or without offset, or a date alone);
/// naive values are local times in `tz`; with `epoch` set, integer text is an epoch number in that
/// unit (UTC instant). Result: `Datetime(us, tz)`; null when absent or unparseable.
///
/// One expression that runs every candidate on every row; the ingest plan uses the equivalent
/// [`timestamp_stages`], which runs each candidate only on the rows still unparsed.
pub fn timestamp(
    raw: Expr,
    formats: &[String],
    epoch: Option<EpochUnit>,
    tz: chrono_tz::Tz,
) -> Expr {
    let t = utc_z(text(raw));
    let candidates: Vec<Expr> = timestamp_candidates(formats, epoch, tz)
        .iter()
        .map(|candidate| candidate(t.clone()))
        .collect();
    coalesce(&candidates)
        .dt()
        .convert_time_zone(polars_zone(tz))
}

/// [`timestamp`] as a sequence of `with_columns` steps (apply each in its own step, in order) that
/// leave the timestamp in column `out`, given the text already trimmed by [`text`] in column
/// `trimmed`. Column `helper` holds the text with a trailing `Z` read as `+00:00` and may be
/// dropped afterwards. The candidates are tried in the same order as in [`timestamp`] and the
/// first that parses wins, as with `coalesce`; but only the first candidate runs on every row:
/// the rows it leaves null (usually few) go through all the others at once ([`on_present`]), so
/// a well-formed export pays for one parse per row instead of one per candidate.
pub fn timestamp_stages(
    trimmed: &str,
    helper: &str,
    out: &str,
    formats: &[String],
    epoch: Option<EpochUnit>,
    tz: chrono_tz::Tz,
) -> Vec<Expr> {
    let mut stages = vec![utc_z(col(trimmed)).alias(helper)];
    let mut candidates = timestamp_candidates(formats, epoch, tz).into_iter();
    if let Some(first) = candidates.next() {
        stages.push(first(col(helper)).alias(out));
    }
    let rest: Vec<Candidate> = candidates.collect();
    if !rest.is_empty() {
        let unparsed = when(col(out).is_null())
            .then(col(helper))
            .otherwise(lit(NULL).cast(DataType::String));
        let parsed = on_present(
            unparsed,
            move |t| coalesce(&rest.iter().map(|c| c(t.clone())).collect::<Vec<_>>()),
            utc_us(),
        );
        stages.push(coalesce(&[col(out), parsed]).alias(out));
    }
    stages.push(col(out).dt().convert_time_zone(polars_zone(tz)).alias(out));
    stages
}

/// A trailing `Z` read as the offset `+00:00` (only rows ending in `Z` go through the regex).
fn utc_z(t: Expr) -> Expr {
    let zulu = when(t.clone().str().ends_with(lit("Z")))
        .then(t.clone())
        .otherwise(lit(NULL).cast(DataType::String));
    let replaced = on_present(
        zulu,
        |z| z.str().replace(lit(r"Z$"), lit("+00:00"), false),
        DataType::String,
    );
    coalesce(&[replaced, t])
}

/// One way of reading trimmed timestamp text: text in, `Datetime(us, UTC)` out (null on no match).
type Candidate = Box<dyn Fn(Expr) -> Expr + Send + Sync>;

/// The candidates of [`timestamp`], in the order they are tried.
fn timestamp_candidates(
    formats: &[String],
    epoch: Option<EpochUnit>,
    tz: chrono_tz::Tz,
) -> Vec<Candidate> {
    let zone = polars_zone(tz);
    let localize = move |naive: Expr| {
        naive
            .dt()
            .replace_time_zone(Some(zone.clone()), lit("earliest"), NonExistent::Null)
            .cast(utc_us())
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    if let Some(unit) = epoch {
        let tu = match unit {
            EpochUnit::S => TimeUnit::Milliseconds,
            EpochUnit::Ms => TimeUnit::Milliseconds,
            EpochUnit::Us => TimeUnit::Microseconds,
        };
        let factor: i64 = if unit == EpochUnit::S { 1000 } else { 1 };
        candidates.push(Box::new(move |t: Expr| {
            let n = when(t.clone().str().contains(lit(r"^-?\d{1,16}$"), true))
                .then(t.cast(DataType::Int64))
                .otherwise(lit(NULL).cast(DataType::Int64));
            (n * lit(factor))
                .cast(DataType::Datetime(tu, None))
                .dt()
                .replace_time_zone(Some(TimeZone::UTC), lit("raise"), NonExistent::Raise)
                .cast(utc_us())
        }));
    }
    let naive_formats = formats
        .iter()
        .map(String::as_str)
        .filter(|f| !has_offset(f))
        .chain(ISO_NAIVE.iter().copied());
    for fmt in naive_formats {
        let fmt = fmt.to_string();
        let localize = localize.clone();
        candidates.push(Box::new(move |t: Expr| {
            let parsed = if has_time_part(&fmt) {
                t.str().strptime(
                    DataType::Datetime(TimeUnit::Microseconds, None),
                    lenient(&fmt),
                    lit("raise"),
                )
            } else {
                t.str()
                    .strptime(DataType::Date, lenient(&fmt), lit("raise"))
                    .cast(DataType::Datetime(TimeUnit::Microseconds, None))
            };
            localize(parsed)
        }));
    }
    let offset_formats = formats
        .iter()
        .map(String::as_str)
        .filter(|f| has_offset(f))
        .chain(ISO_OFFSET.iter().copied());
    for fmt in offset_formats {
        let fmt = fmt.to_string();
        candidates.push(Box::new(move |t: Expr| {
            t.str()
                .strptime(utc_us(), lenient(&fmt), lit("raise"))
                .cast(utc_us())
        }));
    }
    for fmt in ISO_DATE {
        let localize = localize.clone();
        candidates.push(Box::new(move |t: Expr| {
            localize(
                t.str()
                    .strptime(DataType::Date, lenient(fmt), lit("raise"))
                    .cast(DataType::Datetime(TimeUnit::Microseconds, None)),
            )
        }));
    }
    candidates
}

/// Calendar date (birth dates, sign-up dates): the configured timestamp patterns (date part),
/// then `%Y-%m-%d`, `%Y/%m/%d`, `%Y%m%d`, then ISO timestamps. Null when absent or unparseable.
pub fn date(raw: Expr, formats: &[String]) -> Expr {
    date_text(text(raw), formats)
}

/// [`date`] of text already trimmed by [`text`].
pub fn date_text(t: Expr, formats: &[String]) -> Expr {
    let mut candidates: Vec<Expr> = Vec::new();
    let date_formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"];
    for fmt in formats.iter().map(String::as_str).chain(date_formats) {
        if has_time_part(fmt) {
            candidates.push(
                t.clone()
                    .str()
                    .strptime(
                        DataType::Datetime(TimeUnit::Microseconds, None),
                        lenient(fmt),
                        lit("raise"),
                    )
                    .dt()
                    .date(),
            );
        } else if !has_offset(fmt) {
            candidates.push(
                t.clone()
                    .str()
                    .strptime(DataType::Date, lenient(fmt), lit("raise")),
            );
        }
    }
    for fmt in ISO_NAIVE {
        candidates.push(
            t.clone()
                .str()
                .strptime(
                    DataType::Datetime(TimeUnit::Microseconds, None),
                    lenient(fmt),
                    lit("raise"),
                )
                .dt()
                .date(),
        );
    }
    coalesce(&candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_digits_keep_ascii_and_full_width_digits_only() {
        let text = StringChunked::new(
            "p".into(),
            &[
                Some("+86 138-0013-8000"),
                Some("１３８００１３８０００"),
                Some("tel: (010) 1234 ext.５"),
                Some("no digits"),
                None,
            ],
        );
        let out: Vec<Option<String>> = phone_digits(&text)
            .iter()
            .map(|v| v.map(str::to_string))
            .collect();
        let expected = [
            Some("8613800138000"),
            Some("13800138000"),
            Some("01012345"),
            Some(""),
            None,
        ]
        .map(|v| v.map(str::to_string));
        assert_eq!(out, expected.to_vec());
    }

    #[test]
    fn trimming_matches_str_trim_and_shares_untouched_values() {
        let values = [
            Some("  C001 "),
            Some("C002"),
            Some("\tname with inner  spaces\r\n"),
            Some("\u{3000}全角空格\u{3000}"),
            Some("\u{a0}nbsp"),
            Some("   "),
            Some(""),
            None,
            Some("a value longer than twelve bytes, not padded"),
        ];
        let text = StringChunked::new("t".into(), &values);
        let out = trim_values(&text).unwrap();
        let expected: Vec<Option<&str>> = values.iter().map(|v| v.map(str::trim)).collect();
        assert_eq!(out.iter().collect::<Vec<_>>(), expected);
        assert_eq!(out.name().as_str(), "t");
        // Nothing to trim: the values come back unchanged, nulls and inner spaces included.
        let clean = StringChunked::new("t".into(), &[Some("a"), None, Some("b c")]);
        let same = trim_values(&clean).unwrap();
        assert_eq!(
            same.iter().collect::<Vec<_>>(),
            vec![Some("a"), None, Some("b c")]
        );
    }

    fn numbers(texts: &[&str]) -> Vec<Option<f64>> {
        let t: Vec<Option<&str>> = texts.iter().map(|t| Some(*t)).collect();
        df!("t" => t)
            .unwrap()
            .lazy()
            .select([number(col("t")).alias("v")])
            .collect()
            .unwrap()
            .column("v")
            .unwrap()
            .f64()
            .unwrap()
            .to_vec()
    }

    #[test]
    fn numbers_from_export_text() {
        let cases: [(&str, Option<f64>); 19] = [
            ("12.5", Some(12.5)),
            ("-0", Some(0.0)),
            ("¥1,234.50", Some(1234.5)),
            ("￥ 88", Some(88.0)),
            ("USD 7.25", Some(7.25)),
            ("(12.00)", Some(-12.0)),
            ("-(3)", Some(-3.0)),
            ("(-3)", Some(-3.0)),
            ("−4.5", Some(-4.5)),
            ("１２．５", Some(12.5)),
            ("（１，０００）", Some(-1000.0)),
            ("1 000", Some(1000.0)),
            ("88元", Some(88.0)),
            ("1,5", None),
            ("3,50", None),
            ("1,2345", None),
            ("NaN", None),
            ("1e309", None),
            ("abc", None),
        ];
        let texts: Vec<&str> = cases.iter().map(|(t, _)| *t).collect();
        let want: Vec<Option<f64>> = cases.iter().map(|(_, v)| *v).collect();
        assert_eq!(numbers(&texts), want);
    }
}
