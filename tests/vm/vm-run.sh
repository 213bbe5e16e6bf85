#!/bin/sh
# vm-run.sh - run one command as root inside a throw-away QEMU guest that has
# a real Linux Bluetooth stack, so the live `hci:` source can be tested
# against the kernel and BlueZ's virtual controllers (btvirt) on a host whose
# own kernel has no Bluetooth.
#
# The guest boots Debian's generic amd64 kernel (which has Bluetooth and
# hci_vhci) with a small busybox initramfs. The host's /usr and /etc are
# mounted read-only over virtio-9p, so host binaries (btvirt, btmon,
# mosquitto, our build) run unchanged inside; directories given with -w are
# mounted read-write at the same path (-r: read-only). The command's output
# streams to stdout; its exit status is ours.
#
# usage: vm-run.sh [-w DIR]... [-r DIR]... [-e NAME=VALUE]... [-t SECS] [-m MB]
#                  [--prepare] [--] CMD [ARG...]
#   -w DIR      share DIR read-write at the same path (repeatable; the first
#               -w directory is the command's working directory)
#   -r DIR      share DIR read-only at the same path (repeatable)
#   -e N=V      set environment variable N to V for the command (repeatable;
#               the guest starts from a clean environment)
#   -t SECS     stop the guest after SECS (default 120) -> exit 124
#   -m MB       guest memory (default 512)
#   --prepare   only make sure the cached kernel and initramfs exist
# Exit 77 (with the reason on stderr): this machine cannot run the guest.
#
# Cache: $BGW_VM_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/beacongw-vm)
# keeps the kernel package (downloaded with apt-get, never installed), the
# uncompressed kernel and the initramfs, so only the first run pays for them.
set -eu

CACHE=${BGW_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/beacongw-vm}
TMO=120 MEM=512 PREPARE=0 SHARES="" WORKDIR="" ENVS=""
NL='
'
while [ $# -gt 0 ]; do
	case $1 in
	-w) d=$(realpath "$2") || exit 64
	    SHARES="$SHARES$d rw$NL"; [ -n "$WORKDIR" ] || WORKDIR=$d; shift 2 ;;
	-r) d=$(realpath "$2") || exit 64
	    SHARES="$SHARES$d ro$NL"; shift 2 ;;
	-e) case $2 in
	    [A-Za-z_]*=*) ENVS="$ENVS$2$NL" ;;
	    *) echo "vm-run: -e needs NAME=VALUE, not $2" >&2; exit 64 ;;
	    esac
	    shift 2 ;;
	-t) TMO=$2; shift 2 ;;
	-m) MEM=$2; shift 2 ;;
	--prepare) PREPARE=1; shift ;;
	--) shift; break ;;
	-*) echo "vm-run: unknown option $1" >&2; exit 64 ;;
	*) break ;;
	esac
done
skip() { echo "SKIP: $*" >&2; exit 77; }
die() { echo "vm-run: $*" >&2; exit 1; }

# The guest runs the host's own binaries (shared /usr): it must be amd64 too.
[ "$(uname -m)" = x86_64 ] || skip "the guest is amd64 and runs host binaries: host is $(uname -m)"
# Tools of the harness and of the guest tests, with their Debian packages.
# As root, missing ones are installed (BGW_VM_INSTALL=0: never); otherwise
# the run is skipped, naming them.
TOOLS="qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod modprobe:kmod
xz:xz-utils cpio:cpio flock:util-linux dpkg-deb:dpkg btvirt:bluez-test-tools
btmon:bluez hcitool:bluez hciconfig:bluez mosquitto:mosquitto mosquitto_sub:mosquitto-clients"
missing_packages() {
	for tp in $TOOLS; do
		command -v "${tp%%:*}" >/dev/null 2>&1 || echo "${tp#*:}"
	done | sort -u | tr '\n' ' '
}
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}
pkgs=$(missing_packages)
if [ -n "$pkgs" ] && [ "$(id -u)" = 0 ] && [ "${BGW_VM_INSTALL:-1}" = 1 ] &&
	command -v apt-get >/dev/null 2>&1; then
	mkdir -p "$CACHE"
	# Tests start in parallel: one installs, the others wait for it.
	# shellcheck disable=SC2086
	(
		flock 8
		pkgs=$(missing_packages)
		[ -n "$pkgs" ] || exit 0
		echo "vm-run: installing $pkgs" >&2
		apt_install $pkgs || { apt-get update -qq >/dev/null 2>&1 && apt_install $pkgs; }
	) 8>"$CACHE/.install.lock" || true
	pkgs=$(missing_packages)
