//! `custseg analyze basket | campaign | next-purchase` end to end: each against an independent
//! naive computation on seeded generated orders (basket: every itemset counted by brute force,
//! every rule and its order; campaign: group figures, lift, interval, ROI, and the segment-matched
//! control; next-purchase: the gap rule, the due list, and the BG/NBD probability from its
//! closed form), the restrictions, and the examples of the three `--help` texts. The
//! hand-checked fixtures are golden cases under testdata/cases/analyze/ (see the READMEs in
//! testdata/analyze/).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use btyd::simulate::SplitMix64;
use chrono::NaiveDate;

use crate::support::custseg;

/// Rows of a CSV file written by custseg, as column → text maps.
fn read_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {:?} is not a number", row[key]))
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

fn close(name: &str, got: f64, want: f64, decimals: i32) {
    let tol = 0.5 * 10f64.powi(-decimals) + 1e-9;
    assert!(
        (got - want).abs() <= tol,
        "{name}: got {got}, expected {want} (±{tol})"
    );
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn run_ok(args: &[&str]) {
    custseg().args(args).assert().success();
}

// ---------------------------------------------------------------------------------------------
// basket

/// Seeded orders with skewed, partly correlated products: duplicates, returns, lines without a
/// sku, and one order id shared by two customers (two baskets).
fn basket_orders(seed: u64, orders: usize) -> String {
    let mut rng = SplitMix64::new(seed);
    let mut csv = String::from("customer_id,order_id,ordered_at,sku,category,amount\n");
    let items = 30;
    for o in 0..orders {
        let customer = format!("C{:04}", rng.next_u64() % 400);
        let order = if o == 7 {
            "SHARED".to_string()
        } else {
            format!("O{o}")
        };
        let day = 1 + rng.next_u64() % 28;
        let mut skus = BTreeSet::new();
        let lines = 1 + rng.next_u64() % 4;
        for _ in 0..lines {
            // Zipf-like popularity: sku k with weight ~ 1 / (k + 1).
            let u = rng.uniform();
            let k = ((items as f64 + 1.0).powf(u) - 1.0) as usize;
            skus.insert(k.min(items - 1));
        }
        if skus.contains(&1) && rng.uniform() < 0.7 {
            skus.insert(2);
        }
        if skus.contains(&3) && skus.contains(&4) && rng.uniform() < 0.8 {
            skus.insert(5);
        }
        for k in &skus {
            let cat = format!("cat{}", k % 6);
            writeln!(
                csv,
                "{customer},{order},2024-03-{day:02} 10:00:00,P{k:02},{cat},{}.50",
                1 + k
            )
            .unwrap();
            if rng.uniform() < 0.05 {
                // A repeated line of the same product.
                writeln!(
                    csv,
                    "{customer},{order},2024-03-{day:02} 10:05:00,P{k:02},{cat},{}.50",
                    1 + k
                )
                .unwrap();
            }
        }
        if rng.uniform() < 0.1 {
            // A return of a product that is not otherwise in the basket.
            writeln!(
                csv,
                "{customer},{order},2024-03-{day:02} 11:00:00,P29,cat5,-3.00"
            )
            .unwrap();
        }
        if rng.uniform() < 0.05 {
            writeln!(csv, "{customer},{order},2024-03-{day:02} 11:00:00,,,2.00").unwrap();
        }
    }
    // The second customer of the shared order id.
    csv.push_str("Z9999,SHARED,2024-03-03 09:00:00,P00,cat0,1.50\n");
    csv.push_str("Z9999,SHARED,2024-03-03 09:00:00,P01,cat1,2.50\n");
    csv
}

/// Baskets of `csv` by direct reading: (customer_id, order_id) → distinct items of purchase
/// lines (amount ≥ 0) with a non-empty item.
fn naive_baskets(csv: &str, column: usize) -> Vec<BTreeSet<String>> {
    let mut baskets: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let amount: f64 = f[5].parse().unwrap();
        if amount < 0.0 || f[column].is_empty() {
            continue;
        }
        baskets
            .entry((f[0].to_string(), f[1].to_string()))
            .or_default()
            .insert(f[column].to_string());
    }
    baskets.into_values().collect()
}

/// Every itemset of up to `max_len` items in at least `min_support` of the baskets, counted by
/// enumerating each basket's subsets; keyed by the " + "-joined names.
fn brute_force_itemsets(
    baskets: &[BTreeSet<String>],
    min_support: f64,
    max_len: usize,
) -> BTreeMap<String, u64> {
    let mut counts: HashMap<Vec<String>, u64> = HashMap::new();
    for b in baskets {
        let items: Vec<&String> = b.iter().collect();
        let k = items.len();
        for mask in 1u32..(1 << k) {
            if mask.count_ones() as usize > max_len {
                continue;
            }
            let set: Vec<String> = (0..k)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| items[i].clone())
                .collect();
            *counts.entry(set).or_default() += 1;
        }
    }
    let n = baskets.len() as f64;
    counts
        .into_iter()
        .filter(|(_, c)| *c as f64 / n >= min_support)
        .map(|(s, c)| (s.join(" + "), c))
        .collect()
}

