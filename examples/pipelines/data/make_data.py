#!/usr/bin/env python3
"""Writes orders.csv and customers.csv next to this file: a small canonical export (customer_id,
order_id, ordered_at, channel, category, amount) of 30 customers in 2024, seeded, so the cookbook
pipelines have something to read on stdin. Standard library only; rerunning gives the same bytes.

Customer profiles (as of 2025-01-01), so every built-in RFM segment family shows up:
  K01-K06  regulars: an order every 1-3 weeks all year, large baskets
  K07-K12  were regulars with small baskets until the summer, nothing since (At Risk: the
           mailing list; K08 opted out of mail, K09 left no e-mail address)
  K13-K18  occasional buyers, a few orders spread over the year
  K19-K24  one or two orders early in the year, then silence
  K25-K30  first order in December
"""
import csv
import datetime as dt
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20250101)
CATEGORIES = ["tea", "coffee", "gifts", "teaware"]
CHANNELS = ["web", "store", "app"]
FIRST_NAMES = ["Anna", "Ben", "Chen", "Dora", "Emil", "Fang", "Greta", "Hugo", "Ines", "Jun",
               "Kai", "Lena", "Mina", "Nils", "Olga", "Pia", "Quan", "Rosa", "Sven", "Tara",
               "Ugo", "Vera", "Wei", "Xia", "Yara", "Zoe", "Aiko", "Bela", "Cleo", "Dev"]
CITIES = ["Berlin", "Hamburg", "Munich", "Cologne"]


def days(start, end, gap_lo, gap_hi):
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=rng.randint(gap_lo, gap_hi))


def profile(n):
    y = dt.date(2024, 1, 1)
    if n <= 6:
        return days(y + dt.timedelta(days=rng.randint(0, 20)), dt.date(2024, 12, 31), 7, 21), (80, 260)
    if n <= 12:
        return days(y + dt.timedelta(days=rng.randint(0, 20)), dt.date(2024, 7, 15), 8, 20), (10, 25)
    if n <= 18:
        return days(y + dt.timedelta(days=rng.randint(0, 60)), dt.date(2024, 12, 31), 45, 90), (30, 120)
    if n <= 24:
        return days(y + dt.timedelta(days=rng.randint(0, 40)), dt.date(2024, 3, 31), 20, 40), (20, 90)
    return days(dt.date(2024, 12, rng.randint(1, 25)), dt.date(2024, 12, 31), 40, 60), (30, 150)


orders = []
customers = []
for n in range(1, 31):
    cid = f"K{n:02d}"
    name = FIRST_NAMES[n - 1]
    opt_in = "N" if n in (8, 21) else "Y"
    email = "" if n == 9 else f"{name.lower()}.{n:02d}@example.com"
    customers.append([cid, name, email, rng.choice(CITIES), opt_in])
    when, (lo, hi) = profile(n)
    channel = rng.choice(CHANNELS)
    for i, day in enumerate(when):
        at = dt.datetime.combine(day, dt.time(rng.randint(8, 20), rng.choice([0, 15, 30, 45])))
        oid = f"{cid}-{i + 1:03d}"
        for _ in range(rng.choice([1, 1, 2])):
            amount = round(rng.uniform(lo, hi), 2)
            orders.append([cid, oid, at.strftime("%Y-%m-%d %H:%M:%S"),
                           channel if rng.random() < 0.8 else rng.choice(CHANNELS),
                           rng.choice(CATEGORIES), f"{amount:.2f}"])
# One return: K03 sends back part of an order.
orders.append(["K03", "K03-R01", "2024-11-20 12:00:00", "web", "teaware", "-45.00"])
orders.sort(key=lambda r: (r[2], r[0], r[1]))

with open(os.path.join(HERE, "orders.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["customer_id", "order_id", "ordered_at", "channel", "category", "amount"])
    w.writerows(orders)
with open(os.path.join(HERE, "customers.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["customer_id", "name", "email", "city", "opt_in"])
    w.writerows(customers)
