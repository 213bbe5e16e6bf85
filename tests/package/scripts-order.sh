#!/bin/sh
# The README's two commands work in either order: scripts/demo configures
# build/ the way scripts/check then finds usable (firmware on when check
# runs, whatever the demo's first configure guessed on a machine without
# the cross compiler), and the demo installs no fuzzing tool chain.
set -eu
src=${BGW_SOURCE_DIR:?BGW_SOURCE_DIR is not set}
cd "$src"
tmp=$(mktemp -d)
[ -n "$tmp" ] && [ -d "$tmp" ] || { echo "no scratch directory"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# shellcheck source=../../scripts/deps.sh
. scripts/deps.sh

# What the demo installs: no clang or llvm (only fuzzing needs them).
demo_install=$(sed -n 's/^bgw_install //p' scripts/demo)
[ -n "$demo_install" ] || fail "scripts/demo installs nothing (bgw_install line not found)"
demo_pkgs=$(eval "echo $demo_install")
for p in $demo_pkgs; do
	case $p in
	clang* | llvm* | libclang*) fail "scripts/demo installs $p, which only fuzzing needs" ;;
	esac
done
grep -q 'BGW_FUZZ_DEPS' scripts/check || fail "scripts/check does not install the fuzzing tools"
grep -q '^bgw_configure_demo build' scripts/demo || fail "scripts/demo configures build/ its own way"
grep -q 'bgw_configure_check build' scripts/check || fail "scripts/check configures build/ its own way"

if ! command -v arm-none-eabi-gcc >/dev/null; then
	echo "SKIP: arm-none-eabi-gcc is not installed (scripts/check installs it)"
	exit 77
fi
cache() { sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt"; }

# 1. demo first, on a machine without the cross compiler yet: CMake's guess
#    there, cached by the demo's configure, is OFF (stated here, as the
#    compiler is installed on this machine). Then check.
bgw_configure_demo "$tmp/a" -DBGW_FIRMWARE=OFF -DBGW_TESTS=OFF
echo "after demo on a fresh machine: BGW_FIRMWARE=$(cache "$tmp/a" BGW_FIRMWARE)"
bgw_configure_check "$tmp/a" -DBGW_TESTS=OFF
[ "$(cache "$tmp/a" BGW_FIRMWARE)" = ON ] ||
	fail "demo then check: BGW_FIRMWARE=$(cache "$tmp/a" BGW_FIRMWARE), the firmware tests would be skipped"

# 2. check first, then demo: the demo leaves the firmware on.
bgw_configure_check "$tmp/b" -DBGW_TESTS=OFF
bgw_configure_demo "$tmp/b" -DBGW_TESTS=OFF
[ "$(cache "$tmp/b" BGW_FIRMWARE)" = ON ] ||
	fail "check then demo: BGW_FIRMWARE=$(cache "$tmp/b" BGW_FIRMWARE)"

[ "$failures" = 0 ] || exit 1
echo "demo and check configure build/ alike in either order: OK"