#[test]
fn basket_matches_a_brute_force_count_on_generated_orders() {
    let dir = tempfile::tempdir().unwrap();
    let csv = basket_orders(42, 3000);
    let input = dir.path().join("orders.csv");
    std::fs::write(&input, &csv).unwrap();
    let baskets = naive_baskets(&csv, 3);
    let n = baskets.len() as f64;
    let settings = [(0.02, 0.1, 3), (0.005, 0.3, 4), (0.1, 0.0, 2)];
    for (run, (min_support, min_confidence, max_len)) in settings.into_iter().enumerate() {
        let out = dir.path().join(format!("b{run}.csv"));
        run_ok(&[
            "analyze",
            "basket",
            input.to_str().unwrap(),
            "--quiet",
            "--as-of",
            "2024-03-31",
            "--min-support",
            &min_support.to_string(),
            "--min-confidence",
            &min_confidence.to_string(),
            "--max-len",
            &max_len.to_string(),
            "--top",
            "1000000",
            "-o",
            out.to_str().unwrap(),
        ]);
        let stem = out.with_extension("");
        let itemsets = read_rows(&stem.with_extension("itemsets.csv"));
        let want = brute_force_itemsets(&baskets, min_support, max_len);
        let got: BTreeMap<String, u64> = itemsets
            .iter()
            .map(|r| (r["items"].clone(), r["baskets"].parse().unwrap()))
            .collect();
        assert_eq!(got.len(), itemsets.len(), "itemsets listed once each");
        assert_eq!(
            got, want,
            "itemsets at support {min_support}, max-len {max_len}"
        );
        assert!(want.keys().any(|k| k.matches(" + ").count() == 2) || max_len == 2);
        for r in &itemsets {
            close(
                "itemset support",
                num(r, "support"),
                num(r, "baskets") / n,
                6,
            );
        }

        // Rules: every split of every frequent itemset meeting the confidence.
        let mut want_rules: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
        for (set, &count) in &want {
            let items: Vec<&str> = set.split(" + ").collect();
            let k = items.len();
            if k < 2 {
                continue;
            }
            for mask in 1u32..(1 << k) - 1 {
                let pick = |inside: bool| -> String {
                    (0..k)
                        .filter(|i| (mask & (1 << i) != 0) == inside)
                        .map(|i| items[i])
                        .collect::<Vec<_>>()
                        .join(" + ")
                };
                let (x, y) = (pick(true), pick(false));
                let (cx, cy) = (want[&x], want[&y]);
                if count as f64 / cx as f64 >= min_confidence {
                    want_rules.insert((x, y), (count, cx, cy));
                }
            }
        }
        let rules = read_rows(&stem.with_extension("rules.csv"));
        let got_rules: BTreeMap<(String, String), (u64, u64, u64)> = rules
            .iter()
            .map(|r| {
                (
                    (r["antecedent"].clone(), r["consequent"].clone()),
                    (
                        r["baskets"].parse().unwrap(),
                        r["antecedent_baskets"].parse().unwrap(),
                        r["consequent_baskets"].parse().unwrap(),
                    ),
                )
            })
            .collect();
        assert_eq!(got_rules, want_rules, "rules at support {min_support}");
        assert!(!rules.is_empty());
        for r in &rules {
            let (c, a, k) = (
                num(r, "baskets"),
                num(r, "antecedent_baskets"),
                num(r, "consequent_baskets"),
            );
            close("support", num(r, "support"), c / n, 6);
            close("confidence", num(r, "confidence"), c / a, 6);
            close("lift", num(r, "lift"), c * n / (a * k), 6);
        }
        // Order: lift descending, support descending (exact fractions), then the texts.
        for w in rules.windows(2) {
            let key = |r: &HashMap<String, String>| {
                let p = |k: &str| r[k].parse::<u128>().unwrap();
                (
                    p("baskets"),
                    p("antecedent_baskets"),
                    p("consequent_baskets"),
                )
            };
            let ((c1, a1, k1), (c2, a2, k2)) = (key(&w[0]), key(&w[1]));
            let (l1, l2) = (c1 * a2 * k2, c2 * a1 * k1);
            let in_order = l1 > l2
                || l1 == l2
                    && (c1 > c2
                        || c1 == c2
                            && (&w[0]["antecedent"], &w[0]["consequent"])
                                < (&w[1]["antecedent"], &w[1]["consequent"]));
            assert!(in_order, "rules out of order: {:?} then {:?}", w[0], w[1]);
        }
    }
}

