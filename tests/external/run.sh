#!/usr/bin/env bash
# Runs third-party Binance clients (ccxt, python-binance) against `copydesk sim`.
# Creates .venv/ with pinned versions if missing, starts the simulator on a free loopback
# port, runs every conformance script, stops the simulator, and exits non-zero on failure.
# The binary comes from $COPYDESK_BIN, else ${CARGO_TARGET_DIR:-target}/debug/copydesk.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/external"
VENV="$ROOT/.venv"
BIN="${COPYDESK_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/copydesk}"

if [[ ! -x "$BIN" ]]; then
  echo "copydesk binary not found at $BIN (build it or set COPYDESK_BIN)" >&2
  exit 2
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -r "$HERE/requirements.txt"
fi
PY="$VENV/bin/python"

PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
TOKEN="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
export SIM_BASE="http://127.0.0.1:$PORT" SIM_ADMIN_TOKEN="$TOKEN"

LOG="$(mktemp)"
"$BIN" sim --listen "127.0.0.1:$PORT" --admin-token "$TOKEN" >"$LOG" 2>&1 &
SIM_PID=$!
stop_sim() {
  if kill -0 "$SIM_PID" 2>/dev/null; then
    kill -INT "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
  fi
}
trap stop_sim EXIT

for _ in $(seq 1 100); do
  if "$PY" -c "import urllib.request,sys; urllib.request.urlopen('$SIM_BASE/fapi/v1/ping', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SIM_PID" 2>/dev/null; then
    echo "simulator exited early:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.1
done

status=0
for script in ccxt_conformance.py python_binance_smoke.py; do
  echo "== $script"
  if ! (cd "$HERE" && "$PY" "$script"); then
    echo "== $script FAILED" >&2
    status=1
  fi
done

kill -INT "$SIM_PID"
if ! wait "$SIM_PID"; then
  echo "simulator did not stop cleanly on SIGINT" >&2
  status=1
fi
trap - EXIT
exit "$status"
