//! `custseg analyze time | categories | amounts | channels | cohorts`: every section against an
//! independent, straightforward computation (loops over seeded generated lines in the test),
//! restriction by `--segment` / `--where`, the `--help` examples, empty selections and HTML.
//! The hand-checked fixtures are golden cases (testdata/cases/analyze/, testdata/analyze/).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde_json::Value;

use crate::support::{self, custseg};

const AS_OF: &str = "2024-06-30";

/// One generated order line (the truth the tests compute from).
#[derive(Debug, Clone)]
struct Line {
    customer: String,
    order: String,
    at: NaiveDateTime,
    channel: String,
    category: Option<String>,
    cents: i64,
}

impl Line {
    fn purchase(&self) -> bool {
        self.cents >= 0
    }
}

/// Seeded lines: purchase orders of 1–3 lines (sometimes with a return line half an hour before
/// the purchase lines), return-only orders, lines without a category, lines after the as-of
/// date. Returns the CSV text and the lines on or before the as-of date.
fn generate(seed: u64) -> (String, Vec<Line>) {
    let mut state = seed;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let channels = ["web", "app", "store"];
    let categories = ["tea", "cups", "snacks", "imported food", ""];
    let amounts = [500i64, 1250, 2000, 9999, 25000];
    let mut csv = String::from("customer_id,order_id,ordered_at,channel,category,amount\n");
    let mut kept = Vec::new();
    for n in 0..900 {
        let who = next(80);
        let customer = format!("c{who:02}");
        let day = start + chrono::Duration::days(next(560) as i64);
        let at = day
            .and_hms_opt(next(24) as u32, next(60) as u32, 0)
            .unwrap();
        let return_only = next(10) == 0;
        let order = format!("{}{n}", if return_only { "r" } else { "o" });
        // Mostly the customer's home channel, so that single-channel customers exist too.
        let channel = if next(6) == 0 {
            channels[next(3) as usize]
        } else {
            channels[(who % 3) as usize]
        }
        .to_string();
        let mut lines = Vec::new();
        for i in 0..(1 + next(3)) {
            let sign = if return_only { -1 } else { 1 };
            lines.push((
                at + chrono::Duration::minutes(7 * i as i64),
                sign * amounts[next(5) as usize],
            ));
        }
        if !return_only && next(8) == 0 {
            lines.push((
                at - chrono::Duration::minutes(30),
                -amounts[next(5) as usize],
            ));
        }
        for (when, cents) in lines {
            let category = categories[next(5) as usize];
            writeln!(
                csv,
                "{customer},{order},{},{channel},{category},{}{}.{:02}",
                when.format("%Y-%m-%d %H:%M:%S"),
                if cents < 0 { "-" } else { "" },
                cents.abs() / 100,
                cents.abs() % 100
            )
            .unwrap();
            if when.date() <= as_of {
                kept.push(Line {
                    customer: customer.clone(),
                    order: order.clone(),
                    at: when,
                    channel: channel.clone(),
                    category: (!category.is_empty()).then(|| category.to_string()),
                    cents,
                });
            }
        }
    }
    (csv, kept)
}

fn write_input(dir: &Path, csv: &str) -> String {
    let path = dir.join("orders.csv");
    std::fs::write(&path, csv).unwrap();
    path.display().to_string()
}

fn run(args: &[&str]) -> Vec<u8> {
    custseg()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

/// `custseg analyze <verb> INPUT --as-of AS_OF --format json --quiet EXTRA...` → sections.
fn analyze(verb: &str, input: &str, extra: &[&str]) -> BTreeMap<String, Vec<Value>> {
    let mut args = vec![
        "analyze", verb, input, "--as-of", AS_OF, "--format", "json", "--quiet",
    ];
    args.extend_from_slice(extra);
    let doc: Value = serde_json::from_slice(&run(&args)).expect("JSON report");
    doc["sections"]
        .as_object()
        .expect("sections")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_array().expect("rows").clone()))
        .collect()
}

/// The value table as `custseg score` writes it: customer_id → row.
fn value_table(input: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = run(&[
        "score", input, "--as-of", AS_OF, "--format", "csv", "--quiet",
    ]);
    let mut reader = csv::Reader::from_reader(text.as_slice());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let row: BTreeMap<String, String> = headers
                .iter()
                .zip(r.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect();
            (row["customer_id"].clone(), row)
        })
        .collect()
}

