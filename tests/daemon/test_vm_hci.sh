#!/bin/sh
# The live hci: source against the real kernel Bluetooth stack, in a QEMU
# guest (tests/vm/vm-run.sh): reports from a btvirt advertiser come out of
# `beacongw --source hci:hci0 --dump`, also after the adapter went down and
# up again, and SIGTERM ends it with status 0. Skips (77) where the guest
# cannot run.
set -u
BUILD=${BGW_BUILD_DIR:?} SRC=${BGW_SOURCE_DIR:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$SRC/tests/daemon/vm_hci_guest.sh" "$work/"
sh "$SRC/tests/vm/vm-run.sh" -w "$work" -w "$BUILD" -t 150 \
	sh vm_hci_guest.sh "$BUILD/beacongw" "$work/out"
rc=$?
[ $rc -eq 77 ] && exit 77
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }
out=$work/out
check "[ $rc -eq 0 ]" "guest script exit 0 (got $rc)"
check "[ -s $out/dump.jsonl ]" "reports dumped"
before=$(cat "$out/before" 2>/dev/null || echo 0)
total=$(wc -l < "$out/dump.jsonl" 2>/dev/null || echo 0)
uuid=e2c56db5-dffb-48d2-b060-d0f5a71096e0
check "[ $before -ge 1 ]" "a report before the adapter went down (got $before)"
check "[ $total -gt $before ]" "reports after the adapter came back ($before then $total)"
check "grep -q \"\\\"uuid\\\":\\\"$uuid\\\"\" $out/dump.jsonl" "the iBeacon decoded"
check "grep -q '\"addr\":\"00:AA:01:01:00:01\"' $out/dump.jsonl" "the advertiser's address"
check "[ \"\$(cat $out/rc 2>/dev/null)\" = 0 ]" "SIGTERM: exit 0"
check "grep -q 'hci0' $out/gw.log" "adapter named in the log"
if [ $fail -ne 0 ]; then
	echo "--- gw.log"; cat "$out/gw.log"; echo "--- dump"; head -5 "$out/dump.jsonl"
	exit 1
fi
echo ok