fi
[ -z "$pkgs" ] || skip "missing Debian packages: $pkgs(scripts/deps.sh installs them)"

# ------------------------------------------------------------ kernel + initramfs
kernel_deb() {
	ls "$CACHE"/linux-image-*_amd64.deb 2>/dev/null | tail -n 1
}

fetch_kernel() {
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	fi
	[ -n "$pkg" ] || skip "no Debian kernel package known to apt (linux-image-amd64)"
	(cd "$CACHE" && apt-get download "$pkg" >/dev/null 2>&1) ||
		skip "cannot download $pkg with apt-get"
}

build_image() {
	mkdir -p "$CACHE"
	[ -n "$(kernel_deb)" ] || fetch_kernel
	deb=$(kernel_deb)
	pkg=$(dpkg-deb -f "$deb" Package)
	kver=${pkg#linux-image-}
	tmp=$(mktemp -d "$CACHE/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp" "./boot/vmlinuz-$kver" "./lib/modules/$kver"
	depmod -b "$tmp" "$kver"   # the package ships no modules.dep
	ir=$tmp/initramfs mdir=lib/modules/$kver
	mkdir -p "$ir/bin" "$ir/sbin" "$ir/$mdir"
	cp "$(command -v busybox)" "$ir/bin/busybox"
	# The kernel's request_module() runs /sbin/modprobe: busybox's will do.
	ln -s ../bin/busybox "$ir/sbin/modprobe"
	# Loaded at boot, in dependency order. The RNG modules come first: without
	# a "stdrng" the ECDH self-test fails and Bluetooth SMP cannot make keys.
	modprobe -d "$tmp" -S "$kver" --show-depends -a sha512_generic jitterentropy_rng drbg ctr \
		virtio_pci 9pnet_virtio 9p virtio-rng hci_vhci algif_hash algif_skcipher cmac ecb |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }' > "$tmp/boot.list"
	sed 's#.*/##; s#\.ko$##' "$tmp/boot.list" > "$ir/modules"
	# Ship those plus every crypto and Bluetooth module for on-demand loading.
	(cd "$tmp/$mdir" && {
		sed "s#^$tmp/$mdir/##" "$tmp/boot.list"
		find kernel/crypto kernel/arch/x86/crypto kernel/lib/crypto kernel/net/bluetooth \
			kernel/drivers/bluetooth -name '*.ko' 2>/dev/null
	} | sort -u | tar -c -T - modules.order modules.builtin modules.builtin.modinfo) |
		tar -x -C "$ir/$mdir"
	depmod -b "$ir" "$kver"
	cp "$(dirname "$0")/guest-init.sh" "$ir/init"
	chmod 755 "$ir/init"
	(cd "$ir" && find . | cpio -o -H newc 2>/dev/null) | gzip -1 > "$CACHE/initrd.gz.new"
	# Boot the uncompressed ELF through its PVH entry: QEMU loads it directly,
	# which skips real-mode setup and the in-kernel XZ decompressor.
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ' "$tmp/boot/vmlinuz-$kver" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || die "no XZ payload in vmlinuz-$kver"
	tail -c +$((off + 1)) "$tmp/boot/vmlinuz-$kver" | xz -dc --single-stream \
		> "$CACHE/vmlinux.new" 2>/dev/null || true
	[ -s "$CACHE/vmlinux.new" ] || die "could not extract vmlinux"
	mv "$CACHE/initrd.gz.new" "$CACHE/initrd.gz"
	mv "$CACHE/vmlinux.new" "$CACHE/vmlinux"
	sha256sum "$(dirname "$0")/guest-init.sh" | cut -d' ' -f1 > "$CACHE/init.sum"
	rm -rf "$tmp"
	trap - EXIT
}

# Rebuild when missing, or when the guest init script changed.
initsum=$(sha256sum "$(dirname "$0")/guest-init.sh" | cut -d' ' -f1)
if [ ! -s "$CACHE/vmlinux" ] || [ ! -s "$CACHE/initrd.gz" ] ||
	[ "$(cat "$CACHE/init.sum" 2>/dev/null)" != "$initsum" ]; then
	# Two tests may prepare at once: one builds, the other waits for it.
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
	if [ ! -s "$CACHE/vmlinux" ] || [ ! -s "$CACHE/initrd.gz" ] ||
		[ "$(cat "$CACHE/init.sum" 2>/dev/null)" != "$initsum" ]; then
		build_image
	fi
	flock -u 9
fi
[ "$PREPARE" = 1 ] && exit 0
[ $# -gt 0 ] || die "usage: vm-run.sh [-w DIR]... [-r DIR]... [-e N=V]... [-t SECS] -- CMD..."

# ------------------------------------------------------------ run
CTL=$(mktemp -d "${TMPDIR:-/tmp}/bgw-vm.XXXXXX")
trap 'rm -rf "$CTL"' EXIT
if [ -z "$WORKDIR" ]; then
	WORKDIR=$(pwd)
	SHARES="$WORKDIR rw$NL$SHARES"
fi
# One line per share: PATH MODE (the guest mounts them in this order).
printf '%s' "$SHARES" > "$CTL/shares"
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	printf '%s' "$ENVS" | while IFS= read -r kv; do
		if [ -n "$kv" ]; then
			printf 'export %s=%s\n' "${kv%%=*}" "$(quote "${kv#*=}")"
		fi
	done
	printf 'cd %s || exit 1\nexec' "$(quote "$WORKDIR")"
	for a in "$@"; do printf ' %s' "$(quote "$a")"; done
	printf '\n'
} > "$CTL/cmd"

# KVM here may be a nested hypervisor that cannot boot a stock kernel:
# software emulation (TCG) boots this small guest in a few seconds anyway.
accel="-accel tcg -cpu max"
if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && [ "${BGW_VM_KVM:-1}" = 1 ]; then
	accel="-accel kvm -cpu host"
fi
share() { echo "local,path=$1,mount_tag=$2,security_model=none,multidevs=remap$3"; }
set -- -virtfs "$(share /usr usr ,readonly=on)" -virtfs "$(share /etc etc ,readonly=on)" \
	-virtfs "$(share "$CTL" ctl '')"
i=0
while read -r d mode; do
	case $d in *,* | *' '*) die "shared path must not contain a comma or a space: $d" ;; esac
	ro=''
	[ "$mode" = ro ] && ro=,readonly=on
	set -- "$@" -virtfs "$(share "$d" "w$i" "$ro")"
	i=$((i + 1))
done < "$CTL/shares"

rc=0
# shellcheck disable=SC2086
timeout --foreground -k 5 "$TMO" qemu-system-x86_64 $accel -M pc,acpi=off -m "$MEM" -smp 1 \
	-nodefaults -no-user-config -display none -no-reboot \
	-chardev stdio,id=con -serial chardev:con \
	-kernel "$CACHE/vmlinux" -initrd "$CACHE/initrd.gz" \
	-append "console=ttyS0 panic=-1 rdinit=/init cryptomgr.notests=1 quiet loglevel=1" \
	-device virtio-rng-pci -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	"$@" </dev/null || rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "vm-run: guest timed out after ${TMO}s" >&2
	exit 124
fi
[ -s "$CTL/rc" ] || die "guest ended without an exit status (qemu exit $rc)"
exit "$(cat "$CTL/rc")"
