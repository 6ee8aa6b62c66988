//! Basket analysis (`custseg analyze basket`): frequent itemsets and association rules between
//! products (`sku`) or categories of one order, mined exactly with FP-growth (Han, Pei & Yin 2000,
//! "Mining Frequent Patterns without Candidate Generation", SIGMOD). docs/analyses.md, "basket".
//!
//! - A *basket* is the set of distinct non-null items of one order's purchase lines (an order is
//!   a `(customer_id, order_id)` pair, as in `frequency`); returns are left out. `baskets` counts
//!   the orders with at least one item.
//! - count(S) = baskets containing every item of S; support(S) = count(S) / baskets. S is
//!   *frequent* when support(S) ≥ min_support, compared in double precision exactly as written.
//! - A rule X → Y (X, Y non-empty, disjoint, X ∪ Y frequent, |X ∪ Y| ≤ max_len):
//!   support = count(X ∪ Y) / baskets, confidence = count(X ∪ Y) / count(X),
//!   lift = confidence / support(Y) = count(X ∪ Y) · baskets / (count(X) · count(Y)). Kept when
//!   confidence ≥ min_confidence.
//! - Order: lift descending, then support descending (both compared exactly as fractions of
//!   integer counts, so float noise never decides), then the antecedent text, then the consequent
//!   text (byte order). Texts list item names in byte order joined by " + ".
//! - support, confidence and lift are rounded to 6 decimals (half away from zero) on output only.
//!
//! Why the mining is Rust and not a polars plan: polars has no frequent-itemset operator, and the
//! relational way (self-joins of the basket table per itemset length) grows with the square and
//! cube of basket sizes. So the plan does what polars is good at — period, purchase lines, one
//! row per (basket, item), item counts, integer codes, sorting — and collects two `u32` columns
//! (basket index, item code). FP-growth then runs over those compact arrays: a compressed-row
//! view (offsets into the code array), not a loop over order lines; every count it produces is
//! an exact integer.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::metrics::{lines_in_period, Period};
use crate::report::{Chart, Section};
use crate::schema;

/// Column of the collected basket plan: the basket's index (0-based, arbitrary order).
pub const BASKET: &str = "basket";
/// Column of the collected basket plan: the item name (sku or category).
pub const ITEM: &str = "item";

/// Rules output columns, in order.
pub const RULE_COLUMNS: &[&str] = &[
    "antecedent",
    "consequent",
    "support",
    "confidence",
    "lift",
    "baskets",
    "antecedent_baskets",
    "consequent_baskets",
];

/// Itemsets output columns, in order.
pub const ITEMSET_COLUMNS: &[&str] = &["items", "size", "baskets", "support"];

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The `sku` column.
    Sku,
    /// The `category` column.
    Category,
}

impl Level {
    /// The orders column holding the item.
    #[must_use]
    pub fn column(self) -> &'static str {
        match self {
            Level::Sku => schema::SKU,
            Level::Category => schema::CATEGORY,
        }
    }
}

/// The basket analysis settings (validated by the command).
#[derive(Debug, Clone)]
pub struct BasketOptions {
    /// sku or category.
    pub level: Level,
    /// Lines on local days in this period.
    pub period: Period,
    /// Minimum support of an itemset, in (0, 1].
    pub min_support: f64,
    /// Minimum confidence of a rule, in [0, 1].
    pub min_confidence: f64,
    /// Rules kept after sorting.
    pub top: usize,
    /// Largest itemset size (antecedent plus consequent), at least 1.
    pub max_len: usize,
}

/// Plan: one row per (basket, distinct item) of the purchase lines in the period; columns
/// [`BASKET`] (UInt32 index) and [`ITEM`] (String). Never collects.
pub fn basket_items(orders: LazyFrame, options: &BasketOptions) -> LazyFrame {
    let item = options.level.column();
    lines_in_period(orders, &options.period)
        .filter(col(schema::IS_RETURN).not().and(col(item).is_not_null()))
        .group_by([col(schema::CUSTOMER_ID), col(schema::ORDER_ID)])
        .agg([col(item).unique().alias(ITEM)])
        .with_row_index(BASKET, None)
        .explode(
            by_name([ITEM], true, false),
            ExplodeOptions {
                empty_as_null: false,
                keep_nulls: false,
            },
        )
        .select([col(BASKET).cast(DataType::UInt32), col(ITEM)])
}

