#!/usr/bin/env bash
# tests/engines/spark.sh: parity of `custseg sql --dialect spark` with the local commands, run
# in Spark local mode. A developer runs it before closing work on the SQL generator; its output
# goes in the closing note. Not part of `cargo test` (a JVM and pyspark are heavy).
#
#   tests/engines/spark.sh              shop example + seeded generated data, every case
#   CUSTSEG=target/release/custseg tests/engines/spark.sh
#
# What it does: Java 17 (openjdk-17-jre-headless from apt-get when no java is on PATH), a venv
# in tests/engines/.venv with pyspark and pyarrow, Spark bound to the loopback address only
# (SPARK_LOCAL_IP=127.0.0.1) with master local[2]; then per case: the local command writes
# parquet, `custseg sql ... --dialect spark` writes the query, and duckdb_parity.py --engine spark
# runs it over the same orders.parquet and compares per customer (same rules as the DuckDB test).
# Then the engine-side CLV path: btyd-histogram in Spark, exported to parquet, fitted locally
# (`custseg clv --from-histogram`, params compared with the fit on the order lines), predictions
# per distinct row (`--params P --from-histogram H -o triples.parquet`), and clv-join in Spark over
# the triples, compared with `custseg clv --params P` on the order lines.
# Last, the executed physical plan of the rfm job with every SinglePartition exchange listed.
# Exit status: 0 all cases PASS, 1 a case failed, 2 set-up failed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
say() { echo "spark.sh: $*" >&2; }

# Java 17 or later.
if ! command -v java >/dev/null 2>&1; then
    say "installing openjdk-17-jre-headless"
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_=sudo
    { $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq openjdk-17-jre-headless; } >&2 \
        || { say "error: cannot install Java 17"; exit 2; }
fi
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then
    export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
    export PATH="$JAVA_HOME/bin:$PATH"
fi
say "java: $(java -version 2>&1 | head -n 1)"

# pyspark in tests/engines/.venv (git-ignored).
py="$here/.venv/bin/python"
if ! "$py" -c 'import pyspark, pyarrow' 2>/dev/null; then
    say "creating tests/engines/.venv (pyspark, pyarrow)"
    python3 -m venv "$here/.venv" || { say "error: python3 -m venv failed"; exit 2; }
    "$here/.venv/bin/pip" install --quiet --disable-pip-version-check pyspark pyarrow \
        || { say "error: pip install pyspark pyarrow failed"; exit 2; }
fi
say "pyspark $("$py" -c 'import pyspark; print(pyspark.__version__)')"
export SPARK_LOCAL_IP=127.0.0.1
export PYSPARK_PYTHON="$py"

bin=${CUSTSEG:-$root/target/debug/custseg}
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --quiet) || { say "error: cargo build failed"; exit 2; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" ingest --quiet --as-of 2025-01-01 --config "$root/examples/shop/custseg.toml" \
    --out "$work/shop" || exit 2
python3 "$here/gen_parity_orders.py" --out "$work/gen" --seed 7 --customers 400 >&2 || exit 2
"$bin" ingest --quiet --as-of 2025-01-01 "$work/gen/orders.csv" --timezone America/New_York \
    --out "$work/generated" || exit 2
python3 "$here/gen_parity_orders.py" --out "$work/gen-h" --seed 7 --customers 400 --heterogeneous \
    >&2 || exit 2
"$bin" ingest --quiet --as-of 2025-01-01 "$work/gen-h/orders.csv" --timezone America/New_York \
    --out "$work/heterogeneous" || exit 2
printf 'recency_days = [30, 90, 365]\nfrequency = [1, 2, 4]\nmonetary = [0, 150.5, 400]\n' \
    > "$work/cuts.toml"

failed=0
n=0
# parity LOG ARGS...: duckdb_parity.py --engine spark ARGS, its PASS/FAIL line with the seconds
# taken (mostly the JVM's start); Spark's own log goes to LOG, its tail to stderr on failure.
parity() {
    local log=$1; shift
    local start=$SECONDS out status
    out=$("$py" "$here/duckdb_parity.py" --engine spark "$@" 2>"$log")
    status=$?
    echo "$out  [$((SECONDS - start)) s]"
    [ "$status" -eq 0 ] || { tail -n 5 "$log" >&2; return 1; }
}
# case DATA ZONE LOCAL_CMD COMPARE JOB OPTIONS...: COMPARE is whole, summary or histogram.
case_() {
    local data=$1 zone=$2 local_cmd=$3 compare=$4 job=$5; shift 5
    n=$((n + 1))
    local expected="$work/expected-$n.parquet" query="$work/query-$n.sql"
    "$bin" "$local_cmd" "$work/$data" "$@" -o "$expected" --quiet 2>/dev/null || {
        echo "FAIL  $data $job $*: custseg $local_cmd failed"; failed=1; return; }
    "$bin" sql "$job" --dialect spark --orders orders --timezone "$zone" "$@" -o "$query" --quiet \
        || { echo "FAIL  $data $job $*: custseg sql failed"; failed=1; return; }
    local extra=()
    case $compare in
        summary) extra=(--columns customer_id,x,t_x,T,mean_repeat_spend) ;;
        histogram) extra=(--histogram-of-expected --key part,x,t_x,T,mean_repeat_spend) ;;
    esac
    parity "$work/spark-$n.log" --sql "$query" \
        --orders "$work/$data/orders.parquet" --expected "$expected" \
        --label "$data $job $*" "${extra[@]}" ${PLAN:+--plan "$PLAN"} || failed=1
}

