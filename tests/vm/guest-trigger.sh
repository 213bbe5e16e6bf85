#!/bin/sh
# guest-trigger.sh - runs INSIDE the test guest (run-guest-test.sh).
#
# The full gateway on hci0: a consent database made with beaconctl and a
# mosquitto on the guest's loopback. hci1 is the loyalty tag of cust-tag
# (enrolled, presence and retargeting consent); hci2 is the tag of
# cust-nope (enrolled, no consent at all). A campaign fires on "enter" in the
# gateway's zone, and one sighting confirms an entry ([presence]
# enter_confirmations = 1: btvirt sends one report per advertising toggle).
# cust-nope's tag is heard first (the btmon capture proves hci0 got it),
# then cust-tag's: a trigger arrives for cust-tag and none for cust-nope.
set -u
. "$BGW_VM_DIR/guest-lib.sh"
need btvirt btmon hcitool hciconfig mosquitto mosquitto_sub
need_build beacongw beaconctl

UUID=8a3c1f00-5b1e-4c2a-9d7e-0123456789ab
TOPIC=beacongw/v1/store1/gw1
PORT=1883 # the guest has a loopback of its own: no other test uses it
RUN=/tmp/bgw # guest-local: SQLite's WAL needs shared memory, which 9p lacks
mkdir -p "$RUN"
DB=$RUN/gw.db

step "consent database (beaconctl)"
ctl() { "$CTL" --db "$DB" "$@" >>"$WORK/beaconctl.log" 2>&1 || fail "beaconctl $*"; }
ctl init
ctl customer add cust-tag
ctl identifier add cust-tag ibeacon "$UUID:7:1"
ctl consent grant cust-tag presence
ctl consent grant cust-tag retargeting --channel push
ctl customer add cust-nope
ctl identifier add cust-nope ibeacon "$UUID:7:2"
ctl campaign add welcome --zone entrance --event enter --channel push

step "mosquitto on 127.0.0.1:$PORT"
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' $PORT \
	>"$RUN/mosquitto.conf"
mosquitto -c "$RUN/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
MOSQ=$!
# Everything the gateway publishes, from the retained status on.
sub_up() {
	mosquitto_sub -h 127.0.0.1 -p $PORT -q 1 -v -t "$TOPIC/#" \
		>>"$WORK/mqtt.txt" 2>>"$WORK/mqtt.err" &
	SUB=$!
	sleep 0.5
	kill -0 $SUB 2>/dev/null
}
wait_until 10 sub_up || fail "cannot subscribe to mosquitto (see mosquitto.log, mqtt.err)"

cat >"$RUN/gw.conf" <<EOF
[gateway]
site = store1
id = gw1
zone = entrance
[storage]
db = $DB
[mqtt]
host = 127.0.0.1
port = $PORT
[presence]
enter_confirmations = 1
EOF

start_btvirt 3
adv_setup hci1 "$(ibeacon_ad $UUID 7 1 -59)"
adv_setup hci2 "$(ibeacon_ad $UUID 7 2 -59)"
btmon -w "$WORK/trigger.btsnoop" >/dev/null 2>&1 &
MON=$!
wait_until 5 test -s "$WORK/trigger.btsnoop" || fail "btmon wrote no capture"

step "beacongw -c gw.conf --source hci:hci0 (full run)"
gw_start trigger -c "$RUN/gw.conf" --source hci:hci0
gw_wait_log "controller: scanning" 30
wait_until 20 grep -q "^$TOPIC/status " "$WORK/mqtt.txt" ||
	fail "no status message from beacongw on $TOPIC/status"
note "beacongw is scanning and connected to the broker"

has_trigger() { grep -q "^$TOPIC/trigger " "$WORK/mqtt.txt"; }
for _ in 1 2 3; do
	adv_pulse hci2
	sleep 0.3
done
PULSE_WAIT=2 pulse_until 20 hci1 has_trigger ||
	fail "no trigger for the consented tag within 20 advertising events"
note "a trigger arrived: $(grep "^$TOPIC/trigger " "$WORK/mqtt.txt" | head -n 1)"

adv_off hci1
adv_off hci2
gw_stop
[ "$GW_RC" = 0 ] || fail "beacongw exited with status $GW_RC after SIGTERM"
kill -INT $MON
wait $MON
kill "$SUB" "$MOSQ" 2>/dev/null
scan_is_off hci0 || fail "beacongw left hci0 scanning"

vmcheck reports "$WORK/trigger.btsnoop" 0 "$ADDR2" ||
	fail "hci0 never heard the non-consented tag: the negative check would prove nothing"
vmcheck triggers "$WORK/mqtt.txt" "$TOPIC/trigger" cust-tag cust-nope ||
	fail "wrong triggers"
for field in '"event":"enter"' '"zone":"entrance"' '"campaign":"welcome"' '"site":"store1"' \
	'"gateway":"gw1"'; do
	grep "^$TOPIC/trigger " "$WORK/mqtt.txt" | grep -q -F "$field" ||
		fail "the trigger lacks $field"
done
if grep -q -i -e "$ADDR2" -e cust-nope -e "$UUID:7:2" "$WORK/trigger.err"; then
	fail "beacongw logged the non-consented tag"
fi
echo "PASS: trigger for the consented tag through hci0 and mosquitto, none for the other"
