#!/usr/bin/env python3
"""same_table.py A.parquet B.parquet: PASS when the two tables are equal (schema, row order and
every value, nulls included), else FAIL with the columns that differ and their first rows.
Used by rfm.sh to compare `custseg score` from two binaries (SCORE_BASE)."""
import sys

import pyarrow.parquet as pq


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: same_table.py A.parquet B.parquet", file=sys.stderr)
        return 2
    a, b = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])
    if not a.schema.equals(b.schema):
        print(f"FAIL schemas differ:\n{a.schema}\n--\n{b.schema}")
        return 1
    if a.num_rows != b.num_rows:
        print(f"FAIL {a.num_rows} rows against {b.num_rows}")
        return 1
    bad = 0
    for name in a.column_names:
        x, y = a.column(name).to_pylist(), b.column(name).to_pylist()
        rows = [i for i, (p, q) in enumerate(zip(x, y)) if p != q and not (p != p and q != q)]
        if rows:
            bad += 1
            shown = ", ".join(f"row {i}: {x[i]!r} vs {y[i]!r}" for i in rows[:3])
            print(f"FAIL {name}: {len(rows)} rows differ ({shown})")
    if bad:
        return 1
    print(f"PASS {a.num_rows} rows, {a.num_columns} columns equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
