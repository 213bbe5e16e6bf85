/*
 * hal.h - the register HAL every part of the firmware goes through.
 *
 * One interface, two backings: on the nRF52 these are volatile accesses
 * to the peripheral addresses; in the host build (FW_HOST) they land in
 * RAM-backed register blocks whose peripheral models (host/hal_host.c)
 * react to task writes the way the product specification describes. The
 * firmware logic above is the same object code either way.
 */
#ifndef FW_HAL_H
#define FW_HAL_H

#include <stdint.h>

/* What the chip can't tell about its board: whether the DC/DC inductor is
 * fitted, where the two flash pages of the EID clock are, and where the
 * RAM the image uses ends. From the linker script on the target. */
struct hal_board {
	uint32_t dcdc;        /* 1: REG1 DC/DC can be enabled */
	uint32_t clock_pages; /* address of two erased-on-demand flash pages */
	uint32_t ram_end;     /* first RAM address the image never uses */
};

void hal_board_get(struct hal_board *b);

/* Words that keep their content across a soft reset (no start-up code
 * touches them); garbage after a power-on reset, so guard with a check. */
#define HAL_RETAINED_WORDS 4u
volatile uint32_t *hal_retained(void);

#ifdef FW_HOST

uint32_t hal_read(uint32_t addr);
void hal_write(uint32_t addr, uint32_t value);
/* Sleep until an event is pending (WFE). */
void hal_wait_for_event(void);
/* A RAM buffer's address as the 32-bit EasyDMA pointer a register holds. */
uint32_t hal_dma_addr(const volatile void *p);

static inline void hal_dma_barrier(void)
{
}

#else

static inline uint32_t hal_read(uint32_t addr)
{
	return *(const volatile uint32_t *)(uintptr_t)addr;
}

static inline void hal_write(uint32_t addr, uint32_t value)
{
	*(volatile uint32_t *)(uintptr_t)addr = value;
}

static inline void hal_wait_for_event(void)
{
	__asm volatile("wfe" ::: "memory");
}

static inline uint32_t hal_dma_addr(const volatile void *p)
{
	return (uint32_t)(uintptr_t)p;
}

/* Memory the EasyDMA reads or writes must not be cached in registers or
 * reordered around the task that starts the transfer. */
static inline void hal_dma_barrier(void)
{
	__asm volatile("" ::: "memory");
}

#endif

/* Trigger a task / clear an event (PS "Peripheral interface"). */
static inline void hal_task(uint32_t addr)
{
	hal_write(addr, 1);
}

static inline void hal_event_clear(uint32_t addr)
{
	hal_write(addr, 0);
	/* Read back so the write has reached the peripheral before the
	 * event is sampled again (PS: "Events" - clearing takes a few cycles). */
	(void)hal_read(addr);
}

/* Sleep (WFE) until an event register becomes non-zero, then clear it.
 * The peripheral's interrupt is enabled for the wait only, never in the
 * NVIC: with SEVONPEND its pending state is what wakes WFE. The NVIC
 * pending bit is cleared afterwards, or the next wait would never see a
 * new pending edge. */
static inline void hal_event_sleep(uint32_t event, uint32_t intenset, uint32_t mask,
				   uint32_t irqn)
{
	hal_write(intenset, mask);
	while (hal_read(event) == 0)
		hal_wait_for_event();
	hal_write(intenset + 4u, mask); /* INTENCLR follows INTENSET */
	hal_event_clear(event);
	hal_write(0xE000E280u, 1u << irqn); /* NVIC ICPR0 */
}

/* Busy-wait for an event register to become non-zero, then clear it. */
static inline void hal_event_wait(uint32_t addr)
{
	while (hal_read(addr) == 0) {
	}
	hal_event_clear(addr);
}

#endif
