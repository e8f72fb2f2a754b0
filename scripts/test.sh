#!/usr/bin/env bash
# README's test command: installs what is missing, then runs every check inside one D-Bus
# session with an unlocked Secret Service and private XDG directories (so no test touches
# the user's own keychain or settings). Prints each step's time; fails on the first failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

mkdir -p "$CACHE_DIR"
export STEP_TIMES_FILE="$CACHE_DIR/step-times.txt" TEST_COUNTS_FILE="$CACHE_DIR/test-counts.txt"
: > "$STEP_TIMES_FILE"
: > "$TEST_COUNTS_FILE"
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=0
fi
export RUST_BACKTRACE=1 CARGO_TERM_COLOR=never

step "system packages" ensure_packages test
ensure_toolchains
step "npm packages" ensure_node_modules
step "tauri-driver" ensure_tauri_driver

# Private XDG directories: the keyring, WebKit and the app write there, not in $HOME.
TEST_HOME="$CACHE_DIR/test-home"
rm -rf "$TEST_HOME"
mkdir -p "$TEST_HOME"/{data,config,cache,state,runtime}
chmod 700 "$TEST_HOME/runtime"
export XDG_DATA_HOME="$TEST_HOME/data" XDG_CONFIG_HOME="$TEST_HOME/config" \
  XDG_CACHE_HOME="$TEST_HOME/cache" XDG_STATE_HOME="$TEST_HOME/state" \
  XDG_RUNTIME_DIR="$TEST_HOME/runtime"

dbus-run-session -- bash "$ROOT/scripts/test-session.sh"
rc=$?
print_times
print_counts
exit $rc
