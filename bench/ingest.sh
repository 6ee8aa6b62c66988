#!/usr/bin/env bash
# bench/ingest.sh [LINES]: time `custseg ingest` on a generated messy export, side by side
# with the same job in DuckDB, then check custseg's output against the generator's truth.
#
#   bench/ingest.sh               10,000,000 rows (about 835 MiB of CSV)
#   bench/ingest.sh 1000000       a quicker run
#   FORMAT=parquet bench/ingest.sh
#
# Environment: SEED (42), FORMAT (csv | parquet), PEER (1: also time DuckDB; 0: skip),
# SKIP_BUILD (1: use the existing binary), CUSTSEG (the binary; target/release/custseg),
# AS_OF (2025-01-01).
# Generated data is cached in bench/data/orders-LINES-FORMAT-sSEED-gVERSION/;
# outputs go to bench/data/out-*. Prints wall time, rows/s, peak RSS, peak anonymous memory and
# input size, custseg's stage times, then PASS or FAIL. Exit status: 0 PASS, 1 FAIL or a failed step, 2 bad arguments.
set -euo pipefail

lines=${1:-10000000}
seed=${SEED:-42}
format=${FORMAT:-csv}
peer=${PEER:-1}
as_of=${AS_OF:-2025-01-01}
case $lines in ''|*[!0-9]*) echo "ingest.sh: error: LINES must be a number, got \"$lines\"" >&2; exit 2;; esac
case $format in csv|parquet) ;; *) echo "ingest.sh: error: FORMAT must be csv or parquet" >&2; exit 2;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
say() { echo "ingest.sh: $*" >&2; }

. "$here/lib.sh"
bench_python

if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (for peak memory)"
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_=sudo
    $sudo_ apt-get install -y -qq time >/dev/null 2>&1 \
        || { $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq time; }
fi

if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${CUSTSEG:-}" ]; then
    say "cargo build --release (the first one takes a while)"
    (cd "$root" && cargo build --release --quiet)
fi
bin=${CUSTSEG:-$root/target/release/custseg}
[ -x "$bin" ] || { say "error: $bin is missing"; exit 1; }

bench_export "$lines" "$format" "$seed"
input="$data/orders.$format"

# Seconds and MiB from a `/usr/bin/time -v` log.
measure() {
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
        /Maximum resident set size/ { rss = $2 / 1024 }
        END { printf "%s %s\n", wall, rss }' "$1"
}
row() {  # tool, time log, anon log
    read -r wall rss < <(measure "$2")
    anon=$(cat "$3" 2>/dev/null || echo 0)
    awk -v t="$1" -v w="$wall" -v r="$rss" -v a="$anon" -v n="$lines" \
        'BEGIN { printf "%-10s %10.2f %14.0f %14.0f %14.0f\n", t, w, (w > 0 ? n / w : 0), r, a / 1024 }'
}
# Runs a command under `/usr/bin/time -v -o LOG` and writes the peak anonymous memory (RssAnon,
# KiB, sampled every 0.2 s) of its process to ANON: peak RSS also counts the pages of a
# memory-mapped input file, which the kernel can drop at any time.
timed() {  # LOG ANON command...
    local log=$1 anon=$2; shift 2
    /usr/bin/time -v -o "$log" "$@" &
    local tp=$! child="" peak=0 v
    while kill -0 "$tp" 2>/dev/null; do
        [ -n "$child" ] || child=$(pgrep -P "$tp" | head -1 || true)
        if [ -n "$child" ]; then
            v=$(awk '/^RssAnon:/ { print $2 }' "/proc/$child/status" 2>/dev/null || true)
            [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
        fi
        sleep 0.2
    done
    echo "$peak" > "$anon"
    wait "$tp"
}

out="$here/data/out-custseg-$lines-$format-s$seed"
rm -rf "$out"
as_of_flag=()
if "$bin" ingest --help 2>/dev/null | grep -q -- '--as-of'; then as_of_flag=(--as-of "$as_of"); fi
say "custseg ingest on $input"
status=0
# Stage timings (CUSTSEG_TIMINGS=1) go to $out.stages, printed after the table.
CUSTSEG_TIMINGS=1 timed "$out.time" "$out.anon" "$bin" ingest --config "$data/custseg.toml" \
    --out "$out" --quiet ${as_of_flag[@]+"${as_of_flag[@]}"} 2> "$out.stages" || status=$?
if [ "$status" -ne 0 ]; then
    cat "$out.stages" >&2
    say "error: custseg ingest exited with $status"
    exit 1
fi

if [ "$peer" = 1 ]; then
    peer_out="$here/data/out-duckdb-$lines-$format-s$seed"
    rm -rf "$peer_out"
    say "duckdb doing the same job"
    timed "$peer_out.time" "$peer_out.anon" "$py" "$here/peer_duckdb.py" --data "$data" \
        --out "$peer_out" --as-of "$as_of"
fi

echo
size=$(stat -c %s "$input")
awk -v f="${input#"$root"/}" -v n="$lines" -v s="$size" \
    'BEGIN { printf "input: %s, %d rows, %.1f MiB\n\n", f, n, s / 1048576 }'
printf '%-10s %10s %14s %14s %14s\n' tool "wall s" "rows/s" "peak RSS MiB" "peak anon MiB"
row custseg "$out.time" "$out.anon"
[ "$peer" = 1 ] && row duckdb "$peer_out.time" "$peer_out.anon"
echo
if grep -q 'timing:' "$out.stages" 2>/dev/null; then
    echo "custseg stages (wall s):"
    sed -n 's/^custseg: timing: /  /p' "$out.stages"
    echo
fi

"$py" "$here/verify_ingest.py" --truth "$data/truth.json" --out "$out"
