#!/usr/bin/env bash
# End-to-end: builds the app with its UI embedded (and the CLI, for `copydesk status`),
# starts a virtual display and tauri-driver (which drives WebKitWebDriver), and runs ui/e2e/
# against the real window: first start in paper mode, the copy wizard, a copied trade.
# Screenshots of each screen go to docs/screenshots/ (README shows them).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

build_app || die "the app did not build"
cargo build --quiet --bin copydesk || die "the CLI did not build"
APP_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/copydesk-app"
CLI_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/copydesk"
[ -x "$APP_BIN" ] || die "no app binary at $APP_BIN"

OUT="$ROOT/target/e2e"
mkdir -p "$OUT"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

# Xvfb picks a free display number and writes it to fd 3.
display_file="$OUT/display"
: > "$display_file"
Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp > "$display_file" 2> "$OUT/xvfb.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$display_file" ] && break; sleep 0.1; done
[ -s "$display_file" ] || die "Xvfb did not start (see $OUT/xvfb.log)"
export DISPLAY=":$(head -n1 "$display_file")"

# The app inherits this environment through tauri-driver: a fresh data directory (first
# start), and a fixed admin token for its embedded simulator, which only test (debug)
# builds read, so the test can make a demo leader trade.
export COPYDESK_DATA_DIR="$OUT/data"
rm -rf "$COPYDESK_DATA_DIR"
export COPYDESK_TEST_ADMIN_TOKEN="e2e-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

port="$(free_port)"
native_port="$(free_port)"
tauri-driver --port "$port" --native-port "$native_port" > "$OUT/tauri-driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

export COPYDESK_APP_BIN="$APP_BIN" COPYDESK_CLI_BIN="$CLI_BIN" WEBDRIVER_URL="http://127.0.0.1:$port" \
  E2E_OUT="$OUT" SCREENSHOT_DIR="${SCREENSHOT_DIR:-$ROOT/docs/screenshots}"
(cd ui && node --test --test-reporter=spec e2e/) 2>&1 | tee "$OUT/node-test.log"
rc=${PIPESTATUS[0]}
if [ -n "${TEST_COUNTS_FILE:-}" ]; then
  p=$(sed -nE 's/^ℹ pass ([0-9]+)$/\1/p' "$OUT/node-test.log" | tail -1)
  f=$(sed -nE 's/^ℹ fail ([0-9]+)$/\1/p' "$OUT/node-test.log" | tail -1)
  echo "${p:-0} ${f:-0}" >> "$TEST_COUNTS_FILE"
fi
exit "$rc"
