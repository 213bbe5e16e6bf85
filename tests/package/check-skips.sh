#!/bin/sh
# scripts/check-skips on a real ctest JUnit report: a test that skipped
# itself (exit 77) fails the check unless scripts/allowed-skips lets this
# machine skip it; a test that ran is never questioned.
set -eu
src=${BGW_SOURCE_DIR:?BGW_SOURCE_DIR is not set}
tmp=$(mktemp -d)
[ -n "$tmp" ] && [ -d "$tmp" ] || { echo "no scratch directory"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mkdir "$tmp/p"
cat >"$tmp/p/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(skips NONE)
enable_testing()
add_test(NAME runs COMMAND sh -c "echo fine")
add_test(NAME daemon_lazy COMMAND sh -c "echo 'SKIP: felt like it'; exit 77")
add_test(NAME fault_needs_root COMMAND sh -c "echo 'SKIP: needs root'; exit 77")
set_tests_properties(daemon_lazy fault_needs_root PROPERTIES SKIP_RETURN_CODE 77)
CMAKE
cmake -S "$tmp/p" -B "$tmp/b" >/dev/null
ctest --test-dir "$tmp/b" --output-junit "$tmp/junit.xml" >/dev/null 2>&1 || true

set +e
python3 "$src/scripts/check-skips" release "$tmp/junit.xml" >"$tmp/out" 2>&1
rc=$?
set -e
sed 's/^/  check-skips: /' "$tmp/out"
[ "$rc" = 1 ] || fail "a skipped test with no excuse passed (exit $rc)"
grep -q "SKIPPED BUT RUNNABLE HERE: daemon_lazy (SKIP: felt like it)" "$tmp/out" ||
	fail "the skipped test and its reason are not named"
grep -q "runs" "$tmp/out" && fail "a test that ran is listed"
# fault_* may skip only where it cannot run: not as root.
if [ "$(id -u)" = 0 ]; then
	grep -q "SKIPPED BUT RUNNABLE HERE: fault_needs_root" "$tmp/out" ||
		fail "as root, a skipped fault test is accepted"
else
	grep -q "skipped (allowed here: needs root" "$tmp/out" ||
		fail "not root: the fault test's skip is not accepted"
fi

# scripts/check runs it after every stage.
grep -q 'check-skips' "$src/scripts/check" || fail "scripts/check does not check skips"

[ "$failures" = 0 ] || exit 1
echo "skips are checked: OK"
