#!/usr/bin/env bash
# clv_fit_score.sh: fit the CLV model monthly, score customers with it weekly.
#
# Refitting every week makes CLV figures move with the noise of one week's data; fitting once a
# month and scoring with the saved parameters keeps them comparable from week to week.
#
#   usage: clv_fit_score.sh fit   INPUT PARAMS.json
#          clv_fit_score.sh score INPUT PARAMS.json OUT
#     INPUT   an ingest directory, an orders file with canonical columns, or the --out directory
#             of `custseg run` / examples/cron/weekly.sh (its newest ingest-DATE folder is used)
#     PARAMS  the parameters file: written by fit, read by score
#     OUT     the scores (format by extension: .parquet, .csv ...), one row per customer
#   environment:
#     CUSTSEG  the custseg binary                               [default: custseg on PATH]
#     AS_OF    calibration end: YYYY-MM-DD or "today"           [default: today]
#     HORIZON  CLV horizon (12m, 52w, 90d ...)                  [default: 12m]
#
# fit also writes the fit report (parameters, standard errors, log-likelihood) to PARAMS with
# .txt instead of .json; its warnings and errors also go to stderr. Exit status is custseg's
# (0 fine, 1 runtime failure, 2 usage or input error).
set -euo pipefail

usage() {
  echo "usage: clv_fit_score.sh fit INPUT PARAMS.json | score INPUT PARAMS.json OUT" >&2
  exit 2
}
[[ $# -ge 3 ]] || usage
mode=$1 input=$2 params=$3
as_of=${AS_OF:-today}
horizon=${HORIZON:-12m}
custseg=$(command -v "${CUSTSEG:-custseg}" || true)
if [[ -z $custseg ]]; then
  echo "clv_fit_score.sh: custseg not found: set CUSTSEG or put custseg on PATH" >&2
  exit 2
fi

# A `custseg run` output directory: use its newest ingest-YYYY-MM-DD folder.
if [[ -d $input && ! -e $input/orders.parquet ]]; then
  newest=$(find "$input" -maxdepth 1 -type d -name 'ingest-*' | sort | tail -n 1)
  if [[ -z $newest ]]; then
    echo "clv_fit_score.sh: $input holds neither orders.parquet nor an ingest-DATE folder" >&2
    exit 2
  fi
  input=$newest
fi

case $mode in
  fit)
    [[ $# -eq 3 ]] || usage
    # The scores of the fit itself are not kept; the report goes next to the parameters, and
    # warnings (e.g. a fit that did not converge) and errors to stderr as well.
    report=${params%.json}.txt
    status=0
    "$custseg" clv "$input" --as-of "$as_of" --horizon "$horizon" --save-params "$params" \
      --format csv 2>"$report" >/dev/null || status=$?
    if [[ $status -ne 0 ]]; then
      cat "$report" >&2
      exit "$status"
    fi
    grep '^custseg: warning: ' "$report" >&2 || true
    ;;
  score)
    [[ $# -eq 4 ]] || usage
    "$custseg" clv "$input" --as-of "$as_of" --horizon "$horizon" --params "$params" -o "$4" --quiet
    ;;
  *) usage ;;
esac