fn num(row: &Value, key: &str) -> f64 {
    row[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {row}"))
}

fn int(row: &Value, key: &str) -> i64 {
    row[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} is not an integer in {row}"))
}

fn text(row: &Value, key: &str) -> String {
    row[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not text in {row}"))
        .to_string()
}

/// Money: the exact cents.
fn assert_money(row: &Value, key: &str, cents: i64) {
    let got = num(row, key);
    assert!(
        (got - cents as f64 / 100.0).abs() < 1e-6,
        "{key}: {got} vs {cents} cents in {row}"
    );
}

/// A value rounded to `decimals` (half away from zero): a multiple of the step within half a
/// step of the exact value (either neighbour is accepted on an exact tie); None = null.
fn assert_rounded(row: &Value, key: &str, exact: Option<f64>, decimals: i32) {
    match exact {
        None => assert!(row[key].is_null(), "{key} should be null in {row}"),
        Some(x) => {
            let got = num(row, key);
            let step = 10f64.powi(-decimals);
            assert!(
                (got - x).abs() <= step / 2.0 + 1e-9,
                "{key}: {got} vs exact {x} in {row}"
            );
            assert!(
                ((got / step).round() * step - got).abs() < 1e-9,
                "{key}: {got} has more than {decimals} decimals"
            );
        }
    }
}

fn share(part: i64, total: i64) -> Option<f64> {
    (total != 0).then(|| part as f64 / total as f64)
}

/// Per order: purchase?, moment, net cents.
#[derive(Debug, Clone)]
struct Order {
    purchase: bool,
    moment: NaiveDateTime,
    cents: i64,
}

fn orders_of(lines: &[Line]) -> BTreeMap<(String, String), Order> {
    let mut out: BTreeMap<(String, String), (Option<NaiveDateTime>, NaiveDateTime, i64)> =
        BTreeMap::new();
    for l in lines {
        let e = out
            .entry((l.customer.clone(), l.order.clone()))
            .or_insert((None, l.at, 0));
        if l.purchase() {
            e.0 = Some(e.0.map_or(l.at, |m: NaiveDateTime| m.min(l.at)));
        }
        e.1 = e.1.min(l.at);
        e.2 += l.cents;
    }
    out.into_iter()
        .map(|(k, (first_purchase, first_any, cents))| {
            (
                k,
                Order {
                    purchase: first_purchase.is_some(),
                    moment: first_purchase.unwrap_or(first_any),
                    cents,
                },
            )
        })
        .collect()
}

fn monday(d: NaiveDate) -> NaiveDate {
    d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

fn month_index(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

#[test]
fn time_matches_a_straightforward_computation_on_generated_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = generate(0x0A11_7E57_0001);
    let input = write_input(dir.path(), &csv);
    let got = analyze("time", &input, &[]);
    let orders = orders_of(&lines);

    let mut cells: BTreeMap<(u32, u32), (i64, i64)> = BTreeMap::new();
    let mut weeks: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    let mut months: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    let mut years: BTreeMap<i32, [i64; 12]> = BTreeMap::new();
    let mut parts = [(0i64, 0i64); 2];
    for o in orders.values() {
        let n = i64::from(o.purchase);
        let day = o.moment.date();
        let wd = day.weekday().number_from_monday();
        for e in [
            cells.entry((wd, o.moment.hour())).or_default(),
            weeks.entry(monday(day)).or_default(),
            months.entry(month_index(day)).or_default(),
            &mut parts[usize::from(wd >= 6)],
        ] {
            e.0 += n;
            e.1 += o.cents;
        }
        years.entry(day.year()).or_insert([0; 12])[day.month0() as usize] += o.cents;
    }

    let grid = &got["weekday_hour"];
    assert_eq!(grid.len(), 168, "every weekday × hour cell");
    for (i, row) in grid.iter().enumerate() {
        let (wd, hour) = (1 + (i / 24) as u32, (i % 24) as u32);
        assert_eq!(int(row, "weekday"), i64::from(wd));
        assert_eq!(int(row, "hour"), i64::from(hour));
        let (n, cents) = cells.get(&(wd, hour)).copied().unwrap_or_default();
        assert_eq!(int(row, "orders"), n, "{row}");
        assert_money(row, "revenue", cents);
    }

    let first = *weeks.keys().next().unwrap();
    let last = *weeks.keys().last().unwrap();
    let rows = &got["weekly"];
    assert_eq!(rows.len() as i64, (last - first).num_days() / 7 + 1);
    for (i, row) in rows.iter().enumerate() {
        let week = first + chrono::Duration::days(7 * i as i64);
        assert_eq!(text(row, "week_start"), week.to_string());
        let (n, cents) = weeks.get(&week).copied().unwrap_or_default();
        assert_eq!(int(row, "orders"), n, "{row}");
        assert_money(row, "revenue", cents);
    }

    let first = *months.keys().next().unwrap();
    let rows = &got["monthly"];
    assert_eq!(rows.len() as i32, months.keys().last().unwrap() - first + 1);
    for (i, row) in rows.iter().enumerate() {
        let m = first + i as i32;
        assert_eq!(text(row, "month"), format!("{}-{:02}", m / 12, m % 12 + 1));
        let (n, cents) = months.get(&m).copied().unwrap_or_default();
        assert_eq!(int(row, "orders"), n, "{row}");
        assert_money(row, "revenue", cents);
    }

    let rows = &got["weekend"];
    let (all_orders, all_cents) = (parts[0].0 + parts[1].0, parts[0].1 + parts[1].1);
    for (row, (name, (n, cents))) in rows.iter().zip(["weekday", "weekend"].iter().zip(parts)) {
        assert_eq!(text(row, "part"), *name);
        assert_eq!(int(row, "orders"), n);
        assert_money(row, "revenue", cents);
        assert_rounded(row, "order_share", share(n, all_orders), 4);
        assert_rounded(row, "revenue_share", share(cents, all_cents), 4);
    }

    let rows = &got["seasonality"];
    assert_eq!(rows.len(), years.len() * 12);
    for (row, (year, month, cents, total)) in rows.iter().zip(
        years
            .iter()
            .flat_map(|(y, ms)| (0..12).map(move |m| (*y, m, ms[m], ms.iter().sum::<i64>()))),
    ) {
        assert_eq!(int(row, "year"), i64::from(year));
        assert_eq!(int(row, "month"), month as i64 + 1);
        assert_money(row, "revenue", cents);
        assert_rounded(row, "revenue_share", share(cents, total), 4);
        assert_rounded(
            row,
            "seasonal_index",
            share(cents, total).map(|s| 12.0 * s),
            4,
        );
    }
}

/// Buyers, purchase orders (customer, order) and net cents of one category.
type Tally = (BTreeSet<String>, BTreeSet<(String, String)>, i64);

/// Per category: its [`Tally`].
fn category_tally<'a>(lines: impl Iterator<Item = &'a Line>) -> BTreeMap<String, Tally> {
    let mut out: BTreeMap<String, Tally> = BTreeMap::new();
    for l in lines {
        let name = l.category.clone().unwrap_or_else(|| "(none)".to_string());
        let e = out.entry(name).or_default();
        if l.purchase() {
            e.0.insert(l.customer.clone());
            e.1.insert((l.customer.clone(), l.order.clone()));
        }
        e.2 += l.cents;
    }
    out
}

/// Names sorted by cents descending, then name.
fn by_revenue<T>(tally: &BTreeMap<String, T>, cents: impl Fn(&T) -> i64) -> Vec<String> {
    let mut names: Vec<String> = tally.keys().cloned().collect();
    names.sort_by(|a, b| cents(&tally[b]).cmp(&cents(&tally[a])).then(a.cmp(b)));
    names
}

fn check_category_summary<'a>(rows: &[Value], lines: impl Iterator<Item = &'a Line>) {
    let tally = category_tally(lines);
    let total: i64 = tally.values().map(|t| t.2).sum();
    let order = by_revenue(&tally, |t| t.2);
    assert_eq!(rows.len(), order.len());
    for (row, name) in rows.iter().zip(&order) {
        let (buyers, orders, cents) = &tally[name];
        assert_eq!(&text(row, "category"), name);
        assert_eq!(int(row, "customers"), buyers.len() as i64, "{row}");
        assert_eq!(int(row, "orders"), orders.len() as i64, "{row}");
        assert_money(row, "revenue", *cents);
        assert_rounded(row, "revenue_share", share(*cents, total), 4);
    }
}

#[test]
fn categories_match_a_straightforward_computation_on_generated_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = generate(0x0A11_7E57_0002);
    let input = write_input(dir.path(), &csv);
    let table = value_table(&input);
    let got = analyze("categories", &input, &["--by", "tier", "--top", "3"]);

    check_category_summary(&got["categories"], lines.iter());

    // Top 3 per tier.
    let tier_of = |c: &str| {
        table
            .get(c)
            .map_or_else(|| "(none)".to_string(), |r| r["tier"].clone())
    };
    let mut groups: BTreeMap<String, Vec<Line>> = BTreeMap::new();
    for l in &lines {
        groups
            .entry(tier_of(&l.customer))
            .or_default()
            .push(l.clone());
    }
    let group_cents: BTreeMap<String, i64> = groups
        .iter()
        .map(|(g, ls)| (g.clone(), ls.iter().map(|l| l.cents).sum()))
        .collect();
    let group_order = by_revenue(&group_cents, |c| *c);
    let mut expected = Vec::new();
    for g in &group_order {
        let tally = category_tally(groups[g].iter());
        for (rank, name) in by_revenue(&tally, |t| t.2).into_iter().take(3).enumerate() {
            let (buyers, orders, cents) = &tally[&name];
            expected.push((
                g.clone(),
                rank as i64 + 1,
                name,
                buyers.len() as i64,
                orders.len() as i64,
                *cents,
                group_cents[g],
            ));
        }
    }
    let rows = &got["top_by_tier"];
    assert_eq!(rows.len(), expected.len());
    for (row, (g, rank, name, buyers, orders, cents, total)) in rows.iter().zip(expected) {
        assert_eq!(text(row, "tier"), g);
        assert_eq!(int(row, "rank"), rank);
        assert_eq!(text(row, "category"), name, "{row}");
        assert_eq!(int(row, "customers"), buyers);
        assert_eq!(int(row, "orders"), orders);
        assert_money(row, "revenue", cents);
        assert_rounded(row, "group_revenue_share", share(cents, total), 4);
    }

    // Penetration: VIPs (tier high) against every value-table customer.
    let everyone = table.len() as f64;
    let vips: BTreeSet<&String> = table
        .iter()
        .filter(|(_, r)| r["tier"] == "high")
        .map(|(c, _)| c)
        .collect();
    let tally = category_tally(lines.iter());
    let mut expected: Vec<(String, usize, usize, f64, f64, f64)> = tally
        .iter()
        .filter(|(_, t)| !t.0.is_empty())
        .map(|(name, t)| {
            let vip = t.0.iter().filter(|c| vips.contains(c)).count();
            let p = t.0.len() as f64 / everyone;
            let vp = vip as f64 / vips.len() as f64;
            (name.clone(), t.0.len(), vip, p, vp, vp / p)
        })
        .collect();
    expected.sort_by(|a, b| b.5.total_cmp(&a.5).then(a.0.cmp(&b.0)));
    let rows = &got["vip_penetration"];
    assert_eq!(rows.len(), expected.len());
    for (row, (name, buyers, vip, p, vp, ratio)) in rows.iter().zip(expected) {
        assert_eq!(text(row, "category"), name);
        assert_eq!(int(row, "customers"), buyers as i64);
        assert_eq!(int(row, "vip_customers"), vip as i64);
        assert_rounded(row, "penetration", Some(p), 4);
        assert_rounded(row, "vip_penetration", Some(vp), 4);
        assert_rounded(row, "vip_ratio", Some(ratio), 4);
    }
}

