#!/bin/sh
# guest-recovery.sh - runs INSIDE the test guest (run-guest-test.sh).
#
# One `beacongw --source hci:hci0 --dump` process lives through:
#   1. hciconfig hci0 down, a few seconds (longer than the watchdog's silence
#      period), hciconfig hci0 up: scanning comes back without a restart;
#   2. hciconfig hci0 reset (the kernel resets the controller under the
#      daemon, which loses its scan and event masks): scanning comes back;
#   3. btvirt killed, so hci0 disappears: the watchdog's documented ladder
#      (re-enable scan -> reset -> exit 69) ends the daemon with status 69
#      instead of leaving it waiting forever.
# hci1 changes its iBeacon minor before each step, so a report with the new
# minor proves the reports flow again afterwards. hci1 keeps advertising
# between steps, so every re-enabled scan gets a report (btvirt sends one
# when the scan is enabled while a peer advertises) and the watchdog never
# climbs its ladder while all is well.
set -u
. "$BGW_VM_DIR/guest-lib.sh"
need btvirt hcitool hciconfig
need_build beacongw

UUID=3f0c6d7e-1a2b-4c5d-8e9f-a0b1c2d3e4f5
SILENCE=2
RESCANS=3
RESETS=2
cat >"$WORK/gw.conf" <<EOF
[source]
watchdog_silence_s = $SILENCE
watchdog_rescan_tries = $RESCANS
watchdog_reset_tries = $RESETS
EOF

start_btvirt 2
adv_setup hci1 "$(ibeacon_ad $UUID 9 1 -59)"
gw_start recovery -c "$WORK/gw.conf" --source hci:hci0 --dump
pid=$(gw_pid)
gw_wait_log "controller: scanning" 30

# minor_flows MINOR WHAT -- hci1 now sends MINOR: beacongw, still the same
# process, must show it.
minor_flows() {
	adv_setup hci1 "$(ibeacon_ad $UUID 9 "$1" -59)"
	pulse_until 30 hci1 dump_has "$WORK/recovery.out" $ADDR1 ibeacon minor="$1" || {
		gw_exited && fail "$2: beacongw exited with status $(gw_rc) instead of recovering"
		fail "$2: no report with minor $1 from hci1 within 30 advertising events"
	}
	gw_exited && fail "$2: beacongw exited with status $(gw_rc)"
	[ "$(gw_pid)" = "$pid" ] || fail "$2: beacongw was restarted"
	note "$2: reports flow again (minor $1), same process"
}

step "reports before anything happens"
minor_flows 1 "start"

step "hciconfig hci0 down for $((SILENCE + 2)) s, then up"
hciconfig hci0 down || fail "hciconfig hci0 down"
sleep $((SILENCE + 2))
gw_exited && fail "beacongw exited with status $(gw_rc) while hci0 was down"
hciconfig hci0 up || fail "hciconfig hci0 up"
minor_flows 2 "after down/up"

step "hciconfig hci0 reset"
hciconfig hci0 reset || fail "hciconfig hci0 reset"
minor_flows 3 "after reset"

step "btvirt killed: hci0 disappears"
kill "$BTVIRT_PID"
wait "$BTVIRT_PID" 2>/dev/null
# Ladder: RESCANS + RESETS + 1 steps, each after at most SILENCE seconds.
limit=$(((RESCANS + RESETS + 1) * SILENCE + 30))
wait_until $limit gw_exited ||
	fail "beacongw still runs $limit s after hci0 disappeared (no escalation)"
rc=$(gw_rc)
[ "$rc" = 69 ] || fail "beacongw exited with status $rc after hci0 disappeared, not 69"
gw_logged "watchdog" || fail "the exit was not the watchdog's"
note "exited with status 69: $(grep -m 1 'giving up' "$WORK/recovery.err")"
echo "PASS: scanning recovered after down/up and reset without a restart; adapter gone -> exit 69"
