#!/usr/bin/env bash
# Screenshots of an HTML report for eyeballing the page on a desktop and on a phone.
#
#   tests/html/screenshot.sh HTML_FILE PNG_FILE
#
# Writes PNG_FILE (1200 px wide) and, next to it, <stem>.phone.png (390 px wide). Installs the
# Debian `chromium` package when it is missing (needs root). Chromium runs headless in a throwaway
# profile with its own background traffic off. A manual check, not run by `cargo test`; a sample
# page comes from `cargo test --lib report::render::html -- --ignored` (/tmp/custseg-sample.html).
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 HTML_FILE PNG_FILE" >&2
    exit 2
fi
html=$1
png=$2
if [ ! -f "$html" ]; then
    echo "screenshot.sh: error: no such file: $html" >&2
    exit 1
fi

if ! command -v chromium >/dev/null 2>&1; then
    echo "screenshot.sh: installing chromium" >&2
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2
fi

abs_html=$(realpath "$html")
png_dir=$(dirname "$png")
mkdir -p "$png_dir"
abs_png=$(realpath "$png")
case "$abs_png" in
    *.png) phone_png="${abs_png%.png}.phone.png" ;;
    *) phone_png="$abs_png.phone.png" ;;
esac

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

shoot() { # WIDTH OUTPUT
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --window-size="$1,2400" \
        --screenshot="$2" "file://$abs_html" 2>/dev/null
    if [ ! -s "$2" ]; then
        echo "screenshot.sh: error: chromium wrote no screenshot to $2" >&2
        exit 1
    fi
    echo "$2"
}

shoot 1200 "$abs_png"
shoot 390 "$phone_png"
