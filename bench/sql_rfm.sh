#!/usr/bin/env bash
# bench/sql_rfm.sh [LINES...]: the rfm job two ways on the same ingest-like directory:
# `custseg rfm` (local, polars) and the query of `custseg sql rfm --dialect duckdb` run in DuckDB,
# side by side (wall time, lines/s, peak RSS), then the two tables compared per customer with
# tests/engines/duckdb_parity.py (exact rules: integers, dates, strings equal, floats 1e-9).
#
#   bench/sql_rfm.sh                 10,000,000 lines
#   bench/sql_rfm.sh 1000000 100000000
#
# Environment: SEED (42), AS_OF (2025-01-01), THREADS (2, DuckDB's), DUCKDB_MEMORY (8GB),
# CUSTSEG (the release binary: /work/target-release/release/custseg, else target/release/custseg;
# build it with CARGO_TARGET_DIR=/work/target-release cargo build --release), SQL_CUSTSEG (the
# binary that writes the query; default: CUSTSEG if it has `sql`, else target/debug/custseg),
# COMPARE (1; 0 skips the per-customer comparison, which holds both tables in Python).
# Data: bench/data/ingested-LINES-sSEED-gVERSION/ (gen_ingested.py, shared with rfm.sh); outputs
# and /usr/bin/time logs in bench/data/sql-rfm-runs/. Never runs cargo.
# Exit status: 0 every run and comparison passed, 1 otherwise, 2 bad arguments or set-up.
set -uo pipefail

if [ $# -eq 0 ]; then set -- 10000000; fi
for n in "$@"; do
    case $n in ''|*[!0-9]*) echo "sql_rfm.sh: error: sizes must be numbers, got \"$n\"" >&2; exit 2;; esac
done
seed=${SEED:-42}
as_of=${AS_OF:-2025-01-01}
threads=${THREADS:-2}
duckdb_memory=${DUCKDB_MEMORY:-8GB}
compare=${COMPARE:-1}
zone=Asia/Shanghai   # the zone gen_ingested.py writes into summary.json

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
say() { echo "sql_rfm.sh: $*" >&2; }

py=python3
"$py" -c 'import numpy, pyarrow, duckdb' 2>/dev/null || py="$here/.venv/bin/python"
"$py" -c 'import numpy, pyarrow, duckdb' 2>/dev/null || {
    say "error: python3 with numpy, pyarrow and duckdb is needed"
    say "hint: run bench/rfm.sh once (it creates bench/.venv), or pip install numpy pyarrow duckdb"; exit 2; }
[ -x /usr/bin/time ] || { say "error: GNU time is missing"; say "hint: apt-get install time"; exit 2; }

bin=${CUSTSEG:-}
if [ -z "$bin" ]; then
    bin=/work/target-release/release/custseg
    [ -x "$bin" ] || bin=$root/target/release/custseg
fi
[ -x "$bin" ] || { say "error: $bin is missing"; say "hint: cargo build --release, or set CUSTSEG"; exit 2; }
sqlbin=${SQL_CUSTSEG:-}
if [ -z "$sqlbin" ]; then
    sqlbin=$bin
    "$sqlbin" sql --help >/dev/null 2>&1 || sqlbin=$root/target/debug/custseg
fi
"$sqlbin" sql --help >/dev/null 2>&1 || { say "error: no custseg with the sql command"; exit 2; }

runs="$here/data/sql-rfm-runs"
mkdir -p "$runs"
rows="$runs/results.rows"; : > "$rows"
checks="$runs/results.checks"; : > "$checks"
failed=0

measure() {
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
        /Maximum resident set size/ { rss = $2 / 1024 }
        END { printf "%s %s\n", wall, rss }' "$1"
}

# timed ENGINE LINES NAME COMMAND...
timed() {
    local engine=$1 lines=$2 name=$3; shift 3
    say "$engine: rfm, $lines lines"
    /usr/bin/time -v -o "$runs/$name.time" "$@" 2> "$runs/$name.err"
    local status=$?
    read -r wall rss < <(measure "$runs/$name.time")
    local end=ok
    if [ "$status" -ne 0 ]; then
        failed=1; end="FAILED: $(tail -n 1 "$runs/$name.err" | cut -c1-120)"
    fi
    awk -v e="$engine" -v n="$lines" -v w="$wall" -v r="$rss" -v s="$end" \
        'BEGIN { printf "%-22s %12d %9.2f %12.0f %10.0f  %s\n", e, n, w, (w > 0 ? n / w : 0), r, s }' >> "$rows"
    return "$status"
}

gen=$(cksum < "$here/gen_ingested.py" | cut -c1-8)
for lines in "$@"; do
    dir="$here/data/ingested-$lines-s$seed-g$gen"
    if [ ! -f "$dir/summary.json" ]; then
        say "generating $lines lines into ${dir#"$root"/}"
        "$py" "$here/gen_ingested.py" --lines "$lines" --out "$dir" --seed "$seed" >&2 || { failed=1; continue; }
    fi
    query="$runs/rfm-$lines.sql"
    "$sqlbin" sql rfm --dialect duckdb --orders orders --timezone "$zone" --as-of "$as_of" \
        -o "$query" --quiet || { failed=1; continue; }
    timed "custseg rfm" "$lines" "custseg-$lines" \
        "$bin" rfm "$dir" --as-of "$as_of" -o "$runs/custseg-$lines.parquet" --quiet
    ours=$?
    timed "duckdb (custseg sql)" "$lines" "duckdb-$lines" "$py" -c '
import sys, duckdb
orders, query, out, threads, memory, spill = sys.argv[1:]
con = duckdb.connect()
con.execute(f"SET threads = {int(threads)}")
con.execute(f"SET memory_limit = {memory!r}")
con.execute(f"SET temp_directory = {spill!r}")
con.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet({orders!r})")
sql = open(query).read().strip().rstrip(";")
con.execute(f"COPY ({sql}) TO {out!r} (FORMAT parquet)")
' "$dir/orders.parquet" "$query" "$runs/duckdb-$lines.parquet" "$threads" "$duckdb_memory" "$runs/spill"
    theirs=$?
    if [ "$compare" = 1 ] && [ "$ours" -eq 0 ] && [ "$theirs" -eq 0 ]; then
        # The parity script runs the query itself; here it compares the two written tables, so
        # the query is a plain read of DuckDB's output.
        echo "SELECT * FROM read_parquet('$runs/duckdb-$lines.parquet')" > "$runs/read-$lines.sql"
        if "$py" "$root/tests/engines/duckdb_parity.py" --sql "$runs/read-$lines.sql" \
            --orders "$dir/orders.parquet" --expected "$runs/custseg-$lines.parquet" \
            --label "rfm $lines lines" >> "$checks" 2>&1; then :; else failed=1; fi
    fi
done

{
    echo
    echo "custseg: $bin; query by $sqlbin; DuckDB $("$py" -c 'import duckdb; print(duckdb.__version__)'), $threads threads, memory_limit $duckdb_memory; as of $as_of, seed $seed"
    echo
    printf '%-22s %12s %9s %12s %10s  %s\n' engine lines "wall s" "lines/s" "peak MiB" status
    cat "$rows"
    echo
    cat "$checks"
} | tee "$runs/results.txt"
rm -f "$rows" "$checks"
exit "$failed"
