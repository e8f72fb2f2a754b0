#!/usr/bin/env bash
# `make package`: the release .deb (the app and the `copydesk` CLI) built with the tuned
# `dist` profile of Cargo.toml. Prints where it is, how long it took and how big it is
# (the figures docs/benchmarks.md records).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_packages run
ensure_toolchains
ensure_node_modules
say "building the release package (profile 'dist': LTO, one codegen unit, stripped)"
start=$SECONDS
build_package dist || die "the package did not build"
took=$((SECONDS - start))
deb="$(package_deb dist)"
[ -n "$deb" ] || die "the build made no .deb"
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}/dist"
echo
echo "package:        $deb"
echo "version:        $(dpkg-deb -f "$deb" Version)"
echo "build time:     ${took}s"
echo "package size:   $(du -k "$deb" | cut -f1) KiB"
echo "installed size: $(dpkg-deb -f "$deb" Installed-Size) KiB"
echo "copydesk-app:   $(du -k "$target_dir/copydesk-app" | cut -f1) KiB"
echo "copydesk:       $(du -k "$target_dir/copydesk" | cut -f1) KiB"
echo "install it:     sudo apt install $deb"
