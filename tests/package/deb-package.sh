#!/bin/sh
# The Debian package builds (scripts/build-deb) and is what a store installer
# needs: file name beacongw_VERSION_ARCH.deb, the right architecture and
# library Depends, the conffile, maintainer scripts that enable and start
# nothing, every file in its place with its mode, stripped binaries,
# compressed pages, no lintian error. Unpacked into a scratch root, the
# native package's programs run: beacongw --version, beaconctl --help, a
# database made with its beaconctl and a capture dumped with its beacongw.
#
#   deb-package.sh native    the package for this machine
#   deb-package.sh arm64     cross-built for Raspberry Pi OS (64-bit); skipped
#                            (77) when the cross toolchain cannot be installed
set -eu
target=${1:?usage: deb-package.sh native|arm64}
src=$BGW_SOURCE_DIR
native=$(dpkg --print-architecture)

case $target in
native) arch=$native; arch_args="" ;;
arm64) arch=arm64; arch_args="--arch arm64" ;;
*) echo "unknown target $target"; exit 64 ;;
esac

for tool in dpkg-deb dpkg-shlibdeps file; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
# shellcheck disable=SC2086
if ! sh "$src/scripts/build-deb" $arch_args --deps-only; then
	echo "SKIP: the $arch build dependencies (cross toolchain, :$arch -dev packages)" \
		"are not installed and cannot be installed here"
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# A tree of its own, kept between runs so a second run only rebuilds what changed.
build=$BGW_BUILD_DIR/package-$arch
# shellcheck disable=SC2086
if ! sh "$src/scripts/build-deb" $arch_args --build-dir "$build" >"$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log"
	echo "FAIL: scripts/build-deb $arch_args failed"
	exit 1
fi
deb=$(tail -n 1 "$tmp/build.log")
version=$(sed -n 's/^project(beacongw VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
echo "package: $deb"

# ---- name and control fields
[ "$(basename "$deb")" = "beacongw_${version}_$arch.deb" ] ||
	fail "package file is $(basename "$deb"), not beacongw_${version}_$arch.deb"
dpkg-deb -I "$deb" | sed 's/^/  /'
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = beacongw ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), not $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture), not $arch"
depends=$(field Depends)
for lib in libc6 libbluetooth3 libmosquitto1 libsqlite3-0 libssl3 libcjson1 libinih1 \
	libsystemd0; do
	echo "$depends" | grep -Eq "(^|[ ,])$lib( |,|$)" || fail "Depends lacks $lib: $depends"
done
echo "$depends" | grep -q 'systemd | adduser' || fail "Depends lacks 'systemd | adduser'"

# ---- control members: conffiles, maintainer scripts that start nothing
dpkg-deb -e "$deb" "$tmp/control"
if [ -f "$src/config/beacongw.conf" ]; then
	grep -qx /etc/beacongw/beacongw.conf "$tmp/control/conffiles" 2>/dev/null ||
		fail "conffiles does not list /etc/beacongw/beacongw.conf"
fi
for script in postinst prerm postrm; do
	f=$tmp/control/$script
	if [ ! -x "$f" ]; then
		fail "maintainer script $script missing or not executable"
		continue
	fi
	sh -n "$f" || fail "$script: syntax error"
	grep -Eq '^set -e' "$f" || fail "$script does not stop on errors (set -e)"
	# try-restart (restart only what already runs) is fine; these are not.
	if grep -v '^[[:space:]]*#' "$f" | grep -Eq \
		'(systemctl|deb-systemd-helper|deb-systemd-invoke).*[[:space:]](enable|start|restart|unmask)([[:space:]]|$)'; then
		fail "$script enables or starts the service by itself"
	fi
done
grep -q 'rm -rf /etc/beacongw' "$tmp/control/postrm" ||
	fail "postrm purge does not remove /etc/beacongw (password, CA file)"
grep -q 'systemd-sysusers beacongw.conf' "$tmp/control/postinst" ||
	fail "postinst does not create the user from the sysusers.d snippet"

