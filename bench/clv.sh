#!/usr/bin/env bash
# bench/clv.sh: times `custseg clv` end to end on simulated customers and prints wall time, peak
# memory and the recovered parameters for each model.
#
#   bench/clv.sh [CUSTSEG] [CUSTOMERS] [WORKDIR]
#
#   CUSTSEG    the binary to measure (default target/release/custseg; this script builds nothing
#              of custseg: `cargo build --release` first, or pass target/debug/custseg for a try)
#   CUSTOMERS  simulated customers (default 1000000)
#   WORKDIR    where the data and outputs go (default: a new temporary directory)
#
# Environment: SEED (default 42), MODELS (default "bgnbd mbgnbd pnbd"), GEN_PROFILE (cargo
# profile of the generator, default release; the generator is the small btyd example
# crates/btyd/examples/clv_orders.rs, which does not build polars).
#
# The data: customers' first purchases in the first 12 weeks of 1997, then the BG/NBD process at
# the CDNOW estimates (r 0.243, alpha 4.414, a 0.793, b 2.426 per week) until 1998-06-30, spend
# per transaction Gamma-Gamma at p 6.25, q 3.74, gamma 15.44. Calibration ends 1997-09-30, the
# holdout 1998-06-30 (39 weeks), as in the CDNOW literature. The orders are ingested once into
# parquet; each model is then timed on the ingested directory (the weekly-job path) and BG/NBD
# also on the raw CSV (cleaning included). Figures come from /usr/bin/time -v: wall clock and
# maximum resident set size of the whole process.
#
# Order lines at scale: CLV_LINES (sizes separated by spaces or commas, e.g.
# "10000000,50000000"; default none) times `custseg clv DIR --as-of AS_OF` (2025-01-01) on the
# bench's generated ingest directories (DATA/ingested-LINES-sSEED-gVERSION, from
# bench/gen_ingested.py, generated when missing; DATA defaults to bench/data), printing wall
# time, CPU time (user + sys) and peak memory; with CLV_BASE=binary that binary's run too, and
# the two tables must be equal (bench/same_table.py) and the params files identical. A run whose
# resident memory passes RSS_CAP_MIB (16384) is killed. CUSTOMERS=0 skips the simulated part:
#
#   CLV_LINES=10000000,50000000 CLV_BASE=old/custseg bench/clv.sh target/release/custseg 0
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
custseg=${1:-$here/target/release/custseg}
customers=${2:-1000000}
work=${3:-$(mktemp -d -t custseg-clv-bench.XXXXXX)}
seed=${SEED:-42}
models=${MODELS:-bgnbd mbgnbd pnbd}
gen_profile=${GEN_PROFILE:-release}