#[test]
fn basket_top_category_level_and_restriction() {
    let dir = tempfile::tempdir().unwrap();
    let csv = basket_orders(5, 1500);
    let input = dir.path().join("orders.csv");
    std::fs::write(&input, &csv).unwrap();
    // --top keeps the first rules of the full list.
    let all = dir.path().join("all.csv");
    let top = dir.path().join("top.csv");
    for (out, n) in [(&all, "100000"), (&top, "7")] {
        run_ok(&[
            "analyze",
            "basket",
            input.to_str().unwrap(),
            "-q",
            "--as-of",
            "2024-03-31",
            "--level",
            "category",
            "--min-support",
            "0.01",
            "--top",
            n,
            "-o",
            out.to_str().unwrap(),
        ]);
    }
    let all_rules = read_rows(&dir.path().join("all.rules.csv"));
    let top_rules = read_rows(&dir.path().join("top.rules.csv"));
    assert_eq!(top_rules.len(), 7);
    assert_eq!(top_rules[..], all_rules[..7]);
    let want = brute_force_itemsets(&naive_baskets(&csv, 4), 0.01, 3);
    let got: BTreeMap<String, u64> = read_rows(&dir.path().join("all.itemsets.csv"))
        .iter()
        .map(|r| (r["items"].clone(), r["baskets"].parse().unwrap()))
        .collect();
    assert_eq!(got, want, "category itemsets");

    // --where over the value table: the same as mining the selected customers' lines alone.
    let restricted = dir.path().join("restricted.csv");
    run_ok(&[
        "analyze",
        "basket",
        input.to_str().unwrap(),
        "-q",
        "--as-of",
        "2024-03-31",
        "--where",
        "customer_id < 'C0200'",
        "--min-support",
        "0.02",
        "-o",
        restricted.to_str().unwrap(),
    ]);
    let mut kept = String::new();
    for (i, line) in csv.lines().enumerate() {
        if i == 0 || line.as_bytes() < b"C0200".as_slice() {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let want = brute_force_itemsets(&naive_baskets(&kept, 3), 0.02, 3);
    let got: BTreeMap<String, u64> = read_rows(&dir.path().join("restricted.itemsets.csv"))
        .iter()
        .map(|r| (r["items"].clone(), r["baskets"].parse().unwrap()))
        .collect();
    assert_eq!(
        got, want,
        "itemsets of the customers where customer_id < 'C0200'"
    );
}

// ---------------------------------------------------------------------------------------------
// campaign

struct Line {
    customer: String,
    order: String,
    day: NaiveDate,
    amount: f64,
}

/// Seeded orders of customers K000..K599 in 2024-01-01 … 2024-06-30, some with returns.
fn campaign_orders(seed: u64) -> (String, Vec<Line>) {
    let mut rng = SplitMix64::new(seed);
    let start = date("2024-01-01");
    let mut csv = String::from("customer_id,order_id,ordered_at,amount\n");
    let mut lines = Vec::new();
    let mut push = |csv: &mut String, customer: &str, order: &str, day: NaiveDate, amount: f64| {
        // Whole cents, as written.
        let amount = (amount * 100.0).round() / 100.0;
        writeln!(csv, "{customer},{order},{day} 12:00:00,{amount:.2}").unwrap();
        lines.push(Line {
            customer: customer.to_string(),
            order: order.to_string(),
            day,
            amount,
        });
    };
    for c in 0..600 {
        let customer = format!("K{c:03}");
        let orders = rng.next_u64() % 9;
        for o in 0..orders {
            let day = start + chrono::Duration::days((rng.next_u64() % 182) as i64);
            let order = format!("{customer}-{o}");
            let amount = 5.0 + (rng.next_u64() % 20000) as f64 / 100.0;
            push(&mut csv, &customer, &order, day, amount);
            if rng.uniform() < 0.3 {
                push(&mut csv, &customer, &order, day, 3.25);
            }
            if rng.uniform() < 0.08 {
                let later = day + chrono::Duration::days((rng.next_u64() % 5) as i64);
                push(&mut csv, &customer, &order, later, -amount / 2.0);
            }
        }
    }
    (csv, lines)
}

#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    customers: u64,
    buyers: u64,
    orders: u64,
    revenue: f64,
}

/// Naive group figures of `members` in [from, to].
fn naive_figures(lines: &[Line], members: &[String], from: NaiveDate, to: NaiveDate) -> Figures {
    let set: BTreeSet<&String> = members.iter().collect();
    let mut f = Figures {
        customers: set.len() as u64,
        ..Figures::default()
    };
    let mut buyers = BTreeSet::new();
    let mut orders = BTreeSet::new();
    for l in lines {
        if !set.contains(&l.customer) || l.day < from || l.day > to {
            continue;
        }
        f.revenue += l.amount;
        if l.amount >= 0.0 {
            buyers.insert(l.customer.clone());
            orders.insert((l.customer.clone(), l.order.clone()));
        }
    }
    f.buyers = buyers.len() as u64;
    f.orders = orders.len() as u64;
    f
}

fn measures(path: &Path) -> BTreeMap<String, Option<f64>> {
    read_rows(path)
        .into_iter()
        .map(|r| (r["measure"].clone(), r["value"].parse().ok()))
        .collect()
}

#[test]
fn campaign_with_a_control_list_matches_a_naive_computation() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = campaign_orders(3);
    let input = dir.path().join("orders.csv");
    std::fs::write(&input, &csv).unwrap();
    let mut rng = SplitMix64::new(99);
    let (mut targets, mut control) = (Vec::new(), Vec::new());
    for c in 0..600 {
        let u = rng.uniform();
        if u < 0.25 {
            targets.push(format!("K{c:03}"));
        } else if u < 0.55 {
            control.push(format!("K{c:03}"));
        }
    }
    targets.push("NOBODY".to_string());
    let targets_file = dir.path().join("targets.csv");
    std::fs::write(
        &targets_file,
        format!("customer_id,note\n{}\n", targets.join(",x\n") + ",x"),
    )
    .unwrap();
    let control_file = dir.path().join("control.txt");
    std::fs::write(&control_file, control.join("\n") + "\n" + &control[0]).unwrap();
    let out = dir.path().join("c.csv");
    let assert = custseg()
        .args(["analyze", "campaign", input.to_str().unwrap()])
        .args([
            "--as-of",
            "2024-06-30",
            "--start",
            "2024-05-01",
            "--end",
            "2024-05-31",
        ])
        .args(["--targets", targets_file.to_str().unwrap()])
        .args(["--control", control_file.to_str().unwrap()])
        .args(["--cost", "750", "-o", out.to_str().unwrap()])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("1 repeated ids"), "{stderr}");
    let buyers: BTreeSet<&String> = lines.iter().map(|l| &l.customer).collect();
    let unknown = targets.iter().filter(|t| !buyers.contains(t)).count();
    assert!(unknown > 1, "customers without orders and NOBODY");
    assert!(
        stderr.contains(&format!("{unknown} targeted ids appear in no order line")),
        "{stderr}"
    );

    let (pre_from, pre_to) = (date("2024-03-31"), date("2024-04-30"));
    let (from, to) = (date("2024-05-01"), date("2024-05-31"));
    let groups = read_rows(&dir.path().join("c.groups.csv"));
    let expected = [
        (
            "targeted",
            "pre",
            naive_figures(&lines, &targets, pre_from, pre_to),
        ),
        (
            "targeted",
            "campaign",
            naive_figures(&lines, &targets, from, to),
        ),
        (
            "control",
            "pre",
            naive_figures(&lines, &control, pre_from, pre_to),
        ),
        (
            "control",
            "campaign",
            naive_figures(&lines, &control, from, to),
        ),
    ];
    assert_eq!(groups.len(), 4);
    for (row, (g, w, f)) in groups.iter().zip(expected) {
        assert_eq!((row["group"].as_str(), row["window"].as_str()), (g, w));
        assert_eq!(row["customers"], f.customers.to_string(), "{g} {w}");
        assert_eq!(row["buyers"], f.buyers.to_string(), "{g} {w}");
        assert_eq!(row["orders"], f.orders.to_string(), "{g} {w}");
        close("revenue", num(row, "revenue"), f.revenue, 2);
        close(
            "conversion",
            num(row, "conversion"),
            f.buyers as f64 / f.customers as f64,
            6,
        );
    }
    assert_eq!(groups[0]["start"], "2024-03-31");
    assert_eq!(groups[1]["end"], "2024-05-31");

    let m = measures(&dir.path().join("c.lift.csv"));
    let t = expected[1].2;
    let c = expected[3].2;
    let (pt, pc) = (
        t.buyers as f64 / t.customers as f64,
        c.buyers as f64 / c.customers as f64,
    );
    let lift = pt - pc;
    let se = (pt * (1.0 - pt) / t.customers as f64 + pc * (1.0 - pc) / c.customers as f64).sqrt();
    let incremental =
        (t.revenue / t.customers as f64 - c.revenue / c.customers as f64) * t.customers as f64;
    let v = |k: &str| m[k].unwrap_or_else(|| panic!("{k} is empty"));
    close("lift", v("lift"), lift, 6);
    close("ci low", v("lift_ci_low"), lift - 1.959964 * se, 5);
    close("ci high", v("lift_ci_high"), lift + 1.959964 * se, 5);
    close("relative", v("relative_lift"), lift / pc, 6);
    close("incremental", v("incremental_revenue"), incremental, 2);
    close("roi", v("roi"), (incremental - 750.0) / 750.0, 6);
    close("cost", v("cost"), 750.0, 2);
    assert_eq!(v("targeted_customers"), t.customers as f64);
    let pre_t = expected[0].2;
    close(
        "change",
        v("change_targeted"),
        pt - pre_t.buyers as f64 / pre_t.customers as f64,
        6,
    );
}

