/* fw_clock.c - clocks and RTC0 sleep (PS: CLOCK, RTC). */
#include "fw_clock.h"

#include "hal.h"
#include "nrf52_regs.h"

/* LFXO start-up is typically 0.25 s (PS LFXO electrical spec); polling a
 * register costs some tens of cycles at 64 MHz, so this bounds the wait to
 * well over a second before we decide no crystal is fitted. */
#define LFXO_POLL_LIMIT 4000000u

static bool lfclk_start(uint32_t src)
{
	hal_write(NRF_REG(CLOCK, LFCLKSRC), src);
	hal_event_clear(NRF_REG(CLOCK, EVENTS_LFCLKSTARTED));
	hal_task(NRF_REG(CLOCK, TASKS_LFCLKSTART));
	for (uint32_t i = 0; i < LFXO_POLL_LIMIT; i++) {
		if (hal_read(NRF_REG(CLOCK, EVENTS_LFCLKSTARTED))) {
			hal_event_clear(NRF_REG(CLOCK, EVENTS_LFCLKSTARTED));
			return true;
		}
	}
	hal_task(NRF_REG(CLOCK, TASKS_LFCLKSTOP));
	return false;
}

void fw_clock_init(struct fw_clock *c)
{
	c->ticks = 0;
	c->lfrc = false;
	if (!lfclk_start(CLOCK_LFCLKSRC_XTAL)) {
		c->lfrc = true;
		(void)lfclk_start(CLOCK_LFCLKSRC_RC);
		/* The RC is only +-2 % until calibrated; calibrate now. */
		fw_clock_hfxo_start();
		fw_clock_calibrate(c);
		fw_clock_hfxo_stop();
	}
	hal_write(NRF_REG(RTC0, PRESCALER), 0);
	hal_task(NRF_REG(RTC0, TASKS_CLEAR));
	/* The COMPARE0 interrupt is enabled in RTC0 but not in the NVIC: with
	 * SEVONPEND the pending interrupt wakes WFE without any handler. */
	hal_write(NRF_REG(RTC0, INTENSET), RTC_INTEN_COMPARE0);
	hal_write(ARM_SCB_SCR, hal_read(ARM_SCB_SCR) | ARM_SCB_SCR_SEVONPEND);
	hal_task(NRF_REG(RTC0, TASKS_START));
	c->last_counter = hal_read(NRF_REG(RTC0, COUNTER)) & RTC_COUNTER_MASK;
}

uint64_t fw_clock_now(struct fw_clock *c)
{
	uint32_t cnt = hal_read(NRF_REG(RTC0, COUNTER)) & RTC_COUNTER_MASK;

	c->ticks += (cnt - c->last_counter) & RTC_COUNTER_MASK;
	c->last_counter = cnt;
	return c->ticks;
}

void fw_clock_sleep_until(struct fw_clock *c, uint64_t t)
{
	uint64_t now = fw_clock_now(c);

	/* PS RTC "COMPARE": a CC value of COUNTER or COUNTER + 1 may not
	 * trigger; aim at least two ticks ahead. */
	if (t < now + 2)
		t = now + 2;
	hal_write(NRF_REG(RTC0, CC[0]), (uint32_t)t & RTC_COUNTER_MASK);
	hal_event_clear(NRF_REG(RTC0, EVENTS_COMPARE[0]));
	while (hal_read(NRF_REG(RTC0, EVENTS_COMPARE[0])) == 0)
		hal_wait_for_event();
	hal_event_clear(NRF_REG(RTC0, EVENTS_COMPARE[0]));
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_RTC0_IRQN);
	(void)fw_clock_now(c);
}

void fw_clock_hfxo_start(void)
{
	hal_event_clear(NRF_REG(CLOCK, EVENTS_HFCLKSTARTED));
	hal_task(NRF_REG(CLOCK, TASKS_HFCLKSTART));
	hal_event_wait(NRF_REG(CLOCK, EVENTS_HFCLKSTARTED));
}

void fw_clock_hfxo_stop(void)
{
	hal_task(NRF_REG(CLOCK, TASKS_HFCLKSTOP));
}

void fw_clock_calibrate(const struct fw_clock *c)
{
	if (!c->lfrc)
		return;
	hal_event_clear(NRF_REG(CLOCK, EVENTS_DONE));
	hal_task(NRF_REG(CLOCK, TASKS_CAL));
	hal_event_wait(NRF_REG(CLOCK, EVENTS_DONE));
}