/// An expected bin: lower edge (None = −inf), upper edge (None = +inf), count, cents.
type Bin = (Option<f64>, Option<f64>, i64, i64);

/// Expected bins of `values` (cents) for fixed edges (in currency units; ±inf allowed): rows of
/// (lower, upper, count, cents); extra outer bins only when not empty.
fn fixed_bins(values: &[i64], edges: &[f64]) -> Vec<Bin> {
    let mut full = vec![f64::NEG_INFINITY];
    full.extend_from_slice(edges);
    full.push(f64::INFINITY);
    let mut out = Vec::new();
    for (i, w) in full.windows(2).enumerate() {
        if w[0] == w[1] {
            continue;
        }
        let inside: Vec<i64> = values
            .iter()
            .copied()
            .filter(|v| {
                let x = *v as f64 / 100.0;
                x >= w[0] && x < w[1]
            })
            .collect();
        let extra = i == 0 || i == full.len() - 2;
        if extra && inside.is_empty() {
            continue;
        }
        let finite = |x: f64| x.is_finite().then_some(x);
        out.push((
            finite(w[0]),
            finite(w[1]),
            inside.len() as i64,
            inside.iter().sum(),
        ));
    }
    out
}

/// Expected rank-based quantile bins: bin = floor(q × (rank_min − 1) / n).
fn quantile_bins(values: &[i64], q: usize) -> Vec<Bin> {
    let n = values.len();
    let mut bins: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
    for &v in values {
        let below = values.iter().filter(|&&o| o < v).count();
        bins.entry(q * below / n).or_default().push(v);
    }
    let lowers: Vec<f64> = bins
        .values()
        .map(|vs| *vs.iter().min().unwrap() as f64 / 100.0)
        .collect();
    bins.values()
        .enumerate()
        .map(|(i, vs)| {
            (
                Some(lowers[i]),
                lowers.get(i + 1).copied(),
                vs.len() as i64,
                vs.iter().sum(),
            )
        })
        .collect()
}