#[test]
fn campaign_matched_by_segment_weights_the_control_to_the_targeted_mix() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = campaign_orders(8);
    let input = dir.path().join("orders.csv");
    std::fs::write(&input, &csv).unwrap();
    let targets: Vec<String> = (0..600)
        .filter(|c| c % 5 == 0)
        .map(|c| format!("K{c:03}"))
        .collect();
    let targets_file = dir.path().join("targets.txt");
    std::fs::write(&targets_file, targets.join("\n")).unwrap();
    let out = dir.path().join("m.csv");
    run_ok(&[
        "analyze",
        "campaign",
        input.to_str().unwrap(),
        "-q",
        "--as-of",
        "2024-06-30",
        "--start",
        "2024-05-01",
        "--end",
        "2024-05-31",
        "--targets",
        targets_file.to_str().unwrap(),
        "--control-auto",
        "-o",
        out.to_str().unwrap(),
    ]);
    // Segments the day before the start, from the value table of custseg score.
    let value = dir.path().join("value.csv");
    run_ok(&[
        "score",
        input.to_str().unwrap(),
        "-q",
        "--as-of",
        "2024-04-30",
        "-o",
        value.to_str().unwrap(),
    ]);
    let segment: HashMap<String, String> = read_rows(&value)
        .into_iter()
        .map(|r| (r["customer_id"].clone(), r["segment"].clone()))
        .collect();
    let targeted: BTreeSet<&String> = targets.iter().collect();
    let mut strata: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for t in &targets {
        let s = segment
            .get(t)
            .cloned()
            .unwrap_or_else(|| "(no purchase before start)".to_string());
        strata.entry(s).or_default().0.push(t.clone());
    }
    for (customer, s) in &segment {
        if !targeted.contains(customer) {
            if let Some(entry) = strata.get_mut(s) {
                entry.1.push(customer.clone());
            }
        }
    }
    let (from, to) = (date("2024-05-01"), date("2024-05-31"));
    let n_t: usize = strata
        .values()
        .filter(|(t, c)| !t.is_empty() && !c.is_empty())
        .map(|(t, _)| t.len())
        .sum();
    let (mut conv_t, mut conv_c, mut var, mut rev_t, mut rev_c) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let seg_rows = read_rows(&dir.path().join("m.segments.csv"));
    assert_eq!(seg_rows.len(), strata.len());
    for (row, (name, (t, c))) in seg_rows.iter().zip(&strata) {
        assert_eq!(&row["segment"], name);
        assert_eq!(row["targeted_customers"], t.len().to_string(), "{name}");
        assert_eq!(row["control_customers"], c.len().to_string(), "{name}");
        if t.is_empty() || c.is_empty() {
            assert_eq!(row["weight"], "0.0");
            continue;
        }
        let w = t.len() as f64 / n_t as f64;
        close("weight", num(row, "weight"), w, 6);
        let (ft, fc) = (
            naive_figures(&lines, t, from, to),
            naive_figures(&lines, c, from, to),
        );
        let (pt, pc) = (
            ft.buyers as f64 / ft.customers as f64,
            fc.buyers as f64 / fc.customers as f64,
        );
        conv_t += w * pt;
        conv_c += w * pc;
        var +=
            w * w * (pt * (1.0 - pt) / ft.customers as f64 + pc * (1.0 - pc) / fc.customers as f64);
        rev_t += w * ft.revenue / ft.customers as f64;
        rev_c += w * fc.revenue / fc.customers as f64;
    }
    assert!(strata.len() >= 3, "several segments: {:?}", strata.keys());
    let m = measures(&dir.path().join("m.lift.csv"));
    let v = |k: &str| m[k].unwrap_or_else(|| panic!("{k} is empty"));
    assert_eq!(v("targeted_customers"), n_t as f64);
    close("conversion targeted", v("conversion_targeted"), conv_t, 6);
    close("conversion control", v("conversion_control"), conv_c, 6);
    close("lift", v("lift"), conv_t - conv_c, 6);
    close(
        "ci low",
        v("lift_ci_low"),
        conv_t - conv_c - 1.959964 * var.sqrt(),
        5,
    );
    close(
        "incremental",
        v("incremental_revenue"),
        (rev_t - rev_c) * n_t as f64,
        2,
    );
    assert!(!m.contains_key("roi"), "no ROI without --cost");
}

