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
printf 'recency_days = [30, 90, 365]\nfrequency = [1, 2, 4]\nmonetary = [0, 150.5, 400]\n' \
    > "$work/cuts.toml"

failed=0
n=0
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
    "$py" "$here/duckdb_parity.py" --engine spark --sql "$query" \
        --orders "$work/$data/orders.parquet" --expected "$expected" \
        --label "$data $job $*" "${extra[@]}" ${PLAN:+--plan "$PLAN"} 2>"$work/spark-$n.log" \
        || { failed=1; tail -n 5 "$work/spark-$n.log" >&2; }
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
PLAN="$work/rfm-plan.txt" case_ generated "$G" rfm whole rfm --as-of 2025-01-01

echo
echo "Executed physical plan of the rfm job (Spark local[2], AQE and broadcast joins off):"
cat "$work/rfm-plan.txt"
echo
echo "SinglePartition exchanges and what feeds them:"
grep -n -A1 'SinglePartition' "$work/rfm-plan.txt" || echo "(none)"
exit "$failed"
