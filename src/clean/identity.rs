//! Identity resolution: one customer across channels. A row's customer is, in order: its own
//! customer_id; the customer (from `customers` sources) whose e-mail, else phone, else external id
//! matches; else a stable id built from the key (`email:<email>`, `phone:<digits>`,
//! `ext:<id>`). When one key belongs to several customers, the smallest customer_id wins and the
//! conflict is counted. All of it is joins against small key tables; docs/cleaning.md has the rules.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::error::Result;
use crate::schema;

/// Column saying how a row's customer_id was found (`customer_id`, `email`, ..., `derived_email`).
pub const VIA: &str = "__id_via";

/// The keys besides customer_id that find a customer, in order of precedence.
pub const KEYS: [&str; 3] = [schema::EMAIL, schema::PHONE, schema::EXTERNAL_ID];

fn matched_column(key: &str) -> String {
    format!("__cid_{key}")
}

/// The id derived from a row's own keys: `email:<email>`, else `phone:<digits>`, else `ext:<id>`.
pub fn derived_id() -> Expr {
    derived_id_of(&KEYS)
}

/// [`derived_id`] from the keys among `present` (null when none is).
fn derived_id_of(present: &[&str]) -> Expr {
    let parts: Vec<Expr> = [
        (schema::EMAIL, "email:"),
        (schema::PHONE, "phone:"),
        (schema::EXTERNAL_ID, "ext:"),
    ]
    .into_iter()
    .filter(|(key, _)| present.contains(key))
    .map(|(key, prefix)| concat_str([lit(prefix), col(key)], "", false))
    .collect();
    if parts.is_empty() {
        lit(NULL).cast(DataType::String)
    } else {
        coalesce(&parts)
    }
}

/// Gives customer rows their id: their own customer_id, else the derived id.
pub fn customer_ids(customers: LazyFrame) -> LazyFrame {
    customers
        .with_column(coalesce(&[col(schema::CUSTOMER_ID), derived_id()]).alias(schema::CUSTOMER_ID))
}

/// Lookup tables key → customer_id built from the known customers.
#[derive(Clone, Default)]
pub struct KeyMaps {
    maps: Vec<(&'static str, LazyFrame)>,
    /// Per key, how many key values belong to more than one customer.
    pub conflicts: BTreeMap<String, u64>,
}

impl KeyMaps {
    /// Builds the key tables from customers (with ids already assigned by [`customer_ids`]).
    pub fn build(customers: &DataFrame) -> Result<Self> {
        let mut maps = Vec::new();
        let mut conflicts = BTreeMap::new();
        for key in KEYS {
            let table = customers
                .clone()
                .lazy()
                .filter(col(key).is_not_null())
                .group_by([col(key)])
                .agg([
                    col(schema::CUSTOMER_ID).min().alias(matched_column(key)),
                    col(schema::CUSTOMER_ID).n_unique().alias("__owners"),
                ])
                .collect()?;
            let n_conflicts = table
                .column("__owners")?
                .as_materialized_series()
                .gt(1)?
                .sum()
                .unwrap_or(0);
            conflicts.insert(key.to_string(), u64::from(n_conflicts));
            if table.height() == 0 {
                // No known customer has this key: a join could only add nulls.
                continue;
            }
            maps.push((
                key,
                table.lazy().select([col(key), col(matched_column(key))]),
            ));
        }
        Ok(Self { maps, conflicts })
    }

    /// Resolves `customer_id` of order or event rows and records how in [`VIA`]. `present`
    /// names the keys among e-mail, phone and external id that the rows' sources map: the others
    /// are null on every row, so they are neither joined nor used to derive ids.
    pub fn resolve(&self, rows: LazyFrame, present: &[&str]) -> LazyFrame {
        let maps: Vec<&(&'static str, LazyFrame)> = self
            .maps
            .iter()
            .filter(|(key, _)| present.contains(key))
            .collect();
        let mut lf = rows;
        for (key, table) in &maps {
            lf = lf.join(
                table.clone(),
                [col(*key)],
                [col(*key)],
                JoinArgs {
                    maintain_order: MaintainOrderJoin::Left,
                    ..JoinArgs::new(JoinType::Left)
                },
            );
        }
        let mut chain: Vec<Expr> = vec![col(schema::CUSTOMER_ID)];
        let mut via = when(col(schema::CUSTOMER_ID).is_not_null()).then(lit("customer_id"));
        let mut via_chain: Option<ChainedThen> = None;
        for (key, _) in &maps {
            chain.push(col(matched_column(key)));
            let cond = col(matched_column(key)).is_not_null();
            via_chain = Some(match via_chain {
                None => via.clone().when(cond).then(lit(*key)),
                Some(c) => c.when(cond).then(lit(*key)),
            });
        }
        chain.push(derived_id_of(present));
        let derived_via = [
            (schema::EMAIL, "derived_email"),
            (schema::PHONE, "derived_phone"),
        ]
        .into_iter()
        .filter(|(key, _)| present.contains(key))
        .rev()
        .fold(lit("derived_external_id"), |otherwise, (key, via)| {
            when(col(key).is_not_null())
                .then(lit(via))
                .otherwise(otherwise)
        });
        let via_expr = match via_chain {
            Some(c) => c.otherwise(derived_via),
            None => {
                via = when(col(schema::CUSTOMER_ID).is_not_null()).then(lit("customer_id"));
                via.otherwise(derived_via)
            }
        };
        let drop: Vec<String> = maps.iter().map(|(k, _)| matched_column(k)).collect();
        lf.with_columns([
            coalesce(&chain).alias(schema::CUSTOMER_ID),
            via_expr.alias(VIA),
        ])
        .drop(by_name(drop, true, false))
    }
}
