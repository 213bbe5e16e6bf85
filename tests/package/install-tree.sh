#!/bin/sh
# `cmake --install` into a DESTDIR puts every part in its FHS place: the
# binaries, the systemd unit whose Exec lines name them, the sysusers.d and
# tmpfiles.d snippets, the configuration (mode 0640), the compressed manual
# pages (each once), the copyright file -- and nothing anywhere else.
#
# Environment: BGW_BUILD_DIR, BGW_SOURCE_DIR (ctest), BGW_PREFIX and the
# GNUInstallDirs directories BGW_BINDIR, BGW_SBINDIR, BGW_MANDIR, BGW_DOCDIR
# (tests/package/CMakeLists.txt).
set -eu
: "${BGW_PREFIX:?}" "${BGW_BINDIR:?}" "${BGW_SBINDIR:?}" "${BGW_MANDIR:?}" "${BGW_DOCDIR:?}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# Relative GNUInstallDirs paths are under the prefix; absolute ones are not.
under_prefix() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$BGW_PREFIX/$1" ;;
	esac
}
bindir=$(under_prefix "$BGW_BINDIR")
sbindir=$(under_prefix "$BGW_SBINDIR")
mandir=$(under_prefix "$BGW_MANDIR")
docdir=$(under_prefix "$BGW_DOCDIR")

if ! DESTDIR=$dest cmake --install "$BGW_BUILD_DIR" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL: cmake --install into DESTDIR failed"
	exit 1
fi
echo "installed into DESTDIR (prefix $BGW_PREFIX):"
(cd "$dest" && find . ! -type d | sort | sed 's/^\./  /')

mode_of() { stat -c %a "$1"; }

# ---- binaries: one per program built, executable, in bin or sbin
for prog in beacongw beaconctl beaconsim beaconhub; do
	[ -x "$BGW_BUILD_DIR/$prog" ] || { echo "note: $prog not built, not checked"; continue; }
	found=""
	for d in "$sbindir" "$bindir"; do
		[ -f "$dest$d/$prog" ] && found=$dest$d/$prog
	done
	if [ -z "$found" ]; then
		fail "$prog not installed in $bindir or $sbindir"
	elif [ "$(mode_of "$found")" != 755 ]; then
		fail "$found has mode $(mode_of "$found"), not 755"
	fi
done

# ---- systemd unit, in a directory systemd reads, naming installed programs
unit=$(find "$dest" -name beacongw.service -type f | head -n 1)
if [ -z "$unit" ]; then
	fail "beacongw.service not installed"
else
	unit_dir=$(dirname "${unit#"$dest"}")
	case $unit_dir in
	/lib/systemd/system | /usr/lib/systemd/system | /usr/local/lib/systemd/system | \
		/etc/systemd/system | "$BGW_PREFIX/lib/systemd/system") ;;
	*) fail "beacongw.service in $unit_dir, where systemd does not look" ;;
	esac
	grep -q '@[A-Z_]*@' "$unit" && fail "beacongw.service has unsubstituted @VARS@"
	sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$unit" | sort -u >"$tmp/exec"
	while read -r path; do
		case $path in
		"$BGW_PREFIX"/*) [ -x "$dest$path" ] ||
			fail "beacongw.service runs $path, which is not installed" ;;
		*) [ -x "$path" ] || [ -x "$dest$path" ] ||
			fail "beacongw.service runs $path, which does not exist" ;;
		esac
	done <"$tmp/exec"
fi

# ---- sysusers.d and tmpfiles.d snippets
for kind in sysusers tmpfiles; do
	f=$dest$BGW_PREFIX/lib/$kind.d/beacongw.conf
	[ -f "$f" ] || fail "$kind.d snippet not at ${f#"$dest"}"
done

# ---- configuration: /etc/beacongw/beacongw.conf, 0640, the documented example
example=$BGW_SOURCE_DIR/config/beacongw.conf
conf=$dest/etc/beacongw/beacongw.conf
if [ -f "$example" ]; then
	if [ ! -f "$conf" ]; then
		fail "configuration not installed at /etc/beacongw/beacongw.conf"
	else
		[ "$(mode_of "$conf")" = 640 ] || fail "beacongw.conf has mode $(mode_of "$conf"), not 640"
		cmp -s "$example" "$conf" || fail "installed beacongw.conf differs from config/beacongw.conf"
	fi
else
	echo "note: config/beacongw.conf not written yet, not checked"
fi

# ---- manual pages: every page of docs/man, compressed, once
for page in "$BGW_SOURCE_DIR"/docs/man/*.[1-8]; do
	[ -f "$page" ] || continue
	name=$(basename "$page")
	section=${name##*.}
	gz=$dest$mandir/man$section/$name.gz
	if [ ! -f "$gz" ]; then
		fail "manual page $name not installed as ${gz#"$dest"}"
	else
		gzip -dc "$gz" | cmp -s - "$page" || fail "${gz#"$dest"} is not docs/man/$name"
		[ "$(mode_of "$gz")" = 644 ] || fail "${gz#"$dest"} has mode $(mode_of "$gz")"
	fi
	[ -e "$dest$mandir/man$section/$name" ] &&
		fail "manual page $name installed twice (plain and .gz): remove the other rule"
done

# ---- Debian documentation
[ -f "$dest$docdir/copyright" ] || fail "copyright not installed in $docdir"
# operations.md shows the dashboard picture by a relative link.
[ -f "$dest$docdir/img/dashboard.png" ] || fail "img/dashboard.png (operations.md's picture) not installed in $docdir"

# ---- the operator's monitoring files
for f in beacongw-alerts.yml beacongw-dashboard.json; do
	got=$dest$BGW_PREFIX/share/beacongw/monitoring/$f
	if [ ! -f "$got" ]; then
		fail "monitoring file $f not installed in share/beacongw/monitoring"
	else
		cmp -s "$got" "$BGW_SOURCE_DIR/packaging/monitoring/$f" || fail "$f differs from the source"
		[ "$(mode_of "$got")" = 644 ] || fail "$f has mode $(mode_of "$got")"
	fi
done

# ---- nothing outside the expected places
(cd "$dest" && find . ! -type d | sed 's/^\.//') >"$tmp/files"
while read -r f; do
	case $f in
	"$bindir"/* | "$sbindir"/* | "$mandir"/man[1-8]/*.gz | "$docdir"/* | \
		"$BGW_PREFIX"/share/lintian/overrides/beacongw | \
		"$BGW_PREFIX"/share/beacongw/monitoring/* | \
		"$BGW_PREFIX"/lib/sysusers.d/beacongw.conf | \
		"$BGW_PREFIX"/lib/tmpfiles.d/beacongw.conf | \
		*/lib/systemd/system/beacongw.service | */lib/systemd/system/beaconhub.service | \
		/etc/beacongw/*) ;;
	*) fail "unexpected file installed: $f" ;;
	esac
done <"$tmp/files"

if [ "$failures" -gt 0 ]; then
	echo "$failures problem(s) in the install tree"
	exit 1
fi
echo "install tree OK"
