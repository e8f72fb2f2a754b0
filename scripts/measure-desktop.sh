#!/usr/bin/env bash
# Desktop figures of the release app (docs/benchmarks.md, "Desktop app"): builds it with
# its UI embedded (`tauri build --no-bundle`, the plain release profile; set
# APP_BIN=<binary> to measure one already built), then under Xvfb, in a private D-Bus
# session with private XDG directories and a fresh data directory, runs ui/e2e/measure.mjs
# through tauri-driver: cold start (launch → first IPC reply) and idle memory (PSS of the
# app and its WebKit processes with 5 paper copies running). Prints the machine's load
# before and after: the figures depend on it.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec dbus-run-session -- bash "$0" "$@"
fi

if [ -z "${APP_BIN:-}" ]; then
  (cd ui && npm run --silent build >/dev/null) || die "the UI did not build"
  ui/node_modules/.bin/tauri build --no-bundle --ci || die "the release app did not build"
  APP_BIN="$ROOT/target/release/copydesk-app"
fi
[ -x "$APP_BIN" ] || die "no app binary at $APP_BIN"

OUT="$ROOT/target/measure"
rm -rf "$OUT"
mkdir -p "$OUT"/{data,config,cache,state,runtime,home}
chmod 700 "$OUT/runtime"
export XDG_DATA_HOME="$OUT/home" XDG_CONFIG_HOME="$OUT/config" XDG_CACHE_HOME="$OUT/cache" \
  XDG_STATE_HOME="$OUT/state" XDG_RUNTIME_DIR="$OUT/runtime" COPYDESK_DATA_DIR="$OUT/data"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
: > "$OUT/display"
Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp > "$OUT/display" 2> "$OUT/xvfb.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$OUT/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n1 "$OUT/display")"
port="$(free_port)"
native_port="$(free_port)"
tauri-driver --port "$port" --native-port "$native_port" > "$OUT/tauri-driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

echo "binary: $APP_BIN ($(du -h "$APP_BIN" | cut -f1))"
echo "load before: $(uptime)"
COPYDESK_APP_BIN="$APP_BIN" WEBDRIVER_URL="http://127.0.0.1:$port" node ui/e2e/measure.mjs
rc=$?
echo "load after: $(uptime)"
exit $rc
