#!/usr/bin/env python3
"""Check an ingest output folder against a generator's ground truth; prints PASS or FAIL.

    python3 bench/verify_ingest.py --truth bench/data/orders-1000000-csv-s42/truth.json --out DIR
    python3 bench/verify_ingest.py --truth examples/shop/expected.json --out /tmp/shop

Compares, per source, `files`, `read`, `kept`, `rejected`, `duplicates` and
`rejected_by_reason` of DIR/summary.json with the truth's `sources` (a reason missing on
one side counts as 0). Then, with DuckDB over DIR/orders.parquet (a file or a folder of
parquet files, columns customer_id, order_id, amount, is_return), the number of kept lines
and of returns, and per customer_id the net amount (sum of amount, within half a cent) and
the number of distinct order ids with a non-return line, against the truth's `customers`
object (examples/shop/expected.json) or the truth_customers.csv next to truth.json.

Exit status: 0 when everything matches, 1 on any mismatch or missing file.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

try:
    import duckdb
except ImportError:
    sys.exit("verify_ingest.py: error: duckdb is missing\n"
             "verify_ingest.py: hint: pip install duckdb")

FIELDS = ["kind", "files", "read", "kept", "rejected", "duplicates"]
SHOWN_MISMATCHES = 10


def report(ok: bool, what: str, detail: str = "") -> bool:
    print(f"{'PASS' if ok else 'FAIL'}  {what}{': ' + detail if detail else ''}")
    return ok


def check_summary(truth: dict, out: Path) -> bool:
    path = out / "summary.json"
    if not path.exists():
        return report(False, "summary", f"{path} is missing")
    summary = json.loads(path.read_text(encoding="utf-8"))
    got = {s.get("name"): s for s in summary.get("sources", [])}
    ok = True
    for want in truth["sources"]:
        name = want["name"]
        have = got.get(name)
        if have is None:
            ok = report(False, f"source {name}", "not in summary.json") and ok
            continue
        # summary.json lists the files read; the truth may give their number or their names.
        have = dict(have, files=len(have.get("files", [])) if isinstance(want.get("files"), int)
                    else have.get("files"))
        diffs = [f"{f} {have.get(f)} != {want[f]}" for f in FIELDS if have.get(f) != want[f]]
        reasons = set(want["rejected_by_reason"]) | set(have.get("rejected_by_reason") or {})
        for r in sorted(reasons):
            h = (have.get("rejected_by_reason") or {}).get(r, 0)
            w = want["rejected_by_reason"].get(r, 0)
            if h != w:
                diffs.append(f"{r} {h} != {w}")
        line = (f"read {want['read']:,}, kept {want['kept']:,}, rejected {want['rejected']:,}, "
                f"duplicates {want['duplicates']:,}")
        ok = report(not diffs, f"source {name}", "; ".join(diffs) if diffs else line) and ok
    return ok


def check_orders(truth: dict, truth_path: Path, out: Path) -> bool:
    orders = out / "orders.parquet"
    if not orders.exists():
        return report(False, "orders", f"{orders} is missing")
    source = str(orders / "**" / "*.parquet") if orders.is_dir() else str(orders)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    if "customers" in truth:
        rows = [(cid, c["net_amount"], c["orders"]) for cid, c in truth["customers"].items()]
        con.execute("CREATE TABLE truth (customer_id VARCHAR, net_amount DOUBLE, orders BIGINT)")
        con.executemany("INSERT INTO truth VALUES (?, ?, ?)", rows)
    else:
        csv = truth_path.parent / "truth_customers.csv"
        con.execute(f"""CREATE TABLE truth AS SELECT * FROM read_csv('{csv}', header = true,
            columns = {{'customer_id': 'VARCHAR', 'net_amount': 'DOUBLE', 'orders': 'BIGINT'}})""")

    ok = True
    lines, returns = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE is_return) FROM read_parquet('{source}')"
    ).fetchone()
    want = truth.get("orders", {})
    if "lines_kept" in want:
        ok = report(lines == want["lines_kept"] and returns == want["return_lines"],
                    "order lines", f"{lines:,} kept ({returns:,} returns), expected "
                    f"{want['lines_kept']:,} ({want['return_lines']:,})") and ok

    con.execute(f"""
        CREATE TABLE got AS
        SELECT customer_id, sum(amount) AS net_amount,
               count(DISTINCT order_id) FILTER (WHERE NOT is_return) AS orders
        FROM read_parquet('{source}') GROUP BY customer_id""")
    bad = con.execute("""
        SELECT coalesce(g.customer_id, t.customer_id) AS customer_id,
               round(g.net_amount, 2), t.net_amount, g.orders, t.orders
        FROM got g FULL OUTER JOIN truth t ON g.customer_id = t.customer_id
        WHERE g.customer_id IS NULL OR t.customer_id IS NULL
           OR abs(g.net_amount - t.net_amount) >= 0.005 OR g.orders != t.orders
        ORDER BY 1""").fetchall()
    n = con.execute("SELECT count(*) FROM truth").fetchone()[0]
    if bad:
        ok = report(False, "per-customer totals", f"{len(bad):,} of {n:,} customers differ") and ok
        print("      customer_id  net_amount got / expected  orders got / expected")
        for cid, gn, tn, go, to in bad[:SHOWN_MISMATCHES]:
            print(f"      {cid}  {gn} / {tn}  {go} / {to}")
    else:
        ok = report(True, "per-customer totals", f"{n:,} customers: net amount and orders") and ok
    return ok


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", type=Path, required=True, help="truth.json or expected.json")
    parser.add_argument("--out", type=Path, required=True, help="the ingest --out folder")
    args = parser.parse_args()
    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    ok = check_summary(truth, args.out)
    ok = check_orders(truth, args.truth, args.out) and ok
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
