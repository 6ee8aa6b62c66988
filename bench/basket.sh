#!/usr/bin/env bash
# bench/basket.sh [LINES...]: time `custseg analyze basket` on an ingest-like directory per size
# (gen_ingested.py: about LINES / 2.9 orders, 5,000 SKUs in 10 categories), side by side with
# frequent pairs counted by a DuckDB self-join, and check that both find the same pairs with the
# same counts.
#
#   bench/basket.sh                  3,000,000 lines (about 1M orders) and 10,000,000 lines
#   bench/basket.sh 1000000          a quicker run
#   PEER=0 bench/basket.sh 3000000   custseg only
#
# Per size, four custseg runs: categories at the defaults (10 items, everything frequent);
# SKUs at --min-support 0.01 (nothing frequent: the cost of the plan and the coding);
# SKUs at --min-support 0.0001 (thousands of frequent SKUs: FP-growth at full load), once with
# --max-len 3 and once with --max-len 2, the latter compared with DuckDB's frequent pairs.
#
# Environment: SEED (42), AS_OF (2025-01-01), PEER (1: also DuckDB; 0: skip), THREADS (2,
# DuckDB's), CUSTSEG (the binary; else /work/target-release/release/custseg, else
# target/release/custseg; when none exists the benchmark is skipped: it never builds).
# Data is cached in bench/data/ingested-LINES-sSEED-gVERSION/ (shared with rfm.sh); outputs and
# /usr/bin/time logs go to bench/data/basket-runs/. Prints a table (also saved as
# bench/data/basket-runs/results.txt) and PASS/FAIL per comparison.
# Exit status: 0 every step ran and every comparison passed (or skipped: no binary), 1 otherwise,
# 2 bad arguments.
set -uo pipefail

if [ $# -eq 0 ]; then set -- 3000000 10000000; fi
for n in "$@"; do
    case $n in ''|*[!0-9]*) echo "basket.sh: error: sizes must be numbers, got \"$n\"" >&2; exit 2;; esac
done
seed=${SEED:-42}
as_of=${AS_OF:-2025-01-01}
peer=${PEER:-1}
threads=${THREADS:-2}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
say() { echo "basket.sh: $*" >&2; }

bin=${CUSTSEG:-}
if [ -z "$bin" ]; then
    bin=/work/target-release/release/custseg
    [ -x "$bin" ] || bin=$root/target/release/custseg
fi
if [ ! -x "$bin" ]; then
    say "skipping: no release binary ($bin)"
    say "hint: cargo build --release, or set CUSTSEG=path/to/custseg"
    exit 0
fi
if ! "$bin" analyze basket --help >/dev/null 2>&1; then
    say "skipping: $bin has no \`analyze basket\` (an older build)"
    exit 0
fi

# Python with numpy and pyarrow (the generator) and duckdb (the peer).
. "$here/lib.sh"
bench_python

runs="$here/data/basket-runs"
mkdir -p "$runs"
results="$runs/results.txt"
: > "$results.rows"
: > "$results.checks"
failed=0

# timed ENGINE JOB LINES NAME COMMAND...: wall seconds and peak RSS of COMMAND, adds a row.
timed() {
    local engine=$1 job=$2 lines=$3 name=$4; shift 4
    say "$engine: $job, $lines lines"
    local start end status wall rss="-"
    start=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v -o "$runs/$name.time" "$@" > "$runs/$name.out" 2> "$runs/$name.err"
        status=$?
        rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$runs/$name.time")
    else
        "$@" > "$runs/$name.out" 2> "$runs/$name.err"
        status=$?
    fi
    end=$(date +%s.%N)
    wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    local note="ok"
    if [ "$status" -ne 0 ]; then
        failed=1
        note="FAILED: $(grep -v '^\s*$' "$runs/$name.err" | tail -n 1 | cut -c1-120)"
    elif [ "$engine" = custseg ]; then
        note=$(grep -o '[0-9]* baskets, [0-9]* frequent itemsets, [0-9]* rules' "$runs/$name.err" | head -n 1)
    fi
    printf '%-8s %-26s %11d %8s %9s  %s\n' "$engine" "$job" "$lines" "$wall" "$rss" "$note" >> "$results.rows"
    return "$status"
}

# ingested LINES: the cached ingest-like directory (as rfm.sh), generated when missing.
ingested() {
    local lines=$1 gen
    gen=$(cksum < "$here/gen_ingested.py" | cut -c1-8)
    local dir="$here/data/ingested-$lines-s$seed-g$gen"
    if [ ! -f "$dir/summary.json" ]; then
        say "generating $lines lines into ${dir#"$root"/}"
        "$py" "$here/gen_ingested.py" --lines "$lines" --out "$dir" --seed "$seed" >&2 || return 1
    fi
    echo "$dir"
}