command -v /usr/bin/time >/dev/null || { echo "bench/clv.sh: needs /usr/bin/time (GNU time)" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench/clv.sh: needs jq" >&2; exit 2; }
[ -x "$custseg" ] || { echo "bench/clv.sh: $custseg is not an executable (build it first)" >&2; exit 2; }
mkdir -p "$work"
echo "custseg: $custseg"
echo "work:    $work"

# timed NAME CMD...: runs CMD under /usr/bin/time -v, killed past RSS_CAP_MIB; prints one row
# (wall s, CPU s, peak MiB, how it ended). Returns CMD's status.
timed() {
    local name=$1 timer child="" kib status capped=""
    shift
    /usr/bin/time -v -o "$work/$name.time" "$@" 2>"$work/$name.stderr" &
    timer=$!
    while kill -0 "$timer" 2>/dev/null; do
        [ -n "$child" ] || child=$(pgrep -P "$timer" | head -n 1 || true)
        kib=""
        [ -z "$child" ] || kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$child/status" 2>/dev/null || true)
        if [ -n "$kib" ] && [ "$kib" -gt $((${RSS_CAP_MIB:-16384} * 1024)) ]; then
            capped=", killed at RSS_CAP_MIB"
            kill "$child" 2>/dev/null || true
        fi
        sleep 0.5
    done
    status=0
    wait "$timer" || status=$?
    awk -F': ' -v name="$name" -v capped="$capped" -v status="$status" '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
        /User time|System time/ { cpu += $2 }
        /Maximum resident set size/ { rss = $2 / 1024 }
        END { printf "%-26s %8.2f %8.2f %10.0f   %s%s\n", name, wall, cpu, rss, (status == 0 ? "ok" : "exit " status), capped }
    ' "$work/$name.time"
    return "$status"
}

if [ -n "${CLV_LINES:-}" ]; then
    data=${DATA:-$here/bench/data}
    as_of=${AS_OF:-2025-01-01}
    base=${CLV_BASE:-}
    [ -z "$base" ] || [ -x "$base" ] || { echo "bench/clv.sh: CLV_BASE=$base is not an executable" >&2; exit 2; }
    gen=$(cksum <"$here/bench/gen_ingested.py" | cut -c1-8)
    printf '\n%-26s %8s %8s %10s\n' "clv DIR --as-of $as_of" "wall s" "CPU s" "peak MiB"
    for lines in ${CLV_LINES//,/ }; do
        dir=$data/ingested-$lines-s$seed-g$gen
        if [ ! -f "$dir/summary.json" ]; then
            python3 "$here/bench/gen_ingested.py" --lines "$lines" --out "$dir" --seed "$seed" >&2
        fi
        ok=1
        timed "clv-$lines" "$custseg" clv "$dir" --as-of "$as_of" --quiet \
            --save-params "$work/clv-$lines.json" -o "$work/clv-$lines.parquet" || ok=0
        [ -n "$base" ] || continue
        timed "clv-$lines-base" "$base" clv "$dir" --as-of "$as_of" --quiet \
            --save-params "$work/clv-$lines-base.json" -o "$work/clv-$lines-base.parquet" || ok=0
        if [ "$ok" = 1 ]; then
            python3 "$here/bench/same_table.py" "$work/clv-$lines.parquet" "$work/clv-$lines-base.parquet" || true
            if cmp -s "$work/clv-$lines.json" "$work/clv-$lines-base.json"; then
                echo "PASS params files identical"
            else
                echo "FAIL params files differ"
            fi
        fi
    done
fi
[ "$customers" -gt 0 ] || exit 0

echo "data:    $customers customers, seed $seed"

orders=$work/orders.csv
if [ ! -s "$orders" ]; then
    profile_flag=()
    [ "$gen_profile" = release ] && profile_flag=(--release)
    (cd "$here" && cargo run -q -p btyd "${profile_flag[@]}" --example clv_orders -- "$customers" "$seed") >"$orders"
fi
echo "orders:  $(($(wc -l <"$orders") - 1)) lines, $(du -h "$orders" | cut -f1)"

# measure NAME CMD...: runs CMD under /usr/bin/time -v, keeps "wall seconds / peak MB" in $work.
measure() {
    local name=$1
    shift
    /usr/bin/time -v -o "$work/$name.time" "$@" 2>"$work/$name.stderr" || {
        echo "bench/clv.sh: $name failed:" >&2
        cat "$work/$name.stderr" >&2
        exit 1
    }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$work/$name.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$work/$name.time")
    echo "$wall $rss" >"$work/$name.figures"
}

measure ingest "$custseg" ingest "$orders" --timezone UTC --as-of 1998-06-30 --out "$work/ingested" --quiet

common=(--calibration-end 1997-09-30 --holdout-end 1998-06-30 --horizon 12m --quiet)
for model in $models; do
    measure "clv-$model" "$custseg" clv "$work/ingested" --model "$model" "${common[@]}" \
        --save-params "$work/$model.json" --diagnostics "$work/$model-diagnostics.csv" \
        -o "$work/$model.parquet"
done
measure clv-bgnbd-raw "$custseg" clv "$orders" --timezone UTC --as-of 1998-06-30 "${common[@]}" \
    -o "$work/bgnbd-raw.parquet"

printf '\n%-22s %10s %10s   %s\n' "run" "wall s" "peak MB" "fitted (truth: BG/NBD r 0.243 alpha 4.414 a 0.793 b 2.426; p 6.25 q 3.74 gamma 15.44)"
row() {
    local name=$1 note=$2
    read -r wall rss <"$work/$name.figures"
    printf '%-22s %10s %10s   %s\n' "$name" "$wall" "$rss" "$note"
}
row ingest "orders.csv -> parquet (not part of clv)"
for model in $models; do
    fit=$(jq -r '[.purchase_model.params | to_entries[] | "\(.key) \(.value * 1000 | round / 1000)"] | join(" ")' "$work/$model.json")
    spend=$(jq -r 'if .spend_model then [.spend_model.params | to_entries[] | "\(.key) \(.value * 100 | round / 100)"] | join(" ") else "no spend model" end' "$work/$model.json")
    conv=$(jq -r 'if .purchase_model.converged then "converged" else "NOT converged" end' "$work/$model.json")
    holdout=$(awk -F, '$1 == "holdout_by_frequency" && $2 == "all" {printf "holdout actual %d, predicted %.0f", $4, $5}' "$work/$model-diagnostics.csv")
    row "clv-$model" "$fit ($conv); $spend; $holdout"
done
row clv-bgnbd-raw "raw CSV, cleaning included"
echo
echo "Model-only timings (summary already built): cargo run -p btyd --release --example bench_fit $customers"
