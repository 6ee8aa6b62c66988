#!/usr/bin/env bash
# bench/rfm.sh [LINES...]: time `custseg rfm` on an ingest-like directory per size, side by side
# with the same RFM in DuckDB, check the two tables agree per customer; then `custseg score` on
# one directory, and `custseg rfm orders.csv` (cleaning in memory) against DuckDB on that CSV.
#
#   bench/rfm.sh                         10,000,000 and 100,000,000 lines
#   bench/rfm.sh 1000000                 a quicker run
#   CSV_LINES=0 SCORE_LINES=0 bench/rfm.sh 10000000
#   SCORE_LINES=0 bench/rfm.sh 0         only the CSV run (a size of 0 is skipped)
#   SCORE_LINES="10000000 50000000" SCORE_BASE=old/custseg CSV_LINES=0 bench/rfm.sh 0
#                                        `custseg score` at two sizes, against an older binary
#
# Environment: SEED (42), AS_OF (2025-01-01), PEER (1: also DuckDB; 0: skip),
# CUSTSEG (the binary; /work/target-release/release/custseg, else target/release/custseg),
# SCORE_LINES (10000000; sizes for `custseg score`, separated by spaces or commas; 0 skips it),
# SCORE_BASE (a second custseg binary: its `score` is timed too and the two tables must be equal,
# checked with same_table.py), CSV_LINES (10000000; 0 skips the CSV run),
# THREADS (2, DuckDB's), DUCKDB_MEMORY (8GB, DuckDB's memory_limit), RSS_CAP_MIB (16384: a
# timed command whose resident memory passes it is killed and reported as such).
# Data is cached in bench/data/ingested-LINES-sSEED-gVERSION/ (gen_ingested.py) and, for the
# CSV run, bench/data/orders-LINES-csv-sSEED-gVERSION/ (gen_orders.py, shared with ingest.sh);
# outputs and /usr/bin/time logs go to bench/data/rfm-runs/. Prints a table (also saved as
# bench/data/rfm-runs/results.txt) and PASS/FAIL per compared pair.
# Exit status: 0 every step ran and every comparison passed, 1 otherwise, 2 bad arguments.
set -uo pipefail

