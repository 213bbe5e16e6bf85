#!/bin/sh
# The systemd unit parses (systemd-analyze verify) and its exposure score
# (systemd-analyze security --offline) stays at or below 2.0.
set -eu
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Point the unit at this build's binary so verify can check ExecStart.
sed "s#@BINDIR@#$BGW_BUILD_DIR#g" "$BGW_SOURCE_DIR/systemd/beacongw.service" > "$tmp/beacongw.service"
# Documentation= lines are checked with man(1): let it find our pages.
export MANPATH="$BGW_BUILD_DIR/man:"
out=$(systemd-analyze verify "$tmp/beacongw.service" 2>&1 | grep -v "Command 'man" || true)
if [ -n "$out" ]; then
	echo "systemd-analyze verify complained:"; echo "$out"; exit 1
fi
score=$(systemd-analyze security --offline=yes "$tmp/beacongw.service" 2>&1 |
	sed -n 's/.*Overall exposure level for beacongw.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "no exposure score from systemd-analyze"; exit 1; }
echo "exposure score: $score (goal <= 2.0)"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "exposure $score is above 2.0"; exit 1; }
