#!/usr/bin/env python3
"""The bench's ingest job done by a peer, DuckDB, for a side-by-side time and a second opinion.

    python3 bench/peer_duckdb.py --data bench/data/orders-10000000-csv-s42 --out DIR

Reads the generated export (orders.csv or orders.parquet, canonical column names, as
written by gen_orders.py) and applies the same rules as `custseg ingest` for that one
source: exact duplicates on every column kept once; reject reasons in custseg's order
(missing_customer, missing_order_id, bad_timestamp, timestamp_out_of_range, bad_quantity,
bad_amount, missing_amount); amounts stripped of currency signs, codes, commas and spaces,
"(x)" or "-x" negative. Writes DIR/summary.json (custseg's layout, this one source) and
DIR/orders.parquet (kept lines: customer_id, order_id, ordered_at, channel, sku, category,
brand, quantity, unit_price, amount, is_return), so verify_ingest.py can check it too.

Only what the generated data needs: no e-mail/phone identity, no encodings, no time zones
(ordered_at stays local time). Uses 2 threads, like the machine it is measured on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    import duckdb
except ImportError:
    sys.exit("peer_duckdb.py: error: duckdb is missing\npeer_duckdb.py: hint: pip install duckdb")

COLUMNS = ["customer_id", "order_id", "ordered_at", "channel", "sku", "category", "brand",
           "quantity", "unit_price", "amount"]

# The cleaning, up to the table `judged` (one row per distinct raw row, `reason` null when kept);
# bench/peer_rfm.py reuses it for RFM on the raw CSV.
CLEAN_SQL = r"""
CREATE MACRO strip_amount(t) AS
    regexp_replace(CASE WHEN t LIKE '(%)' THEN t[2:-2] ELSE t END,
                   '[¥￥$€£元,\s]|[A-Z]{{3}}', '', 'g');
CREATE MACRO amount_value(t) AS
    CASE WHEN (t LIKE '(%)') != (strip_amount(t) LIKE '-%') THEN -1 ELSE 1 END
    * try_cast(ltrim(strip_amount(t), '-') AS DOUBLE);
CREATE MACRO is_bad_amount(t) AS
    t IS NOT NULL AND (amount_value(t) IS NULL OR NOT isfinite(amount_value(t)));

CREATE TEMP VIEW raw AS SELECT {columns} FROM {reader};

-- Exact duplicates (every mapped column) are kept once.
CREATE TEMP VIEW uniq AS SELECT *, count(*) AS copies FROM raw GROUP BY ALL;

CREATE TEMP VIEW parsed AS
SELECT
    nullif(trim(customer_id), '') AS customer_id,
    nullif(trim(order_id), '') AS order_id,
    coalesce(try_strptime(trim(ordered_at), '%Y-%m-%d %H:%M:%S'),
             try_cast(trim(ordered_at) AS TIMESTAMP)) AS ordered_at,
    nullif(trim(channel), '') AS channel,
    nullif(trim(sku), '') AS sku,
    nullif(trim(category), '') AS category,
    nullif(trim(brand), '') AS brand,
    nullif(trim(quantity), '') AS quantity_text,
    nullif(trim(unit_price), '') AS unit_price_text,
    nullif(trim(amount), '') AS amount_text,
    copies
FROM uniq;

CREATE TEMP TABLE judged AS
SELECT *,
    try_cast(quantity_text AS DOUBLE) AS quantity,
    amount_value(unit_price_text) AS unit_price,
    coalesce(amount_value(amount_text),
             try_cast(quantity_text AS DOUBLE) * amount_value(unit_price_text)) AS amount,
    CASE
        WHEN customer_id IS NULL THEN 'missing_customer'
        WHEN order_id IS NULL THEN 'missing_order_id'
        WHEN ordered_at IS NULL THEN 'bad_timestamp'
        WHEN ordered_at < TIMESTAMP '1990-01-01' OR CAST(ordered_at AS DATE) > DATE '{as_of}'
            THEN 'timestamp_out_of_range'
        WHEN quantity_text IS NOT NULL AND try_cast(quantity_text AS DOUBLE) IS NULL
            THEN 'bad_quantity'
        WHEN is_bad_amount(amount_text) OR is_bad_amount(unit_price_text) THEN 'bad_amount'
        WHEN amount_text IS NULL AND (quantity_text IS NULL OR unit_price_text IS NULL)
            THEN 'missing_amount'
    END AS reason
FROM parsed;
"""

EXPORT_SQL = r"""
COPY (
    SELECT customer_id, order_id, ordered_at, channel, sku, category, brand, quantity,
           unit_price, amount, amount < 0 OR quantity < 0 AS is_return
    FROM judged WHERE reason IS NULL
    ORDER BY customer_id, ordered_at, order_id, sku
) TO '{out}/orders.parquet' (FORMAT parquet, COMPRESSION zstd);
"""


def export_reader(path: Path) -> str:
    """The DuckDB table function reading a generated export (CSV as text, or parquet)."""
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    return (f"read_csv('{path}', all_varchar = true, header = true, delim = ',', "
            "quote = '\"', escape = '\"')")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a gen_orders.py output folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--as-of", default="2025-01-01")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    if (args.data / "orders.parquet").exists():
        reader = export_reader(args.data / "orders.parquet")
    else:
        reader = export_reader(args.data / "orders.csv")
    args.out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute("SET preserve_insertion_order = false")
    con.execute(CLEAN_SQL.format(columns=", ".join(COLUMNS), reader=reader, as_of=args.as_of))
    con.execute(EXPORT_SQL.format(out=args.out))
    read, duplicates = con.execute("SELECT sum(copies), sum(copies - 1) FROM judged").fetchone()
    by_reason = dict(con.execute(
        "SELECT reason, count(*) FROM judged WHERE reason IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall())
    rejected = sum(by_reason.values())
    summary = {
        "sources": [{
            "name": "orders", "kind": "orders", "files": 1, "read": int(read),
            "kept": int(read - duplicates - rejected), "rejected": rejected,
            "duplicates": int(duplicates), "rejected_by_reason": by_reason,
        }],
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