/// Integer-coded baskets in compressed-row form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodedBaskets {
    /// Basket `b` holds `items[offsets[b]..offsets[b + 1]]`; `offsets.len()` = baskets + 1.
    pub offsets: Vec<usize>,
    /// Item codes, strictly ascending within each basket.
    pub items: Vec<u32>,
}

impl CodedBaskets {
    /// From parallel (basket, code) arrays sorted by basket then code; basket indices need not be
    /// contiguous (a basket whose items are all infrequent is simply absent).
    #[must_use]
    pub fn from_sorted_pairs(baskets: &[u32], codes: &[u32]) -> Self {
        let mut offsets = vec![0];
        for i in 1..baskets.len() {
            if baskets[i] != baskets[i - 1] {
                offsets.push(i);
            }
        }
        if !baskets.is_empty() {
            offsets.push(baskets.len());
        }
        CodedBaskets {
            offsets,
            items: codes.to_vec(),
        }
    }

    /// The number of (non-empty) baskets held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when no basket is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn basket(&self, b: usize) -> &[u32] {
        &self.items[self.offsets[b]..self.offsets[b + 1]]
    }
}

/// A frequent itemset: item codes ascending, and the number of baskets containing all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Itemset {
    /// Item codes, ascending.
    pub items: Vec<u32>,
    /// Baskets containing every item.
    pub count: u64,
}

/// The smallest count c with c / baskets ≥ min_support in double precision (at least 1): the
/// frequency test exactly as documented, without a separate rounding rule.
#[must_use]
pub fn min_count(baskets: u64, min_support: f64) -> u64 {
    let n = baskets as f64;
    let mut c = ((min_support * n).ceil().max(1.0) as u64).min(baskets.max(1));
    while c > 1 && ((c - 1) as f64 / n) >= min_support {
        c -= 1;
    }
    while c < baskets && (c as f64 / n) < min_support {
        c += 1;
    }
    c
}

/// A small multiplicative hasher for the (parent, item) child map: keys are two small integers,
/// so SipHash's protection against adversarial keys buys nothing and costs a third of the run.
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type ChildMap = HashMap<(u32, u32), u32, BuildHasherDefault<PairHasher>>;

/// An FP-tree over local item indices 0..n (0 = most frequent). Node 0 is the root.
struct FpTree {
    item: Vec<u32>,
    count: Vec<u64>,
    parent: Vec<u32>,
    children: ChildMap,
    /// Per local item, the nodes holding it.
    header: Vec<Vec<u32>>,
}

impl FpTree {
    fn new(items: usize) -> Self {
        FpTree {
            item: vec![u32::MAX],
            count: vec![0],
            parent: vec![0],
            children: ChildMap::default(),
            header: vec![Vec::new(); items],
        }
    }

    /// Adds a path of ascending local items with `count`.
    fn insert(&mut self, path: &[u32], count: u64) {
        let mut node = 0u32;
        for &it in path {
            let next = match self.children.entry((node, it)) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(v) => {
                    // Node counts stay far below u32::MAX: one node per (prefix, item) of at most
                    // the number of collected (basket, item) rows.
                    let id = u32::try_from(self.item.len()).unwrap_or(u32::MAX);
                    self.item.push(it);
                    self.count.push(0);
                    self.parent.push(node);
                    self.header[it as usize].push(id);
                    v.insert(id);
                    id
                }
            };
            self.count[next as usize] += count;
            node = next;
        }
    }
}

struct Miner<'a> {
    min_count: u64,
    max_len: usize,
    out: &'a mut Vec<Itemset>,
}

