#!/usr/bin/env python3
"""Parity of `custseg sql` with the local commands: runs a generated query in DuckDB (or, with
--engine spark, in Spark local mode) over an orders parquet file and compares the result, row by
row, with the table the local command wrote.

    duckdb_parity.py --sql rfm.sql --orders out/orders.parquet --expected rfm.parquet
    duckdb_parity.py --sql join.sql --orders out/orders.parquet --triples triples.parquet \
        --expected clv.parquet --columns customer_id,x,t_x,T,mean_repeat_spend,clv
    duckdb_parity.py --engine spark --sql rfm.sql ... --plan plan.txt
    duckdb_parity.py --sql hist.sql --orders out/orders.parquet --export hist.parquet

With --export the result is written to one parquet file with the engine's column types (the
btyd-histogram exported for `custseg clv --from-histogram`) and nothing is compared.

The query must read the orders from a table named `orders` (and the predictions from one named
`triples`): `custseg sql JOB --orders orders --triples triples`. Both tables are registered as
views of the given parquet files.

Rules: the same column names in the same order (or the subset given with --columns, all of them
required in the engine's result); the same number of rows; rows matched after sorting both
tables by --key (default: the first column; for btyd-histogram pass
part,x,t_x,T,mean_repeat_spend); integers, dates, strings, booleans and nulls equal; floats
within 1e-9 relative (absolute 1e-12 near zero); the kind of each column (integer, float, date,
string) equal. Prints one PASS line (saying how many floats differ in their last bits, if any)
or a FAIL line (with the first differences) and exits 0 or 1; exit
2 for bad arguments or a query the engine refuses.

The engine session runs in a time zone other than the data's (America/Los_Angeles) to show that
the local dates do not depend on it.
"""

import argparse
import datetime as dt
import decimal
import math
import sys

SESSION_ZONE = "America/Los_Angeles"
REL_TOL = 1e-9
ABS_TOL = 1e-12