fn check_bins(rows: &[Value], expected: &[Bin], unit: &str) {
    let (count, count_share) = if unit == "orders" {
        ("orders", "order_share")
    } else {
        ("customers", "customer_share")
    };
    let n: i64 = expected.iter().map(|e| e.2).sum();
    let total: i64 = expected.iter().map(|e| e.3).sum();
    assert_eq!(rows.len(), expected.len(), "{unit}: {rows:?}");
    for (row, (lower, upper, k, cents)) in rows.iter().zip(expected) {
        let bound = |key: &str, want: &Option<f64>| match want {
            None => assert!(row[key].is_null(), "{key} open in {row}"),
            Some(x) => assert!((num(row, key) - x).abs() < 1e-9, "{key} {x} in {row}"),
        };
        bound("lower", lower);
        bound("upper", upper);
        assert_eq!(int(row, count), *k, "{row}");
        assert_money(row, "revenue", *cents);
        assert_rounded(row, count_share, share(*k, n), 4);
        assert_rounded(row, "revenue_share", share(*cents, total), 4);
        let label = text(row, "bin");
        assert!(
            label.starts_with(if lower.is_some() { '[' } else { '(' }) && label.ends_with(')'),
            "{label}"
        );
    }
}

#[test]
fn amounts_match_a_straightforward_computation_on_generated_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = generate(0x0A11_7E57_0003);
    let input = write_input(dir.path(), &csv);
    let order_values: Vec<i64> = orders_of(&lines)
        .values()
        .filter(|o| o.purchase)
        .map(|o| o.cents)
        .collect();
    let mut per_customer: BTreeMap<&str, (bool, i64)> = BTreeMap::new();
    for l in &lines {
        let e = per_customer.entry(&l.customer).or_default();
        e.0 |= l.purchase();
        e.1 += l.cents;
    }
    let monetary: Vec<i64> = per_customer
        .values()
        .filter(|(buyer, _)| *buyer)
        .map(|(_, c)| *c)
        .collect();
    assert!(
        order_values.iter().any(|v| *v < 0),
        "the generator makes some negative orders"
    );

    let edges = [0.0, 20.0, 50.0, 100.0, 250.0, f64::INFINITY];
    let got = analyze("amounts", &input, &["--bins", "0,20,50,100,250,inf"]);
    check_bins(
        &got["order_value"],
        &fixed_bins(&order_values, &edges),
        "orders",
    );
    check_bins(
        &got["customer_monetary"],
        &fixed_bins(&monetary, &edges),
        "customers",
    );

    for q in [4usize, 7] {
        let got = analyze("amounts", &input, &["--quantiles", &q.to_string()]);
        check_bins(
            &got["order_value"],
            &quantile_bins(&order_values, q),
            "orders",
        );
        check_bins(
            &got["customer_monetary"],
            &quantile_bins(&monetary, q),
            "customers",
        );
    }
}

