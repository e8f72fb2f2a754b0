#!/usr/bin/env bash
# `make run` on a machine without a display (issue 13): with DISPLAY and WAYLAND_DISPLAY
# unset, and a scratch HOME, temp and data directory, `make run` must run paper mode
# headless (`copydesk demo`), say how to open the window where there is a display, copy the
# demo leader's trades (a `fill` line), and stop cleanly on Ctrl-C: SIGINT to its process
# group, as a terminal sends it, then `demo stopped`, no process left, its scratch
# directory removed, and no database written into the data directory. Cheap by design: it reuses the debug CLI the package build made
# (run.sh's `cargo build` finds it up to date, which is checked) and installs nothing.
# Usage: scripts/run-test.sh (after the debug package build, as scripts/test.sh runs it).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/copydesk"
[ -x "$bin" ] || die "no $bin: build the debug package first (scripts/e2e.sh)"
scratch="$ROOT/target/e2e/run"
rm -rf "$scratch"
mkdir -p "$scratch/home" "$scratch/tmp"
log="$scratch/make-run.log"

pgid=""
cleanup() { [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null; }
trap cleanup EXIT

wait_for() { # up to $1 seconds until `${@:2}` succeeds
  local i
  for i in $(seq $(($1 * 10))); do "${@:2}" && return 0; sleep 0.1; done
  return 1
}
# Gone when neither its process group nor (before setsid has made the group) its first
# process is left.
group_gone() { ! kill -0 -- "-$pgid" 2>/dev/null && ! kill -0 "$pgid" 2>/dev/null; }
# Up to $2 seconds until the log has a line matching $1; gives up at once when make run
# has ended.
wait_log() {
  local i
  for i in $(seq $(($2 * 10))); do
    grep -q "$1" "$log" && return 0
    group_gone && { grep -q "$1" "$log"; return; }
    sleep 0.1
  done
  return 1
}

built_before="$(stat -c %Y "$bin")"
# Its own session and process group, as a terminal's foreground job; the toolchain stays
# the user's (a scratch HOME must not hide ~/.cargo and ~/.rustup).
env -u DISPLAY -u WAYLAND_DISPLAY \
  HOME="$scratch/home" TMPDIR="$scratch/tmp" COPYDESK_DATA_DIR="$scratch/data" \
  CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
  setsid make -C "$ROOT" --no-print-directory run < /dev/null > "$log" 2>&1 &
pgid=$!

runs_paper_mode_headless() {
  wait_log "^demo: paper follower with" 120 ||
    fail "no paper-mode demo started: $(cat "$log")" || return 1
  grep -q "no display found: running paper mode headless (copydesk demo)" "$log" ||
    fail "make run did not say it runs headless: $(head -5 "$log")"
}

says_how_to_open_the_window() {
  grep -q "where there is a display, 'make run' opens the CopyDesk window" "$log" ||
    fail "make run did not say how to open the window: $(head -5 "$log")"
}

installs_and_rebuilds_nothing() {
  ! grep -q "installing" "$log" || fail "make run installed something: $(grep installing "$log")" || return 1
  [ "$(stat -c %Y "$bin")" = "$built_before" ] || fail "make run rebuilt $bin"
}

a_copy_copies() {
  # The scalper demo leader trades every few seconds at demo speed; its copy fills.
  wait_log "^fill demo: copied: " 120 ||
    fail "no copied fill within 120 s: $(tail -20 "$log")"
}

ctrl_c_stops_cleanly() {
  kill -INT -- "-$pgid" 2>/dev/null || fail "make run is not running" || return 1
  wait_for 30 group_gone || fail "make run ignored Ctrl-C: $(tail -5 "$log")" || return 1
  wait "$pgid" 2>/dev/null
  pgid=""
  grep -qx "demo stopped" "$log" || fail "the demo did not stop cleanly: $(tail -5 "$log")" || return 1
  [ -z "$(ls -A "$scratch/tmp")" ] || fail "the demo left its scratch directory: $(ls "$scratch/tmp")" || return 1
  # Paper copies of the demo never mix with the user's: no database in the data directory
  # (only its log file goes there).
  [ ! -e "$scratch/data/copydesk.sqlite3" ] || fail "the headless demo wrote a database into the data directory"
}

check "no display: make run runs paper mode headless (copydesk demo)" runs_paper_mode_headless
check "it says how to open the window where there is a display" says_how_to_open_the_window
check "it installs nothing and reuses the built copydesk" installs_and_rebuilds_nothing
check "the demo copy copies the leader's trades (a fill)" a_copy_copies
check "Ctrl-C stops it cleanly: demo stopped, no process left, scratch removed" ctrl_c_stops_cleanly
check_summary "make run (no display)"
