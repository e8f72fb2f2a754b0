# Shared helpers for scripts/run.sh and scripts/test.sh: privilege escalation, package
# installation (only what is missing), timing. Sourced, never run on its own.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${COPYDESK_CACHE_DIR:-$ROOT/.cache}"
TOOLS_DIR="$CACHE_DIR/tools"
export PATH="$TOOLS_DIR/bin:$HOME/.cargo/bin:$PATH"

# Debian packages the desktop app needs to build and run.
RUN_PACKAGES=(build-essential pkg-config curl file libssl-dev libdbus-1-dev
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev)
# What the test command needs on top: a virtual display, the WebDriver for WebKitGTK,
# a Secret Service, a D-Bus session, Python for third-party client checks, xwininfo
# (x11-utils) to count the app's windows.
TEST_PACKAGES=(xvfb xauth x11-utils webkit2gtk-driver gnome-keyring dbus dbus-x11 libsecret-1-0
  python3 python3-venv)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (install sudo or run as root)"; fi
}

# Installs the Debian packages of the list that are not installed yet.
ensure_packages() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "This script installs system packages with apt (Debian/Ubuntu). On this system, install:"
    echo "  Rust 1.90+, Node.js 20+ with npm, WebKitGTK 4.1 (dev), libayatana-appindicator3 (dev),"
    echo "  librsvg2 (dev), OpenSSL (dev), D-Bus (dev)$([ "${1:-}" = test ] && echo ", Xvfb, WebKitWebDriver, gnome-keyring, Python 3 with venv")"
    exit 1
  fi
  local wanted=("${RUN_PACKAGES[@]}") missing=()
  [ "${1:-}" = test ] && wanted+=("${TEST_PACKAGES[@]}")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing system packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ensure_toolchains() {
  command -v cargo >/dev/null 2>&1 || die "Rust is missing: install it with rustup (Rust 1.90 or newer)"
  command -v node >/dev/null 2>&1 || die "Node.js is missing: install Node.js 20 or newer with npm"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js $major is too old: install Node.js 20 or newer"
}

# npm packages of ui/, reinstalled only when the lock file changed.
ensure_node_modules() {
  local stamp="$ROOT/ui/node_modules/.copydesk-lock-hash" hash
  hash="$(sha256sum "$ROOT/ui/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    say "installing npm packages (ui/)"
    # `npm install` with the committed lock installs the locked versions; `npm ci` would
    # refuse this lock because npm records the CLI's other-platform binaries lazily.
    (cd "$ROOT/ui" && npm install --no-fund --no-audit --loglevel=error)
    echo "$hash" > "$stamp"
  fi
}

# Builds the desktop package: the app with its UI embedded (not a dev build that would
# load the dev server) and the `copydesk` CLI, bundled as a .deb (`--bundles deb` only:
# the AppImage bundler downloads tools and fails offline). $1 is the Cargo profile:
# `debug` (the test command's build, also what `make run` starts) or `dist` (the tuned
# release profile of `make package`). Prints nothing on success but the tools' output;
# the .deb is found with `package_deb`.
build_package() {
  local profile="${1:-debug}" target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
  local cargo_args=() tauri_args=(--debug)
  if [ "$profile" != debug ]; then
    cargo_args=(--profile "$profile")
    tauri_args=(-- --profile "$profile")
  fi
  (cd "$ROOT/ui" && npm run --silent build >/dev/null) || return 1
  (cd "$ROOT" && cargo build --quiet --bin copydesk "${cargo_args[@]}") || return 1
  # tauri.conf.json installs this copy as /usr/bin/copydesk.
  mkdir -p "$ROOT/target/package-cli"
  cp "$target_dir/$profile/copydesk" "$ROOT/target/package-cli/copydesk" || return 1
  rm -f "$target_dir/$profile/bundle/deb/"*.deb
  (cd "$ROOT" && "$ROOT/ui/node_modules/.bin/tauri" build --bundles deb --ci "${tauri_args[@]}")
}

# The .deb that `build_package PROFILE` made.
package_deb() {
  local profile="${1:-debug}" target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
  ls "$target_dir/$profile/bundle/deb/"*.deb 2>/dev/null | head -n1
}

# The workspace's version: the one version source (tauri.conf.json does not repeat it).
workspace_version() {
  sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml"
}

# Pids of running processes whose executable is $1.
pids_of_exe() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
  done
  return 0
}

# Step timing: `step NAME cmd...` runs the command and appends how long it took to
# $STEP_TIMES_FILE, which outlives the re-entry into the D-Bus session.
step() {
  local name="$1"; shift
  say "$name"
  local start=$SECONDS
  "$@"
  local rc=$?
  printf '%5ss  %s\n' "$((SECONDS - start))" "$name" >> "$STEP_TIMES_FILE"
  if [ $rc -ne 0 ]; then
    print_times
    die "step failed: $name (exit $rc)"
  fi
}
print_times() {
  echo
  echo "step times:"
  sed 's/^/  /' "$STEP_TIMES_FILE"
}

# tauri-driver, the WebDriver bridge for the end-to-end test, built once into the cache.
ensure_tauri_driver() {
  command -v tauri-driver >/dev/null 2>&1 && return 0
  say "building tauri-driver into $TOOLS_DIR"
  cargo install tauri-driver --locked --quiet --root "$TOOLS_DIR" \
    --target-dir "$CACHE_DIR/tools-target"
}

# A free TCP port on loopback.
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Test counts: every runner's summary is appended to $TEST_COUNTS_FILE as "passed failed".
count_cargo() { # reads cargo test output on stdin
  grep -E '^test result:' | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' >> "$TEST_COUNTS_FILE"
}
print_counts() {
  [ -f "$TEST_COUNTS_FILE" ] || return 0
  awk '{p+=$1; f+=$2} END {printf "tests: %d passed, %d failed\n", p, f}' "$TEST_COUNTS_FILE"
}

# Plain shell checks: `check NAME cmd...` runs the command and prints `ok`/`not ok`;
# `check_summary LABEL` prints `LABEL: N passed, N failed`, adds the counts to
# $TEST_COUNTS_FILE and fails if any check failed.
CHECKS_PASSED=0
CHECKS_FAILED=0
check() {
  local name="$1"; shift
  if "$@"; then
    CHECKS_PASSED=$((CHECKS_PASSED + 1)); echo "ok - $name"
  else
    CHECKS_FAILED=$((CHECKS_FAILED + 1)); echo "not ok - $name"
  fi
}
check_summary() {
  echo "$1: $CHECKS_PASSED passed, $CHECKS_FAILED failed"
  [ -n "${TEST_COUNTS_FILE:-}" ] && echo "$CHECKS_PASSED $CHECKS_FAILED" >> "$TEST_COUNTS_FILE"
  [ "$CHECKS_FAILED" -eq 0 ]
}
# Fails with a message on stderr (for use inside `check`).
fail() { echo "    $*" >&2; return 1; }
