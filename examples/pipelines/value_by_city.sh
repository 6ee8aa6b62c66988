#!/usr/bin/env bash
# value_by_city.sh: score once into a Parquet value table, then slice it as often as you like.
#
#   custseg ingest --config CONFIG --out OUT/ingest      (clean and unify the exports)
#   custseg score OUT/ingest -o OUT/value.parquet        (one wide row per buying customer)
#   custseg segment OUT/value.parquet --by city,tier     (customers, revenue and shares per group)
#
#   usage: value_by_city.sh [CONFIG] [OUT] > by_city_tier.csv
#     CONFIG  the sources config     [default: examples/shop/custseg.toml]
#     OUT     the working directory  [default: /tmp/custseg-by-city]
#   environment:
#     CUSTSEG  the custseg binary    [default: custseg on PATH]
#     AS_OF    YYYY-MM-DD or "today" [default: today]
#     BY       the columns to group by, comma-separated [default: city,tier]
#
# Writes OUT/ingest/, OUT/value.parquet and OUT/by_city_tier.csv (the group table, also printed
# to stdout: city, tier, customers, revenue, customer_share, revenue_share; largest revenue
# first). Customers without a city in the CRM have an empty city.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${1:-$here/../shop/custseg.toml}
out=${2:-/tmp/custseg-by-city}
as_of=${AS_OF:-today}
by=${BY:-city,tier}
custseg=$(command -v "${CUSTSEG:-custseg}" || true)
if [[ -z $custseg ]]; then
  echo "value_by_city.sh: custseg not found: set CUSTSEG or put custseg on PATH" >&2
  exit 2
fi

mkdir -p "$out"
"$custseg" ingest --config "$config" --out "$out/ingest" --as-of "$as_of" --quiet
"$custseg" score "$out/ingest" --as-of "$as_of" -o "$out/value.parquet" --quiet
"$custseg" segment "$out/value.parquet" --by "$by" -o "$out/by_city_tier.csv" --quiet
cat "$out/by_city_tier.csv"
