/* fw_power.c - DC/DC, RAM section power and System OFF through the HAL. */
#include "fw_power.h"

#include "hal.h"
#include "nrf52_regs.h"

#define RAM_BASE 0x20000000u
#define LOW_BLOCKS 8u         /* RAM0..RAM7, two sections each */
#define RAM8_SECTIONS 6u

/* Power off (bits 0..1) and stop retaining (bits 16..17) every section of
 * RAM0..RAM7 at or above `first`, counted in 4 KiB sections from RAM_BASE. */
static void ram_off_from(uint32_t first)
{
	for (uint32_t block = 0; block < LOW_BLOCKS; block++) {
		uint32_t mask = 0;

		for (uint32_t s = 0; s < 2; s++)
			if (block * 2u + s >= first)
				mask |= 1u << s;
		if (mask)
			hal_write(NRF_REG(POWER, RAM[block].POWERCLR), POWER_RAM_ON_AND_RETAIN(mask));
	}
}

void fw_power_init(const struct fw_chip *chip)
{
	struct hal_board board;
	uint32_t used;

	hal_board_get(&board);
	/* REG1 DC/DC needs the external LC filter: with it missing the chip
	 * stops working (debug access included), hence a per-board switch. */
	if (board.dcdc)
		hal_write(NRF_REG(POWER, DCDCEN), 1);

	/* Sections holding any used byte stay on; the rest lose power. */
	used = (board.ram_end - RAM_BASE + POWER_RAM_SECTION_BYTES - 1u) / POWER_RAM_SECTION_BYTES;
	ram_off_from(used);
	if (chip->part == FICR_PART_NRF52840)
		hal_write(NRF_REG(POWER, RAM[8].POWERCLR),
			  POWER_RAM_ON_AND_RETAIN((1u << RAM8_SECTIONS) - 1u));
}

void fw_system_off(void)
{
	hal_write(NRF_REG(POWER, SYSTEMOFF), 1);
#ifndef FW_HOST
	for (;;)
		hal_wait_for_event(); /* System OFF takes effect after a few cycles */
#endif
}