/// Per channel: (buyers, purchase orders, cents); per customer: channels with a purchase,
/// purchase orders, cents.
struct ChannelTruth {
    channels: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, i64)>,
    customers: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, i64)>,
}

fn channel_truth<'a>(lines: impl Iterator<Item = &'a Line>) -> ChannelTruth {
    let mut t = ChannelTruth {
        channels: BTreeMap::new(),
        customers: BTreeMap::new(),
    };
    for l in lines {
        let ch = t.channels.entry(l.channel.clone()).or_default();
        let cu = t.customers.entry(l.customer.clone()).or_default();
        if l.purchase() {
            ch.0.insert(l.customer.clone());
            ch.1.insert(format!("{}/{}", l.customer, l.order));
            cu.0.insert(l.channel.clone());
            cu.1.insert(l.order.clone());
        }
        ch.2 += l.cents;
        cu.2 += l.cents;
    }
    t.customers.retain(|_, c| !c.0.is_empty());
    t
}

fn check_channels(got: &BTreeMap<String, Vec<Value>>, t: &ChannelTruth) {
    let buyers = t.customers.len() as i64;
    let total: i64 = t.channels.values().map(|c| c.2).sum();
    let rows = &got["channels"];
    let order = by_revenue(&t.channels, |c| c.2);
    assert_eq!(rows.len(), order.len());
    for (row, name) in rows.iter().zip(&order) {
        let (who, orders, cents) = &t.channels[name];
        assert_eq!(&text(row, "channel"), name);
        assert_eq!(int(row, "customers"), who.len() as i64);
        assert_eq!(int(row, "orders"), orders.len() as i64);
        assert_money(row, "revenue", *cents);
        assert_rounded(row, "customer_share", share(who.len() as i64, buyers), 4);
        assert_rounded(row, "revenue_share", share(*cents, total), 4);
    }
    let rows = &got["multichannel"];
    assert_eq!(rows.len(), 2);
    let all_cents: i64 = t.customers.values().map(|c| c.2).sum();
    for (row, (name, multi)) in rows
        .iter()
        .zip([("single-channel", false), ("multi-channel", true)])
    {
        let group: Vec<_> = t
            .customers
            .values()
            .filter(|c| (c.0.len() >= 2) == multi)
            .collect();
        let n = group.len() as i64;
        let cents: i64 = group.iter().map(|c| c.2).sum();
        let orders: usize = group.iter().map(|c| c.1.len()).sum();
        assert_eq!(text(row, "channel_use"), name);
        assert_eq!(int(row, "customers"), n);
        assert_money(row, "revenue", cents);
        assert_rounded(row, "customer_share", share(n, buyers), 4);
        assert_rounded(row, "revenue_share", share(cents, all_cents), 4);
        assert_rounded(
            row,
            "mean_monetary",
            (n > 0).then(|| cents as f64 / 100.0 / n as f64),
            2,
        );
        assert_rounded(
            row,
            "mean_frequency",
            (n > 0).then(|| orders as f64 / n as f64),
            2,
        );
    }
}

