# guest-lib.sh - helpers of the guest test scripts (sourced by them).
#
# Runs INSIDE the test guest (see run-guest-test.sh): btvirt makes virtual
# controllers with the fixed addresses 00:AA:01:0N:00:0N; hci0 is the
# scanner beacongw opens, hci1 and hci2 advertise through raw HCI commands.
#
# btvirt's controllers send ONE advertising report when an advertiser
# enables advertising while a peer scans (or when the peer enables its scan
# while one advertises), never periodically: every report a test needs is
# made by toggling advertising on and off (adv_pulse). Their RSSI is always
# 0x7F, "not available".
#
# Environment (set by run-guest-test.sh): BGW_BUILD_DIR (beacongw,
# beaconctl), BGW_VM_DIR (these scripts), BGW_WORK (read-write scratch
# directory, shown on the host when a test fails).

# shellcheck disable=SC2034 # the variables are for the scripts that source this
BUILD=${BGW_BUILD_DIR:?BGW_BUILD_DIR not set}
VMDIR=${BGW_VM_DIR:?BGW_VM_DIR not set}
WORK=${BGW_WORK:?BGW_WORK not set}
GW=$BUILD/beacongw
CTL=$BUILD/beaconctl
PY=${BGW_PYTHON:-/usr/bin/python3}

ADDR1=00:AA:01:01:00:01 # hci1
ADDR2=00:AA:01:02:00:02 # hci2

step() { printf '== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
vmcheck() { "$PY" "$VMDIR/vmcheck.py" "$@"; }

need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (scripts/deps.sh)"
	done
}

need_build() {
	for b in "$@"; do
		[ -x "$BUILD/$b" ] || skip "$b is not built in $BUILD"
	done
}