// ---------------------------------------------------------------------------------------------
// next-purchase

/// Seeded orders of customers N000..N299 up to 2024-06-30: regular and irregular buyers, one-day
/// customers, same-day repeat orders and returns.
fn next_purchase_orders(seed: u64) -> (String, Vec<Line>) {
    let mut rng = SplitMix64::new(seed);
    let start = date("2024-01-01");
    let mut csv = String::from("customer_id,order_id,ordered_at,amount\n");
    let mut lines = Vec::new();
    for c in 0..300 {
        let customer = format!("N{c:03}");
        let mut day = start + chrono::Duration::days((rng.next_u64() % 150) as i64);
        let mean_gap = 3 + rng.next_u64() % 40;
        let mut o = 0;
        while day <= date("2024-06-30") {
            for _ in 0..(1 + u64::from(rng.uniform() < 0.1)) {
                let amount = if rng.uniform() < 0.05 { -12.0 } else { 20.0 };
                writeln!(csv, "{customer},{customer}-{o},{day} 09:00:00,{amount:.2}").unwrap();
                lines.push(Line {
                    customer: customer.clone(),
                    order: format!("{customer}-{o}"),
                    day,
                    amount,
                });
                o += 1;
            }
            if c % 10 == 0 {
                break;
            }
            let gap = 1 + (rng.exponential(1.0 / mean_gap as f64)) as i64;
            day += chrono::Duration::days(gap);
        }
    }
    (csv, lines)
}