#[test]
fn channels_match_a_straightforward_computation_on_generated_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = generate(0x0A11_7E57_0004);
    let input = write_input(dir.path(), &csv);
    let t = channel_truth(lines.iter());
    assert!(
        t.customers.values().any(|c| c.0.len() >= 2)
            && t.customers.values().any(|c| c.0.len() == 1),
        "both kinds of customers are generated"
    );
    check_channels(&analyze("channels", &input, &[]), &t);
}

/// The expected long cohort table: (cohort label, size, k, active, cents).
fn cohort_truth(lines: &[Line], week: bool) -> Vec<(String, i64, i64, i64, i64)> {
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    let period = |d: NaiveDate| -> i64 {
        if week {
            (monday(d) - NaiveDate::from_ymd_opt(1970, 1, 5).unwrap()).num_days() / 7
        } else {
            i64::from(month_index(d))
        }
    };
    let label = |p: i64| -> String {
        if week {
            (NaiveDate::from_ymd_opt(1970, 1, 5).unwrap() + chrono::Duration::days(7 * p))
                .to_string()
        } else {
            format!("{}-{:02}", p / 12, p % 12 + 1)
        }
    };
    let mut first: BTreeMap<&str, i64> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.purchase()) {
        let p = period(l.at.date());
        let e = first.entry(&l.customer).or_insert(p);
        *e = (*e).min(p);
    }
    let mut sizes: BTreeMap<i64, i64> = BTreeMap::new();
    for p in first.values() {
        *sizes.entry(*p).or_default() += 1;
    }
    let mut active: BTreeMap<(i64, i64), BTreeSet<&str>> = BTreeMap::new();
    let mut cents: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for l in lines {
        let Some(c) = first.get(l.customer.as_str()) else {
            continue;
        };
        let k = period(l.at.date()) - c;
        if k < 0 {
            continue;
        }
        if l.purchase() {
            active.entry((*c, k)).or_default().insert(&l.customer);
        }
        *cents.entry((*c, k)).or_default() += l.cents;
    }
    let last = period(as_of);
    let mut out = Vec::new();
    for (c, size) in &sizes {
        for k in 0..=(last - c) {
            out.push((
                label(*c),
                *size,
                k,
                active.get(&(*c, k)).map_or(0, |s| s.len() as i64),
                cents.get(&(*c, k)).copied().unwrap_or(0),
            ));
        }
    }
    out
}

