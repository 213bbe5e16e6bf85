#!/bin/sh
# guest-dump.sh - runs INSIDE the test guest (run-guest-test.sh).
#
# `beacongw --source hci:hci0 --dump` scanning through the kernel's
# Bluetooth stack and libbluetooth, while hci1 advertises an iBeacon and hci2
# an Eddystone-UID, then an Eddystone-URL frame. Twice:
#   extended: the default ([source] extended = auto) must pick extended
#     scanning, which btvirt's 5.0 controller announces in its LE features;
#     hci2 uses extended advertising (extended PDUs), so its frames arrive as
#     LE Extended Advertising Reports (kind "ext"). (btvirt 5.66 aborts on
#     extended advertising data longer than 31 bytes: none is sent.)
#     hci1 keeps legacy advertising (btvirt reports it as a legacy report).
#     (A btvirt whose controller lacks the feature: the output says that the
#     extended path is not tested, and the legacy run below still runs.)
#   legacy: [source] extended = off; hci2 advertises with legacy commands.
# Each time:
#   - legacy: the report btvirt sends as the scan gets enabled (hci1 already
#     advertising) is in the dump: the HCI filter was set before the scan;
#   - the dump shows both advertisers' frames, decoded, with "rssi": null;
#   - after SIGTERM the adapter is left as found: the controller accepts
#     LE Set Scan Parameters (refused while scanning) and, in a btmon
#     capture, the host's last scan enable command switched the scan off;
#   - the capture shows the expected scan commands and report kind;
#   - the capture replays through --source btsnoop: to the same reports.
set -u
. "$BGW_VM_DIR/guest-lib.sh"
need btvirt btmon hcitool hciconfig
need_build beacongw

UUID=e2c56db5-dffb-48d2-b060-d0f5a71096e0
NS=00112233445566778899
INST=a1b2c3d4e5f6

start_btvirt 3
adv_setup hci1 "$(ibeacon_ad $UUID 1 2 -59)"

# scan_run NAME KIND HCI2_MODE [beacongw args] -- one daemon run.
scan_run() {
	name=$1 kind=$2 mode=$3
	shift 3
	step "$name: beacongw --source hci:hci0 --dump $* ($kind scanning expected)"
	btmon -w "$WORK/$name.btsnoop" >/dev/null 2>&1 &
	mon=$!
	wait_until 5 test -s "$WORK/$name.btsnoop" || fail "btmon wrote no capture"
	rkind=adv_nonconn_ind
	[ "$mode" = ext ] && rkind=ext
	adv_setup hci2 "$(eddystone_uid_ad $NS $INST -20)" "$mode"
	scan_is_off hci0 || fail "hci0 scans before beacongw starts"

	# hci1 already advertises: on a legacy scan enable btvirt sends its one
	# report for it at once, which is lost unless the socket's HCI filter was
	# in place before the scan was enabled. (btvirt sends none on an
	# extended scan enable.)
	st=$(adv_enable hci1 1)
	[ "$st" = 00 ] || fail "hci1: advertising enable: status $st"
	gw_start "$name" --source hci:hci0 --dump "$@"
	gw_wait_log "controller: scanning ($kind" 30
	if [ "$kind" = legacy ]; then
		wait_until 10 dump_has "$WORK/$name.out" $ADDR1 ibeacon minor=2 ||
			fail "the report sent as the scan was enabled is missing (filter set late?)"
		note "the report btvirt sent as the scan was enabled is there"
	fi
	gw_dump_has hci1 20 $ADDR1 ibeacon uuid=$UUID major=1 minor=2 measured_power=-59
	note "iBeacon from hci1 ($ADDR1) decoded"
	gw_dump_has hci2 20 $ADDR2 eddystone-uid report.kind=$rkind namespace=$NS \
		instance=$INST tx_power=-20
	note "Eddystone-UID from hci2 ($ADDR2, $mode advertising, report kind $rkind) decoded"
	adv_setup hci2 "$(eddystone_url_ad 03 example 07 -20)" "$mode"
	gw_dump_has hci2 20 $ADDR2 eddystone-url report.kind=$rkind url=https://example.com \
		tx_power=-20
	note "Eddystone-URL from hci2 decoded"
	vmcheck rssi-null "$WORK/$name.out" || fail "a report with an RSSI from btvirt"
	note "every report has rssi null ($(wc -l <"$WORK/$name.out") reports)"

	# No report may arrive while stopping: the dump drops those, the capture not.
	adv_off hci1
	adv_off hci2
	gw_stop
	[ "$GW_RC" = 0 ] || fail "beacongw exited with status $GW_RC after SIGTERM"
	scan_is_off hci0 || fail "beacongw left hci0 scanning"
	note "stopped with status 0; hci0 is no longer scanning"

	kill -INT $mon
	wait $mon
	vmcheck scan "$WORK/$name.btsnoop" 0 "$kind" || fail "capture of hci0 ($kind)"

	"$GW" --source "btsnoop:$WORK/$name.btsnoop" --dump >"$WORK/$name.replay.out" \
		2>"$WORK/$name.replay.err" || fail "replay of the capture failed (status $?)"
	vmcheck same "$WORK/$name.out" "$WORK/$name.replay.out" || fail "replay differs"
}

kinds=legacy
if le_ext_adv_supported hci0; then
	scan_run extended extended ext
	kinds="extended and legacy"
else
	step "extended: NOT TESTED: this btvirt's controller does not announce LE Extended"
	note "Advertising in its LE features, so beacongw scans with legacy commands only"
fi
printf '[source]\nextended = off\n' >"$WORK/legacy.conf"
# btvirt's controller keeps hci2 in extended advertising mode until a reset.
hciconfig hci2 reset || fail "cannot reset hci2"
scan_run legacy legacy legacy -c "$WORK/legacy.conf"
echo "PASS: iBeacon and Eddystone frames through hci0 ($kinds scanning)," \
	"scan left off, btmon captures replay to the same reports"
