#!/usr/bin/env bash
# The package's life on a machine, with real dpkg: install, reinstall, upgrade, remove,
# purge and install again, into a scratch root with its own package database (never the
# machine's /usr or /var/lib/dpkg). Between the steps, the installed `copydesk` keeps real
# state in its default data directory under a HOME in that root: a copy that `copydesk run`
# made against `copydesk sim`, holding a copied position. Every package step must leave
# that directory exactly as it was (names, modes, sizes, SHA-256 of every file) and
# `copydesk status --json` must read the same copies; the installed version and
# `copydesk --version` follow the package; removal takes the program files away. At the
# end the reinstalled engine resumes the stored copy and copies the leader's close.
# The upgrade is the same build repacked with a higher Debian revision (VERSION-1): one
# build has one program version, so `copydesk --version` is checked against the upstream
# part of the installed package's version.
# Usage: scripts/dpkg-test.sh PACKAGE.deb
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 1 ] && [ -f "$1" ] || die "usage: $0 PACKAGE.deb"
deb="$(realpath "$1")"
scratch="$ROOT/target/e2e/dpkg"
root="$scratch/root"
admin="$root/var/lib/dpkg"
rm -rf "$scratch"
mkdir -p "$admin/info" "$admin/updates" "$admin/triggers" "$root/home/trader"
: > "$admin/status"
: > "$admin/available"

pkg="$(dpkg-deb -f "$deb" Package)"
version="$(dpkg-deb -f "$deb" Version)"
case "$version" in *-*) die "the package version $version already has a Debian revision" ;; esac
up_version="$version-1"

# dpkg on the scratch root only: its own admin directory and log. The package's
# dependencies (WebKitGTK, …) are the machine's, not the scratch database's. dpkg wants
# ldconfig and start-stop-daemon on PATH, which a user's PATH may lack. `--path-include`
# undoes any `path-exclude` of the machine's dpkg.cfg.d (minimal images drop docs).
DPKG=(env "PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin" dpkg --root="$root" --admindir="$admin"
  --log="$scratch/dpkg.log" --force-depends --path-include='/*')
[ "$(id -u)" -eq 0 ] || DPKG+=(--force-not-root)
dpkg_() { "${DPKG[@]}" "$@" > "$scratch/dpkg.out" 2>&1 || fail "dpkg $*: $(cat "$scratch/dpkg.out")"; }

# The installed CLI, run as a user would: its default data directory, under a HOME inside
# the scratch root, where anything the package put or removed there would show.
export HOME="$root/home/trader" XDG_DATA_HOME="$root/home/trader/.local/share"
unset COPYDESK_DATA_DIR
cli="$root/usr/bin/copydesk"
data="$XDG_DATA_HOME/app.copydesk.desktop"

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

# Waits (up to 60 s, so a broken build fails instead of hanging) until `$@` succeeds.
wait_for() {
  local i
  for i in $(seq 600); do "$@" && return 0; sleep 0.1; done
  return 1
}
# jq-like: runs a JavaScript expression on the JSON of file $1 (`j` is the value).
json() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=eval(process.argv[2]); if (v === undefined || v === false) process.exit(1); if (v !== true) console.log(typeof v === "string" ? v : JSON.stringify(v));' "$1" "$2"; }

# --- the package under test and its upgrade ------------------------------------------

upgrade_deb="$scratch/upgrade.deb"
make_upgrade() {
  dpkg-deb -R "$deb" "$scratch/upgrade" || return 1
  sed -i "s/^Version: .*/Version: $up_version/" "$scratch/upgrade/DEBIAN/control"
  # gzip -1: the debug binaries are large, and this package only lives for the test.
  dpkg-deb --root-owner-group -Zgzip -z1 -b "$scratch/upgrade" "$upgrade_deb" > /dev/null || return 1
  rm -rf "$scratch/upgrade"
  dpkg --compare-versions "$up_version" gt "$version"
}
make_upgrade || die "cannot repack $deb as version $up_version"

# Regular files the package installs (paths under the root, without the leading ./).
package_files() { dpkg-deb -c "$deb" | awk '$1 ~ /^-/ {sub(/^\.\//, "", $6); print $6}'; }