/// Per customer: distinct purchase days up to `as_of`, ascending.
fn purchase_days(lines: &[Line], as_of: NaiveDate) -> BTreeMap<String, Vec<NaiveDate>> {
    let mut days: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
    for l in lines {
        if l.amount >= 0.0 && l.day <= as_of {
            days.entry(l.customer.clone()).or_default().insert(l.day);
        }
    }
    days.into_iter()
        .map(|(c, d)| (c, d.into_iter().collect()))
        .collect()
}

#[test]
fn next_purchase_gap_rule_and_due_list_match_a_naive_computation() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = next_purchase_orders(17);
    let input = dir.path().join("orders.csv");
    std::fs::write(&input, &csv).unwrap();
    let as_of = date("2024-06-20");
    let n = 21;
    let out = dir.path().join("np.csv");
    run_ok(&[
        "analyze",
        "next-purchase",
        input.to_str().unwrap(),
        "-q",
        "--as-of",
        "2024-06-20",
        "--days",
        "21",
        "--method",
        "gaps",
        "-o",
        out.to_str().unwrap(),
    ]);
    let rows = read_rows(&dir.path().join("np.customers.csv"));
    let days = purchase_days(&lines, as_of);
    assert_eq!(rows.len(), days.len());
    let mut want_due: Vec<(f64, NaiveDate, String)> = Vec::new();
    for (row, (customer, d)) in rows.iter().zip(&days) {
        assert_eq!(&row["customer_id"], customer);
        let gaps: Vec<i64> = d.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
        let last = *d.last().unwrap();
        let since = (as_of - last).num_days();
        assert_eq!(row["gaps"], gaps.len().to_string(), "{customer}");
        assert_eq!(row["recency_days"], since.to_string(), "{customer}");
        assert_eq!(row["method"], "gaps");
        if gaps.is_empty() {
            assert_eq!(row["purchase_probability"], "", "{customer}");
            assert_eq!(row["expected_next_purchase"], "", "{customer}");
            assert_eq!(row["due"], "false");
            continue;
        }
        let mut sorted = gaps.clone();
        sorted.sort_unstable();
        let k = sorted.len();
        let median = if k % 2 == 1 {
            sorted[k / 2] as f64
        } else {
            (sorted[k / 2 - 1] + sorted[k / 2]) as f64 / 2.0
        };
        close("median", num(row, "median_days_between_orders"), median, 9);
        let expected = last + chrono::Duration::days(median.round() as i64);
        assert_eq!(
            row["expected_next_purchase"],
            expected.to_string(),
            "{customer}"
        );
        let until = (expected - as_of).num_days();
        assert_eq!(row["days_until_expected"], until.to_string(), "{customer}");
        let over = gaps.iter().filter(|&&g| g > since).count();
        let within = gaps
            .iter()
            .filter(|&&g| g > since && g <= since + n)
            .count();
        let p = if over == 0 {
            0.0
        } else {
            within as f64 / over as f64
        };
        close("probability", num(row, "purchase_probability"), p, 6);
        let due = until > 0 && until <= n;
        assert_eq!(row["due"], due.to_string(), "{customer}");
        if due {
            want_due.push((round(p, 6), expected, customer.clone()));
        }
    }
    want_due.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap()
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    let due: Vec<String> = read_rows(&dir.path().join("np.due.csv"))
        .into_iter()
        .map(|r| r["customer_id"].clone())
        .collect();
    let want: Vec<String> = want_due.into_iter().map(|d| d.2).collect();
    assert!(want.len() > 10, "a real due list: {}", want.len());
    assert_eq!(due, want);
}

