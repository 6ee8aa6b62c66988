# Shared by the bench scripts (sourced, not run). Each caller defines `here` (this folder) and
# `say` (its messages, prefixed with its name) first.

# Sets `py` to a Python with numpy, pyarrow and duckdb: the system's if it has them, else
# bench/.venv (created and filled on first use).
bench_python() {
    py=python3
    if "$py" -c 'import numpy, pyarrow, duckdb' 2>/dev/null; then return 0; fi
    py="$here/.venv/bin/python"
    if "$py" -c 'import numpy, pyarrow, duckdb' 2>/dev/null; then return 0; fi
    say "creating bench/.venv (numpy, pyarrow, duckdb)"
    python3 -m venv "$here/.venv" || {
        say "error: python3 -m venv failed"; say "hint: apt-get install python3-venv"; exit 1; }
    "$here/.venv/bin/pip" install --quiet --disable-pip-version-check numpy pyarrow duckdb \
        || exit 1
}

# bench_export LINES FORMAT SEED: sets `data` to the folder of the generated export
# (bench/data/orders-LINES-FORMAT-sSEED-gVERSION, VERSION naming the generator's text, so an
# edited generator makes fresh data), generating it with gen_orders.py when missing. Needs `py`.
bench_export() {
    local gen
    gen=$(cksum < "$here/gen_orders.py" | cut -c1-8)
    data="$here/data/orders-$1-$2-s$3-g$gen"
    if [ ! -f "$data/truth.json" ]; then
        "$py" "$here/gen_orders.py" --lines "$1" --out "$data" --seed "$3" --format "$2"
    fi
}
