/*
 * board.c - the board facts of hal.h from the linker script (each board's
 * .ld defines FW_BOARD_DCDC and FW_CLOCK_PAGES), and the retained words.
 */
#include <stdint.h>

#include "hal.h"

/* Weak: a symbol whose value is 0 must not be assumed non-null. */
extern const uint8_t FW_BOARD_DCDC[] __attribute__((weak));
extern const uint8_t FW_CLOCK_PAGES[] __attribute__((weak));
extern const uint8_t __stack_top[];

/* Not in .bss: the start-up code must not clear it (common.ld .noinit). */
__attribute__((section(".noinit"))) static volatile uint32_t retained[HAL_RETAINED_WORDS];

void hal_board_get(struct hal_board *b)
{
	/* Linker symbols carry their value as an address. */
	b->dcdc = (uint32_t)(uintptr_t)FW_BOARD_DCDC;
	b->clock_pages = (uint32_t)(uintptr_t)FW_CLOCK_PAGES;
	b->ram_end = (uint32_t)(uintptr_t)__stack_top;
}

volatile uint32_t *hal_retained(void)
{
	return retained;
}
