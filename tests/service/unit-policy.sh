#!/bin/sh
# What the unit does with a bad configuration and with a public broker:
#  - exit status 78 leaves it failed (RestartPreventExitStatus=78), and the
#    configuration is checked by the main process, not by an ExecStartPre=
#    whose failure systemd would restart forever;
#  - "beacongw --broker-drop-in" for a public broker adds exactly that
#    broker's address to the allow-list: IPAddressDeny=any stays, the unit
#    with the drop-in still verifies and its exposure stays at or below 2.0;
#    for a private or loopback broker it adds nothing.
set -eu
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unit=$BGW_SOURCE_DIR/systemd/beacongw.service
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

grep -qx 'Restart=on-failure' "$unit" || fail "no Restart=on-failure"
grep -Eq '^RestartPreventExitStatus=(.* )?78( |$)' "$unit" ||
	fail "a configuration error (exit 78) would be restarted: no RestartPreventExitStatus=78"
grep -q '^ExecStartPre=' "$unit" &&
	fail "ExecStartPre= runs a check whose failure RestartPreventExitStatus= cannot stop"

# The daemon itself refuses a bad configuration with 78 before it starts.
printf '[mqtt]\ncafile = %s/nothere.pem   # missing\n' "$tmp" >"$tmp/bad.conf"
set +e
"$BGW_BUILD_DIR/beacongw" -c "$tmp/bad.conf" --db "$tmp/x.db" --source btsnoop:/dev/null \
	2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 78 ] || fail "a bad configuration at start exits $rc, not 78: $(cat "$tmp/err")"
grep -q "bad.conf:2:" "$tmp/err" || fail "start-up does not name the line: $(cat "$tmp/err")"

# A broker on a public (documentation) address, as install.md's example.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" \
	-out "$tmp/ca.pem" -days 2 -subj /CN=ca >/dev/null 2>&1
printf '[mqtt]\nhost = 203.0.113.7\ncafile = %s/ca.pem\n' "$tmp" >"$tmp/public.conf"
"$BGW_BUILD_DIR/beacongw" -c "$tmp/public.conf" --broker-drop-in >"$tmp/dropin.conf" ||
	fail "--broker-drop-in failed"
sed 's/^/  drop-in: /' "$tmp/dropin.conf"
allows=$(grep '^IPAddress' "$tmp/dropin.conf" || true)
[ "$allows" = "IPAddressAllow=203.0.113.7" ] ||
	fail "the drop-in should allow 203.0.113.7 and nothing else, has: $allows"
grep -v '^#' "$tmp/dropin.conf" | grep -qv -e '^\[Service\]$' -e '^IPAddressAllow=' &&
	fail "the drop-in sets more than IPAddressAllow="

# The unit as systemd sees it with the drop-in: list settings append, so the
# drop-in's lines go after the unit's [Service] section.
sed "s#@BINDIR@#$BGW_BUILD_DIR#g" "$unit" >"$tmp/beacongw.service"
mkdir -p "$tmp/with-dropin"
awk -v f="$tmp/dropin.conf" '
	/^\[Install\]/ { while ((getline l < f) > 0) if (l !~ /^(#|\[)/) print l; print "" }
	{ print }' "$tmp/beacongw.service" >"$tmp/with-dropin/beacongw.service"
merged=$tmp/with-dropin/beacongw.service
grep -qx 'IPAddressDeny=any' "$merged" || fail "IPAddressDeny=any is gone"
grep -qx 'IPAddressAllow=203.0.113.7' "$merged" || fail "merge did not add the broker"
export MANPATH="$BGW_BUILD_DIR/man:"
out=$(systemd-analyze verify "$merged" 2>&1 | grep -v "Command 'man" || true)
[ -z "$out" ] || fail "systemd-analyze verify with the drop-in: $out"
score=$(systemd-analyze security --offline=yes "$merged" 2>&1 |
	sed -n 's/.*Overall exposure level for beacongw.service: \([0-9.]*\).*/\1/p')
echo "exposure with the broker drop-in: $score (goal <= 2.0)"
[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
	fail "exposure with the drop-in is '$score'"

# A broker the unit already allows: the drop-in allows nothing more.
printf '[mqtt]\nhost = 127.0.0.1\n' >"$tmp/local.conf"
"$BGW_BUILD_DIR/beacongw" -c "$tmp/local.conf" --broker-drop-in >"$tmp/local-dropin.conf" ||
	fail "--broker-drop-in failed for loopback"
grep -q '^IPAddress' "$tmp/local-dropin.conf" && fail "loopback broker: the drop-in allows more"

# --check-config warns about a public broker no drop-in allows.
"$BGW_BUILD_DIR/beaconctl" --db "$tmp/x.db" init >/dev/null
"$BGW_BUILD_DIR/beacongw" -c "$tmp/public.conf" --db "$tmp/x.db" --check-config >"$tmp/check" ||
	fail "--check-config failed for the public broker: $(cat "$tmp/check")"
if [ -e /etc/systemd/system/beacongw.service.d ]; then
	echo "note: this machine has beacongw drop-ins, the warning is not checked"
else
	grep -q "warning: .*203.0.113.7.*--broker-drop-in" "$tmp/check" ||
		fail "--check-config does not warn about the public broker: $(cat "$tmp/check")"
fi

[ "$failures" = 0 ] || { echo "$failures problem(s)"; exit 1; }
echo "unit policy OK"