impl Miner<'_> {
    fn emit(&mut self, suffix: &[u32], count: u64) {
        let mut items = suffix.to_vec();
        items.sort_unstable();
        self.out.push(Itemset { items, count });
    }

    /// Every frequent itemset of the form (a subset of the tree's items) ∪ suffix; `global` maps
    /// the tree's local items to item codes.
    fn mine(&mut self, tree: &FpTree, global: &[u32], suffix: &mut Vec<u32>) {
        let mut counts = vec![0u64; global.len()];
        for j in (0..global.len()).rev() {
            let nodes = &tree.header[j];
            let support: u64 = nodes.iter().map(|&n| tree.count[n as usize]).sum();
            if support < self.min_count {
                continue;
            }
            suffix.push(global[j]);
            self.emit(suffix, support);
            if suffix.len() < self.max_len && j > 0 {
                // The conditional pattern base of item j: the path above each of its nodes, with
                // the node's count. Ancestors hold smaller local indices only.
                let counts = &mut counts[..j];
                counts.fill(0);
                for &n in nodes {
                    let c = tree.count[n as usize];
                    let mut p = tree.parent[n as usize];
                    while p != 0 {
                        counts[tree.item[p as usize] as usize] += c;
                        p = tree.parent[p as usize];
                    }
                }
                if suffix.len() + 1 == self.max_len {
                    // Last level: the counts are the answer, no tree needed.
                    for (k, &c) in counts.iter().enumerate() {
                        if c >= self.min_count {
                            suffix.push(global[k]);
                            self.emit(suffix, c);
                            suffix.pop();
                        }
                    }
                } else {
                    self.recurse(tree, global, j, counts, suffix);
                }
            }
            suffix.pop();
        }
    }

    /// Builds the conditional FP-tree of local item `j` from its pattern base and mines it.
    fn recurse(
        &mut self,
        tree: &FpTree,
        global: &[u32],
        j: usize,
        counts: &[u64],
        suffix: &mut Vec<u32>,
    ) {
        let keep: Vec<usize> = (0..j).filter(|&k| counts[k] >= self.min_count).collect();
        if keep.is_empty() {
            return;
        }
        let mut remap = vec![u32::MAX; j];
        for (new, &old) in keep.iter().enumerate() {
            remap[old] = u32::try_from(new).unwrap_or(u32::MAX);
        }
        let sub_global: Vec<u32> = keep.iter().map(|&k| global[k]).collect();
        let mut sub = FpTree::new(keep.len());
        let mut path = Vec::new();
        for &n in &tree.header[j] {
            path.clear();
            let mut p = tree.parent[n as usize];
            while p != 0 {
                let r = remap[tree.item[p as usize] as usize];
                if r != u32::MAX {
                    path.push(r);
                }
                p = tree.parent[p as usize];
            }
            if !path.is_empty() {
                path.reverse();
                sub.insert(&path, tree.count[n as usize]);
            }
        }
        self.mine(&sub, &sub_global, suffix);
    }
}

/// Every itemset of at most `max_len` items contained in at least `min_count` baskets, with its
/// exact count (FP-growth). `items` is the number of item codes; codes must be ordered by
/// descending frequency for a compact tree (any order gives the same result).
#[must_use]
pub fn frequent_itemsets(
    baskets: &CodedBaskets,
    items: usize,
    min_count: u64,
    max_len: usize,
) -> Vec<Itemset> {
    let mut out = Vec::new();
    if max_len == 0 || items == 0 {
        return out;
    }
    let mut tree = FpTree::new(items);
    for b in 0..baskets.len() {
        tree.insert(baskets.basket(b), 1);
    }
    let global: Vec<u32> = (0..u32::try_from(items).unwrap_or(u32::MAX)).collect();
    let mut miner = Miner {
        min_count: min_count.max(1),
        max_len,
        out: &mut out,
    };
    miner.mine(&tree, &global, &mut Vec::new());
    out.sort_by(|a, b| {
        a.items
            .len()
            .cmp(&b.items.len())
            .then(a.items.cmp(&b.items))
    });
    out
}

/// An association rule between item codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// X, ascending codes.
    pub antecedent: Vec<u32>,
    /// Y, ascending codes.
    pub consequent: Vec<u32>,
    /// count(X ∪ Y).
    pub count: u64,
    /// count(X).
    pub antecedent_count: u64,
    /// count(Y).
    pub consequent_count: u64,
}

/// Every rule X → Y over the frequent itemsets of two or more items with
/// count(X ∪ Y) / count(X) ≥ `min_confidence`. Subsets of frequent itemsets are frequent, so
/// every count is in `itemsets`.
#[must_use]
pub fn rules(itemsets: &[Itemset], min_confidence: f64) -> Vec<Rule> {
    let counts: HashMap<&[u32], u64> = itemsets
        .iter()
        .map(|s| (s.items.as_slice(), s.count))
        .collect();
    let mut out = Vec::new();
    for set in itemsets.iter().filter(|s| s.items.len() >= 2) {
        let k = set.items.len();
        for mask in 1..(1u32 << k) - 1 {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for (i, &it) in set.items.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    x.push(it);
                } else {
                    y.push(it);
                }
            }
            let (Some(&cx), Some(&cy)) = (counts.get(x.as_slice()), counts.get(y.as_slice()))
            else {
                continue;
            };
            if (set.count as f64 / cx as f64) >= min_confidence {
                out.push(Rule {
                    antecedent: x,
                    consequent: y,
                    count: set.count,
                    antecedent_count: cx,
                    consequent_count: cy,
                });
            }
        }
    }
    out
}