#[test]
fn next_purchase_bgnbd_probability_matches_its_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, lines) = next_purchase_orders(23);
    let input = dir.path().join("orders.csv");
    std::fs::write(&input, &csv).unwrap();
    let (r, alpha, a, b) = (0.6, 5.0, 0.9, 3.0);
    let params = dir.path().join("p.json");
    std::fs::write(
        &params,
        format!(
            r#"{{"format": "custseg-clv-params/1", "model": "bgnbd", "time_unit": "week",
"calibration_end": "2024-06-30", "customers": 300,
"purchase_model": {{"params": {{"r": {r}, "alpha": {alpha}, "a": {a}, "b": {b}}}, "log_likelihood": 0}},
"spend_model": null}}"#
        ),
    )
    .unwrap();
    let out = dir.path().join("np.csv");
    run_ok(&[
        "analyze",
        "next-purchase",
        input.to_str().unwrap(),
        "-q",
        "--as-of",
        "2024-06-30",
        "--days",
        "14",
        "--params",
        params.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let as_of = date("2024-06-30");
    let t = 2.0;
    let rows = read_rows(&dir.path().join("np.customers.csv"));
    let days = purchase_days(&lines, as_of);
    assert_eq!(rows.len(), days.len());
    for (row, (customer, d)) in rows.iter().zip(&days) {
        assert_eq!(&row["customer_id"], customer);
        assert_eq!(row["method"], "bgnbd");
        let x = (d.len() - 1) as f64;
        let t_x = (*d.last().unwrap() - d[0]).num_days() as f64 / 7.0;
        let age = (as_of - d[0]).num_days() as f64 / 7.0;
        // FHL 2005 / Fader, Hardie & Lee note 021, eq. 2.
        let p_alive = if x == 0.0 {
            1.0
        } else {
            1.0 / (1.0 + a / (b + x - 1.0) * ((alpha + age) / (alpha + t_x)).powf(r + x))
        };
        let p = p_alive * (1.0 - ((alpha + age) / (alpha + age + t)).powf(r + x));
        close("p_alive", num(row, "p_alive"), p_alive, 6);
        close("probability", num(row, "purchase_probability"), p, 6);
        assert!(
            num(row, "expected_purchases") >= p - 1e-6,
            "E[Y] ≥ P(Y > 0)"
        );
    }
}

#[test]
fn next_purchase_segment_keeps_that_segment_only() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, _) = next_purchase_orders(31);
    let input = dir.path().join("orders.csv");
    std::fs::write(&input, &csv).unwrap();
    let value = dir.path().join("value.csv");
    run_ok(&[
        "score",
        input.to_str().unwrap(),
        "-q",
        "--as-of",
        "2024-06-30",
        "-o",
        value.to_str().unwrap(),
    ]);
    let want: Vec<String> = read_rows(&value)
        .into_iter()
        .filter(|r| r["segment"] == "Champions")
        .map(|r| r["customer_id"].clone())
        .collect();
    assert!(!want.is_empty());
    let out = dir.path().join("np.csv");
    run_ok(&[
        "analyze",
        "next-purchase",
        input.to_str().unwrap(),
        "-q",
        "--as-of",
        "2024-06-30",
        "--segment",
        "champions",
        "--method",
        "gaps",
        "-o",
        out.to_str().unwrap(),
    ]);
    let got: Vec<String> = read_rows(&dir.path().join("np.customers.csv"))
        .into_iter()
        .map(|r| r["customer_id"].clone())
        .collect();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------------
// help examples and bad input

