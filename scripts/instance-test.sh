#!/usr/bin/env bash
# Process-level checks of the installed app under a virtual display: launching it twice
# shows one window and runs one engine; a `--minimized` start shows no window until the
# next launch brings it forward; while another engine holds the data directory the app
# opens read-only instead of failing. Each app started here is stopped and seen to exit.
# Usage: scripts/instance-test.sh APP_BINARY (needs DISPLAY and a D-Bus session bus).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

app="$1"
[ -x "$app" ] || die "usage: $0 APP_BINARY"
[ -n "${DISPLAY:-}" ] || die "needs DISPLAY (a virtual display: see scripts/e2e.sh)"
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || die "needs a D-Bus session (the single-instance plugin finds the running app there)"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/copydesk-instance.XXXXXX")"
export COPYDESK_DATA_DIR="$scratch/data" XDG_CONFIG_HOME="$scratch/config" \
  XDG_CACHE_HOME="$scratch/cache" XDG_DATA_HOME="$scratch/share"
lock="$COPYDESK_DATA_DIR/engine.lock"
started=()

start_app() { # start_app LOGNAME [ARGS...]; sets $last_pid
  local log="$scratch/$1.log"; shift
  "$app" "$@" > "$log" 2>&1 &
  last_pid=$!
  started+=("$last_pid")
}
# Waits (up to 60 s, so a broken build fails instead of hanging) until `$@` succeeds.
wait_for() {
  local i
  for i in $(seq 600); do "$@" && return 0; sleep 0.1; done
  return 1
}
exited() { ! kill -0 "$1" 2>/dev/null; }
lock_holder() { sed -n 's/^pid=//p' "$lock" 2>/dev/null; }
holder_is() { [ "$(lock_holder)" = "$1" ]; }
# Ids of mapped (viewable) top-level windows titled exactly $1.
visible_windows() {
  local id
  for id in $(xwininfo -root -tree | grep -F "\"$1\":" | awk '{print $1}'); do
    xwininfo -id "$id" 2>/dev/null | grep -q 'Map State: IsViewable' && echo "$id"
  done
  return 0
}
count_windows() { visible_windows "${1:-CopyDesk}" | grep -c . ; }
windows_are() { [ "$(count_windows "${2:-CopyDesk}")" -eq "$1" ]; }
stop_app() { # SIGTERM, then wait until the process is gone
  kill "$1" 2>/dev/null
  wait_for exited "$1" || { kill -9 "$1" 2>/dev/null; fail "pid $1 ignored SIGTERM"; return 1; }
  wait "$1" 2>/dev/null
  return 0
}
# Stops whatever a check started, so a failed check does not spill into the next one.
stop_all() {
  local p
  for p in "${started[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${started[@]}"; do wait "$p" 2>/dev/null; done
  started=()
  rm -rf "$COPYDESK_DATA_DIR"
}
trap 'stop_all; rm -rf "$scratch"' EXIT

launched_twice_one_window_one_engine() {
  start_app first
  local first=$last_pid
  wait_for windows_are 1 || fail "the first launch showed no window" || return 1
  wait_for holder_is "$first" || fail "the first launch holds no engine lock" || return 1
  start_app second
  local second=$last_pid
  wait_for exited "$second" || fail "the second launch is still running" || return 1
  wait "$second"; local rc=$?
  [ "$rc" -eq 0 ] || fail "the second launch exited with $rc: $(cat "$scratch/second.log")" || return 1
  ! exited "$first" || fail "the first instance stopped" || return 1
  windows_are 1 || fail "$(count_windows) CopyDesk windows after two launches" || return 1
  holder_is "$first" || fail "the engine lock moved to pid $(lock_holder)" || return 1
  stop_app "$first"
}

minimised_start_then_launch_brings_it_forward() {
  start_app minimised --minimized
  local first=$last_pid
  wait_for holder_is "$first" || fail "the minimised start holds no engine lock" || return 1
  # A second minimised launch (a login start while running) must not show the window;
  # once it has been handed over, the first instance has finished starting.
  start_app again-minimised --minimized
  wait_for exited "$last_pid" || fail "the second minimised launch is still running" || return 1
  windows_are 0 || fail "a --minimized start showed $(count_windows) window(s)" || return 1
  start_app plain
  wait_for exited "$last_pid" || fail "the plain launch is still running" || return 1
  wait_for windows_are 1 || fail "launching again did not bring the window forward" || return 1
  stop_app "$first"
}

read_only_while_another_engine_runs() {
  # Stands in for `copydesk run`: holds the lock and names itself as the CLI does.
  python3 - "$COPYDESK_DATA_DIR" > "$scratch/holder.out" 2>&1 <<'PY' &
import fcntl, os, sys, time
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
f = open(os.path.join(d, "engine.lock"), "a+")
fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
f.truncate(0); f.write(f"pid={os.getpid()}\nprogram=copydesk run\nstarted=2026-01-01T00:00:00Z\n"); f.flush()
time.sleep(600)
PY
  local holder=$!
  started+=("$holder")
  wait_for holder_is "$holder" || fail "the stand-in engine did not take the lock" || return 1
  start_app locked
  local app_pid=$last_pid
  wait_for windows_are 1 "CopyDesk (read-only: another engine is running)" ||
    fail "no read-only window; app log: $(cat "$scratch/locked.log")" || return 1
  ! exited "$app_pid" || fail "the app stopped instead of opening read-only" || return 1
  holder_is "$holder" || fail "the lock changed hands" || return 1
  grep -q "copydesk run" "$COPYDESK_DATA_DIR/logs/"* 2>/dev/null ||
    fail "the log does not name the engine holding the directory" || return 1
  stop_app "$app_pid" && stop_app "$holder"
}

check "launched twice: one window, one engine" launched_twice_one_window_one_engine
stop_all
check "--minimized starts in the tray; launching again shows the window" minimised_start_then_launch_brings_it_forward
stop_all
check "another engine holds the data directory: read-only window, no failure" read_only_while_another_engine_runs
check_summary "instance"
