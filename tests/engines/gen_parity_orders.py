#!/usr/bin/env python3
"""Seeded order lines for the engine parity tests, built to hit the edge cases of the rfm and
BTYD definitions. Writes OUT/orders.csv with canonical columns (customer_id, order_id,
ordered_at as naive local time, amount), to be ingested with
`custseg ingest OUT/orders.csv --timezone America/New_York --out DIR`.

    gen_parity_orders.py --out DIR [--seed 7] [--customers 400] [--heterogeneous]

What is planted (besides random customers over 2023-01-01 .. 2024-12-31):
- returns (negative amounts) on later days and on the same day as a purchase;
- several orders on one day (one transaction for the BTYD summary, several for frequency);
- times at 00:xx and 23:xx local, so UTC and local dates differ, across DST changes;
- prices from a short list, so monetary, frequency and recency values tie often;
- R-only: a customer with return lines only (left out of rfm and the summary);
- ZERO: a purchase of 0.00 (a transaction, monetary 0);
- NEG: returns larger than the purchases (negative monetary and repeat spend);
- HALF: monetary 2.01 over 2 orders (avg_order_value 1.005 rounds like polars: 1.0);
- LATE: customers whose first purchase is after 2024-06-30 or 2024-10-01 (the test dates).
With --heterogeneous, random customers also differ in spend level (prices scaled per customer),
purchase pace and churn after each order, so BG/NBD, Pareto/NBD and Gamma-Gamma fits have a
proper maximum (without it every customer follows one process and the fits run off along flat
ridges, e.g. Gamma-Gamma q, gamma -> infinity); the planted customers are the same.
Only the standard library is used; the same seed gives the same file.
"""

import argparse
import datetime as dt
import os
import random

PRICES = [0.0, 9.9, 19.9, 25.0, 49.5, 99.0, 100.0, 199.99, 349.0, 1.01, 1.0]
START = dt.date(2023, 1, 1)
DAYS = 730


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--customers", type=int, default=400)
    ap.add_argument(
        "--heterogeneous",
        action="store_true",
        help="customers differ in spend level, purchase rate and churn (for model fits)",
    )
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    rows = []
    order_no = [0]

    def order(cust, day, lines, hour=None):
        order_no[0] += 1
        oid = f"O{order_no[0]:06d}"
        h = rnd.choice([0, 0, 1, 9, 12, 18, 22, 23, 23]) if hour is None else hour
        t = dt.datetime.combine(day, dt.time(h, rnd.randrange(60), rnd.randrange(60)))
        for amount in lines:
            rows.append((cust, oid, t.strftime("%Y-%m-%d %H:%M:%S"), f"{amount:.2f}"))

    for i in range(a.customers):
        cust = f"C{i:05d}"
        first = rnd.randrange(DAYS)
        if a.heterogeneous:
            # Customers differ: a spend level (prices scaled, to the cent), a purchase rate and
            # a churn probability after each order (BG/NBD's story).
            scale = rnd.gammavariate(4.0, 0.25)
            gap = 60.0 / rnd.gammavariate(2.0, 0.5)
            churn = rnd.betavariate(2.0, 5.0)
            n_orders = 1
            while rnd.random() >= churn and n_orders < 60:
                n_orders += 1
        else:
            scale, gap = 1.0, 60.0
            n_orders = 1 + int(rnd.expovariate(0.5))
        day = START + dt.timedelta(days=first)
        for _ in range(n_orders):
            lines = [
                round(rnd.choice(PRICES) * scale, 2)
                for _ in range(1 + int(rnd.expovariate(1.5)))
            ]
            order(cust, day, lines)
            if rnd.random() < 0.2:  # a second order the same day
                order(cust, day, [rnd.choice(PRICES)])
            if rnd.random() < 0.12:  # a return, same day or later
                later = day + dt.timedelta(days=rnd.choice([0, 0, 3, 20]))
                if later < START + dt.timedelta(days=DAYS):
                    order(cust, later, [-rnd.choice(PRICES[1:])])
            day += dt.timedelta(days=1 + int(rnd.expovariate(1 / gap)))
            if day >= START + dt.timedelta(days=DAYS):
                break

    order("R-only", dt.date(2024, 3, 5), [-25.0])
    order("R-only", dt.date(2024, 5, 6), [-9.9])
    order("ZERO", dt.date(2024, 2, 2), [0.0])
    order("NEG", dt.date(2024, 1, 10), [10.0])
    order("NEG", dt.date(2024, 1, 20), [10.0])
    order("NEG", dt.date(2024, 1, 20), [-50.0])
    order("HALF", dt.date(2024, 4, 1), [1.0])
    order("HALF", dt.date(2024, 4, 2), [1.01])
    order("LATE1", dt.date(2024, 8, 15), [19.9], hour=23)
    order("LATE2", dt.date(2024, 11, 3), [99.0], hour=1)  # the DST change in New York
    order("LATE2", dt.date(2024, 11, 4), [49.5], hour=0)

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "orders.csv"), "w", encoding="utf-8") as f:
        f.write("customer_id,order_id,ordered_at,amount\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    print(f"{len(rows)} lines, {a.customers + 6} customers")


if __name__ == "__main__":
    main()
