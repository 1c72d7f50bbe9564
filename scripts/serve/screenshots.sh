#!/usr/bin/env bash
# Headless Chromium (Debian package `chromium`) screenshots of the upload page and of the
# glycolysis results page with its flux map: the results page is what `POST /predict` returns
# for the glycolysis example flux state's simulated MIDs (σ 0.005), saved and rendered.
# Usage: scripts/serve/screenshots.sh OUT_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: screenshots.sh OUT_DIR}"
mkdir -p "$out"
browser="${CHROMIUM:-chromium}"
command -v "$browser" >/dev/null || { echo "chromium not found (apt-get install chromium)" >&2; exit 1; }
source "$here/start-server.sh"
bin="${MLFLUX_BIN:-$(cd "$here/../.." && pwd)/.build/release/mlflux}"
work="$(mktemp -d)"
trap 'rm -rf "$work"; kill "$MLFLUX_SERVER_PID" 2>/dev/null || true' EXIT
shot() { "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,"$3" \
             --screenshot="$2" "$1" 2>/dev/null; echo "wrote $2"; }
shot "$MLFLUX_URL/" "$out/upload-page.png" 1000
root="$(cd "$here/../.." && pwd)"
"$bin" simulate --model glycolysis --fluxes "$root/Plugins/glycolysis/fluxes.json" --format csv > "$work/mids.csv"
curl -sS -f -o "$work/results.html" -F model=glycolysis -F predictor=ann -F predictor=hybrid \
    -F stddev=0.005 -F "file=@$work/mids.csv;type=text/csv" "$MLFLUX_URL/predict"
cp "$work/results.html" "$out/glycolysis-results.html"
shot "file://$work/results.html" "$out/glycolysis-results.png" 3200
