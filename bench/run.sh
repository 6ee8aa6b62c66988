#!/usr/bin/env bash
# bench/run.sh [LINES]: times the whole weekly job (`custseg run`: ingest, value table with CLV,
# every report and analysis) against `custseg ingest` alone on the same generated export, and
# prints the ratio. The export is made (and cached) by bench/ingest.sh's generator.
#
#   bench/run.sh               10,000,000 lines
#   bench/run.sh 1000000       a quicker run
#
# Environment: CUSTSEG (default target/release/custseg), SEED (42), AS_OF (2025-01-01).
set -euo pipefail

lines=${1:-10000000}
seed=${SEED:-42}
as_of=${AS_OF:-2025-01-01}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
custseg=${CUSTSEG:-$root/target/release/custseg}
case $lines in ''|*[!0-9]*) echo "run.sh: error: LINES must be a number" >&2; exit 2;; esac
[ -x "$custseg" ] || { echo "run.sh: error: $custseg is not built (cargo build --release)" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "run.sh: error: needs GNU time (apt-get install time)" >&2; exit 2; }

# The generated export: reuse bench/ingest.sh's cache (it generates when missing).
data=$(ls -d "$here"/data/orders-"$lines"-csv-s"$seed"-g* 2>/dev/null | head -n 1 || true)
if [ -z "$data" ]; then
    SKIP_BUILD=1 PEER=0 CUSTSEG=$custseg "$here/ingest.sh" "$lines" >/dev/null
    data=$(ls -d "$here"/data/orders-"$lines"-csv-s"$seed"-g* | head -n 1)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # NAME CMD...: prints "NAME wall_s peak_MiB"
    local name=$1; shift
    /usr/bin/time -v -o "$work/$name.time" "$@" >/dev/null
    awk -v n="$name" -F': ' '
        /Elapsed \(wall clock\)/ {k = split($2, p, ":"); s = 0; for (i = 1; i <= k; i++) s = s * 60 + p[i]}
        /Maximum resident set size/ {m = $2 / 1024}
        END {printf "%-8s %10.2f %12.0f\n", n, s, m}' "$work/$name.time"
}

echo "custseg run vs ingest alone on $lines lines ($data)"
printf "%-8s %10s %12s\n" job "wall s" "peak MiB"
measure ingest "$custseg" ingest --quiet --config "$data/custseg.toml" --as-of "$as_of" --out "$work/ingest" | tee "$work/ingest.row"
measure run "$custseg" run --quiet --config "$data/custseg.toml" --as-of "$as_of" --out "$work/run" | tee "$work/run.row"
awk 'FNR == 1 {t[FILENAME] = $2} END {for (f in t) if (f ~ /ingest/) i = t[f]; else r = t[f]; printf "run / ingest = %.2f\n", r / i}' "$work/ingest.row" "$work/run.row"
