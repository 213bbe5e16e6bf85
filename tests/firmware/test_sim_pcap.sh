#!/bin/sh
# beaconfw-sim writes a pcap (LINKTYPE_BLUETOOTH_LE_LL) that tshark reads
# with no CRC error, three ADV_NONCONN_IND per event; bad arguments and bad
# configurations fail with the documented exit code and leave no file.
set -u
sim="$BGW_BUILD_DIR/beaconfw-sim"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

command -v tshark >/dev/null 2>&1 || { echo "SKIP: tshark not installed"; exit 77; }
[ -x "$sim" ] || fail "$sim missing"

# Default (build-time) configuration: iBeacon + UID, TLM every 10th, 1 s.
out=$("$sim" --out "$tmp/store.pcap" --seconds 30) || fail "sim exit $?"
echo "$out"
sent=$(echo "$out" | sed -n 's/.*: \([0-9]*\) packets.*/\1/p')
[ -n "$sent" ] && [ "$sent" -ge 81 ] || fail "expected >= 81 packets in 30 s, got '$sent'"
[ $((sent % 3)) -eq 0 ] || fail "packets not in threes: $sent"

n=$(tshark -r "$tmp/store.pcap" 2>/dev/null | wc -l)
[ "$n" -eq "$sent" ] || fail "tshark read $n packets, sim sent $sent"
bad=$(tshark -r "$tmp/store.pcap" -Y 'btle.crc.incorrect' 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "tshark found $bad packets with a wrong CRC"
adv=$(tshark -r "$tmp/store.pcap" -Y 'btle.access_address == 0x8e89bed6 &&
	btle.advertising_header.pdu_type == 0x2 && btle.advertising_header.randomized_tx == 1' \
	2>/dev/null | wc -l)
[ "$adv" -eq "$sent" ] || fail "only $adv of $sent are ADV_NONCONN_IND from a random address"
addrs=$(tshark -r "$tmp/store.pcap" -T fields -e btle.advertising_address 2>/dev/null | sort -u)
[ "$(echo "$addrs" | wc -l)" -eq 1 ] || fail "static address changed: $addrs"
case "$addrs" in
[c-f]?:*) ;;
*) fail "static random address without top bits 11: $addrs" ;;
esac

# An EID tag configured from a file (programmed into the simulated UICR).
cat >"$tmp/eid.ini" <<'INI'
[tag]
frames = eid
tlm_every = 10
tlm = encrypted
interval_ms = 200
identity_key = 0102030405060708090a111213141516
eid_exponent = 2
[sim]
chip = nrf52840
lfxo = no
INI
"$sim" --out "$tmp/eid.pcap" --seconds 20 --config "$tmp/eid.ini" >/dev/null || fail "eid sim"
bad=$(tshark -r "$tmp/eid.pcap" -Y 'btle.crc.incorrect' 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "EID capture: $bad CRC errors"
addrs=$(tshark -r "$tmp/eid.pcap" -T fields -e btle.advertising_address 2>/dev/null | sort -u)
na=$(echo "$addrs" | wc -l)
[ "$na" -ge 4 ] || fail "EID tag address did not rotate every 4 s: $na addresses"
case "$(echo "$addrs" | cut -c1)" in
*[4-9a-f]*) fail "EID tag address is not non-resolvable private (top bits 00): $addrs" ;;
esac

# Usage errors: 64, no output.
"$sim" >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] || fail "no --out: exit $rc, want 64"
"$sim" --out "$tmp/x.pcap" --seconds abc >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] || fail "bad --seconds: exit $rc, want 64"
"$sim" --out "$tmp/x.pcap" extra >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] || fail "extra argument: exit $rc, want 64"

# Configuration errors: 78 with a one-line message, no output file.
printf '[tag]\nframes = eid, uid\n' >"$tmp/mix.ini"
printf '[tag]\ninterval_ms = 20\n' >"$tmp/fast.ini"
printf '[tag]\nidentity_key = 0102\n' >"$tmp/key.ini"
printf '[tag]\nbogus = 1\n' >"$tmp/key2.ini"
# Privacy: plain TLM on an EID tag, EID without a key, eTLM without EID.
printf '[tag]\nframes = eid\ntlm_every = 10\nidentity_key = 0102030405060708090a111213141516\n' \
	>"$tmp/plaintlm.ini"
printf '[tag]\nframes = eid\ntlm_every = 0\n' >"$tmp/nokey.ini"
printf '[tag]\nframes = uid\ntlm = encrypted\n' >"$tmp/etlmstore.ini"
printf 'not an ini line\n' >"$tmp/syntax.ini"
for c in mix fast key key2 plaintlm nokey etlmstore syntax missing; do
	msg=$("$sim" --out "$tmp/$c.pcap" --config "$tmp/$c.ini" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 78 ] || fail "$c.ini: exit $rc, want 78"
	[ "$(echo "$msg" | wc -l)" -eq 1 ] || fail "$c.ini: message not one line: $msg"
	[ ! -e "$tmp/$c.pcap" ] || fail "$c.ini: output written anyway"
done

# Unwritable destination: 73, nothing left behind.
"$sim" --out "$tmp/nodir/x.pcap" --seconds 1 >/dev/null 2>&1; rc=$?
[ $rc -eq 73 ] || fail "unwritable output: exit $rc, want 73"
echo "ok"