if [ $# -eq 0 ]; then set -- 10000000 100000000; fi
score_sizes=${SCORE_LINES-10000000}
score_sizes=${score_sizes//,/ }
# shellcheck disable=SC2086 # the list of score sizes is split on purpose
for n in "$@" ${score_sizes:-0} "${CSV_LINES:-0}" "${RSS_CAP_MIB:-0}"; do
    case $n in ''|*[!0-9]*) echo "rfm.sh: error: sizes must be numbers, got \"$n\"" >&2; exit 2;; esac
done
seed=${SEED:-42}
as_of=${AS_OF:-2025-01-01}
peer=${PEER:-1}
score_base=${SCORE_BASE:-}
csv_lines=${CSV_LINES:-10000000}
threads=${THREADS:-2}
duckdb_memory=${DUCKDB_MEMORY:-8GB}
rss_cap=${RSS_CAP_MIB:-16384}
zone=Asia/Shanghai

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
say() { echo "rfm.sh: $*" >&2; }

# Python with numpy, pyarrow and duckdb: the system's if it has them, else bench/.venv.
py=python3
if ! "$py" -c 'import numpy, pyarrow, duckdb' 2>/dev/null; then
    py="$here/.venv/bin/python"
    if ! "$py" -c 'import numpy, pyarrow, duckdb' 2>/dev/null; then
        say "creating bench/.venv (numpy, pyarrow, duckdb)"
        python3 -m venv "$here/.venv" || {
            say "error: python3 -m venv failed"; say "hint: apt-get install python3-venv"; exit 1; }
        "$here/.venv/bin/pip" install --quiet --disable-pip-version-check numpy pyarrow duckdb \
            || exit 1
    fi
fi

if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (for peak memory)"
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_=sudo
    $sudo_ apt-get install -y -qq time >/dev/null 2>&1 \
        || { $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq time; } || exit 1
fi

bin=${CUSTSEG:-}
if [ -z "$bin" ]; then
    bin=/work/target-release/release/custseg
    [ -x "$bin" ] || bin=$root/target/release/custseg
fi
[ -x "$bin" ] || { say "error: $bin is missing"; say "hint: cargo build --release, or set CUSTSEG"; exit 1; }

runs="$here/data/rfm-runs"
mkdir -p "$runs"
results="$runs/results.txt"
: > "$results.rows"
: > "$results.checks"
failed=0

# Seconds, MiB and how it ended, from a `/usr/bin/time -v` log.
measure() {
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
        /Maximum resident set size/ { rss = $2 / 1024 }
        /Command exited with non-zero status/ { end = "exit " $0; sub(/.*status /, "", end); end = "exit " end }
        /Command terminated by signal/ { end = $0; sub(/.*signal /, "", end); end = "signal " end }
        END { printf "%s %s %s\n", wall, rss, (end == "" ? "ok" : end) }' "$1"
}

# watch_rss TIMER_PID FLAG_FILE: kills the timed command (the child of /usr/bin/time) when
# its resident memory passes RSS_CAP_MIB, so a runaway run cannot take the machine down.
watch_rss() {
    local timer=$1 child="" kib
    while kill -0 "$timer" 2>/dev/null; do
        [ -n "$child" ] || child=$(pgrep -P "$timer" | head -n 1)
        if [ -n "$child" ]; then
            kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$child/status" 2>/dev/null)
            if [ -n "$kib" ] && [ "$kib" -gt $((rss_cap * 1024)) ]; then
                touch "$2"
                kill "$child" 2>/dev/null
                return
            fi
        fi
        sleep 0.5
    done
}

# timed ENGINE JOB LINES NAME COMMAND...: runs COMMAND under /usr/bin/time -v, adds a row.
timed() {
    local engine=$1 job=$2 lines=$3 name=$4; shift 4
    say "$engine: $job, $lines lines"
    rm -f "$runs/$name.capped"
    /usr/bin/time -v -o "$runs/$name.time" "$@" 2> "$runs/$name.err" &
    local timer=$!
    watch_rss "$timer" "$runs/$name.capped" &
    local watcher=$!
    wait "$timer"
    local status=$?
    kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null
    read -r wall rss end < <(measure "$runs/$name.time")
    [ -f "$runs/$name.capped" ] && end="$end, killed by rfm.sh at RSS_CAP_MIB=$rss_cap"
    if [ "$status" -ne 0 ]; then
        failed=1
        local last
        last=$(grep -v '^\s*$' "$runs/$name.err" | tail -n 1 | cut -c1-160)
        end="FAILED ($end)${last:+: $last}"
        say "$engine $job failed; stderr in $runs/$name.err"
    fi
    awk -v e="$engine" -v j="$job" -v n="$lines" -v w="$wall" -v r="$rss" -v s="$end" \
        'BEGIN { printf "%-8s %-12s %12d %9.2f %12.0f %10.0f  %s\n", e, j, n, w, (w > 0 ? n / w : 0), r, s }' \
        >> "$results.rows"
    return "$status"
}

# check NAME LINES LEFT RIGHT: verify_rfm.py on two tables, adds a PASS/FAIL line.
check() {
    local name=$1 lines=$2
    if "$py" "$here/verify_rfm.py" "$3" "$4" > "$runs/$name.verify" 2>&1; then
        echo "PASS  $name, $lines lines" >> "$results.checks"
    else
        failed=1
        echo "FAIL  $name, $lines lines (details: ${runs#"$root"/}/$name.verify)" >> "$results.checks"
    fi
    cat "$runs/$name.verify" >&2
}

# ingested LINES: the cached ingest-like directory, generated when missing.
ingested() {
    local lines=$1 gen
    gen=$(cksum < "$here/gen_ingested.py" | cut -c1-8)
    local dir="$here/data/ingested-$lines-s$seed-g$gen"
    if [ ! -f "$dir/summary.json" ]; then
        timed python gen_ingested "$lines" "gen-ingested-$lines" \
            "$py" "$here/gen_ingested.py" --lines "$lines" --out "$dir" --seed "$seed" >&2 \
            || return 1
    fi
    echo "$dir"
}

for lines in "$@"; do
    [ "$lines" -gt 0 ] || continue
    dir=$(ingested "$lines") || { failed=1; continue; }
    timed custseg rfm "$lines" "custseg-rfm-$lines" \
        "$bin" rfm "$dir" --as-of "$as_of" -o "$runs/custseg-rfm-$lines.parquet" --quiet
    ours=$?
    if [ "$peer" = 1 ]; then
        timed duckdb rfm "$lines" "duckdb-rfm-$lines" \
            "$py" "$here/peer_rfm.py" --input "$dir" --as-of "$as_of" \
            --out "$runs/duckdb-rfm-$lines.parquet" --threads "$threads" \
            --memory-limit "$duckdb_memory"
        theirs=$?
        if [ "$ours" -eq 0 ] && [ "$theirs" -eq 0 ]; then
            check "rfm-$lines" "$lines" "$runs/custseg-rfm-$lines.parquet" \
                "$runs/duckdb-rfm-$lines.parquet"
        fi
    fi
done

if [ -n "$score_base" ] && [ ! -x "$score_base" ]; then
    say "error: SCORE_BASE=$score_base is not an executable"; exit 2
fi
# shellcheck disable=SC2086 # split on purpose, as above
for score_lines in $score_sizes; do
    [ "$score_lines" -gt 0 ] || continue
    dir=$(ingested "$score_lines") || { failed=1; continue; }
    timed custseg score "$score_lines" "custseg-score-$score_lines" \
        "$bin" score "$dir" --as-of "$as_of" -o "$runs/custseg-score-$score_lines.parquet" --quiet
    ours=$?
    [ -n "$score_base" ] || continue
    timed base score "$score_lines" "base-score-$score_lines" \
        "$score_base" score "$dir" --as-of "$as_of" -o "$runs/base-score-$score_lines.parquet" \
        --quiet
    theirs=$?
    if [ "$ours" -eq 0 ] && [ "$theirs" -eq 0 ]; then
        name="score-vs-base-$score_lines"
        if "$py" "$here/same_table.py" "$runs/custseg-score-$score_lines.parquet" \
            "$runs/base-score-$score_lines.parquet" > "$runs/$name.verify" 2>&1; then
            echo "PASS  $name, $score_lines lines" >> "$results.checks"
        else
            failed=1
            echo "FAIL  $name, $score_lines lines (details: ${runs#"$root"/}/$name.verify)" \
                >> "$results.checks"
        fi
        cat "$runs/$name.verify" >&2
    fi
done

if [ "$csv_lines" -gt 0 ]; then
    gen=$(cksum < "$here/gen_orders.py" | cut -c1-8)
    data="$here/data/orders-$csv_lines-csv-s$seed-g$gen"
    if [ ! -f "$data/truth.json" ]; then
        timed python gen_orders "$csv_lines" "gen-orders-$csv_lines" \
            "$py" "$here/gen_orders.py" --lines "$csv_lines" --out "$data" --seed "$seed" \
            --format csv
    fi
    if [ -f "$data/truth.json" ]; then
        timed custseg rfm-csv "$csv_lines" "custseg-rfm-csv-$csv_lines" \
            "$bin" rfm "$data/orders.csv" --timezone "$zone" --as-of "$as_of" \
            -o "$runs/custseg-rfm-csv-$csv_lines.parquet" --quiet
        ours=$?
        if [ "$peer" = 1 ]; then
            timed duckdb rfm-csv "$csv_lines" "duckdb-rfm-csv-$csv_lines" \
                "$py" "$here/peer_rfm.py" --input "$data/orders.csv" --timezone "$zone" \
                --as-of "$as_of" --out "$runs/duckdb-rfm-csv-$csv_lines.parquet" \
                --threads "$threads" --memory-limit "$duckdb_memory"
            theirs=$?
            if [ "$ours" -eq 0 ] && [ "$theirs" -eq 0 ]; then
                check "rfm-csv-$csv_lines" "$csv_lines" \
                    "$runs/custseg-rfm-csv-$csv_lines.parquet" \
                    "$runs/duckdb-rfm-csv-$csv_lines.parquet"
            fi
        fi
    fi
fi

{
    echo
    echo "custseg: ${bin}; DuckDB $("$py" -c 'import duckdb; print(duckdb.__version__)'), $threads threads, memory_limit $duckdb_memory; as of $as_of, seed $seed"
    echo
    printf '%-8s %-12s %12s %9s %12s %10s  %s\n' engine job lines "wall s" "lines/s" "peak MiB" status
    cat "$results.rows"
    echo
    cat "$results.checks"
} | tee "$results"
rm -f "$results.rows" "$results.checks"
exit "$failed"
