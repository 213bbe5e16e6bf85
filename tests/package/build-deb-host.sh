#!/bin/sh
# scripts/build-deb --arch arm64 does not change the host unless told to:
# with cross packages missing and no --allow-host-changes it exits 69, lists
# what it would install, and calls neither apt-get nor dpkg --add-architecture.
# (The host's package state is simulated with dpkg-query/dpkg/apt-get
# stand-ins first in PATH; the real ones are never asked to change anything.)
set -eu
src=${BGW_SOURCE_DIR:?BGW_SOURCE_DIR is not set}
tmp=$(mktemp -d)
[ -n "$tmp" ] && [ -d "$tmp" ] || { echo "no scratch directory"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/bin
mkdir "$bin"
real_dpkg=$(command -v dpkg)
real_query=$(command -v dpkg-query)

# Every :arm64 package is missing on this pretend host.
{
	echo '#!/bin/sh'
	echo 'for a; do case $a in *:arm64) echo "unknown ok not-installed"; exit 1 ;; esac; done'
	echo "exec $real_query \"\$@\""
} >"$bin/dpkg-query"
# Changing calls are recorded and fail; questions go to the real dpkg.
{
	echo '#!/bin/sh'
	echo 'case "$*" in'
	echo "*--add-architecture*) echo \"dpkg \$*\" >>\"$tmp/changes\"; exit 1 ;;"
	echo '--print-foreign-architectures) exit 0 ;;'
	echo 'esac'
	echo "exec $real_dpkg \"\$@\""
} >"$bin/dpkg"
{
	echo '#!/bin/sh'
	echo "echo \"apt-get \$*\" >>\"$tmp/changes\""
	echo 'exit 1'
} >"$bin/apt-get"
chmod +x "$bin/dpkg-query" "$bin/dpkg" "$bin/apt-get"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

set +e
PATH="$bin:$PATH" sh "$src/scripts/build-deb" --arch arm64 --deps-only >"$tmp/out" 2>&1
rc=$?
set -e
sed 's/^/  build-deb: /' "$tmp/out"
[ "$rc" = 69 ] || fail "exit $rc, not 69, without --allow-host-changes"
[ -e "$tmp/changes" ] && fail "it tried to change the host: $(cat "$tmp/changes")"
grep -q -- "--allow-host-changes" "$tmp/out" || fail "the message does not say how to allow it"
grep -q "libsqlite3-dev:arm64" "$tmp/out" || fail "the message does not list the packages"
grep -q "dpkg --add-architecture arm64" "$tmp/out" ||
	fail "the message does not say the architecture would be added"
grep -q "Nothing was changed" "$tmp/out" || fail "the message does not say nothing changed"

# With the flag, as root, it goes ahead (into the stand-ins, which refuse).
if [ "$(id -u)" = 0 ]; then
	set +e
	PATH="$bin:$PATH" sh "$src/scripts/build-deb" --arch arm64 --deps-only \
		--allow-host-changes >"$tmp/out2" 2>&1
	set -e
	grep -q "add-architecture arm64" "$tmp/changes" 2>/dev/null ||
		fail "--allow-host-changes did not go ahead: $(cat "$tmp/out2")"
fi

[ "$failures" = 0 ] || exit 1
echo "build-deb --arch arm64 leaves the host alone without --allow-host-changes: OK"