/// Lift descending, then support descending, exactly: lift₁ > lift₂ ⇔ c₁·a₂·k₂ > c₂·a₁·k₁
/// (the basket count cancels), in 128-bit integers.
fn by_lift_then_support(a: &Rule, b: &Rule) -> std::cmp::Ordering {
    let left =
        u128::from(a.count) * u128::from(b.antecedent_count) * u128::from(b.consequent_count);
    let right =
        u128::from(b.count) * u128::from(a.antecedent_count) * u128::from(a.consequent_count);
    right.cmp(&left).then(b.count.cmp(&a.count))
}

/// The result of one mining run, with names.
#[derive(Debug, Clone)]
pub struct BasketResult {
    /// Baskets (orders with at least one item).
    pub baskets: u64,
    /// Distinct items seen.
    pub items_seen: usize,
    /// Items frequent on their own.
    pub frequent_items: usize,
    /// The count threshold: ⌈min_support × baskets⌉ in the sense of [`min_count`].
    pub min_count: u64,
    /// Item names by code.
    pub names: Vec<String>,
    /// Every frequent itemset.
    pub itemsets: Vec<Itemset>,
    /// Every rule meeting the confidence threshold, sorted.
    pub rules: Vec<Rule>,
}

fn text(names: &[String], codes: &[u32]) -> String {
    let mut v: Vec<&str> = codes.iter().map(|&c| names[c as usize].as_str()).collect();
    v.sort_unstable();
    v.join(" + ")
}

/// Mines a collected [`basket_items`] frame (no basket: an empty result).
///
/// # Errors
/// Engine errors.
pub fn mine(items: DataFrame, options: &BasketOptions) -> Result<BasketResult> {
    let baskets =
        u64::try_from(items.column(BASKET)?.as_materialized_series().n_unique()?).unwrap_or(0);
    let threshold = min_count(baskets, options.min_support);
    // Codes by descending basket count, ties by name: the FP-tree's compact order.
    let counts = items
        .clone()
        .lazy()
        .group_by([col(ITEM)])
        .agg([len().cast(DataType::UInt64).alias("count")])
        .sort(
            ["count", ITEM],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()?;
    let items_seen = counts.height();
    let frequent = counts
        .lazy()
        .filter(col("count").gt_eq(lit(threshold)))
        .with_row_index("code", None)
        .select([col(ITEM), col("code").cast(DataType::UInt32)])
        .collect()?;
    let names: Vec<String> = frequent
        .column(ITEM)?
        .str()?
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect();
    let coded = items
        .lazy()
        .join(
            frequent.lazy(),
            [col(ITEM)],
            [col(ITEM)],
            JoinArgs::new(JoinType::Inner),
        )
        .select([col(BASKET), col("code")])
        .sort([BASKET, "code"], SortMultipleOptions::default())
        .collect()?;
    let basket_col = coded.column(BASKET)?.u32()?.rechunk();
    let code_col = coded.column("code")?.u32()?.rechunk();
    let (Ok(basket_ids), Ok(codes)) = (basket_col.cont_slice(), code_col.cont_slice()) else {
        return Err(Error::runtime("basket codes are not contiguous"));
    };
    let coded = CodedBaskets::from_sorted_pairs(basket_ids, codes);
    let itemsets = frequent_itemsets(&coded, names.len(), threshold, options.max_len);
    let mut found = rules(&itemsets, options.min_confidence);
    let keyed: Vec<(String, String)> = found
        .iter()
        .map(|r| (text(&names, &r.antecedent), text(&names, &r.consequent)))
        .collect();
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| {
        by_lift_then_support(&found[a], &found[b]).then_with(|| keyed[a].cmp(&keyed[b]))
    });
    found = order.into_iter().map(|i| found[i].clone()).collect();
    Ok(BasketResult {
        baskets,
        items_seen,
        frequent_items: names.len(),
        min_count: threshold,
        names,
        itemsets,
        rules: found,
    })
}

