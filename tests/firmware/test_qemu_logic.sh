#!/bin/sh
# The firmware logic checks, compiled for Cortex-M4F, run in QEMU's
# mps2-an386 with semihosting; QEMU's exit status (from SYS_EXIT) gates.
set -u
elf="$BGW_BUILD_DIR/firmware/fw-qemu-logic.elf"

command -v qemu-system-arm >/dev/null 2>&1 ||
	{ echo "SKIP: qemu-system-arm not installed (Debian package qemu-system-arm)"; exit 77; }
grep -q '^BGW_FIRMWARE:BOOL=ON' "$BGW_BUILD_DIR/CMakeCache.txt" ||
	{ echo "SKIP: BGW_FIRMWARE is off (no arm-none-eabi-gcc)"; exit 77; }
[ -f "$elf" ] || { echo "FAIL: $elf missing"; exit 1; }

# -monitor/-serial none: nothing but semihosting talks on stdio.
timeout 240 qemu-system-arm -M mps2-an386 -semihosting -nographic -monitor none \
	-serial none -kernel "$elf"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: QEMU run exited $rc"; exit 1; }
echo "ok"
