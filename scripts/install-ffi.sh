#!/usr/bin/env bash
# Builds the C ABI (crate phoenix-ffi) in release mode and installs it for C and C++ builds:
#   PREFIX/lib/libphoenix_ffi.so, PREFIX/include/phoenix.h, PREFIX/lib/pkgconfig/phoenix-ffi.pc
#
# Usage: ./scripts/install-ffi.sh [PREFIX]        (default PREFIX: /usr/local)
# Then:  PKG_CONFIG_PATH=PREFIX/lib/pkgconfig cc app.c $(pkg-config --cflags --libs phoenix-ffi)
set -euo pipefail
prefix=${1:-/usr/local}
cd "$(dirname "$0")/.."
cargo build --release -p phoenix-ffi
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
version=$(cargo pkgid -p phoenix-ffi | sed 's/.*[#@]//')
install -Dm755 "$target/release/libphoenix_ffi.so" "$prefix/lib/libphoenix_ffi.so"
install -Dm644 crates/phoenix-ffi/include/phoenix.h "$prefix/include/phoenix.h"
mkdir -p "$prefix/lib/pkgconfig"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" crates/phoenix-ffi/phoenix-ffi.pc.in \
  > "$prefix/lib/pkgconfig/phoenix-ffi.pc"
echo "installed phoenix-ffi $version under $prefix"
