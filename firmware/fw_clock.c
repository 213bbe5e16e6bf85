/* fw_clock.c - clocks and RTC0 sleep (PS: CLOCK, RTC). */
#include "fw_clock.h"

#include "hal.h"
#include "nrf52_regs.h"

/* LFXO start-up is typically 0.25 s (PS LFXO electrical specification);
 * after 1 s we decide no crystal is fitted. The time-out is measured by
 * TIMER0 on the 16 MHz RC (HFINT, +-1.5 %), not by counting loop cycles,
 * and the CPU sleeps (WFE) while it waits. */
#define LFXO_TIMEOUT_US 1000000u

static void timeout_start(uint32_t us)
{
	hal_task(NRF_REG(TIMER0, TASKS_STOP));
	hal_write(NRF_REG(TIMER0, MODE), 0);
	hal_write(NRF_REG(TIMER0, BITMODE), TIMER_BITMODE_32);
	hal_write(NRF_REG(TIMER0, PRESCALER), TIMER_PRESCALER_1MHZ);
	hal_write(NRF_REG(TIMER0, CC[0]), us);
	hal_task(NRF_REG(TIMER0, TASKS_CLEAR));
	hal_event_clear(NRF_REG(TIMER0, EVENTS_COMPARE[0]));
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_TIMER0_IRQN);
	hal_write(NRF_REG(TIMER0, INTENSET), TIMER_INT_COMPARE0);
	hal_task(NRF_REG(TIMER0, TASKS_START));
}

static void timeout_stop(void)
{
	hal_task(NRF_REG(TIMER0, TASKS_STOP));
	hal_write(NRF_REG(TIMER0, INTENCLR), TIMER_INT_COMPARE0);
	hal_event_clear(NRF_REG(TIMER0, EVENTS_COMPARE[0]));
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_TIMER0_IRQN);
}

static bool timed_out(void)
{
	return hal_read(NRF_REG(TIMER0, EVENTS_COMPARE[0])) != 0;
}

/* LFCLKSRC may only change while the LF clock is stopped (PS CLOCK,
 * "LFCLK controller"): trigger LFCLKSTOP and wait for LFCLKSTAT to say it
 * has stopped before the source is switched and the clock started again. */
static void lfclk_stop(void)
{
	hal_task(NRF_REG(CLOCK, TASKS_LFCLKSTOP));
	timeout_start(LFXO_TIMEOUT_US);
	while ((hal_read(NRF_REG(CLOCK, LFCLKSTAT)) & CLOCK_LFCLKSTAT_RUNNING) && !timed_out()) {
	}
	timeout_stop();
}

static bool lfclk_start(uint32_t src)
{
	bool started;

	hal_write(NRF_REG(CLOCK, LFCLKSRC), src);
	hal_event_clear(NRF_REG(CLOCK, EVENTS_LFCLKSTARTED));
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_POWER_CLOCK_IRQN);
	hal_write(NRF_REG(CLOCK, INTENSET), CLOCK_INT_LFCLKSTARTED);
	timeout_start(LFXO_TIMEOUT_US);
	hal_task(NRF_REG(CLOCK, TASKS_LFCLKSTART));
	while (!hal_read(NRF_REG(CLOCK, EVENTS_LFCLKSTARTED)) && !timed_out())
		hal_wait_for_event();
	started = hal_read(NRF_REG(CLOCK, EVENTS_LFCLKSTARTED)) != 0;
	timeout_stop();
	hal_write(NRF_REG(CLOCK, INTENCLR), CLOCK_INT_LFCLKSTARTED);
	hal_event_clear(NRF_REG(CLOCK, EVENTS_LFCLKSTARTED));
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_POWER_CLOCK_IRQN);
	return started;
}

void fw_clock_init(struct fw_clock *c)
{
	c->ticks = 0;
	c->lfrc = false;
	/* Every wait below sleeps in WFE and is woken by a peripheral event
	 * whose interrupt is enabled in the peripheral but not in the NVIC:
	 * SEVONPEND makes its pending state a wake-up event. */
	hal_write(ARM_SCB_SCR, hal_read(ARM_SCB_SCR) | ARM_SCB_SCR_SEVONPEND);
	if (!lfclk_start(CLOCK_LFCLKSRC_XTAL)) {
		c->lfrc = true;
		lfclk_stop();
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
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_RTC0_IRQN);
	while (hal_read(NRF_REG(RTC0, EVENTS_COMPARE[0])) == 0)
		hal_wait_for_event();
	hal_event_clear(NRF_REG(RTC0, EVENTS_COMPARE[0]));
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_RTC0_IRQN);
	(void)fw_clock_now(c);
}

void fw_clock_hfxo_start(void)
{
	/* No time-out of its own: a tag whose HFXO never starts can not
	 * transmit in spec anyway, and the watchdog resets it. */
	hal_event_clear(NRF_REG(CLOCK, EVENTS_HFCLKSTARTED));
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_POWER_CLOCK_IRQN);
	hal_task(NRF_REG(CLOCK, TASKS_HFCLKSTART));
	hal_event_sleep(NRF_REG(CLOCK, EVENTS_HFCLKSTARTED), NRF_REG(CLOCK, INTENSET),
			CLOCK_INT_HFCLKSTARTED, NRF_POWER_CLOCK_IRQN);
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
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_POWER_CLOCK_IRQN);
	hal_task(NRF_REG(CLOCK, TASKS_CAL));
	hal_event_sleep(NRF_REG(CLOCK, EVENTS_DONE), NRF_REG(CLOCK, INTENSET), CLOCK_INT_DONE,
			NRF_POWER_CLOCK_IRQN);
}