#[test]
fn cohorts_match_a_straightforward_computation_on_generated_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = generate(0x0A11_7E57_0005);
    let input = write_input(dir.path(), &csv);
    for (period, week) in [("month", false), ("week", true)] {
        let got = analyze("cohorts", &input, &["--period", period]);
        let rows = &got["cohorts"];
        let expected = cohort_truth(&lines, week);
        assert_eq!(rows.len(), expected.len(), "{period}");
        for (row, (cohort, size, k, active, cents)) in rows.iter().zip(expected) {
            assert_eq!(text(row, "cohort"), cohort, "{period}");
            assert_eq!(int(row, "cohort_size"), size, "{row}");
            assert_eq!(int(row, "period_index"), k, "{row}");
            assert_eq!(int(row, "customers_active"), active, "{row}");
            assert_rounded(row, "retention", share(active, size), 4);
            assert_rounded(
                row,
                "revenue_per_member",
                Some(cents as f64 / 100.0 / size as f64),
                2,
            );
        }
    }
}

#[test]
fn where_and_segment_restrict_to_the_selected_customers() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = generate(0x0A11_7E57_0006);
    let input = write_input(dir.path(), &csv);
    let table = value_table(&input);
    let high: BTreeSet<&str> = table
        .iter()
        .filter(|(_, r)| r["tier"] == "high")
        .map(|(c, _)| c.as_str())
        .collect();
    assert!(!high.is_empty() && high.len() < table.len());
    let mine = || lines.iter().filter(|l| high.contains(l.customer.as_str()));
    let predicate = ["--where", "tier = 'high'"];
    check_channels(
        &analyze("channels", &input, &predicate),
        &channel_truth(mine()),
    );
    check_category_summary(
        &analyze("categories", &input, &predicate)["categories"],
        mine(),
    );

    // --segment NAME is --where "segment = 'NAME'", for every verb; names match in any case.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in table.values() {
        *counts.entry(r["segment"].as_str()).or_default() += 1;
    }
    let (segment, _) = counts.iter().max_by_key(|(_, n)| **n).unwrap();
    let by_where = format!("segment = '{segment}'");
    for verb in ["time", "categories", "amounts", "channels", "cohorts"] {
        let a = analyze(verb, &input, &["--segment", &segment.to_uppercase()]);
        let b = analyze(verb, &input, &["--where", &by_where]);
        assert_eq!(a, b, "{verb}: --segment {segment} differs from --where");
        let all = analyze(verb, &input, &[]);
        assert_ne!(a, all, "{verb}: --segment {segment} restricts nothing");
    }
}