# uptime_cs -- centiseconds since boot, read without a fork (the guest is
# emulated: every process costs).
uptime_cs() {
	read -r _up _ </proc/uptime
	_cs=${_up%.*}${_up#*.}
	_cs=${_cs#"${_cs%%[!0]*}"} # no leading zeros: not octal
}

# wait_until SECS CMD... -- run CMD every 0.1 s until it succeeds; 1 if it
# still fails after SECS seconds.
wait_until() {
	uptime_cs
	_end=$((${_cs:-0} + $1 * 100))
	shift
	while ! "$@"; do
		uptime_cs
		[ "${_cs:-0}" -lt "$_end" ] || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------- btvirt
BTVIRT_PID=

# start_btvirt N -- N virtual controllers hci0..hci(N-1), all up.
start_btvirt() {
	btvirt -l"$1" >"$WORK/btvirt.log" 2>&1 &
	BTVIRT_PID=$!
	_last=/sys/class/bluetooth/hci$(($1 - 1))
	wait_until 10 test -e "$_last" || fail "btvirt made no hci$(($1 - 1)) (see btvirt.log)"
	_i=0
	while [ "$_i" -lt "$1" ]; do
		hciconfig "hci$_i" up || fail "cannot bring hci$_i up"
		_i=$((_i + 1))
	done
}

# ---------------------------------------------------------------- raw HCI
# hci_le DEV OCF BYTE... -- send an LE command (OGF 0x08) through hcitool and
# print the status byte of its Command Complete event.
hci_le() {
	_dev=$1 _ocf=$2
	shift 2
	_out=$(hcitool -i "$_dev" cmd 0x08 "$_ocf" "$@" 2>&1) ||
		fail "hcitool -i $_dev cmd 0x08 $_ocf: $_out"
	printf '%s\n' "$_out" | awk '/^> HCI Event: 0x0e/ { getline; print tolower($4); exit }'
}

# hex_s8 N -- a signed byte (dBm) in hex.
hex_s8() { printf '%02x' $((($1 + 256) % 256)); }

# ibeacon_ad UUID MAJOR MINOR POWER -- AD structures (flags + Apple iBeacon), hex.
ibeacon_ad() {
	printf '0201061aff4c000215%s%04x%04x%s' "$(printf '%s' "$1" | tr -d -)" "$2" "$3" \
		"$(hex_s8 "$4")"
}

# eddystone_uid_ad NAMESPACE(20 hex) INSTANCE(12 hex) TXPOWER -- hex.
eddystone_uid_ad() {
	printf '0201060303aafe1716aafe00%s%s%s0000' "$(hex_s8 "$3")" "$1" "$2"
}

# eddystone_url_ad SCHEME(hex byte) TEXT SUFFIX(hex byte) TXPOWER -- e.g.
# 03 example 07 = https://example.com ; hex.
eddystone_url_ad() {
	_text=$(printf '%s' "$2" | od -An -tx1 | tr -d ' \n')
	_len=$((7 + ${#_text} / 2))
	printf '0201060303aafe%02x16aafe10%s%s%s%s' "$_len" "$(hex_s8 "$4")" "$1" "$_text" "$3"
}

# hex_bytes HEX -- "0a0b" as "0a 0b" (hcitool's argument form).
hex_bytes() { printf '%s' "$1" | sed 's/../& /g'; }

# adv_setup DEV ADHEX [legacy|ext] -- DEV advertises the AD structures ADHEX,
# non-connectable, every 100 ms on all channels; left disabled.
#   legacy: LE Set Advertising Parameters/Data (ADV_NONCONN_IND, <= 31 bytes)
#   ext:    LE Set Extended Advertising Parameters/Data, advertising set 0 with
#           extended (non-legacy) PDUs, up to 251 bytes.
adv_setup() {
	_dev=$1 _hex=$2 _mode=${3:-legacy}
	_n=$((${#_hex} / 2))
	adv_off "$_dev" # in the old mode; may already be off: status ignored
	eval "ADV_MODE_$_dev=$_mode"
	case $_mode in
	legacy)
		[ "$_n" -le 31 ] || fail "legacy advertising data longer than 31 bytes: $_hex"
		_st=$(hci_le "$_dev" 0x0006 a0 00 a0 00 03 00 00 00 00 00 00 00 00 07 00)
		[ "$_st" = 00 ] || fail "$_dev: LE Set Advertising Parameters: status $_st"
		_bytes=$(hex_bytes "$_hex")
		_pad=$_n
		while [ "$_pad" -lt 31 ]; do
			_bytes="$_bytes 00"
			_pad=$((_pad + 1))
		done
		# shellcheck disable=SC2086
		_st=$(hci_le "$_dev" 0x0008 "$(printf %02x "$_n")" $_bytes)
		[ "$_st" = 00 ] || fail "$_dev: LE Set Advertising Data: status $_st"
		;;
	ext)
		[ "$_n" -le 251 ] || fail "extended advertising data longer than 251 bytes"
		# set 0, properties 0 (non-connectable, non-scannable, extended PDUs),
		# 100 ms, all channels, public address, no TX power preference,
		# LE 1M primary and secondary PHY, SID 1.
		_st=$(hci_le "$_dev" 0x0036 00 00 00 a0 00 00 a0 00 00 07 00 00 \
			00 00 00 00 00 00 00 7f 01 00 01 01 00)
		[ "$_st" = 00 ] || fail "$_dev: LE Set Extended Advertising Parameters: status $_st"
		# shellcheck disable=SC2046
		_st=$(hci_le "$_dev" 0x0037 00 03 01 "$(printf %02x "$_n")" $(hex_bytes "$_hex"))
		[ "$_st" = 00 ] || fail "$_dev: LE Set Extended Advertising Data: status $_st"
		;;
	*) fail "adv_setup: unknown mode $_mode" ;;
	esac
}

adv_mode() { eval "printf '%s' \"\${ADV_MODE_$1:-legacy}\""; }

# adv_enable DEV 0|1 -- print the status of LE Set (Extended) Advertising Enable.
adv_enable() {
	if [ "$(adv_mode "$1")" = ext ]; then
		hci_le "$1" 0x0039 "0$2" 01 00 00 00 00
	else
		hci_le "$1" 0x000a "0$2"
	fi
}

adv_off() { adv_enable "$1" 0 >/dev/null; }

# adv_pulse DEV... -- advertising off and on again: each scanner gets one report.
adv_pulse() {
	for _dev in "$@"; do
		adv_off "$_dev"
		_st=$(adv_enable "$_dev" 1)
		[ "$_st" = 00 ] || fail "$_dev: advertising enable: status $_st"
	done
}

# pulse_until TRIES DEVS CMD... -- pulse the advertisers in DEVS (a
# space-separated list) until CMD succeeds (checked for PULSE_WAIT seconds,
# default 1, after each pulse), at most TRIES times.
pulse_until() {
	_tries=$1 _devs=$2
	shift 2
	while [ "$_tries" -gt 0 ]; do
		# shellcheck disable=SC2086
		adv_pulse $_devs
		wait_until "${PULSE_WAIT:-1}" "$@" && return 0
		_tries=$((_tries - 1))
	done
	return 1
}

# le_ext_adv_supported DEV -- the controller's LE features announce LE
# Extended Advertising (bit 12), which is what makes beacongw scan extended.
le_ext_adv_supported() {
	_f=$(hcitool -i "$1" cmd 0x08 0x0003 2>/dev/null |
		awk '/^> HCI Event: 0x0e/ { getline; if (tolower($4) == "00") print $6; exit }')
	[ -n "$_f" ] && [ $((0x$_f & 0x10)) != 0 ]
}

# scan_is_off DEV -- the controller accepts LE Set Scan Parameters, which it
# refuses (Command Disallowed) while it scans: the scan is off.
scan_is_off() {
	_st=$(hci_le "$1" 0x000b 00 10 00 10 00 00 00)
	[ "$_st" = 00 ]
}

# ---------------------------------------------------------------- beacongw
GW_NAME=

# gw_start NAME ARG... -- beacongw -v ARG... in the background; stdout to
# $WORK/NAME.out, stderr to $WORK/NAME.err, exit status to $WORK/NAME.rc.
gw_start() {
	GW_NAME=$1
	shift
	rm -f "$WORK/$GW_NAME.rc" "$WORK/$GW_NAME.pid"
	(
		sh -c 'echo $$ > "$0"; exec "$@"' "$WORK/$GW_NAME.pid" "$GW" -v "$@" \
			>"$WORK/$GW_NAME.out" 2>"$WORK/$GW_NAME.err"
		echo $? >"$WORK/$GW_NAME.rc"
	) &
	wait_until 5 test -s "$WORK/$GW_NAME.pid" || fail "beacongw ($GW_NAME) did not start"
}

gw_pid() { cat "$WORK/$GW_NAME.pid"; }
gw_exited() { test -s "$WORK/$GW_NAME.rc"; }
gw_rc() { cat "$WORK/$GW_NAME.rc"; }
gw_logged() { grep -q -F "$1" "$WORK/$GW_NAME.err"; }

# gw_wait_log TEXT SECS -- wait for a line in beacongw's log (-v).
gw_wait_log() {
	wait_until "$2" gw_logged "$1" && return 0
	gw_exited && fail "beacongw ($GW_NAME) exited with status $(gw_rc) before logging '$1'"
	fail "beacongw ($GW_NAME) did not log '$1' within $2 s"
}

# gw_stop -- SIGTERM, then wait for the exit (status in GW_RC).
gw_stop() {
	gw_exited || kill -TERM "$(gw_pid)" 2>/dev/null
	if ! wait_until 15 gw_exited; then
		kill -KILL "$(gw_pid)" 2>/dev/null
		fail "beacongw ($GW_NAME) did not stop within 15 s of SIGTERM"
	fi
	GW_RC=$(gw_rc)
}

# dump_has FILE ADDR TYPE [FIELD=VALUE]... -- a quick grep for a dumped
# report from ADDR with a beacon of TYPE and those fields (report.FIELD: a
# field of the report itself). vmcheck has is the exact check; this one is
# cheap enough to poll.
dump_has() {
	_f=$1 _a=$2 _ty=$3
	shift 3
	_cmd="grep -F '\"addr\":\"$_a\"' '$_f' | grep -F '\"type\":\"$_ty\"'"
	for _kv in "$@"; do
		_k=${_kv%%=*} _v=${_kv#*=}
		_k=${_k#report.}
		_cmd="$_cmd | grep -F -e '\"$_k\":\"$_v\"' -e '\"$_k\":$_v,' -e '\"$_k\":$_v}'"
	done
	eval "$_cmd" >/dev/null
}

# gw_dump_has DEV TRIES ADDR TYPE [FIELD=VALUE]... -- pulse DEV until the
# dump of the running beacongw shows that beacon, then check it exactly.
gw_dump_has() {
	_d=$1 _t=$2
	shift 2
	pulse_until "$_t" "$_d" dump_has "$WORK/$GW_NAME.out" "$@" ||
		fail "beacongw ($GW_NAME) showed no $2 beacon from $1 ($*)"
	vmcheck has "$WORK/$GW_NAME.out" "$@" || fail "beacongw ($GW_NAME) dump: $*"
}
