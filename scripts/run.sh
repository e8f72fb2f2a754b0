#!/usr/bin/env bash
# README's run command: installs what is missing, builds the desktop app with its UI
# embedded, and starts it in paper mode. Without a display it says so and points to the
# headless CLI.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: the CopyDesk window needs one. Headless paper mode: cargo run --release -- demo (see copydesk --help)"
  exit 1
fi

ensure_packages run
ensure_toolchains
ensure_node_modules
say "building CopyDesk (first build takes a few minutes)"
build_package debug || die "the app did not build"
say "starting CopyDesk (paper mode)"
exec "${CARGO_TARGET_DIR:-$ROOT/target}/debug/copydesk-app"
