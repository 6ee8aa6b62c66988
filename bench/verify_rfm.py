#!/usr/bin/env python3
"""Compare two RFM tables per customer (custseg rfm's and peer_rfm.py's), with DuckDB.

    python3 bench/verify_rfm.py custseg.parquet duckdb.parquet

Equal means: the same customer_ids; recency_days, frequency, tenure_days, first_purchase,
last_purchase, r_score, f_score, m_score, rfm_cell and segment equal; monetary and
avg_order_value within 0.005. Prints one line per check, the first differing rows when a check
fails, then PASS or FAIL. Exit status: 0 PASS, 1 FAIL, 2 bad arguments or unreadable files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import duckdb
except ImportError:
    sys.exit("verify_rfm.py: error: duckdb is missing\nverify_rfm.py: hint: pip install duckdb")

EXACT = ["recency_days", "frequency", "tenure_days", "first_purchase", "last_purchase",
         "r_score", "f_score", "m_score", "rfm_cell", "segment"]
CLOSE = {"monetary": 0.005, "avg_order_value": 0.005}
SLACK = 1e-9  # a difference of exactly half a cent stored in binary floating point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("left", type=Path, help="custseg's table (parquet)")
    parser.add_argument("right", type=Path, help="the peer's table (parquet)")
    parser.add_argument("--show", type=int, default=5, help="differing rows to print per check")
    args = parser.parse_args()
    for p in (args.left, args.right):
        if not p.is_file():
            print(f"verify_rfm.py: error: {p}: no such file", file=sys.stderr)
            sys.exit(2)

    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(f"CREATE VIEW a AS SELECT * FROM read_parquet('{args.left}')")
    con.execute(f"CREATE VIEW b AS SELECT * FROM read_parquet('{args.right}')")
    columns = {}
    for side in ("a", "b"):
        columns[side] = [r[0] for r in con.execute(f"DESCRIBE {side}").fetchall()]
    missing = [c for c in ["customer_id", *EXACT, *CLOSE] if c not in columns["a"]
               or c not in columns["b"]]
    if missing:
        print(f"FAIL columns: missing {', '.join(missing)}")
        sys.exit(1)
    if columns["a"] != columns["b"]:
        print(f"note: column order differs: {columns['a']} vs {columns['b']}")

    pairs = ", ".join(f"{t}.{c} AS {t}_{c}" for c in [*EXACT, *CLOSE] for t in ("a", "b"))
    con.execute(f"""
        CREATE TEMP TABLE j AS
        SELECT a.customer_id AS a_id, b.customer_id AS b_id, {pairs}
        FROM a FULL OUTER JOIN b ON a.customer_id = b.customer_id""")
    n_a, n_b = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("a", "b"))
    print(f"rows: {n_a:,} in {args.left.name}, {n_b:,} in {args.right.name}")

    failed = False

    def check(name: str, where: str, show: str) -> None:
        nonlocal failed
        bad = con.execute(f"SELECT count(*) FROM j WHERE {where}").fetchone()[0]
        print(f"{'ok  ' if bad == 0 else 'FAIL'} {name}: {bad:,} differing")
        if bad:
            failed = True
            for row in con.execute(
                    f"SELECT {show} FROM j WHERE {where} ORDER BY coalesce(a_id, b_id) "
                    f"LIMIT {args.show}").fetchall():
                print(f"       {row}")

    check("customers only in the first", "b_id IS NULL", "a_id")
    check("customers only in the second", "a_id IS NULL", "b_id")
    both = "a_id IS NOT NULL AND b_id IS NOT NULL"
    for c in EXACT:
        # Compare as text so INTEGER vs BIGINT or DATE vs DATE never matters, nulls included.
        check(c, f"{both} AND a_{c}::VARCHAR IS DISTINCT FROM b_{c}::VARCHAR",
              f"a_id, a_{c}, b_{c}")
    for c, tol in CLOSE.items():
        check(f"{c} (within {tol})",
              f"{both} AND (abs(a_{c} - b_{c}) > {tol + SLACK} "
              f"OR (a_{c} IS NULL) != (b_{c} IS NULL))",
              f"a_id, a_{c}, b_{c}")
    print("FAIL" if failed else "PASS")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
