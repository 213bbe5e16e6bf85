#!/bin/sh
# vm_hci_guest.sh BEACONGW OUTDIR - runs INSIDE the test guest (see
# test_vm_hci.sh): two btvirt controllers; hci1 advertises an iBeacon with
# legacy advertising commands, beacongw scans on hci0 through the kernel
# (--source hci:hci0 --dump). btvirt sends one report each time advertising
# is enabled while the peer scans, so the advertiser toggles it. Midway hci0
# goes down and up again: the daemon must notice and scan again by itself.
set -u
GW=$1 OUT=$2
mkdir -p "$OUT"
btvirt -l2 > "$OUT/btvirt.log" 2>&1 &
BTVIRT=$!
for i in $(seq 50); do [ -e /sys/class/bluetooth/hci1 ] && break; sleep 0.1; done
hciconfig hci0 up && hciconfig hci1 up || { echo "no virtual controllers"; exit 1; }

adv() { hcitool -i hci1 cmd 0x08 "$@" > /dev/null; }
# 100 ms ADV_NONCONN_IND; flags + iBeacon e2c56db5-dffb-48d2-b060-d0f5a71096e0 1/2 -59
adv 0x0006 a0 00 a0 00 03 00 00 00 00 00 00 00 00 07 00
adv 0x0008 1e 02 01 06 1a ff 4c 00 02 15 e2 c5 6d b5 df fb 48 d2 b0 60 d0 f5 a7 10 96 e0 \
	00 01 00 02 c5 00
toggle() {
	for i in 1 2 3 4 5; do
		adv 0x000a 00; adv 0x000a 01; sleep 0.2
	done
}

printf '[source]\nwatchdog_silence_s = 0\n' > "$OUT/gw.conf"
"$GW" -c "$OUT/gw.conf" --source hci:hci0 --dump -v > "$OUT/dump.jsonl" 2> "$OUT/gw.log" &
GWPID=$!
# Wait for the daemon to have the scan enabled.
for i in $(seq 100); do grep -q "controller: scanning" "$OUT/gw.log" && break; sleep 0.1; done
toggle
wc -l < "$OUT/dump.jsonl" > "$OUT/before"

hciconfig hci0 down
sleep 1.5
hciconfig hci0 up
for i in $(seq 100); do
	[ "$(grep -c "controller: scanning" "$OUT/gw.log")" -ge 2 ] && break
	sleep 0.1
done
toggle
sleep 0.3
kill -TERM $GWPID
wait $GWPID
echo $? > "$OUT/rc"
kill $BTVIRT 2>/dev/null
wait $BTVIRT 2>/dev/null
exit 0
