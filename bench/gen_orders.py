#!/usr/bin/env python3
"""Generate a large, messy, seeded order export for benchmarking `custseg ingest`.

    python3 bench/gen_orders.py --lines 10000000 --out bench/data/10m --seed 42 [--format csv]

Writes into --out:

    orders.csv | orders.parquet  N rows (duplicates included) with canonical column names:
                                 customer_id, order_id, ordered_at, channel, sku, category,
                                 brand, quantity, unit_price, amount (all strings, as exports are)
    custseg.toml                 maps it (one source named "orders")
    truth.json                   expected read / kept / rejected (by reason) / duplicates,
                                 in the layout of custseg's summary.json, plus order totals
    truth_customers.csv          customer_id, net_amount, orders over kept lines

About N/20 customers buy over 2023-01-01..2024-12-31 (local time, Asia/Shanghai), 1..6
lines per order. Messiness, per row: 1 % returns (negative quantity and amount, kept),
1 % amounts written "¥1,234.50", "1,234.50", "￥88.00", "88.00元", "CNY 88.00" or "(88.00)",
0.2 % customer ids padded with spaces (kept), and rejects: 0.1 % empty customer id
(missing_customer), 0.1 % unparseable timestamps (bad_timestamp), 0.05 % dates in 1985 or
2031 (timestamp_out_of_range), 0.03 % quantities like "two" (bad_quantity), 0.1 % amounts
like "—", "abc", "NaN", "1e309" (bad_amount); plus 0.3 % exact copies of kept rows
(duplicates). Every row has at most one problem, so the reason order never matters here.

The truth is accumulated from the generator's arrays, chunk by chunk (1M rows by default),
never by reading the output back. Orders never straddle a chunk, so per-order facts
(has a purchase line) are complete within the chunk that made them.

Needs numpy and pyarrow. 10M rows take well under a minute and about 1 GB of memory.
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
    sys.exit("gen_orders.py: error: numpy and pyarrow are needed\n"
             "gen_orders.py: hint: python3 -m venv bench/.venv && "
             "bench/.venv/bin/pip install numpy pyarrow duckdb")

COLUMNS = ["customer_id", "order_id", "ordered_at", "channel", "sku", "category", "brand",
           "quantity", "unit_price", "amount"]
CHANNELS = np.array(["web", "store", "app", "marketplace"])
CHANNEL_P = [0.40, 0.30, 0.20, 0.10]
CATEGORIES = ["护肤", "彩妆", "香水", "个护", "礼盒", "母婴", "食品", "家居", "服饰", "数码"]
BRANDS = [f"品牌{i:02d}" for i in range(1, 51)]
N_SKUS = 5000
START = np.datetime64("2023-01-01T00:00:00", "s")
SPAN_SECONDS = int((np.datetime64("2025-01-01T00:00:00", "s") - START).astype(np.int64))

# Planted problems: (reason, share of rows). Exclusive: one draw decides each row.
REJECTS = [
    ("missing_customer", 0.0010),
    ("bad_timestamp", 0.0010),
    ("timestamp_out_of_range", 0.0005),
    ("bad_quantity", 0.0003),
    ("bad_amount", 0.0010),
]
RETURN_SHARE = 0.01
MESSY_AMOUNT_SHARE = 0.01
PADDED_ID_SHARE = 0.002
DUPLICATE_SHARE = 0.003

BAD_TIMESTAMPS = ["", "2024-13-01 10:00:00", "2024-02-30 12:00:00", "N/A", "31/12/2023 10:00",
                  "yesterday"]
OUT_OF_RANGE = ["1985-06-01 12:00:00", "1970-01-01 00:00:00", "2031-01-01 00:00:00"]
BAD_QUANTITIES = ["two", "x", "--"]
BAD_AMOUNTS = ["—", "abc", "N/A", "NaN", "1e309", "12.3.4"]

CONFIG = """\
# custseg ingest config for a generated benchmark export ({lines} rows, seed {seed}).
# Written by bench/gen_orders.py; truth.json holds the expected summary.
[settings]
timezone = "Asia/Shanghai"
currency = "CNY"
phone_country_code = "86"