/// Rounds half away from zero to `decimals` (docs/metrics.md, "Rounding").
fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The rules table: the first `top` rules, columns [`RULE_COLUMNS`].
///
/// # Errors
/// Engine errors.
pub fn rules_table(result: &BasketResult, top: usize) -> Result<DataFrame> {
    let n = result.baskets as f64;
    let shown = &result.rules[..top.min(result.rules.len())];
    let mut antecedent = Vec::new();
    let mut consequent = Vec::new();
    let (mut support, mut confidence, mut lift) = (Vec::new(), Vec::new(), Vec::new());
    let (mut both, mut ante, mut cons) = (Vec::new(), Vec::new(), Vec::new());
    for r in shown {
        antecedent.push(text(&result.names, &r.antecedent));
        consequent.push(text(&result.names, &r.consequent));
        let (c, a, k) = (
            r.count as f64,
            r.antecedent_count as f64,
            r.consequent_count as f64,
        );
        support.push(round_to(c / n, 6));
        confidence.push(round_to(c / a, 6));
        lift.push(round_to(c * n / (a * k), 6));
        both.push(to_i64(r.count));
        ante.push(to_i64(r.antecedent_count));
        cons.push(to_i64(r.consequent_count));
    }
    let columns = vec![
        Column::new(RULE_COLUMNS[0].into(), antecedent),
        Column::new(RULE_COLUMNS[1].into(), consequent),
        Column::new(RULE_COLUMNS[2].into(), support),
        Column::new(RULE_COLUMNS[3].into(), confidence),
        Column::new(RULE_COLUMNS[4].into(), lift),
        Column::new(RULE_COLUMNS[5].into(), both),
        Column::new(RULE_COLUMNS[6].into(), ante),
        Column::new(RULE_COLUMNS[7].into(), cons),
    ];
    Ok(DataFrame::new(shown.len(), columns)?)
}

/// The frequent itemsets table, columns [`ITEMSET_COLUMNS`], sorted by size, then baskets
/// descending, then items text.
///
/// # Errors
/// Engine errors.
pub fn itemsets_table(result: &BasketResult) -> Result<DataFrame> {
    let n = result.baskets as f64;
    let mut rows: Vec<(usize, u64, String)> = result
        .itemsets
        .iter()
        .map(|s| (s.items.len(), s.count, text(&result.names, &s.items)))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let height = rows.len();
    let columns = vec![
        Column::new(
            ITEMSET_COLUMNS[0].into(),
            rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            ITEMSET_COLUMNS[1].into(),
            rows.iter()
                .map(|r| i64::try_from(r.0).unwrap_or(i64::MAX))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            ITEMSET_COLUMNS[2].into(),
            rows.iter().map(|r| to_i64(r.1)).collect::<Vec<_>>(),
        ),
        Column::new(
            ITEMSET_COLUMNS[3].into(),
            rows.iter()
                .map(|r| round_to(r.1 as f64 / n, 6))
                .collect::<Vec<_>>(),
        ),
    ];
    Ok(DataFrame::new(height, columns)?)
}

