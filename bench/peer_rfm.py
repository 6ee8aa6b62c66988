#!/usr/bin/env python3
"""`custseg rfm` done by a peer, DuckDB, for a side-by-side time and a second opinion.

    python3 bench/peer_rfm.py --input bench/data/ingested-10000000-s42-gXXXX --out rfm.parquet
    python3 bench/peer_rfm.py --input bench/data/orders-10000000-csv-s42-gXXXX/orders.csv \\
        --out rfm.parquet --timezone Asia/Shanghai

--input is an ingest-like directory (orders.parquet with typed, clean lines and summary.json
naming the time zone; see gen_ingested.py) or a raw export written by gen_orders.py
(orders.csv or orders.parquet, every column text), which is first cleaned with
peer_duckdb.py's SQL, as `custseg rfm orders.csv` cleans it in memory.

The definitions are custseg's (src/metrics/rfm.rs, src/metrics/mod.rs), no window:

- a line's day is the local calendar date of ordered_at in the zone (typed input: the stored
  instant converted with ICU; raw input: the naive local timestamp's date); lines with
  day <= as_of count, later ones are ignored
- frequency = distinct order_id with at least one line where is_return is false; customers
  with frequency 0 are left out
- monetary = sum(amount) over all counted lines, returns included, rounded to cents the way
  custseg (polars) rounds: round(x × 100) / 100, round() half away from zero on the double
  x × 100; avg_order_value = the same rounding of monetary / frequency. Not DuckDB's
  round(x, 2): that rounds the stored binary value, so 121.91 / 2 = 60.955 (stored as
  60.95499999…) gives 60.95 there and 60.96 in custseg; about 5 % of customers at 1M lines
  differ by that one cent
- first_purchase / last_purchase = min / max day of non-return lines; recency_days =
  as_of − last_purchase, tenure_days = as_of − first_purchase
- score = 1 + floor(bins × (rank − 1) / n) in double precision, rank = RANK() (the minimum
  rank of ties) ascending for frequency and monetary (the rounded value), descending for
  recency_days; rfm_cell = r‖f‖m; segment = the first matching built-in rule
  (default_segments()), scores put on the 1..5 scale by 1 + 5 × (s − 1) div bins

Writes a parquet file with custseg rfm's columns, sorted by customer_id. DuckDB uses
--threads (2) and --memory-limit (8GB), spilling to a folder next to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    import duckdb
except ImportError:
    sys.exit("peer_rfm.py: error: duckdb is missing\npeer_rfm.py: hint: pip install duckdb")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peer_duckdb  # noqa: E402  (the cleaning SQL for raw exports)

# (name, r range, f range, m range or None): default_segments() in src/metrics/rfm.rs.
SEGMENTS = [
    ("Champions", (4, 5), (4, 5), (4, 5)),
    ("Loyal Customers", (3, 5), (3, 5), None),
    ("New Customers", (5, 5), (1, 1), None),
    ("Potential Loyalist", (4, 5), (1, 2), None),
    ("Promising", (3, 3), (1, 1), None),
    ("Need Attention", (3, 3), (2, 2), None),
    ("Can't Lose Them", (1, 2), (4, 5), (4, 5)),
    ("At Risk", (1, 2), (3, 5), None),
    ("About To Sleep", (2, 2), (1, 2), None),
    ("Hibernating", (1, 1), (2, 2), None),
    ("Lost", (1, 1), (1, 1), None),
]

RFM_SQL = """
CREATE TEMP TABLE customer_metrics AS
SELECT * FROM (
    SELECT customer_id,
           count(DISTINCT order_id) FILTER (WHERE NOT is_return) AS frequency,
           round(sum(amount) * 100) / 100 AS monetary,
           min(day) FILTER (WHERE NOT is_return) AS first_purchase,
           max(day) FILTER (WHERE NOT is_return) AS last_purchase
    FROM lines
    WHERE day <= DATE '{as_of}'
    GROUP BY customer_id
) WHERE frequency > 0;