# same_fit LINES HISTOGRAM SPEND LABEL: the histogram fit's params file against the order-line
# fit's: model, unit, calibration end and counts equal; purchase parameters within 1e-6
# relative; SPEND = params (p, q, γ within 1e-6) or ll (the log-likelihood only: the generated
# default data, where every customer buys from one price list, has no Gamma-Gamma maximum).
same_fit() {
    python3 - "$@" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
spend, label = sys.argv[3], sys.argv[4]
close = lambda x, y: abs(x - y) <= 1e-6 * max(abs(x), abs(y))
bad = [k for k in ("model", "time_unit", "calibration_end", "customers") if a[k] != b[k]]
bad += [k for k in ("customers", "excluded_no_repeat", "excluded_bad_spend")
        if a["spend_model"][k] != b["spend_model"][k]]
pa, pb = a["purchase_model"]["params"], b["purchase_model"]["params"]
bad += [f"{k} {pa[k]} vs {pb[k]}" for k in pa if not close(pa[k], pb[k])]
sa, sb = a["spend_model"], b["spend_model"]
if spend == "params":
    bad += [f"{k} {sa['params'][k]} vs {sb['params'][k]}" for k in sa["params"]
            if not close(sa["params"][k], sb["params"][k])]
elif not close(sa["log_likelihood"], sb["log_likelihood"]):
    bad.append(f"spend log-likelihood {sa['log_likelihood']} vs {sb['log_likelihood']}")
what = "purchase and spend parameters" if spend == "params" else "purchase parameters, spend log-likelihood"
print(f"FAIL  {label}: {bad}" if bad else f"PASS  {label}: {what} within 1e-6 of the order-line fit")
sys.exit(1 if bad else 0)
PY
}

# clv_ DATA ZONE SPEND MODEL OPTIONS...: the engine-side CLV path (see the header).
clv_() {
    local data=$1 zone=$2 spend=$3 model=$4; shift 4
    n=$((n + 1))
    local d="$work/clv-$n" label="$data clv-join --model $model $*"
    mkdir -p "$d"
    "$bin" clv "$work/$data" --model "$model" "$@" --save-params "$d/lines-params.json" \
        -o "$d/lines.parquet" --quiet \
        && "$bin" sql btyd-histogram --dialect spark --orders orders --timezone "$zone" "$@" \
            -o "$d/hist.sql" --quiet \
        || { echo "FAIL  $label: custseg failed"; failed=1; return; }
    parity "$d/spark-hist.log" --sql "$d/hist.sql" --orders "$work/$data/orders.parquet" \
        --export "$d/hist.parquet" --label "$data btyd-histogram $* to parquet" || { echo "FAIL  $label: histogram in Spark"; failed=1; return; }
    "$bin" clv --from-histogram "$d/hist.parquet" --model "$model" "$@" \
        --save-params "$d/params.json" -o "$d/fit-triples.parquet" --quiet \
        || { echo "FAIL  $label: custseg clv --from-histogram (fit) failed"; failed=1; return; }
    same_fit "$d/lines-params.json" "$d/params.json" "$spend" "$data histogram fit --model $model $*" \
        || failed=1
    "$bin" clv --params "$d/params.json" --from-histogram "$d/hist.parquet" \
        -o "$d/triples.parquet" --quiet \
        && "$bin" clv "$work/$data" --params "$d/params.json" "$@" -o "$d/expected.parquet" --quiet \
        && "$bin" sql clv-join --dialect spark --orders orders --triples triples \
            --timezone "$zone" --model "$model" "$@" -o "$d/join.sql" --quiet \
        || { echo "FAIL  $label: custseg failed"; failed=1; return; }
    parity "$d/spark-join.log" --sql "$d/join.sql" --orders "$work/$data/orders.parquet" \
        --triples "$d/triples.parquet" --expected "$d/expected.parquet" --label "$label" \
        || failed=1
}

S=Asia/Shanghai
G=America/New_York
case_ shop "$S" rfm whole rfm
case_ shop "$S" rfm whole rfm --as-of 2024-09-30 --window 90d --bins 4
case_ shop "$S" clv summary btyd-summary --as-of 2024-12-31
case_ shop "$S" clv histogram btyd-histogram --as-of 2024-12-31
case_ generated "$G" rfm whole rfm
case_ generated "$G" rfm whole rfm --as-of 2024-10-01
case_ generated "$G" rfm whole rfm --window 180d --bins 3
case_ generated "$G" rfm whole rfm --thresholds "$work/cuts.toml"
case_ generated "$G" clv summary btyd-summary
case_ generated "$G" clv histogram btyd-histogram
case_ generated "$G" clv summary btyd-summary --calibration-end 2024-10-01 --time-unit month
case_ generated "$G" clv histogram btyd-histogram --calibration-end 2024-10-01 --time-unit day
clv_ shop "$S" params bgnbd --calibration-end 2024-12-31
clv_ generated "$G" ll bgnbd --calibration-end 2024-12-31
clv_ heterogeneous "$G" params pnbd --calibration-end 2024-12-31 --time-unit month
PLAN="$work/rfm-plan.txt" case_ generated "$G" rfm whole rfm --as-of 2025-01-01

echo "spark.sh: $n cases in $SECONDS s"
echo
echo "Executed physical plan of the rfm job (Spark local[2], AQE and broadcast joins off):"
cat "$work/rfm-plan.txt"
echo
echo "SinglePartition exchanges and what feeds them:"
grep -n -A1 'SinglePartition' "$work/rfm-plan.txt" || echo "(none)"
exit "$failed"
