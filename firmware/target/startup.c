/*
 * startup.c - vector table and reset handler for the nRF52 images.
 *
 * No interrupt is ever enabled in the NVIC (the RTC wakes WFE through
 * SEVONPEND), so every vector but reset points at one handler: a fault or
 * a stray interrupt resets the tag, which then simply advertises again.
 */
#include <stdint.h>
#include <string.h>

#include "hal.h"

#define SCB_VTOR 0xE000ED08u
#define SCB_AIRCR 0xE000ED0Cu
#define SCB_CPACR 0xE000ED88u
#define AIRCR_SYSRESETREQ (0x05FAu << 16 | 1u << 2)
#define NRF52840_IRQS 48 /* the larger of the two chips' vector tables */

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __vectors_start;

int main(void);
void fw_reset_handler(void);
void fw_fault_handler(void);

void fw_fault_handler(void)
{
	hal_write(SCB_AIRCR, AIRCR_SYSRESETREQ);
	for (;;) {
	}
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16 + NRF52840_IRQS])(
	void) = {
	[0] = (void (*)(void))(uintptr_t)&__stack_top,
	[1] = fw_reset_handler,
	[2 ... 16 + NRF52840_IRQS - 1] = fw_fault_handler,
};

void fw_reset_handler(void)
{
	uint32_t *src = &__data_load;

	for (uint32_t *dst = &__data_start; dst < &__data_end;)
		*dst++ = *src++;
	for (uint32_t *dst = &__bss_start; dst < &__bss_end;)
		*dst++ = 0;
	/* Behind a bootloader (Dongle) the table is not at 0: point VTOR at it. */
	hal_write(SCB_VTOR, (uint32_t)(uintptr_t)&__vectors_start);
	/* Hard-float ABI: give the FPU access (CP10, CP11) before any C code
	 * that might use it. */
	hal_write(SCB_CPACR, hal_read(SCB_CPACR) | (0xFu << 20));
	__asm volatile("dsb\n\tisb" ::: "memory");
	(void)main();
	fw_fault_handler();
}
