#!/usr/bin/env bash
# weekly.sh: the Monday job. Runs `custseg run` for the as-of date (today by default) into OUT,
# keeps custseg's exit status, saves the one-screen summary next to the reports and appends one
# line per run to a log file. Silent when all is well, so cron only mails when there is news.
#
#   usage: weekly.sh [CONFIG] [OUT]
#     CONFIG  the sources config          [default: examples/shop/custseg.toml]
#     OUT     the report directory        [default: /tmp/custseg-weekly]
#
#   environment:
#     CUSTSEG          the custseg binary                            [default: custseg on PATH]
#     AS_OF            YYYY-MM-DD or "today" (in the config's zone)   [default: today]
#     MAX_REJECT_RATE  share of a source's rows that may be rejected  [default: 0.05]
#     MAIL_TO          mail warnings and failures there with mail(1); without it they go to
#                      stderr, which cron mails to its MAILTO
#     LOG              the log file                                  [default: OUT/custseg.log]
#
# Exit status (custseg's own, see docs/cookbook.md):
#   0  reports written; nothing printed
#   3  reports written, but a source rejected more than MAX_REJECT_RATE of its rows: a warning
#      is sent and the reports stay (look at OUT/ingest-DATE/rejects.csv)
#   1  runtime failure, 2 usage/config/input error (130 interrupted): a failure is sent; custseg
#      stages everything and publishes at the end, so nothing of this run is in OUT and earlier
#      weeks' files are untouched
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${1:-$here/../shop/custseg.toml}
out=${2:-/tmp/custseg-weekly}
as_of=${AS_OF:-today}
max_reject_rate=${MAX_REJECT_RATE:-0.05}

mkdir -p "$out"
log=${LOG:-$out/custseg.log}

# One line per run: time, as-of, exit status, outcome and the reason.
log_line() {
  printf '%s weekly as_of=%s exit=%s %s\n' "$(date '+%Y-%m-%dT%H:%M:%S%z')" "$1" "$2" "$3" >>"$log"
}

# Sends a message: subject as $1, body on stdin.
notify() {
  if [[ -n ${MAIL_TO:-} ]] && command -v mail >/dev/null 2>&1; then
    mail -s "$1" "$MAIL_TO" || echo "weekly.sh: could not mail $MAIL_TO" >&2
  else
    { echo "$1"; cat; } >&2
  fi
}

custseg=$(command -v "${CUSTSEG:-custseg}" || true)
if [[ -z $custseg || ! -x $custseg ]]; then
  log_line "$as_of" 2 "failed: custseg not found (set CUSTSEG or put custseg on PATH)"
  echo "weekly.sh: custseg not found: set CUSTSEG=/path/to/custseg or put custseg on PATH" >&2
  exit 2
fi

summary=$(mktemp "$out/.weekly-summary.XXXXXX")
errors=$(mktemp "$out/.weekly-errors.XXXXXX")
trap 'rm -f "$summary" "$errors"' EXIT

status=0
"$custseg" run --config "$config" --as-of "$as_of" --out "$out" \
  --max-reject-rate "$max_reject_rate" --quiet >"$summary" 2>"$errors" || status=$?

# The summary's first line names the resolved date: "custseg run, as of 2025-01-06 (Europe/Berlin)".
date=$(sed -n '1s/^custseg run, as of \([0-9-]*\).*/\1/p' "$summary")
date=${date:-$as_of}

case $status in
  0)
    mv "$summary" "$out/summary-$date.txt"
    log_line "$date" 0 "ok: $(grep -m1 '^VIP alerts:' "$out/summary-$date.txt" || echo 'reports written')"
    ;;
  3)
    mv "$summary" "$out/summary-$date.txt"
    why=$(sed -n 's/^custseg: check failed: //p' "$errors" | head -n 1)
    log_line "$date" 3 "warning: ${why:-a check failed}"
    {
      echo "The reports for $date were written to $out, but the data-quality check failed:"
      echo "  $why"
      echo "Rejected rows with their reasons: $out/ingest-$date/rejects.csv"
      echo
      cat "$out/summary-$date.txt"
    } | notify "custseg weekly $date: data-quality warning"
    ;;
  *)
    why=$(grep -m1 '^custseg: error: ' "$errors" || head -n 1 "$errors" || true)
    log_line "$date" "$status" "failed: ${why:-no message}"
    {
      echo "custseg run failed with exit status $status; nothing of this run was published to $out."
      echo
      cat "$errors"
    } | notify "custseg weekly $date: FAILED (exit $status)"
    ;;
esac
exit "$status"