#[test]
fn help_examples_run() {
    // The --help examples, on the shop example ingested once, with the files they name.
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("out/shop");
    custseg()
        .current_dir(dir.path())
        .args(["ingest", "-q", "--as-of", "2025-01-01", "--config"])
        .arg(crate::support::root().join("examples/shop/custseg.toml"))
        .arg("--out")
        .arg(&shop)
        .assert()
        .success();
    let value = dir.path().join("value.csv");
    run_ok(&[
        "score",
        shop.to_str().unwrap(),
        "-q",
        "--as-of",
        "2024-10-31",
        "-o",
        value.to_str().unwrap(),
    ]);
    let ids: Vec<String> = read_rows(&value)
        .into_iter()
        .map(|r| r["customer_id"].clone())
        .collect();
    let (t, c) = ids.split_at(ids.len() / 3);
    std::fs::write(
        dir.path().join("mailing.csv"),
        format!("customer_id\n{}\n", t.join("\n")),
    )
    .unwrap();
    std::fs::write(dir.path().join("t.txt"), t.join("\n")).unwrap();
    std::fs::write(dir.path().join("c.txt"), c.join("\n")).unwrap();
    custseg()
        .current_dir(dir.path())
        .args([
            "clv",
            "out/shop",
            "-q",
            "--as-of",
            "2025-01-01",
            "--save-params",
            "clv-params.json",
            "-o",
            "clv.csv",
        ])
        .assert()
        .success();
    let help = |verb: &str| {
        let out = custseg()
            .args(["analyze", verb, "--help"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let mut ran = 0;
    for verb in ["basket", "campaign", "next-purchase"] {
        for line in help(verb).lines() {
            let Some(cmd) = line.trim().strip_prefix("custseg ") else {
                continue;
            };
            let mut args: Vec<String> = Vec::new();
            let mut quoted: Option<String> = None;
            for word in cmd.split_whitespace() {
                match (&mut quoted, word.strip_prefix('"')) {
                    (None, Some(rest)) if rest.ends_with('"') => {
                        args.push(rest.trim_end_matches('"').to_string());
                    }
                    (None, Some(rest)) => quoted = Some(rest.to_string()),
                    (Some(q), _) if word.ends_with('"') => {
                        args.push(format!("{q} {}", word.trim_end_matches('"')));
                        quoted = None;
                    }
                    (Some(q), _) => *q = format!("{q} {word}"),
                    (None, None) => args.push(word.to_string()),
                }
            }
            let output = custseg()
                .current_dir(dir.path())
                .args(&args)
                .args(["--as-of", "2025-01-01", "-q"])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "custseg {cmd}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 9, "ran {ran} examples");
}

#[test]
fn bad_input_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let orders = crate::support::testdata("analyze/campaign/orders.csv");
    let orders = orders.to_str().unwrap();
    let targets = crate::support::testdata("analyze/campaign/targets.csv");
    let targets = targets.to_str().unwrap();
    let pnbd = crate::support::testdata("clv/cdnow_pnbd_published.json");
    let pnbd = pnbd.to_str().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "email,name\na@b,Ann\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "analyze",
                "campaign",
                orders,
                "--targets",
                targets,
                "--start",
                "2024-06-30",
                "--end",
                "2024-06-01",
            ],
            "is after the end of the campaign window",
        ),
        (
            vec![
                "analyze",
                "campaign",
                orders,
                "--targets",
                targets,
                "--start",
                "2024-06-01",
                "--end",
                "2024-07-31",
                "--as-of",
                "2024-06-30",
            ],
            "after the as-of date",
        ),
        (
            vec![
                "analyze",
                "campaign",
                orders,
                "--targets",
                targets,
                "--start",
                "June 1",
            ],
            "--start \"June 1\" is not a date",
        ),
        (
            vec![
                "analyze",
                "campaign",
                orders,
                "--targets",
                bad.to_str().unwrap(),
                "--start",
                "2024-06-01",
            ],
            "a header without a customer_id column",
        ),
        (
            vec![
                "analyze",
                "campaign",
                orders,
                "--targets",
                "missing.csv",
                "--start",
                "2024-06-01",
            ],
            "cannot read missing.csv",
        ),
        (
            vec![
                "analyze",
                "campaign",
                orders,
                "--targets",
                targets,
                "--start",
                "2024-06-01",
                "--cost",
                "10",
            ],
            "--cost needs a control group",
        ),
        (
            vec![
                "analyze",
                "campaign",
                orders,
                "--targets",
                targets,
                "--start",
                "2024-06-01",
                "--control-auto",
                "--cost=-5",
            ],
            "must be a positive amount",
        ),
        (
            vec!["analyze", "basket", orders, "--min-support", "0"],
            "--min-support 0 must be a share",
        ),
        (
            vec!["analyze", "basket", orders, "--max-len", "1"],
            "--max-len 1",
        ),
        (
            vec!["analyze", "basket", orders, "--top", "0"],
            "--top must be at least 1",
        ),
        (
            vec!["analyze", "basket", orders, "--segment", "Nobody"],
            "--segment \"Nobody\" is not a segment name",
        ),
        (
            vec!["analyze", "basket", orders],
            "no order has a purchase line with a sku",
        ),
        (
            vec!["analyze", "next-purchase", orders, "--days", "0"],
            "--days 0",
        ),
        (
            vec![
                "analyze",
                "next-purchase",
                orders,
                "--method",
                "gaps",
                "--params",
                "p.json",
            ],
            "does not go with --method gaps",
        ),
        (
            vec!["analyze", "next-purchase", orders, "--params", pnbd],
            "next-purchase needs BG/NBD parameters, not pnbd",
        ),
    ];
    for (args, message) in cases {
        let output = custseg().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("custseg: error: ") && stderr.contains(message),
            "{args:?}: {stderr}"
        );
    }
}
