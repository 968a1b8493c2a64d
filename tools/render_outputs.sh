#!/usr/bin/env bash
# Render what a reviewer sees, to look at it: the workbook through LibreOffice headless
# (PDF, then one PNG per page with pdftoppm) and the HTML report through headless Chromium
# (PNG). Needs soffice, pdftoppm (poppler-utils) and chromium; builds first if need be.
#
#   tools/render_outputs.sh [OUTDIR]        # default: results/rendered
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results/rendered}
snakemake=${SNAKEMAKE:-.venv/bin/snakemake}
for tool in soffice pdftoppm chromium; do
  command -v "$tool" >/dev/null || { echo "render_outputs: $tool is not on PATH" >&2; exit 2; }
done
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -f results/exosynth.xlsx ] || "$snakemake" --cores 2
"$snakemake" --cores 1 --report results/report.html

# The workbook: every sheet as LibreOffice prints it (the sheets' own page setup).
soffice "-env:UserInstallation=file://$tmp/profile" --headless --convert-to pdf \
  --outdir "$tmp" results/exosynth.xlsx >/dev/null
cp "$tmp/exosynth.pdf" "$out/workbook.pdf"
pdfinfo "$out/workbook.pdf" 2>/dev/null | grep '^Pages' | sed 's/^/workbook /' || true
rm -f "$out"/workbook-*.png
pdftoppm -png -r 70 "$out/workbook.pdf" "$out/workbook"

# The report: its first screen, and the page as tall as it goes.
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --no-first-run --user-data-dir="$tmp/chromium" \
  --hide-scrollbars --window-size=1400,1400 --virtual-time-budget=10000 \
  --screenshot="$out/report.png" "file://$PWD/results/report.html" 2>/dev/null
ls -1 "$out"
