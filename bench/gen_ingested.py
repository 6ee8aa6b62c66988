#!/usr/bin/env python3
"""Write what `custseg ingest --out DIR` produces, directly, for benchmarking the analyses.

    python3 bench/gen_ingested.py --lines 100000000 --out bench/data/ingested-100m --seed 42

Skips the messy export and the ingest run, so `custseg rfm DIR` / `custseg score DIR` can be
timed at sizes where generating and ingesting a CSV first would take longer than the analysis.
Writes into --out:

    orders.parquet   N clean order lines in the layout of custseg's orders.parquet:
                     customer_id, order_id (string), ordered_at (timestamp[us, tz=Asia/Shanghai]),
                     channel, source, sku, category, brand (string), quantity, unit_price,
                     discount, amount (float64), is_return (bool), email, phone, external_id
                     (string, all null); sorted by (customer_id, ordered_at) like ingest's
    summary.json     custseg's summary layout for a run with no rejects and no duplicates;
                     the analyses read its "timezone"

About N/20 customers ("C" + 8 digits) with log-normal buying activity share the N lines
(a multinomial draw, so the total is exact). A customer's lines form orders ("O" + 10 digits)
of 1, 2, 3... lines (each line starts a new order with probability 0.35), each order at one
local time over 2023-01-01 00:00:00..2024-12-31 23:59:59 in Asia/Shanghai, with one channel
and distinct SKUs. About 3 % of lines are returns: negative quantity and amount, is_return
true; an order whose lines are all returns is not a purchase. About 10 % of lines carry a
discount (amount = quantity × unit_price − discount; on a return the refund shrinks by it).

Customers are written in id order, about --chunk lines per parquet row group, so memory stays
near one chunk (a few hundred MB) at any N. Seeded: the same --lines, --seed and --chunk give
the same file bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

try:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
except ImportError:
    sys.exit("gen_ingested.py: error: numpy and pyarrow are needed\n"
             "gen_ingested.py: hint: python3 -m venv bench/.venv && "
             "bench/.venv/bin/pip install numpy pyarrow duckdb")

TIMEZONE = "Asia/Shanghai"
UTC_OFFSET_S = 8 * 3600  # Asia/Shanghai has had no daylight saving since 1991
START_LOCAL = np.datetime64("2023-01-01T00:00:00", "s")
SPAN_S = int((np.datetime64("2025-01-01T00:00:00", "s") - START_LOCAL).astype(np.int64))
CHANNELS = ["web", "store", "app", "marketplace"]
CHANNEL_P = [0.40, 0.30, 0.20, 0.10]
CATEGORIES = ["护肤", "彩妆", "香水", "个护", "礼盒", "母婴", "食品", "家居", "服饰", "数码"]
BRANDS = [f"品牌{i:02d}" for i in range(1, 51)]
N_SKUS = 5000
NEW_ORDER_P = 0.35
RETURN_SHARE = 0.03
DISCOUNT_SHARE = 0.10

SCHEMA = pa.schema([
    ("customer_id", pa.string()),
    ("order_id", pa.string()),
    ("ordered_at", pa.timestamp("us", tz=TIMEZONE)),
    ("channel", pa.string()),
    ("source", pa.string()),
    ("sku", pa.string()),
    ("category", pa.string()),
    ("brand", pa.string()),
    ("quantity", pa.float64()),
    ("unit_price", pa.float64()),
    ("discount", pa.float64()),
    ("amount", pa.float64()),
    ("is_return", pa.bool_()),
    ("email", pa.string()),
    ("phone", pa.string()),
    ("external_id", pa.string()),
])


def padded_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return pc.binary_join_element_wise(
        pa.scalar(prefix), pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0"), "")


class Generator:
    def __init__(self, lines: int, seed: int):
        self.rng = np.random.default_rng(seed)
        self.n_customers = max(1, lines // 20)
        weights = self.rng.lognormal(0.0, 1.0, self.n_customers)
        self.lines_per_customer = self.rng.multinomial(lines, weights / weights.sum())
        self.sku_category = self.rng.integers(0, len(CATEGORIES), N_SKUS)
        self.sku_brand = self.rng.integers(0, len(BRANDS), N_SKUS)
        cents = np.round(self.rng.lognormal(4.6, 0.9, N_SKUS) * 100).astype(np.int64)
        self.sku_cents = np.clip(cents, 100, 2_000_000)  # 1.00 .. 20,000.00
        self.sku_text = padded_ids("SKU", np.arange(N_SKUS), 5)
        self.category_text = pa.array(CATEGORIES)
        self.brand_text = pa.array(BRANDS)
        self.channel_text = pa.array(CHANNELS)
        self.next_order = 0
        self.orders = 0
        self.returns = 0

    def blocks(self, chunk: int):
        """(first customer, end customer) ranges of about `chunk` lines each."""
        ends = np.cumsum(self.lines_per_customer)
        cuts = np.searchsorted(ends, np.arange(chunk, int(ends[-1]), chunk), side="left") + 1
        edges = np.unique(np.concatenate([[0], cuts, [self.n_customers]]))
        return zip(edges[:-1], edges[1:])

    def table(self, first: int, end: int) -> pa.Table:
        rng = self.rng
        counts = self.lines_per_customer[first:end]
        n = int(counts.sum())
        if n == 0:
            return SCHEMA.empty_table()
        customer = np.repeat(np.arange(first, end), counts)
        customer_start = np.repeat(np.cumsum(counts) - counts, counts)
        line_in_customer = np.arange(n) - customer_start
        starts = (line_in_customer == 0) | (rng.random(n) < NEW_ORDER_P)
        line_order = np.cumsum(starts) - 1
        n_orders = int(line_order[-1]) + 1
        order_first_line = np.flatnonzero(starts)
        order_customer = customer[order_first_line]
        line_no = np.arange(n) - order_first_line[line_order]

        # Order times, ascending within each customer (orders are already grouped by customer).
        seconds = rng.integers(0, SPAN_S, n_orders)
        seconds = seconds[np.lexsort((seconds, order_customer))]
        utc_us = ((START_LOCAL.astype(np.int64) - UTC_OFFSET_S + seconds) * 1_000_000)
        order_channel = rng.choice(len(CHANNELS), size=n_orders, p=CHANNEL_P)
        order_sku = rng.integers(0, N_SKUS, n_orders)
        order_number = self.next_order + np.arange(n_orders, dtype=np.int64)
        self.next_order += n_orders

        sku = (order_sku[line_order] + line_no * 2919) % N_SKUS
        quantity = np.minimum(rng.geometric(0.6, n), 10).astype(np.int64)
        is_return = rng.random(n) < RETURN_SHARE
        gross = quantity * self.sku_cents[sku]
        has_discount = rng.random(n) < DISCOUNT_SHARE
        discount = np.where(has_discount, gross * rng.integers(5, 31, n) // 100, 0)
        net = gross - discount
        sign = np.where(is_return, -1, 1)
        self.orders += n_orders
        self.returns += int(is_return.sum())

        nulls = pa.nulls(n, pa.string())
        return pa.table({
            "customer_id": padded_ids("C", customer, 8),
            "order_id": padded_ids("O", order_number[line_order], 10),
            "ordered_at": pa.array(utc_us[line_order], pa.timestamp("us", tz=TIMEZONE)),
            "channel": self.channel_text.take(pa.array(order_channel[line_order])),
            "source": pa.repeat(pa.scalar("orders"), n),
            "sku": self.sku_text.take(pa.array(sku)),
            "category": self.category_text.take(pa.array(self.sku_category[sku])),
            "brand": self.brand_text.take(pa.array(self.sku_brand[sku])),
            "quantity": pa.array((sign * quantity).astype(np.float64)),
            "unit_price": pa.array(self.sku_cents[sku] / 100),
            "discount": pa.array(discount / 100, mask=~has_discount),
            "amount": pa.array(sign * net / 100),
            "is_return": pa.array(is_return),
            "email": nulls,
            "phone": nulls,
            "external_id": nulls,
        }, schema=SCHEMA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines to write")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--chunk", type=int, default=1_000_000,
                        help="about this many lines per row group (and in memory at once)")
    args = parser.parse_args()
    if args.lines < 1 or args.chunk < 1:
        parser.error("--lines and --chunk must be positive")

    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "orders.parquet"
    partial = args.out / ".orders.parquet.partial"
    gen = Generator(args.lines, args.seed)
    written = 0
    with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
        for first, end in gen.blocks(args.chunk):
            table = gen.table(int(first), int(end))
            if table.num_rows == 0:
                continue
            writer.write_table(table, row_group_size=max(args.chunk, table.num_rows))
            written += table.num_rows
    assert written == args.lines, (written, args.lines)
    partial.replace(path)

    customers = int(np.count_nonzero(gen.lines_per_customer))
    summary = {
        "as_of": "2025-01-01",
        "timezone": TIMEZONE,
        "sources": [{"name": "orders", "kind": "orders", "files": 1, "read": args.lines,
                     "kept": args.lines, "rejected": 0, "duplicates": 0,
                     "rejected_by_reason": {}}],
        "totals": {"read": args.lines, "kept": args.lines, "rejected": 0, "duplicates": 0},
        "outputs": {"orders.parquet": args.lines, "rejects.csv": 0},
        "identity": {"known_customers": 0, "order_customers": customers,
                     "rows_by_method": {"customer_id": args.lines}, "conflicts": {}},
        "generator": {"script": "bench/gen_ingested.py", "lines": args.lines, "seed": args.seed,
                      "chunk": args.chunk, "customers": customers, "orders": gen.orders,
                      "return_lines": gen.returns},
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n",
                                           encoding="utf-8")
    size = path.stat().st_size / 2**20
    print(f"gen_ingested: {args.lines:,} lines, {customers:,} customers, {gen.orders:,} orders, "
          f"{size:,.1f} MiB in {time.monotonic() - started:.1f} s -> {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