installed_as() { # installed_as VERSION
  local want="$1" got f missing=() cli_version
  got="$(dpkg-query --admindir="$admin" -W -f='${Status} ${Version}' "$pkg" 2>&1)"
  [ "$got" = "install ok installed $want" ] || fail "dpkg says '$got', expected version $want installed" || return 1
  while read -r f; do [ -f "$root/$f" ] || missing+=("/$f"); done < <(package_files)
  [ ${#missing[@]} -eq 0 ] || fail "files missing after install: ${missing[*]}" || return 1
  "${DPKG[@]}" --verify "$pkg" > "$scratch/verify.out" 2>&1 && [ ! -s "$scratch/verify.out" ] ||
    fail "dpkg --verify: $(cat "$scratch/verify.out")" || return 1
  cli_version="$("$cli" --version)"
  [ "$cli_version" = "copydesk ${want%-*}" ] ||
    fail "installed copydesk --version says '$cli_version', package $want" || return 1
  [ -x "$root/usr/bin/copydesk-app" ] || fail "no /usr/bin/copydesk-app"
}

not_installed() {
  local got f left=()
  got="$(dpkg-query --admindir="$admin" -W -f='${Status}' "$pkg" 2>/dev/null)"
  case "$got" in "" | "unknown ok not-installed" | "deinstall ok not-installed" | "purge ok not-installed" | "deinstall ok config-files") ;;
    *) fail "dpkg still lists the package: '$got'"; return 1 ;;
  esac
  while read -r f; do [ ! -e "$root/$f" ] || left+=("/$f"); done < <(package_files)
  [ ${#left[@]} -eq 0 ] || fail "removal left program files: ${left[*]}"
}

# --- the data directory --------------------------------------------------------------

# Every entry's type, mode and size, then every file's SHA-256.
snapshot() {
  (cd "$data" && find . -printf '%y %m %s %P\n' | LC_ALL=C sort &&
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
status_json() { "$cli" status --json > "$1" 2> "$1.err" || fail "copydesk status: $(cat "$1.err")"; }

# `survives STEP cmd...`: the package step leaves the data directory as it was; when the CLI
# is installed afterwards, it reads the same copies as before the first step.
survives() {
  local step="$1" before after; shift
  before="$(snapshot)" || fail "cannot read the data directory $data" || return 1
  "$@" || return 1
  after="$(snapshot)"
  [ "$before" = "$after" ] ||
    fail "$step changed the data directory: $(diff <(echo "$before") <(echo "$after") | head -20)" || return 1
  if [ -x "$cli" ]; then
    status_json "$scratch/status-$step.json" || return 1
    json "$scratch/status-$step.json" "JSON.stringify(j.copies) === JSON.stringify(JSON.parse(require('fs').readFileSync('$scratch/status-made.json','utf8')).copies)" ||
      fail "after $step copydesk status reads other copies: $(diff "$scratch/status-made.json" "$scratch/status-$step.json" | head -20)"
  fi
}

# --- real state: a copy with a copied position ---------------------------------------

sim_base=""
token="dpkg-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
start_exchange() {
  # The exchange is a copy of the installed CLI outside the root, so no package step stops it.
  cp "$cli" "$scratch/exchange" || return 1
  local port
  port="$(free_port)"
  "$scratch/exchange" sim --listen "127.0.0.1:$port" --admin-token "$token" > "$scratch/sim.log" 2>&1 &
  pids+=($!)
  wait_for grep -q "listening on" "$scratch/sim.log" || fail "copydesk sim did not start: $(cat "$scratch/sim.log")" || return 1
  sim_base="http://127.0.0.1:$port"
  sim account lead 100000 > "$scratch/lead.json" && sim account me 10000 > "$scratch/me.json" || return 1
  cat > "$scratch/copy.toml" <<EOF
[[accounts]]
name = "lead"
exchange = "binance-usdm"
endpoint = "$sim_base"
api_key = { env = "LEAD_KEY" }
api_secret = { env = "LEAD_SECRET" }

[[accounts]]
name = "me"
exchange = "binance-usdm"
endpoint = "$sim_base"
api_key = { env = "ME_KEY" }
api_secret = { env = "ME_SECRET" }

[[copies]]
name = "follow-lead"
leader = "lead"
follower = "me"
mode = "smart-sync"
investment = "1000"
EOF
  LEAD_KEY="$(json "$scratch/lead.json" j.apiKey)" LEAD_SECRET="$(json "$scratch/lead.json" j.secretKey)"
  ME_KEY="$(json "$scratch/me.json" j.apiKey)" ME_SECRET="$(json "$scratch/me.json" j.secretKey)"
  export LEAD_KEY LEAD_SECRET ME_KEY ME_SECRET
}
sim() { node "$ROOT/scripts/sim-client.mjs" "$sim_base" "$token" "$@"; }

run_pid=""
start_run() { # start_run LOG: `copydesk run` until it watches the leader
  "$cli" run --config "$scratch/copy.toml" > "$1" 2>&1 &
  run_pid=$!
  pids+=("$run_pid")
  wait_for grep -q "copy \`follow-lead\` is watching the leader" "$1" ||
    fail "copydesk run did not start watching: $(cat "$1")"
}
stop_run() { # stop_run LOG: Ctrl-C, a clean stop
  kill -INT "$run_pid"
  wait "$run_pid"
  local rc=$?
  [ "$rc" -eq 0 ] && grep -q "stopped; state kept" "$1" || fail "copydesk run stopped with $rc: $(tail -5 "$1")"
}
follower_holds() { # follower_holds QTY|none
  status_json "$scratch/status-now.json" || return 1
  if [ "$1" = none ]; then
    json "$scratch/status-now.json" "j.copies.find(c => c.copy.name === 'follow-lead').positions.length === 0"
  else
    json "$scratch/status-now.json" "j.copies.find(c => c.copy.name === 'follow-lead').positions.some(p => p.symbol === 'BTCUSDT' && Number(p.followerQty) === $1)"
  fi
}

make_state() {
  start_exchange || return 1
  start_run "$scratch/run-1.log" || return 1
  # The leader opens 1 BTC at 5x with 10 % of its 100,000 USDT as margin: Smart Sync with
  # 1,000 USDT gives the follower 0.01 BTC (copy-rules §2.1).
  sim order "$scratch/lead.json" BTCUSDT BUY 1 5 > /dev/null || return 1
  wait_for follower_holds 0.01 || fail "the follower never held 0.01 BTC: $(cat "$scratch/status-now.json")" || return 1
  stop_run "$scratch/run-1.log" || return 1
  status_json "$scratch/status-made.json" || return 1
  [ -f "$data/copydesk.sqlite3" ] || fail "no database in $data"
}

resumes_and_copies() {
  start_run "$scratch/run-2.log" || return 1
  grep -q "running 1 copy" "$scratch/run-2.log" || fail "the stored copy did not resume: $(cat "$scratch/run-2.log")" || return 1
  sim order "$scratch/lead.json" BTCUSDT SELL 1 > /dev/null || return 1
  wait_for follower_holds none || fail "the resumed copy did not close the follower: $(cat "$scratch/status-now.json")" || return 1
  stop_run "$scratch/run-2.log" || return 1
  status_json "$scratch/status-resumed.json" || return 1
  local t0
  t0="$(json "$scratch/status-made.json" "j.copies[0].copy.t0Ms")"
  json "$scratch/status-resumed.json" "j.copies[0].copy.t0Ms === $t0" || fail "the resumed copy has a new t0 (a new start)"
}

# --- the steps -----------------------------------------------------------------------

installs() { dpkg_ -i "$deb" && installed_as "$version"; }
reinstalls() { dpkg_ -i "$deb" && installed_as "$version"; }
upgrades() { dpkg_ -i "$upgrade_deb" && installed_as "$up_version"; }
removes() { dpkg_ -r "$pkg" && not_installed; }
purges() { dpkg_ -P "$pkg" && not_installed; }

check "dpkg -i installs $pkg $version into a scratch root; copydesk --version matches" installs
check "the installed copydesk makes real state: a copy with a copied position (copydesk run against copydesk sim)" make_state
check "reinstall (dpkg -i $version again): the data directory and the copies survive" survives reinstall reinstalls
check "upgrade to $up_version: the version changes, the data directory and the copies survive" survives upgrade upgrades
check "remove (dpkg -r): the program files go, the data directory stays" survives remove removes
check "purge (dpkg -P): the data directory stays" survives purge purges
check "install again after purge: the data directory and the copies survive" survives install installs
check "the reinstalled engine resumes the stored copy (same t0) and copies the leader's close" resumes_and_copies
check_summary "dpkg"