/// The report sections: rules (with a lift chart of the first 20) and frequent itemsets.
///
/// # Errors
/// Engine errors.
pub fn sections(result: &BasketResult, options: &BasketOptions) -> Result<Vec<Section>> {
    let rules = rules_table(result, options.top)?;
    let charted = rules.height().min(20);
    let chart = (charted > 0).then(|| Chart::Bars {
        labels: result.rules[..charted]
            .iter()
            .map(|r| {
                format!(
                    "{} → {}",
                    text(&result.names, &r.antecedent),
                    text(&result.names, &r.consequent)
                )
            })
            .collect(),
        series: vec![(
            "lift".to_string(),
            rules
                .column("lift")
                .ok()
                .and_then(|c| {
                    c.f64()
                        .ok()
                        .map(|c| c.iter().take(charted).map(|v| v.unwrap_or(0.0)).collect())
                })
                .unwrap_or_default(),
        )],
        percent: false,
    });
    let level = options.level.column();
    Ok(vec![
        Section {
            id: "rules".to_string(),
            title: format!("Association rules between {level} values"),
            note: Some(format!(
                "{} of {} rules with support ≥ {} and confidence ≥ {}, by lift; {} baskets, {} of {} items frequent (in ≥ {} baskets), itemsets up to {} items",
                rules.height(),
                result.rules.len(),
                options.min_support,
                options.min_confidence,
                result.baskets,
                result.frequent_items,
                result.items_seen,
                result.min_count,
                options.max_len
            )),
            table: rules,
            chart,
        },
        Section {
            id: "itemsets".to_string(),
            title: "Frequent itemsets".to_string(),
            note: Some(format!(
                "{} itemsets in at least {} of {} baskets",
                result.itemsets.len(),
                result.min_count,
                result.baskets
            )),
            table: itemsets_table(result)?,
            chart: None,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every itemset of up to `max_len` items by direct counting over the baskets.
    fn brute_force(baskets: &[Vec<u32>], min_count: u64, max_len: usize) -> Vec<Itemset> {
        let mut counts: HashMap<Vec<u32>, u64> = HashMap::new();
        for b in baskets {
            let k = b.len();
            for mask in 1u32..(1 << k) {
                if (mask.count_ones() as usize) <= max_len {
                    let s: Vec<u32> = (0..k)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| b[i])
                        .collect();
                    *counts.entry(s).or_default() += 1;
                }
            }
        }
        let mut out: Vec<Itemset> = counts
            .into_iter()
            .filter(|(_, c)| *c >= min_count)
            .map(|(items, count)| Itemset { items, count })
            .collect();
        out.sort_by(|a, b| {
            a.items
                .len()
                .cmp(&b.items.len())
                .then(a.items.cmp(&b.items))
        });
        out
    }

    fn coded(baskets: &[Vec<u32>]) -> CodedBaskets {
        let mut ids = Vec::new();
        let mut codes = Vec::new();
        for (i, b) in baskets.iter().enumerate() {
            for &c in b {
                ids.push(i as u32);
                codes.push(c);
            }
        }
        CodedBaskets::from_sorted_pairs(&ids, &codes)
    }

    #[test]
    fn fp_growth_matches_direct_counting_on_random_baskets() {
        let mut rng = btyd::simulate::SplitMix64::new(7);
        for round in 0..40 {
            let items = 3 + (round % 9);
            let baskets: Vec<Vec<u32>> = (0..200)
                .map(|_| {
                    let mut b: Vec<u32> = (0..items as u32)
                        .filter(|&i| rng.uniform() < 0.6 / f64::from(i + 1).sqrt())
                        .collect();
                    b.sort_unstable();
                    b
                })
                .filter(|b| !b.is_empty())
                .collect();
            for (min, max_len) in [(1, 2), (5, 3), (20, 4), (2, 8)] {
                let got = frequent_itemsets(&coded(&baskets), items, min, max_len);
                assert_eq!(
                    got,
                    brute_force(&baskets, min, max_len),
                    "round {round} min {min}"
                );
            }
        }
    }

    #[test]
    fn min_count_is_the_documented_share_test() {
        assert_eq!(min_count(100, 0.07), 7);
        assert_eq!(min_count(600, 0.01), 6);
        assert_eq!(min_count(6, 0.5), 3);
        assert_eq!(min_count(6, 0.34), 3);
        assert_eq!(min_count(6, 1.0), 6);
        assert_eq!(min_count(10, 1e-9), 1);
        for n in 1..300u64 {
            for s in [0.01, 0.05, 0.1, 0.15, 0.2, 0.3, 1.0 / 3.0, 0.7] {
                let c = min_count(n, s);
                assert!(c as f64 / n as f64 >= s || c == n, "{n} {s}");
                assert!(c == 1 || ((c - 1) as f64 / n as f64) < s, "{n} {s}");
            }
        }
    }

    #[test]
    fn rules_split_every_itemset() {
        let sets = vec![
            Itemset {
                items: vec![0],
                count: 4,
            },
            Itemset {
                items: vec![1],
                count: 3,
            },
            Itemset {
                items: vec![0, 1],
                count: 2,
            },
        ];
        let r = rules(&sets, 0.0);
        assert_eq!(r.len(), 2);
        let r = rules(&sets, 0.6);
        assert_eq!(
            r,
            vec![Rule {
                antecedent: vec![1],
                consequent: vec![0],
                count: 2,
                antecedent_count: 3,
                consequent_count: 4
            }]
        );
    }
}
