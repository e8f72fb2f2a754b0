#!/usr/bin/env bash
# End-to-end: builds the debug .deb (the app with its UI embedded, and the CLI), unpacks
# it into a scratch directory and checks it (scripts/package-check.sh), starts a virtual
# display, checks single-instance behaviour of the unpacked app (scripts/instance-test.sh),
# then starts tauri-driver (which drives WebKitWebDriver) and runs ui/e2e/ against the
# unpacked app's real window: first start in paper mode, the copy wizard, a copied trade,
# the dashboard (positions, close, pause, activity, chart, panic), start at login. Screenshots of each screen go to docs/screenshots/ (README shows them).
# Teardown checks that no app process is left behind, so a leftover instance never
# swallows the next launch.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# The single-instance plugin finds a running app on the session bus: run in one.
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec dbus-run-session -- bash "$0" "$@"
fi

build_package debug || die "the package did not build"
DEB="$(package_deb debug)"
[ -n "$DEB" ] || die "the build made no .deb"

OUT="$ROOT/target/e2e"
PKG="$OUT/pkg"
rm -rf "$PKG"
mkdir -p "$OUT" "$PKG"
dpkg-deb -x "$DEB" "$PKG" || die "cannot unpack $DEB"
APP_BIN="$PKG/usr/bin/copydesk-app"
export COPYDESK_PACKAGE_VERSION
COPYDESK_PACKAGE_VERSION="$(dpkg-deb -f "$DEB" Version)"
echo "package: $DEB ($COPYDESK_PACKAGE_VERSION, installed size $(dpkg-deb -f "$DEB" Installed-Size) KiB)"
bash "$ROOT/scripts/package-check.sh" "$DEB" "$PKG"
rc_package=$?

pids=()
leftovers() { pids_of_exe "$APP_BIN"; }
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
[ -z "$(leftovers)" ] || die "an app from $PKG is already running (pids $(leftovers | xargs)): stop it first"

# Xvfb picks a free display number and writes it to fd 3.
display_file="$OUT/display"
: > "$display_file"
Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp > "$display_file" 2> "$OUT/xvfb.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$display_file" ] && break; sleep 0.1; done
[ -s "$display_file" ] || die "Xvfb did not start (see $OUT/xvfb.log)"
export DISPLAY=":$(head -n1 "$display_file")"

bash "$ROOT/scripts/instance-test.sh" "$APP_BIN"
rc_instance=$?

# The app started through WebDriver inherits this environment through tauri-driver: a
# fresh data directory (first start) and config directory (the start-at-login test writes
# its entry under XDG_CONFIG_HOME), and a fixed admin token for its embedded simulator,
# which only test (debug) builds read, so the test can make a demo leader trade.
export COPYDESK_DATA_DIR="$OUT/data" XDG_CONFIG_HOME="$OUT/config"
rm -rf "$COPYDESK_DATA_DIR" "$XDG_CONFIG_HOME"
export COPYDESK_TEST_ADMIN_TOKEN="e2e-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

port="$(free_port)"
native_port="$(free_port)"
tauri-driver --port "$port" --native-port "$native_port" > "$OUT/tauri-driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

export COPYDESK_APP_BIN="$APP_BIN" COPYDESK_CLI_BIN="$PKG/usr/bin/copydesk" \
  WEBDRIVER_URL="http://127.0.0.1:$port" E2E_OUT="$OUT" \
  SCREENSHOT_DIR="${SCREENSHOT_DIR:-$ROOT/docs/screenshots}"
# One file at a time: each opens the app on the same data directory, and a second
# instance would hand over to the first and exit.
# E2E_FILES narrows the run (e.g. `E2E_FILES=e2e/shell.test.mjs`); all of e2e/ by default.
(cd ui && node --test --test-concurrency=1 --test-reporter=spec ${E2E_FILES:-e2e/}) 2>&1 | tee "$OUT/node-test.log"
rc=${PIPESTATUS[0]}
# Teardown: every session has ended, so no app may still run.
for _ in $(seq 100); do [ -z "$(leftovers)" ] && break; sleep 0.1; done
if [ -n "$(leftovers)" ]; then
  echo "not ok - the app outlived its end-to-end session (pids $(leftovers | xargs)); stopping it"
  leftovers | xargs -r kill
  rc=1
else
  echo "ok - no app process left after the end-to-end tests"
fi
[ "$rc_package" -eq 0 ] && [ "$rc_instance" -eq 0 ] || rc=1
if [ -n "${TEST_COUNTS_FILE:-}" ]; then
  p=$(sed -nE 's/^ℹ pass ([0-9]+)$/\1/p' "$OUT/node-test.log" | tail -1)
  f=$(sed -nE 's/^ℹ fail ([0-9]+)$/\1/p' "$OUT/node-test.log" | tail -1)
  echo "${p:-0} ${f:-0}" >> "$TEST_COUNTS_FILE"
fi
exit "$rc"