[[sources]]
name = "orders"
kind = "orders"
paths = ["{file}"]
format = "{format}"
timestamp_formats = ["%Y-%m-%d %H:%M:%S"]
[sources.columns]
customer_id = "customer_id"
order_id = "order_id"
ordered_at = "ordered_at"
channel = "channel"
sku = "sku"
category = "category"
brand = "brand"
quantity = "quantity"
unit_price = "unit_price"
amount = "amount"
"""


def yuan_text(cents: np.ndarray) -> pa.Array:
    """Integer cents -> "1234.50" / "-88.00", vectorised."""
    magnitude = np.abs(cents)
    whole = pc.cast(pa.array(magnitude // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(magnitude % 100), pa.string()), 2, "0")
    text = pc.binary_join_element_wise(whole, frac, ".")
    sign = pa.array(np.where(cents < 0, "-", ""))
    return pc.binary_join_element_wise(sign, text, "")


def messy_amount(cents: int, style: int) -> str:
    """One of the ways exports spell an amount; each cleans back to `cents`."""
    value = abs(cents) / 100
    if cents < 0:
        return f"({value:,.2f})" if style % 2 == 0 else f"-¥{value:,.2f}"
    return [f"¥{value:,.2f}", f"{value:,.2f}", f"￥{value:.2f}", f"{value:.2f}元",
            f"CNY {value:,.2f}"][style % 5]


def csv_lines(table: pa.Table) -> bytes:
    """The table as CSV lines, quoting only values that need it (amounts with commas).

    pyarrow's own writer quotes every string; exports usually quote only when needed.
    No generated value holds a double quote or a line break, only commas in amounts.
    """
    fields = []
    for column in table.columns:
        needs = pc.match_substring(column, ",")
        quoted = pc.binary_join_element_wise(pa.scalar('"'), column, pa.scalar('"'), "")
        fields.append(pc.if_else(needs, quoted, column))
    fields[-1] = pc.binary_join_element_wise(fields[-1], pa.scalar("\n"), "")
    lines = pc.binary_join_element_wise(*fields, ",")
    out = bytearray()
    for chunk in lines.chunks:
        # A string array's data buffer is its values back to back: the CSV text.
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset:]
        data = chunk.buffers()[2]
        out += memoryview(data)[offsets[0]:offsets[len(chunk)]]
    return bytes(out)


def plant(rng: np.random.Generator, text: pa.Array, mask: np.ndarray, choices: list[str]
          ) -> pa.Array:
    """Replace the masked values by random picks from `choices`."""
    picks = np.array(choices, dtype=object)[rng.integers(0, len(choices), int(mask.sum()))]
    return pc.replace_with_mask(text, pa.array(mask), pa.array(picks, pa.string()))


def padded_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return pc.binary_join_element_wise(
        pa.scalar(prefix), pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0"), "")


class Generator:
    def __init__(self, lines: int, seed: int, chunk: int):
        self.lines = lines
        self.chunk = chunk
        self.rng = np.random.default_rng(seed)
        self.n_customers = max(1, lines // 20)
        # Heavy-tailed buying activity: a few customers buy a lot.
        weights = self.rng.lognormal(0.0, 1.0, self.n_customers)
        self.customer_cdf = np.cumsum(weights / weights.sum())
        self.customer_cdf[-1] = 1.0
        self.sku_category = self.rng.integers(0, len(CATEGORIES), N_SKUS)
        self.sku_brand = self.rng.integers(0, len(BRANDS), N_SKUS)
        self.sku_price = np.round(self.rng.lognormal(4.6, 0.9, N_SKUS) * 100).astype(np.int64)
        self.sku_price = np.clip(self.sku_price, 100, 2_000_000)  # 1.00 .. 20,000.00
        self.sku_text = padded_ids("SKU", np.arange(N_SKUS), 5)
        self.category_text = pa.array(CATEGORIES)
        self.brand_text = pa.array(BRANDS)
        self.next_order = 0
        # truth
        self.read = 0
        self.duplicates = 0
        self.rejected = {reason: 0 for reason, _ in REJECTS}
        self.net_cents = np.zeros(self.n_customers, dtype=np.int64)
        self.purchase_orders = np.zeros(self.n_customers, dtype=np.int64)
        self.kept_lines = np.zeros(self.n_customers, dtype=np.int64)
        self.return_lines = 0

    def chunk_table(self, rows: int) -> pa.Table:
        rng = self.rng
        n_dup = int(rng.binomial(rows, DUPLICATE_SHARE)) if rows > 1 else 0
        n = rows - n_dup

        # Orders, then their lines; the last order is cut to fit the chunk exactly.
        per_order = rng.integers(1, 7, size=n)  # more than enough orders
        ends = np.cumsum(per_order)
        n_orders = int(np.searchsorted(ends, n)) + 1
        per_order = per_order[:n_orders].copy()
        per_order[-1] -= int(ends[n_orders - 1] - n)
        order_customer = np.searchsorted(self.customer_cdf, rng.random(n_orders))
        order_time = START + rng.integers(0, SPAN_SECONDS, n_orders).astype("timedelta64[s]")
        order_channel = rng.choice(len(CHANNELS), size=n_orders, p=CHANNEL_P)
        order_sku = rng.integers(0, N_SKUS, n_orders)
        order_number = self.next_order + np.arange(n_orders, dtype=np.int64)
        self.next_order += n_orders

        line_order = np.repeat(np.arange(n_orders), per_order)
        line_no = np.arange(n) - np.repeat(np.cumsum(per_order) - per_order, per_order)
        # Distinct SKUs within an order, so no two generated rows are identical by accident.
        sku = (order_sku[line_order] + line_no * 2919) % N_SKUS
        customer = order_customer[line_order]
        quantity = np.minimum(rng.geometric(0.6, n), 10).astype(np.int64)
        is_return = rng.random(n) < RETURN_SHARE
        quantity = np.where(is_return, -quantity, quantity)
        price = self.sku_price[sku]
        cents = quantity * price

        # One draw decides each row's planted problem (0 = none).
        draw = rng.random(n)
        reason = np.zeros(n, dtype=np.int8)
        edge = 0.0
        for i, (_, share) in enumerate(REJECTS, start=1):
            reason[(draw >= edge) & (draw < edge + share)] = i
            edge += share
        kept = reason == 0

        # Strings.
        customer_text = padded_ids("C", customer, 8)
        padded = (rng.random(n) < PADDED_ID_SHARE) & kept
        customer_text = pc.if_else(
            pa.array(padded),
            pc.binary_join_element_wise(pa.scalar(" "), customer_text, pa.scalar("  "), ""),
            customer_text)
        customer_text = pc.if_else(pa.array(reason == 1), pa.scalar(""), customer_text)

        # Casting a timestamp[s] to string writes "YYYY-MM-DD HH:MM:SS" (strftime is 20x slower).
        when_text = pc.cast(pa.array(order_time), pa.string()).take(pa.array(line_order))
        for code, choices in ((2, BAD_TIMESTAMPS), (3, OUT_OF_RANGE)):
            when_text = plant(rng, when_text, reason == code, choices)
        quantity_text = plant(rng, pc.cast(pa.array(quantity), pa.string()), reason == 4,
                              BAD_QUANTITIES)
        amount_text = yuan_text(cents)
        messy = kept & (rng.random(n) < MESSY_AMOUNT_SHARE)
        styles = rng.integers(0, 10, int(messy.sum()))
        amount_text = pc.replace_with_mask(amount_text, pa.array(messy), pa.array(
            [messy_amount(int(c), int(s)) for c, s in zip(cents[messy], styles)], pa.string()))
        amount_text = plant(rng, amount_text, reason == 5, BAD_AMOUNTS)

        table = pa.table({
            "customer_id": customer_text,
            "order_id": padded_ids("O", order_number[line_order], 10),
            "ordered_at": when_text,
            "channel": pa.array(CHANNELS[order_channel[line_order]]),
            "sku": self.sku_text.take(pa.array(sku)),
            "category": self.category_text.take(pa.array(self.sku_category[sku])),
            "brand": self.brand_text.take(pa.array(self.sku_brand[sku])),
            "quantity": quantity_text,
            "unit_price": yuan_text(price),
            "amount": amount_text,
        })

        # Exact copies of kept rows, each placed shortly after its original.
        if n_dup:
            source = rng.choice(np.flatnonzero(kept), size=n_dup, replace=False)
            position = np.concatenate([np.arange(n, dtype=np.float64),
                                       source + rng.uniform(0.5, 500.0, n_dup)])
            order = np.argsort(position, kind="stable")
            table = table.take(pa.array(np.concatenate([np.arange(n), source])[order]))

        # Truth.
        self.read += rows
        self.duplicates += n_dup
        for i, (name, _) in enumerate(REJECTS, start=1):
            self.rejected[name] += int(np.count_nonzero(reason == i))
        self.net_cents += np.bincount(customer[kept], weights=cents[kept],
                                      minlength=self.n_customers).round().astype(np.int64)
        self.kept_lines += np.bincount(customer[kept], minlength=self.n_customers)
        self.return_lines += int(np.count_nonzero(kept & is_return))
        purchase = kept & ~is_return
        has_purchase = np.zeros(n_orders, dtype=bool)
        has_purchase[line_order[purchase]] = True
        self.purchase_orders += np.bincount(order_customer[has_purchase],
                                            minlength=self.n_customers)
        return table

    def truth(self, fmt: str, seed: int) -> dict:
        rejected = sum(self.rejected.values())
        kept = self.read - rejected - self.duplicates
        buyers = self.kept_lines > 0
        return {
            "about": "expected `custseg ingest` summary for this generated export, computed by "
                     "bench/gen_orders.py from its own arrays",
            "generator": {"lines": self.lines, "seed": seed, "format": fmt,
                          "customers": self.n_customers},
            "sources": [{
                "name": "orders", "kind": "orders", "files": 1,
                "read": self.read, "kept": kept, "rejected": rejected,
                "duplicates": self.duplicates,
                "rejected_by_reason": {k: v for k, v in sorted(self.rejected.items()) if v},
            }],
            "orders": {
                "lines_kept": kept,
                "return_lines": self.return_lines,
                "customers": int(np.count_nonzero(buyers)),
                "purchase_orders": int(self.purchase_orders.sum()),
                "net_amount": round(int(self.net_cents.sum()) / 100, 2),
            },
        }

    def write_customers(self, path: Path) -> None:
        ids = np.flatnonzero(self.kept_lines > 0)
        table = pa.table({
            "customer_id": padded_ids("C", ids, 8),
            "net_amount": yuan_text(self.net_cents[ids]),
            "orders": pa.array(self.purchase_orders[ids]),
        })
        with open(path, "wb") as out:
            out.write(b"customer_id,net_amount,orders\n")
            orders = pc.cast(table["orders"], pa.string())
            out.write(csv_lines(table.set_column(2, "orders", orders)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000,
                        help="rows to write, duplicates included")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows generated at a time")
    args = parser.parse_args()
    if args.lines < 1 or args.chunk < 1:
        parser.error("--lines and --chunk must be positive")

    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"orders.{args.format}"
    data_path = args.out / name
    partial = args.out / f".{name}.partial"
    gen = Generator(args.lines, args.seed, args.chunk)
    schema = pa.schema([(c, pa.string()) for c in COLUMNS])
    if args.format == "csv":
        writer = open(partial, "wb")
        writer.write((",".join(COLUMNS) + "\n").encode("utf-8"))
    else:
        writer = pq.ParquetWriter(partial, schema, compression="zstd")
    remaining = args.lines
    while remaining:
        rows = min(args.chunk, remaining)
        table = gen.chunk_table(rows)
        if args.format == "csv":
            writer.write(csv_lines(table))
        else:
            writer.write_table(table)
        remaining -= rows
    writer.close()
    partial.replace(data_path)

    (args.out / "custseg.toml").write_text(
        CONFIG.format(lines=args.lines, seed=args.seed, file=name, format=args.format),
        encoding="utf-8")
    gen.write_customers(args.out / "truth_customers.csv")
    truth = gen.truth(args.format, args.seed)
    (args.out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n",
                                         encoding="utf-8")
    size = data_path.stat().st_size / 2**20
    print(f"gen_orders: {args.lines:,} rows, {gen.n_customers:,} customers, {size:,.1f} MiB "
          f"in {time.monotonic() - started:.1f} s -> {data_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
