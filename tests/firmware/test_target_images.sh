#!/bin/sh
# The cross-built images exist for every board, fit the budget (flash
# <= 8 KiB, RAM incl. stack <= 2 KiB), and their vector tables make sense:
# initial SP inside the chip's RAM, reset handler a Thumb address inside
# the image, HEX next to each ELF. The board facts are right: DC/DC only
# where the inductor is known to be fitted, the EID clock's two flash pages
# past the image and clear of the Dongle's bootloader, the retained words
# inside the RAM that stays powered.
set -u
dir="$BGW_BUILD_DIR/firmware"
fail() { echo "FAIL: $*"; exit 1; }

grep -q '^BGW_FIRMWARE:BOOL=ON' "$BGW_BUILD_DIR/CMakeCache.txt" ||
	{ echo "SKIP: BGW_FIRMWARE is off (no arm-none-eabi-gcc)"; exit 77; }
for t in arm-none-eabi-size arm-none-eabi-objcopy arm-none-eabi-nm; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sym() { arm-none-eabi-nm "$1" | awk -v n="$2" '$3==n{print "0x"$1}'; }

# board flash_origin ram_origin ram_end dcdc clock_pages
for spec in "nrf52832 0x0 0x20000000 0x20010000 1 0x7e000" \
	"nrf52840 0x0 0x20000000 0x20040000 1 0xfe000" \
	"nrf52840-dongle 0x1000 0x20000008 0x20040000 0 0xde000"; do
	set -- $spec
	elf="$dir/beaconfw-$1.elf"
	[ -f "$elf" ] || fail "$elf missing"
	[ -s "$dir/beaconfw-$1.hex" ] || fail "beaconfw-$1.hex missing"
	# Berkeley format: text data bss dec hex filename
	set -- $spec $(arm-none-eabi-size -B "$elf" | tail -n 1)
	text=$7 data=$8 bss=$9
	flash=$((text + data))
	ram_used=$(( $(arm-none-eabi-nm "$elf" | awk '$3=="__stack_top"{print "0x"$1}') - $3 ))
	echo "$1: flash $flash B, RAM $ram_used B (data $data, bss $bss, stack included)"
	[ $flash -le 8192 ] || fail "$1: flash $flash > 8192"
	[ $ram_used -le 2048 ] || fail "$1: RAM $ram_used > 2048"
	[ $(($(sym "$elf" FW_BOARD_DCDC))) -eq $5 ] || fail "$1: DC/DC setting is not $5"
	pages=$(($(sym "$elf" FW_CLOCK_PAGES)))
	[ $pages -eq $(($6)) ] || fail "$1: EID clock pages not at $6"
	[ $(($2 + flash)) -le $pages ] || fail "$1: image runs into the EID clock pages"
	[ $((pages + 8192)) -le $((0xE0000)) ] || [ "$1" != nrf52840-dongle ] ||
		fail "$1: EID clock pages overlap the bootloader"
	ret=$(($(sym "$elf" retained)))
	top=$(($(sym "$elf" __stack_top)))
	[ $ret -ge $(($3)) ] && [ $((ret + 16)) -le $top ] || fail "$1: retained words outside used RAM"

	arm-none-eabi-objcopy -O binary -j .text "$elf" "$tmp/$1.bin" || fail "objcopy $1"
	words=$(od -A n -t x4 -N 8 "$tmp/$1.bin")
	set -- $spec $words
	sp=$((0x$7)) reset=$((0x$8))
	[ $sp -gt $(($3)) ] && [ $sp -le $(($4)) ] || fail "$1: initial SP $7 not in RAM"
	[ $((sp % 8)) -eq 0 ] || fail "$1: initial SP $7 not 8-byte aligned"
	[ $((reset & 1)) -eq 1 ] || fail "$1: reset vector $8 lacks the Thumb bit"
	[ $((reset & ~1)) -ge $(($2)) ] && [ $((reset & ~1)) -lt $(($2 + flash)) ] ||
		fail "$1: reset vector $8 outside the image"
	want=$(arm-none-eabi-nm "$elf" | awk '$3=="fw_reset_handler"{print $1}')
	[ $((0x$want | 1)) -eq $reset ] || fail "$1: reset vector is not fw_reset_handler"
	first=$(arm-none-eabi-objdump -h "$elf" | awk '$2==".text"{print $4}')
	[ $((0x$first)) -eq $(($2)) ] || fail "$1: image does not start at $2"
done
echo "ok"
