#!/usr/bin/env bash
# README's run command: installs what is missing, builds the desktop app with its UI
# embedded, and starts it in paper mode. Without a display it runs the same paper mode
# headless (`copydesk demo`) and says how to open the window where there is a display.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  ensure_packages run
  ensure_toolchains
  say "no display found: running paper mode headless (copydesk demo); Ctrl-C stops it"
  say "where there is a display, 'make run' opens the CopyDesk window instead"
  cargo build --quiet --bin copydesk || die "the copydesk command did not build"
  exec "${CARGO_TARGET_DIR:-$ROOT/target}/debug/copydesk" demo
fi

ensure_packages run
ensure_toolchains
ensure_node_modules
say "building CopyDesk (first build takes a few minutes)"
build_package debug || die "the app did not build"
say "starting CopyDesk (paper mode)"
exec "${CARGO_TARGET_DIR:-$ROOT/target}/debug/copydesk-app"