#[test]
fn an_empty_selection_writes_empty_sections_with_a_warning() {
    let input = support::testdata("analyze/time/orders.csv");
    for verb in ["time", "categories", "amounts", "channels", "cohorts"] {
        let out = custseg()
            .args(["analyze", verb])
            .arg(&input)
            .args([
                "--timezone",
                "Asia/Shanghai",
                "--as-of",
                AS_OF,
                "--segment",
                "Hibernating",
                "--format",
                "json",
            ])
            .assert()
            .success()
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("warning: no order lines for segment Hibernating"),
            "{verb}: {stderr}"
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(doc["sections"].is_object(), "{verb}");
    }
}

#[test]
fn html_reports_draw_a_chart_per_section() {
    let dir = tempfile::tempdir().unwrap();
    let input = support::testdata("analyze/categories/orders.csv");
    for (verb, sections) in [
        ("time", 5),
        ("categories", 3),
        ("amounts", 2),
        ("channels", 2),
        ("cohorts", 2),
    ] {
        let page = dir.path().join(format!("{verb}.html"));
        custseg()
            .args(["analyze", verb])
            .arg(&input)
            .args(["--as-of", AS_OF, "--quiet", "-o"])
            .arg(&page)
            .assert()
            .success();
        let html = std::fs::read_to_string(&page).unwrap();
        assert_eq!(html.matches("<svg").count(), sections, "{verb}");
    }
}

#[test]
fn every_help_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("shop");
    custseg()
        .args(["ingest", "--quiet", "--as-of", "2025-01-01", "--config"])
        .arg(support::root().join("examples/shop/custseg.toml"))
        .arg("--out")
        .arg(&shop)
        .assert()
        .success();
    let mut ran = 0;
    for verb in ["time", "categories", "amounts", "channels", "cohorts"] {
        let help = String::from_utf8(run(&["analyze", verb, "--help"])).unwrap();
        let examples: Vec<&str> = help
            .lines()
            .skip_while(|l| !l.starts_with("Examples:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect();
        assert!(examples.len() >= 2, "{verb}: {help}");
        for example in examples {
            let words = shell_words(example.trim());
            assert_eq!(words[..3], ["custseg", "analyze", verb], "{example}");
            let args: Vec<String> = words[1..]
                .iter()
                .map(|w| {
                    if w == "out/shop" {
                        shop.display().to_string()
                    } else {
                        w.clone()
                    }
                })
                .collect();
            let output = custseg()
                .current_dir(dir.path())
                .args(&args)
                .args(["--quiet"])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{example}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 10);
}

/// Splits an example line like a shell: spaces separate words, double quotes group them.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            _ => {
                word.push(ch);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// `custseg analyze VERB INPUT ... --explain` with `CUSTSEG_SCORE_BUCKET_LINES` set: (stdout,
/// the number of buckets the value table was built in, from the explained plans).
fn analyze_in_buckets(verb: &str, input: &str, extra: &[&str], lines: &str) -> (Vec<u8>, usize) {
    let out = custseg()
        .args(["analyze", verb, input, "--as-of", AS_OF, "--format", "json"])
        .args(extra)
        .args(["--quiet", "--explain"])
        .env("CUSTSEG_SCORE_BUCKET_LINES", lines)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    (out.stdout, support::buckets_in(&stderr))
}

#[test]
fn analyses_build_their_value_table_in_buckets_like_score() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, _) = generate(0x0A11_7E57_0007);
    let input = write_input(dir.path(), &csv);
    for (verb, extra) in [
        ("categories", vec!["--by", "tier"]),
        ("categories", vec!["--where", "tier = 'high'"]),
        ("channels", vec!["--segment", "champions"]),
    ] {
        let (one_plan, n) = analyze_in_buckets(verb, &input, &extra, "0");
        assert_eq!(n, 0, "{verb} {extra:?}: one plan");
        let (bucketed, n) = analyze_in_buckets(verb, &input, &extra, "7");
        assert!(n > 3, "{verb} {extra:?}: {n} buckets of 7 lines");
        assert!(
            bucketed == one_plan,
            "{verb} {extra:?}: the report differs when the value table is built in buckets"
        );
    }
}
