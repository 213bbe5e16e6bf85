#!/bin/sh
# run-guest-test.sh - run one guest test script (tests/vm/guest-*.sh) inside a
# fresh QEMU guest with the real Linux Bluetooth stack (see vm-run.sh).
#
# usage: run-guest-test.sh GUEST_SCRIPT [TIMEOUT_S]
# The build directory ($BGW_BUILD_DIR) and this directory are shared
# read-only, a new scratch directory read-write; the guest script's exit
# status is ours (77 = skipped, with the reason). When the test fails, the
# logs the guest left in the scratch directory are printed; BGW_VM_KEEP=1
# keeps the directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
script=${1:?usage: run-guest-test.sh GUEST_SCRIPT [TIMEOUT_S]}
tmo=${2:-150}
build=${BGW_BUILD_DIR:?BGW_BUILD_DIR is not set (run through ctest)}
build=$(cd "$build" && pwd)
[ -f "$here/$script" ] || { echo "no guest script $here/$script" >&2; exit 64; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bgw-vm-test.XXXXXX")
cleanup() {
	if [ "${BGW_VM_KEEP:-0}" = 1 ]; then
		echo "scratch directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

rc=0
sh "$here/vm-run.sh" -t "$tmo" -w "$work" -r "$build" -r "$here" \
	-e BGW_BUILD_DIR="$build" -e BGW_VM_DIR="$here" -e BGW_WORK="$work" \
	-e BGW_PYTHON="${BGW_PYTHON:-/usr/bin/python3}" \
	-- sh "$here/$script" || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
	echo "---- $script failed with status $rc; logs from the guest:"
	for f in "$work"/*.err "$work"/*.log "$work"/*.out "$work"/*.txt; do
		[ -f "$f" ] || continue
		echo "---- ${f##*/} (last 40 lines)"
		tail -n 40 "$f"
	done
fi
exit "$rc"
