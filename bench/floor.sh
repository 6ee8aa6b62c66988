#!/usr/bin/env bash
# bench/floor.sh [LINES]: the floor under `custseg ingest`'s time. polars itself (the same
# version and build profile as custseg's release build) parses the generated export, and writes
# it with no cleaning, with a minimal cleaning, and sorted in memory (benches/floor.rs says what
# each step does). Compare with `bench/ingest.sh LINES` run in the same minutes.
#
#   bench/floor.sh              10,000,000 lines (about 835 MiB of CSV)
#   bench/floor.sh 1000000      a quicker run
#
# Environment: SEED (42). The export is generated when missing and cached in bench/data/, as
# for ingest.sh. Prints one row per step: wall time, lines/s, CPU time, peak RSS.
# Exit status: 0 when every step ran, 1 on a failed step, 2 bad arguments.
set -euo pipefail

lines=${1:-10000000}
seed=${SEED:-42}
case $lines in ''|*[!0-9]*) echo "floor.sh: error: LINES must be a number, got \"$lines\"" >&2; exit 2;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
say() { echo "floor.sh: $*" >&2; }
. "$here/lib.sh"
bench_python
bench_export "$lines" csv "$seed"

say "cargo bench --bench floor (built with the release profile's settings)"
cd "$root"
cargo bench --quiet --bench floor -- "$data/orders.csv"
