#!/usr/bin/env bash
# at_risk_mailing.sh: the mailing list of one RFM segment, straight from an orders export.
#
#   orders CSV ─▶ custseg rfm - ─▶ custseg segment - --where "segment = '…'" ─▶ join e-mails ─▶ CSV
#
#   usage: at_risk_mailing.sh [ORDERS] [CUSTOMERS] > mailing.csv
#     ORDERS     orders CSV with canonical columns (customer_id, order_id, ordered_at, amount ...);
#                "-" reads it from stdin                     [default: -]
#     CUSTOMERS  CSV with customer_id, email and (optional) opt_in columns, in any order
#                                                            [default: data/customers.csv here]
#   environment:
#     CUSTSEG    the custseg binary                          [default: custseg on PATH]
#     AS_OF      YYYY-MM-DD or "today"                       [default: today]
#     SEGMENT    the named segment                           [default: At Risk]
#
# Writes "email,name,customer_id,recency_days,frequency,monetary" to stdout, one row per member of
# the segment with a usable address, sorted by customer_id. Members who opted out (opt_in N) or
# have no address are counted on stderr. A customer id of the form email:<address> (web shoppers
# the CRM does not know, as custseg ingest names them) is its own address. The join is plain awk:
# it expects CSV without quoted commas in these columns.
#
# Example (the data in examples/pipelines/data/):
#   AS_OF=2025-01-01 examples/pipelines/at_risk_mailing.sh < examples/pipelines/data/orders.csv
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
orders=${1:--}
customers=${2:-$here/data/customers.csv}
as_of=${AS_OF:-today}
segment=${SEGMENT:-At Risk}
custseg=$(command -v "${CUSTSEG:-custseg}" || true)
if [[ -z $custseg ]]; then
  echo "at_risk_mailing.sh: custseg not found: set CUSTSEG or put custseg on PATH" >&2
  exit 2
fi
if [[ ! -r $customers ]]; then
  echo "at_risk_mailing.sh: cannot read customers file $customers" >&2
  exit 2
fi

# SQL string literal: double any single quote ("Can't Lose Them" -> 'Can''t Lose Them').
literal="'${segment//\'/\'\'}'"

"$custseg" rfm "$orders" --as-of "$as_of" --format csv --quiet |
  "$custseg" segment - --where "segment = $literal" --format csv --quiet |
  awk -F, -v customers="$customers" -v segment="$segment" '
    # The field number of a header name in the current record (0 when absent).
    function column(name,    i) {
      for (i = 1; i <= NF; i++) if ($i == name) return i
      return 0
    }
    BEGIN {
      # customer_id -> e-mail (trimmed, lower case) and name, unless the customer opted out.
      while ((getline line < customers) > 0) {
        gsub(/\r/, "", line)
        n = split(line, f, ",")
        if (!header_seen) {
          for (i = 1; i <= n; i++) at[f[i]] = i
          header_seen = 1
          if (!("customer_id" in at) || !("email" in at)) break
          continue
        }
        id = f[at["customer_id"]]
        if (("opt_in" in at) && toupper(f[at["opt_in"]]) == "N") { opted_out[id] = 1; continue }
        mail = tolower(f[at["email"]]); gsub(/^[ \t]+|[ \t]+$/, "", mail)
        if (mail != "") { email[id] = mail; name[id] = ("name" in at) ? f[at["name"]] : "" }
      }
      close(customers)
      if (!("customer_id" in at) || !("email" in at)) {
        print "at_risk_mailing.sh: " customers " needs customer_id and email columns" > "/dev/stderr"
        bad = 1
        exit 2
      }
    }
    NR == 1 {
      c_id = column("customer_id"); c_r = column("recency_days")
      c_f = column("frequency"); c_m = column("monetary")
      print "email,name,customer_id,recency_days,frequency,monetary"
      next
    }
    {
      id = $c_id; members++
      if (id in opted_out) { skipped_opt_out++; next }
      mail = (id in email) ? email[id] : ""
      if (mail == "" && id ~ /^email:/) mail = substr(id, 7)
      if (mail == "") { skipped_no_address++; next }
      print mail "," name[id] "," id "," $c_r "," $c_f "," $c_m
      written++
    }
    END {
      if (bad) exit 2
      printf "at_risk_mailing.sh: segment \"%s\": %d members, %d addresses, %d opted out, %d without an address\n",
        segment, members, written, skipped_opt_out, skipped_no_address > "/dev/stderr"
    }'