CREATE TEMP VIEW scored AS
SELECT customer_id,
       DATE '{as_of}' - last_purchase AS recency_days,
       frequency,
       monetary,
       round(monetary / frequency * 100) / 100 AS avg_order_value,
       first_purchase,
       last_purchase,
       DATE '{as_of}' - first_purchase AS tenure_days,
       CAST(1 + floor({bins}::DOUBLE * (rank() OVER (ORDER BY DATE '{as_of}' - last_purchase DESC) - 1)
                      / count(*) OVER ()) AS INTEGER) AS r_score,
       CAST(1 + floor({bins}::DOUBLE * (rank() OVER (ORDER BY frequency) - 1)
                      / count(*) OVER ()) AS INTEGER) AS f_score,
       CAST(1 + floor({bins}::DOUBLE * (rank() OVER (ORDER BY monetary) - 1)
                      / count(*) OVER ()) AS INTEGER) AS m_score
FROM customer_metrics;

COPY (
    SELECT customer_id, recency_days, frequency, monetary, avg_order_value, first_purchase,
           last_purchase, tenure_days, r_score, f_score, m_score,
           r_score::VARCHAR || f_score::VARCHAR || m_score::VARCHAR AS rfm_cell,
           {segment} AS segment
    FROM scored
    ORDER BY customer_id
) TO '{out}' (FORMAT parquet, COMPRESSION zstd);
"""


def segment_sql(bins: int) -> str:
    """The CASE picking the first matching rule, on the 1..5 scale."""
    def five(s: str) -> str:
        return s if bins == 5 else f"(1 + (5 * ({s} - 1)) // {bins})"

    arms = []
    for name, r, f, m in SEGMENTS:
        tests = [f"{five(col)} BETWEEN {lo} AND {hi}"
                 for col, rng in (("r_score", r), ("f_score", f), ("m_score", m)) if rng
                 for lo, hi in [rng]]
        arms.append(f"WHEN {' AND '.join(tests)} THEN '{name.replace(chr(39), chr(39) * 2)}'")
    return "CASE " + " ".join(arms) + " END"


def lines_view(con: duckdb.DuckDBPyConnection, source: Path, timezone: str | None,
               as_of: str) -> None:
    """Creates the view `lines(customer_id, order_id, day, amount, is_return)`."""
    if source.is_dir():
        zone = timezone
        summary = source / "summary.json"
        if zone is None and summary.is_file():
            zone = json.loads(summary.read_text(encoding="utf-8")).get("timezone")
        zone = zone or "UTC"
        con.execute(f"""
            CREATE TEMP VIEW lines AS
            SELECT customer_id, order_id,
                   CAST(timezone('{zone}', ordered_at) AS DATE) AS day,
                   amount, is_return
            FROM read_parquet('{source / "orders.parquet"}')""")
        return
    # A raw export: clean it the way `custseg ingest` does (peer_duckdb.py), then take the
    # kept lines. Timestamps stay naive local times, so their date is the local date.
    con.execute(peer_duckdb.CLEAN_SQL.format(
        columns=", ".join(peer_duckdb.COLUMNS), reader=peer_duckdb.export_reader(source),
        as_of=as_of))
    con.execute("""
        CREATE TEMP VIEW lines AS
        SELECT customer_id, order_id, CAST(ordered_at AS DATE) AS day,
               CASE WHEN amount < 0 OR quantity < 0 THEN -abs(amount) ELSE amount END AS amount,
               coalesce(amount < 0 OR quantity < 0, false) AS is_return
        FROM judged WHERE reason IS NULL""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, required=True,
                        help="an ingest-like directory, or a gen_orders.py orders.csv/.parquet")
    parser.add_argument("--out", type=Path, required=True, help="parquet file to write")
    parser.add_argument("--as-of", default="2025-01-01")
    parser.add_argument("--timezone", help="zone of the local dates (default: summary.json's)")
    parser.add_argument("--bins", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="8GB")
    args = parser.parse_args()
    if not 2 <= args.bins <= 10:
        parser.error("--bins must be between 2 and 10")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    con.execute(f"SET temp_directory = '{args.out.parent / '.duckdb-spill'}'")
    con.execute("SET preserve_insertion_order = false")
    lines_view(con, args.input, args.timezone, args.as_of)
    con.execute(RFM_SQL.format(as_of=args.as_of, bins=args.bins, segment=segment_sql(args.bins),
                               out=args.out))


if __name__ == "__main__":
    main()