def kind(value):
    """integer, float, date, string, bool or None for one Python value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, decimal.Decimal):
        return "decimal"
    if isinstance(value, dt.datetime):
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def equal(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return False
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)
    return a == b


def read_expected(path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    names = table.column_names
    columns = [table.column(n).to_pylist() for n in names]
    return names, [list(r) for r in zip(*columns)] if columns else []


def collapse_to_histogram(names, rows):
    """The btyd-histogram of a per-customer table with x, t_x, T, mean_repeat_spend (the local
    `custseg clv` output): part 'triple' = distinct (x, t_x, T) with counts, part 'spend' =
    distinct (x, mean_repeat_spend) with counts; the documented interchange format."""
    x, tx, age, m = (names.index(c) for c in ("x", "t_x", "T", "mean_repeat_spend"))
    triples, spend = {}, {}
    for r in rows:
        k = (r[x], r[tx], r[age])
        triples[k] = triples.get(k, 0) + 1
        k = (r[x], r[m])
        spend[k] = spend.get(k, 0) + 1
    out = [["triple", a, b, c, None, n] for (a, b, c), n in triples.items()]
    out += [["spend", a, None, None, b, n] for (a, b), n in spend.items()]
    return ["part", "x", "t_x", "T", "mean_repeat_spend", "customers"], out


def run_duckdb(sql, orders, triples, threads, export=None):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET TimeZone = '{SESSION_ZONE}'")
    con.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet('{orders}')")
    if triples:
        con.execute(f"CREATE VIEW triples AS SELECT * FROM read_parquet('{triples}')")
    if export:
        rel = con.sql(sql.strip().rstrip(";"))
        # to_arrow_table in DuckDB 1.4 and later, arrow before.
        table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
        write_parquet(table, export)
        return table.column_names, table.num_rows, None
    cur = con.execute(sql.strip().rstrip(";"))
    names = [d[0] for d in cur.description]
    return names, [list(r) for r in cur.fetchall()], None


def write_parquet(table, path):
    import pyarrow.parquet as pq

    pq.write_table(table, path)


def run_spark(sql, orders, triples, threads, export=None):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{int(threads)}]")
        .appName("custseg-parity")
        .config("spark.sql.session.timeZone", SESSION_ZONE)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        # Small test tables would all be broadcast; keep the shuffles of the real plan.
        .config("spark.sql.autoBroadcastJoinThreshold", "-1")
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.read.parquet(orders).createOrReplaceTempView("orders")
    if triples:
        spark.read.parquet(triples).createOrReplaceTempView("triples")
    df = spark.sql(sql.strip().rstrip(";"))
    plan = df._jdf.queryExecution().executedPlan().toString()
    if export:
        # A small table (a histogram): collected as Arrow, written as one file locally.
        table = df.toArrow()
        write_parquet(table, export)
        return table.column_names, table.num_rows, plan
    names = df.columns
    rows = [list(r) for r in df.collect()]
    return names, rows, plan


def sort_key(row, idx):
    out = []
    for i in idx:
        v = row[i]
        out.append((v is None, "" if v is None else v))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sql", required=True, help="file with the generated query")
    ap.add_argument("--orders", required=True, help="orders parquet, registered as view `orders`")
    ap.add_argument("--triples", help="predictions parquet, registered as view `triples`")
    ap.add_argument("--expected", help="the local command's parquet output")
    ap.add_argument("--export", help="write the result to this parquet file; compare nothing")
    ap.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    ap.add_argument("--key", default=None, help="comma-separated sort columns")
    ap.add_argument("--columns", default=None, help="compare only these columns")
    ap.add_argument(
        "--histogram-of-expected",
        action="store_true",
        help="collapse --expected (a custseg clv output) into the btyd-histogram first",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--plan", help="(spark) write the executed physical plan here")
    ap.add_argument("--label", default=None, help="name printed on the PASS/FAIL line")
    args = ap.parse_args()
    label = args.label or args.sql

    with open(args.sql, encoding="utf-8") as f:
        sql = f.read()
    if not (args.expected or args.export):
        ap.error("one of --expected and --export is needed")
    runner = run_duckdb if args.engine == "duckdb" else run_spark
    try:
        got_names, got_rows, plan = runner(
            sql, args.orders, args.triples, args.threads, args.export
        )
    except Exception as e:  # the engine refused the query: a usage problem of the SQL
        print(f"FAIL  {label} ({args.engine}): the engine refused the query: {e}")
        return 2
    if plan is not None and args.plan:
        with open(args.plan, "w", encoding="utf-8") as f:
            f.write(plan)
    if args.export:
        print(f"WROTE {label} ({args.engine}): {got_rows} rows, columns {','.join(got_names)}")
        return 0
    exp_names, exp_rows = read_expected(args.expected)
    if args.histogram_of_expected:
        exp_names, exp_rows = collapse_to_histogram(exp_names, exp_rows)

    problems = []
    if args.columns:
        wanted = args.columns.split(",")
    else:
        wanted = exp_names
        if got_names != exp_names:
            problems.append(f"columns differ: engine {got_names}, local {exp_names}")
    missing = [c for c in wanted if c not in got_names or c not in exp_names]
    if missing:
        print(f"FAIL  {label} ({args.engine}): columns missing: {missing} (engine {got_names}, local {exp_names})")
        return 1
    gi = [got_names.index(c) for c in wanted]
    ei = [exp_names.index(c) for c in wanted]
    got = [[r[i] for i in gi] for r in got_rows]
    exp = [[r[i] for i in ei] for r in exp_rows]
    keys = args.key.split(",") if args.key else [wanted[0]]
    ki = [wanted.index(k) for k in keys]
    got.sort(key=lambda r: sort_key(r, ki))
    exp.sort(key=lambda r: sort_key(r, ki))
    if len(got) != len(exp):
        problems.append(f"rows differ: engine {len(got)}, local {len(exp)}")
        gk = {tuple(sort_key(r, ki)) for r in got}
        ek = {tuple(sort_key(r, ki)) for r in exp}
        only_g = sorted(gk - ek)[:5]
        only_e = sorted(ek - gk)[:5]
        problems.append(f"only in the engine: {only_g}; only local: {only_e}")
    kinds = {}
    inexact = 0  # floats equal within the tolerance but not in every bit
    for g, e in zip(got, exp):
        for j, c in enumerate(wanted):
            kg, ke = kind(g[j]), kind(e[j])
            if kg is not None and ke is not None:
                kinds.setdefault(c, set()).add((kg, ke))
            if kg == "float" and ke == "float" and g[j] != e[j] and equal(g[j], e[j]):
                inexact += 1
            if not equal(g[j], e[j]):
                if len(problems) < 12:
                    problems.append(f"{[e[i] for i in ki]} {c}: engine {g[j]!r}, local {e[j]!r}")
                else:
                    problems.append("...")
                    break
        if problems and problems[-1] == "...":
            break
    for c, pairs in sorted(kinds.items()):
        for kg, ke in sorted(pairs):
            if kg != ke:
                problems.append(f"column {c}: engine gives {kg} values, local {ke}")
    if problems:
        print(f"FAIL  {label} ({args.engine}): {len(exp)} local rows")
        for p in problems:
            print(f"      {p}")
        return 1
    bits = f"; {inexact} floats not bit-identical" if inexact else ""
    print(f"PASS  {label} ({args.engine}): {len(exp)} rows x {len(wanted)} columns equal{bits}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
