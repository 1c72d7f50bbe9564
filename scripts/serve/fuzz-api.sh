#!/usr/bin/env bash
# Fuzzes the HTTP API against its own OpenAPI description with schemathesis (PyPI): every
# route, generated and mutated bodies; fails on any 5xx, a crash, or a response that does not
# match the description. Usage: scripts/serve/fuzz-api.sh [SECONDS]  (default 120)
# Needs schemathesis on PATH or SCHEMATHESIS=/path/to/schemathesis
# (python3 -m venv /tmp/st && /tmp/st/bin/pip install schemathesis).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
st="${SCHEMATHESIS:-schemathesis}"
command -v "$st" >/dev/null || { echo "schemathesis not found (set SCHEMATHESIS)" >&2; exit 1; }
source "$here/start-server.sh"
"$st" run "$MLFLUX_URL/api/v1/openapi.json" --url "$MLFLUX_URL" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-time "${1:-120}" --workers 2 --suppress-health-check too_slow
kill -0 "$MLFLUX_SERVER_PID" || { echo "the server died during the fuzz run" >&2; exit 1; }
echo "server still alive after the run"
