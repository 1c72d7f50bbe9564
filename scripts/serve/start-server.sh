#!/usr/bin/env bash
# Sourced by the serve scripts: starts `mlflux serve --port 0` in the background, waits for its
# "listening on" line, and exports MLFLUX_URL and MLFLUX_SERVER_PID (killed on exit).
# MLFLUX_BIN: the binary (default .build/release/mlflux); extra serve options in SERVE_ARGS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${MLFLUX_BIN:-$root/.build/release/mlflux}"
[[ -x "$bin" ]] || { echo "no mlflux binary at $bin (swift build -c release, or set MLFLUX_BIN)" >&2; exit 1; }
server_log="$(mktemp)"
# shellcheck disable=SC2086
"$bin" serve --port 0 ${SERVE_ARGS:-} 2>"$server_log" &
MLFLUX_SERVER_PID=$!
trap 'kill "$MLFLUX_SERVER_PID" 2>/dev/null || true; wait "$MLFLUX_SERVER_PID" 2>/dev/null || true; rm -f "$server_log"' EXIT
for _ in $(seq 1 300); do
    if url=$(grep -o 'listening on http://[^ ]*' "$server_log" | head -1 | sed 's/listening on //'); [[ -n "$url" ]]; then break; fi
    kill -0 "$MLFLUX_SERVER_PID" 2>/dev/null || { echo "mlflux serve exited:" >&2; cat "$server_log" >&2; exit 1; }
    sleep 0.1
done
[[ -n "${url:-}" ]] || { echo "mlflux serve did not report its address in 30 s" >&2; exit 1; }
export MLFLUX_URL="$url" MLFLUX_SERVER_PID
echo "server: $MLFLUX_URL (pid $MLFLUX_SERVER_PID)" >&2
