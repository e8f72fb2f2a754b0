#!/usr/bin/env bash
# The checks of scripts/test.sh, run inside its D-Bus session. Not meant to be run alone.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || die "run scripts/test.sh, not this file"

start_keyring() {
  # An unlocked login keyring in the private XDG_DATA_HOME serves the Secret Service.
  printf 'copydesk-test' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
}

cargo_tests() {
  set -o pipefail
  cargo test --workspace 2>&1 | tee "$CACHE_DIR/cargo-test.log"
  local rc=$?
  count_cargo < "$CACHE_DIR/cargo-test.log"
  return $rc
}

ui_tests() {
  (cd ui && npx vitest run --reporter=default --reporter=json --outputFile="$CACHE_DIR/vitest.json")
  local rc=$?
  node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests)' \
    "$CACHE_DIR/vitest.json" >> "$TEST_COUNTS_FILE"
  return $rc
}

step "secret service" start_keyring
step "ui build" bash -c 'cd ui && npm run --silent build'
step "cargo fmt --check" cargo fmt --all --check
step "cargo clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
step "ui type check" bash -c 'cd ui && npm run --silent check'
step "ui unit tests" ui_tests
step "cargo test" cargo_tests
if [ -x tests/external/run.sh ]; then
  step "third-party clients against the simulator" tests/external/run.sh
fi
step "package and end-to-end (debug .deb unpacked and checked, app window under Xvfb via WebDriver)" bash scripts/e2e.sh
step "package life with real dpkg (install, reinstall, upgrade, remove, purge; the data directory survives)" \
  bash scripts/dpkg-test.sh "$(package_deb debug)"
step "make run without a display (paper mode headless, Ctrl-C)" bash scripts/run-test.sh
