#!/usr/bin/env bash
# 32 clients × 20 requests against POST /api/v1/predict (glycolysis, the example state's MIDs
# with σ 0.005) on loopback; see load-test.py. Usage: scripts/serve/load-test.sh [CLIENTS] [REQUESTS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/start-server.sh"
bin="${MLFLUX_BIN:-$root/.build/release/mlflux}"
mids="$(mktemp)"
trap 'rm -f "$mids"; kill "$MLFLUX_SERVER_PID" 2>/dev/null || true' EXIT
"$bin" simulate --model glycolysis --fluxes "$root/Plugins/glycolysis/fluxes.json" --format csv > "$mids"
python3 "$here/load-test.py" "$MLFLUX_URL" "$MLFLUX_SERVER_PID" "$mids" --clients "${1:-32}" --requests "${2:-20}"
