#!/usr/bin/env bash
# Checks a CopyDesk .deb unpacked into a directory: the desktop entry, the icons in every
# size, both programs, one version everywhere, and that the package ships no user data.
# Usage: scripts/package-check.sh PACKAGE.deb UNPACKED_DIR (made with `dpkg-deb -x`).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

deb="$1"
root="$2"
[ -f "$deb" ] && [ -d "$root" ] || die "usage: $0 PACKAGE.deb UNPACKED_DIR"

version="$(workspace_version)"
desktop="$root/usr/share/applications/CopyDesk.desktop"

desktop_entry_is_right() {
  [ -f "$desktop" ] || fail "no desktop entry at ${desktop#"$root"}"
  local want
  for want in "Type=Application" "Name=CopyDesk" "Exec=copydesk-app" "Icon=copydesk-app"; do
    grep -qxF "$want" "$desktop" || fail "desktop entry lacks the line $want: $(cat "$desktop")" || return 1
  done
  grep -q '^Categories=.*Finance' "$desktop" || fail "desktop entry is not in the Finance category"
}

icons_in_every_size() {
  local size file dims ok=0
  for size in 16 24 32 48 64 128 256 512; do
    file="$root/usr/share/icons/hicolor/${size}x${size}/apps/copydesk-app.png"
    if [ ! -f "$file" ]; then
      fail "no ${size}x${size} icon at ${file#"$root"}"; ok=1; continue
    fi
    dims="$(file -b "$file" | sed -nE 's/.*PNG image data, ([0-9]+) x ([0-9]+).*/\1x\2/p')"
    [ "$dims" = "${size}x${size}" ] || { fail "${file#"$root"} is $dims"; ok=1; }
  done
  return $ok
}

is_program() {
  [ -x "$root/usr/bin/$1" ] || fail "/usr/bin/$1 is missing or not executable"
  file -b "$root/usr/bin/$1" | grep -q '^ELF' || fail "/usr/bin/$1 is not a program"
}

one_version() {
  local control cli
  control="$(dpkg-deb -f "$deb" Version)"
  cli="$("$root/usr/bin/copydesk" --version)"
  [ "$control" = "$version" ] || fail "package version $control, Cargo.toml says $version" || return 1
  [ "$cli" = "copydesk $version" ] || fail "copydesk --version says '$cli', Cargo.toml says $version" || return 1
  ! grep -q '"version"' "$ROOT/src-tauri/tauri.conf.json" ||
    fail "tauri.conf.json repeats the version; Cargo.toml is the one source"
}

only_program_files() {
  # The data directory lives in the user's XDG data dir: a package that shipped or owned
  # anything outside /usr could remove it on uninstall or overwrite it on upgrade.
  local stray
  stray="$(dpkg-deb -c "$deb" | awk '{print $6}' | grep -vE '^(\./)?(usr(/.*)?)?$' || true)"
  [ -z "$stray" ] || fail "files outside /usr: $stray" || return 1
  ! dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qE 'postrm|prerm|postinst|preinst' ||
    fail "maintainer scripts present: they could touch user data"
}

check "desktop entry (Exec, Icon, Name, category)" desktop_entry_is_right
check "icons in every hicolor size (16 to 512)" icons_in_every_size
check "the app at /usr/bin/copydesk-app" is_program copydesk-app
check "the CLI at /usr/bin/copydesk" is_program copydesk
check "one version: Cargo.toml = package = copydesk --version" one_version
check "the package holds program files only (user data survives removal)" only_program_files
check_summary "package"