# The peer: frequent SKU pairs by a self-join of distinct (order, sku) rows, with the count
# threshold custseg uses (the smallest c with c / baskets >= support).
cat > "$runs/peer_pairs.py" <<'PY'
import math, sys, duckdb
orders, support, out, threads = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute(f"""CREATE TEMP TABLE lines AS
    SELECT DISTINCT customer_id, order_id, sku FROM read_parquet('{orders}')
    WHERE NOT is_return AND sku IS NOT NULL""")
n = con.execute("SELECT count(*) FROM (SELECT DISTINCT customer_id, order_id FROM lines)").fetchone()[0]
c = max(1, math.ceil(support * n))
while c > 1 and (c - 1) / n >= support:
    c -= 1
while c < n and c / n < support:
    c += 1
con.execute(f"""COPY (
    WITH items AS (SELECT sku FROM lines GROUP BY sku HAVING count(*) >= {c}),
    fl AS (SELECT l.* FROM lines l JOIN items USING (sku))
    SELECT a.sku || ' + ' || b.sku AS items, count(*) AS baskets
    FROM fl a JOIN fl b ON a.customer_id = b.customer_id AND a.order_id = b.order_id AND a.sku < b.sku
    GROUP BY 1 HAVING count(*) >= {c} ORDER BY 1) TO '{out}' (HEADER)""")
print(f"{n} baskets, pairs in at least {c}")
PY

# compare OURS_ITEMSETS PEER_PAIRS: the size-2 itemsets with their counts, as sorted text.
compare() {
    "$py" - "$1" "$2" <<'PY'
import csv, sys
ours = sorted((r["items"], r["baskets"]) for r in csv.DictReader(open(sys.argv[1])) if r["size"] == "2")
theirs = sorted((r["items"], r["baskets"]) for r in csv.DictReader(open(sys.argv[2])))
print(f"custseg {len(ours)} frequent pairs, duckdb {len(theirs)}")
sys.exit(0 if ours == theirs else 1)
PY
}

for lines in "$@"; do
    [ "$lines" -gt 0 ] || continue
    dir=$(ingested "$lines") || { failed=1; continue; }
    common=(--as-of "$as_of" --top 50)
    timed custseg "category defaults" "$lines" "category-$lines" \
        "$bin" analyze basket "$dir" --level category "${common[@]}" -o "$runs/category-$lines.csv"
    timed custseg "sku support 0.01" "$lines" "sku-01-$lines" \
        "$bin" analyze basket "$dir" --min-support 0.01 "${common[@]}" -o "$runs/sku-01-$lines.csv"
    timed custseg "sku support 0.0001" "$lines" "sku-0001-$lines" \
        "$bin" analyze basket "$dir" --min-support 0.0001 "${common[@]}" -o "$runs/sku-0001-$lines.csv"
    timed custseg "sku 0.0001 max-len 2" "$lines" "sku-pairs-$lines" \
        "$bin" analyze basket "$dir" --min-support 0.0001 --max-len 2 "${common[@]}" \
        -o "$runs/sku-pairs-$lines.csv"
    ours=$?
    if [ "$peer" = 1 ]; then
        timed duckdb "sku 0.0001 pairs" "$lines" "duckdb-pairs-$lines" \
            "$py" "$runs/peer_pairs.py" "$dir/orders.parquet" 0.0001 \
            "$runs/duckdb-pairs-$lines.csv" "$threads"
        theirs=$?
        if [ "$ours" -eq 0 ] && [ "$theirs" -eq 0 ]; then
            if compare "$runs/sku-pairs-$lines.itemsets.csv" "$runs/duckdb-pairs-$lines.csv" \
                > "$runs/compare-$lines.txt" 2>&1; then
                echo "PASS  frequent pairs, $lines lines: $(cat "$runs/compare-$lines.txt")" >> "$results.checks"
            else
                failed=1
                echo "FAIL  frequent pairs, $lines lines: $(tail -n 1 "$runs/compare-$lines.txt")" >> "$results.checks"
            fi
        fi
    fi
done

{
    echo
    echo "custseg: $bin; as of $as_of, seed $seed; DuckDB on $threads threads"
    echo
    printf '%-8s %-26s %11s %8s %9s  %s\n' engine job lines "wall s" "peak MiB" "result"
    cat "$results.rows"
    echo
    cat "$results.checks"
} | tee "$results"
rm -f "$results.rows" "$results.checks"
exit "$failed"