# ---- contents: paths and modes
dpkg-deb -c "$deb" | awk '{ print $1, $6 }' >"$tmp/contents"
expect() { # mode path
	grep -qx -- "$1 ./$2" "$tmp/contents" || fail "package lacks $2 with mode $1"
}
expect -rwxr-xr-x usr/sbin/beacongw
expect -rwxr-xr-x usr/bin/beaconctl
expect -rwxr-xr-x usr/bin/beaconsim
expect -rw-r--r-- lib/systemd/system/beacongw.service
expect -rwxr-xr-x usr/sbin/beaconhub
expect -rw-r--r-- lib/systemd/system/beaconhub.service
expect -rw-r----- etc/beacongw/beaconhub.conf
expect -rw-r--r-- usr/lib/sysusers.d/beacongw.conf
expect -rw-r--r-- usr/lib/tmpfiles.d/beacongw.conf
expect -rw-r--r-- usr/share/doc/beacongw/copyright
expect -rw-r--r-- usr/share/doc/beacongw/changelog.gz
expect -rw-r--r-- usr/share/beacongw/monitoring/beacongw-alerts.yml
expect -rw-r--r-- usr/share/beacongw/monitoring/beacongw-dashboard.json
[ -f "$src/config/beacongw.conf" ] && expect -rw-r----- etc/beacongw/beacongw.conf
for page in "$src"/docs/man/*.[1-8]; do
	[ -f "$page" ] || continue
	name=$(basename "$page")
	expect -rw-r--r-- "usr/share/man/man${name##*.}/$name.gz"
done
grep -q ' \./usr/local/' "$tmp/contents" && fail "package installs under /usr/local"

# ---- unpacked into a scratch root
root=$tmp/root
dpkg-deb -x "$deb" "$root"
for bin in usr/sbin/beacongw usr/bin/beaconctl usr/bin/beaconsim usr/sbin/beaconhub; do
	info=$(file -b "$root/$bin")
	echo "$bin: $info"
	case $info in *", stripped"*) ;; *) fail "$bin is not stripped" ;; esac
	if [ "$arch" = arm64 ]; then
		case $info in *"ARM aarch64"*) ;; *) fail "$bin is not an aarch64 program" ;; esac
	fi
done
grep -q '^RestartPreventExitStatus=78' "$root/lib/systemd/system/beacongw.service" ||
	fail "the packaged unit restarts a configuration error (no RestartPreventExitStatus=78)"
sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$root/lib/systemd/system/beacongw.service" \
	"$root/lib/systemd/system/beaconhub.service" |
	sort -u | while read -r path; do
	case $path in
	/usr/*) [ -x "$root$path" ] || echo "FAIL: beacongw.service runs $path, not in the package" ;;
	esac
done >"$tmp/unit-check"
if [ -s "$tmp/unit-check" ]; then
	cat "$tmp/unit-check"
	failures=$((failures + 1))
fi

if [ "$arch" = "$native" ]; then
	# The programs need only system libraries; the package's own library
	# directory goes first anyway, as it would on the target.
	multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo .)
	export LD_LIBRARY_PATH="$root/usr/lib/$multiarch:$root/usr/lib"
	out=$("$root/usr/sbin/beacongw" --version) || fail "packaged beacongw --version failed"
	[ "$out" = "beacongw $version" ] || fail "beacongw --version says '$out'"
	"$root/usr/bin/beaconctl" --help >"$tmp/ctl-help" || fail "packaged beaconctl --help failed"
	grep -q '^Usage: beaconctl' "$tmp/ctl-help" || fail "beaconctl --help prints no usage"
	"$root/usr/bin/beaconsim" --help >/dev/null || fail "packaged beaconsim --help failed"
	"$root/usr/bin/beaconctl" --db "$tmp/consent.db" init >/dev/null ||
		fail "packaged beaconctl cannot create a database"
	conf=$root/etc/beacongw/beacongw.conf
	if [ -f "$conf" ]; then
		"$root/usr/sbin/beacongw" -c "$conf" --db "$tmp/consent.db" --check-config ||
			fail "packaged beacongw rejects the packaged configuration"
	fi
	capture=$src/tests/data/legacy.btsnoop
	if [ -f "$capture" ]; then
		lines=$("$root/usr/sbin/beacongw" -c /dev/null --source "btsnoop:$capture" --dump |
			wc -l) || true
		[ "$lines" -gt 0 ] || fail "packaged beacongw --dump printed nothing for $capture"
		echo "packaged beacongw dumped $lines reports from tests/data/legacy.btsnoop"
	fi
fi

# ---- the real thing: install on this machine, check, purge; leave it as it was.
# Only where that is safe: as root, with no beacongw package or user here.
lifecycle() {
	apt_opts="-y -qq --no-install-recommends -o DPkg::Lock::Timeout=600"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get $apt_opts install "$deb" >"$tmp/apt.log" 2>&1 || {
		cat "$tmp/apt.log"
		fail "apt-get install of the package failed"
		return
	}
	getent passwd beacongw >/dev/null || fail "installing created no beacongw user"
	[ "$(stat -c '%U:%G %a' /var/lib/beacongw 2>/dev/null)" = "beacongw:beacongw 750" ] ||
		fail "/var/lib/beacongw is not beacongw:beacongw 0750"
	if [ -f /etc/beacongw/beacongw.conf ]; then
		[ "$(stat -c '%U:%G %a' /etc/beacongw/beacongw.conf)" = "root:beacongw 640" ] ||
			fail "/etc/beacongw/beacongw.conf is not root:beacongw 0640"
		# The service user reads its configuration and runs the check the unit runs.
		setpriv --reuid=beacongw --regid=beacongw --init-groups \
			sh -c 'beaconctl init >/dev/null && beacongw --check-config' ||
			fail "as user beacongw: beaconctl init + beacongw --check-config failed"
	fi
	if [ -d /run/systemd/system ]; then
		state=$(systemctl is-enabled beacongw.service 2>/dev/null || true)
		[ "$state" = disabled ] || fail "after install the unit is '$state', not disabled"
		systemctl is-active --quiet beacongw.service && fail "installing started the service"
	fi
	# What install.md has the administrator add: a password file and a CA
	# certificate next to the configuration. remove keeps them, purge does not.
	install -m 0640 -o root -g beacongw /dev/null /etc/beacongw/mqtt.password
	echo secret >/etc/beacongw/mqtt.password
	install -m 0644 /dev/null /etc/beacongw/broker-ca.pem
	# shellcheck disable=SC2086
	apt-get $apt_opts remove beacongw >>"$tmp/apt.log" 2>&1 || fail "apt-get remove failed"
	[ -f /etc/beacongw/mqtt.password ] || fail "remove deleted /etc/beacongw/mqtt.password"
	[ -f /etc/beacongw/beacongw.conf ] || fail "remove deleted the configuration"
	# shellcheck disable=SC2086
	apt-get $apt_opts purge beacongw >>"$tmp/apt.log" 2>&1 || fail "apt-get purge failed"
	[ -e /var/lib/beacongw ] && fail "purge left /var/lib/beacongw"
	[ -e /etc/beacongw ] && fail "purge left /etc/beacongw: $(ls -A /etc/beacongw)"
	userdel beacongw 2>/dev/null || true
	groupdel beacongw 2>/dev/null || true
	echo "installed with apt-get, checked and purged: OK"
}
if [ "$arch" = "$native" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "note: not root, the package was not installed on this machine"
	elif dpkg-query -W beacongw >/dev/null 2>&1 || getent passwd beacongw >/dev/null ||
		getent group beacongw >/dev/null; then
		echo "note: beacongw is already on this machine, the package was not installed over it"
	else
		lifecycle
	fi
fi

# ---- lintian: no error (warnings are listed)
if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 -I "$deb" >"$tmp/lintian" 2>&1 || true
	grep -v 'running with root privileges' "$tmp/lintian" | sed 's/^/lintian: /'
	grep -q '^E: ' "$tmp/lintian" && fail "lintian reports errors"
else
	echo "note: lintian not installed, not run"
fi

if [ "$failures" -gt 0 ]; then
	echo "$failures problem(s) with $(basename "$deb")"
	exit 1
fi
echo "$(basename "$deb") OK"
