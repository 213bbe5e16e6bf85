/*
 * hal_host.c - RAM-backed registers and peripheral models (see hal_host.h).
 * The models follow the product specification's task/event behaviour just
 * far enough for the firmware's usage; any access outside the modelled
 * register blocks aborts, so a wrong address in the firmware is caught by
 * the host tests instead of silently reading zero.
 */
#include "hal_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes_openssl.h"
#include "hal.h"
#include "nrf52_regs.h"

#define BLOCK_WORDS 1024u
#define SCS_BASE 0xE000E000u

/* Time the PS gives for the things the firmware waits on (typical values). */
#define HFXO_STARTUP_US 360u /* nRF52832 PS: tSTART,HFXO */
#define RADIO_RAMPUP_US 140u /* RADIO tTXEN without fast ramp-up */
#define RADIO_DISABLE_US 6u

static const uint32_t block_bases[] = {
	NRF_CLOCK_BASE, NRF_RADIO_BASE, NRF_SAADC_BASE, NRF_RTC0_BASE, NRF_TEMP_BASE,
	NRF_RNG_BASE,   NRF_ECB_BASE,   NRF_FICR_BASE,  NRF_UICR_BASE, SCS_BASE,
	NRF_WDT_BASE,
};
#define NBLOCKS (sizeof(block_bases) / sizeof(block_bases[0]))

#define DMA_BASE 0x20000000u
#define DMA_SLOT 0x00010000u
#define DMA_SLOTS 16u

static struct {
	uint32_t regs[NBLOCKS][BLOCK_WORDS];
	struct hal_host_params params;
	const volatile void *dma[DMA_SLOTS];
	uint64_t ticks;         /* RTC ticks since reset */
	uint64_t rtc_zero;      /* ticks at the last RTC CLEAR */
	bool rtc_running;
	uint64_t awake_us;      /* time spent since the last wake-up */
	bool hfxo;
	bool rng_running;
	bool wdt_running;
	uint64_t wdt_fed;       /* ticks at the last reload */
	uint64_t rng_state;
	unsigned sleeps_with_hfxo;
	hal_host_tx_fn tx_hook;
	void *tx_ctx;
} sim;

static _Noreturn void fail(const char *what, uint32_t addr)
{
	fprintf(stderr, "hal_host: %s at 0x%08x\n", what, (unsigned)addr);
	abort();
}

static uint32_t *reg(uint32_t addr)
{
	if (addr & 3u)
		fail("unaligned register access", addr);
	for (unsigned i = 0; i < NBLOCKS; i++)
		if ((addr & ~0xFFFu) == block_bases[i])
			return &sim.regs[i][(addr & 0xFFFu) / 4];
	fail("access outside the modelled peripherals", addr);
}

#define R(p, field) (*reg(NRF_REG(p, field)))

uint32_t hal_dma_addr(const volatile void *p)
{
	for (unsigned i = 0; i < DMA_SLOTS; i++) {
		if (sim.dma[i] == p || sim.dma[i] == NULL) {
			sim.dma[i] = p;
			return DMA_BASE + i * DMA_SLOT;
		}
	}
	fail("too many DMA buffers", 0);
}

static void *dma_ptr(uint32_t addr)
{
	uint32_t slot = (addr - DMA_BASE) / DMA_SLOT;

	if (addr < DMA_BASE || slot >= DMA_SLOTS || !sim.dma[slot] || addr % DMA_SLOT)
		fail("EasyDMA pointer to no known buffer", addr);
	return (void *)(uintptr_t)sim.dma[slot];
}

static uint32_t rng_next(void)
{
	/* xorshift64*: reproducible per seed, enough for a model. */
	sim.rng_state ^= sim.rng_state >> 12;
	sim.rng_state ^= sim.rng_state << 25;
	sim.rng_state ^= sim.rng_state >> 27;
	return (uint32_t)((sim.rng_state * 0x2545F4914F6CDD1Dull) >> 56);
}

void hal_host_params_default(struct hal_host_params *p)
{
	memset(p, 0, sizeof(*p));
	p->device_addr[0] = 0x33221100u; /* AdvA 11:22:33 ... as on a DK */
	p->device_addr[1] = 0xFFFF5544u;
	p->part = FICR_PART_NRF52832;
	p->variant = 0x41414530u; /* "AAE0" */
	p->lfxo = true;
	p->temp_quarter_c = 93; /* 23.25 degC */
	p->vdd_mv = 3000;
	p->rng_seed = 0x9E3779B97F4A7C15ull;
}

void hal_host_reset(const struct hal_host_params *p)
{
	hal_host_tx_fn hook = sim.tx_hook;
	void *ctx = sim.tx_ctx;

	memset(&sim, 0, sizeof(sim));
	sim.tx_hook = hook;
	sim.tx_ctx = ctx;
	sim.params = *p;
	sim.rng_state = p->rng_seed ? p->rng_seed : 1;
	R(FICR, DEVICEADDRTYPE) = 1; /* random */
	R(FICR, DEVICEADDR[0]) = p->device_addr[0];
	R(FICR, DEVICEADDR[1]) = p->device_addr[1];
	R(FICR, INFO_PART) = p->part;
	R(FICR, INFO_VARIANT) = p->variant;
	for (unsigned i = 0; i < NRF_UICR_CUSTOMER_WORDS; i++)
		R(UICR, CUSTOMER[i]) = 0xFFFFFFFFu;
	R(RADIO, CRCPOLY) = 0;
	R(RADIO, DATAWHITEIV) = 0x40; /* PS reset value */
}

void hal_host_set_tx_hook(hal_host_tx_fn fn, void *ctx)
{
	sim.tx_hook = fn;
	sim.tx_ctx = ctx;
}

void hal_host_write_uicr(const uint32_t words[32])
{
	for (unsigned i = 0; i < NRF_UICR_CUSTOMER_WORDS; i++)
		R(UICR, CUSTOMER[i]) = words[i];
}

uint64_t hal_host_now_us(void)
{
	return sim.ticks * 1000000u / RTC_HZ + sim.awake_us;
}

unsigned hal_host_sleeps_with_hfxo(void)
{
	return sim.sleeps_with_hfxo;
}

/* ------------------------------------------------------------ RADIO */

static void radio_start(void)
{
	struct hal_host_tx tx;
	const uint8_t *ram = dma_ptr(R(RADIO, PACKETPTR));
	uint32_t maxlen = R(RADIO, PCNF1) & 0xFFu;

	memset(&tx, 0, sizeof(tx));
	tx.time_us = hal_host_now_us();
	tx.frequency = R(RADIO, FREQUENCY);
	tx.datawhiteiv = R(RADIO, DATAWHITEIV);
	tx.access_address = (R(RADIO, PREFIX0) & 0xFFu) << 24 | R(RADIO, BASE0) >> 8;
	tx.crcinit = R(RADIO, CRCINIT);
	tx.crcpoly = R(RADIO, CRCPOLY);
	tx.crccnf = R(RADIO, CRCCNF);
	tx.pcnf0 = R(RADIO, PCNF0);
	tx.pcnf1 = R(RADIO, PCNF1);
	tx.mode = R(RADIO, MODE);
	tx.txpower = R(RADIO, TXPOWER);
	tx.hfxo_running = sim.hfxo;
	/* S0 (1 byte) and LENGTH (8 bits) as configured by the firmware; the
	 * radio never sends more than MAXLEN payload bytes (PS PCNF1). */
	tx.pdu_len = 2u + (ram[1] > maxlen ? maxlen : ram[1]);
	memcpy(tx.pdu, ram, tx.pdu_len);
	if (sim.tx_hook)
		sim.tx_hook(&tx, sim.tx_ctx);
	/* 1 Mbit/s: preamble 1 + access address 4 + PDU + CRC 3 bytes. */
	sim.awake_us += (1u + 4u + tx.pdu_len + 3u) * 8u;
	R(RADIO, EVENTS_ADDRESS) = 1;
	R(RADIO, EVENTS_PAYLOAD) = 1;
	R(RADIO, EVENTS_END) = 1;
	if (R(RADIO, SHORTS) & RADIO_SHORTS_END_DISABLE) {
		sim.awake_us += RADIO_DISABLE_US;
		R(RADIO, EVENTS_DISABLED) = 1;
	}
}

static void radio_task(uint32_t addr)
{
	if (R(RADIO, POWER) != 1)
		fail("RADIO task while powered off", addr);
	if (addr == NRF_REG(RADIO, TASKS_TXEN)) {
		sim.awake_us += RADIO_RAMPUP_US;
		R(RADIO, EVENTS_READY) = 1;
		if (R(RADIO, SHORTS) & RADIO_SHORTS_READY_START)
			radio_start();
	} else if (addr == NRF_REG(RADIO, TASKS_START)) {
		radio_start();
	} else if (addr == NRF_REG(RADIO, TASKS_DISABLE)) {
		R(RADIO, EVENTS_DISABLED) = 1;
	}
}

/* ------------------------------------------------------------ others */

static void clock_task(uint32_t addr)
{
	if (addr == NRF_REG(CLOCK, TASKS_HFCLKSTART)) {
		if (!sim.hfxo)
			sim.awake_us += HFXO_STARTUP_US;
		sim.hfxo = true;
		R(CLOCK, HFCLKSTAT) = CLOCK_HFCLKSTAT_RUNNING | CLOCK_HFCLKSTAT_SRC_XTAL;
		R(CLOCK, EVENTS_HFCLKSTARTED) = 1;
	} else if (addr == NRF_REG(CLOCK, TASKS_HFCLKSTOP)) {
		sim.hfxo = false;
		R(CLOCK, HFCLKSTAT) = 0;
	} else if (addr == NRF_REG(CLOCK, TASKS_LFCLKSTART)) {
		uint32_t src = R(CLOCK, LFCLKSRC) & 3u;

		if (src != CLOCK_LFCLKSRC_XTAL || sim.params.lfxo) {
			R(CLOCK, LFCLKSTAT) = (1u << 16) | src;
			R(CLOCK, EVENTS_LFCLKSTARTED) = 1;
		}
	} else if (addr == NRF_REG(CLOCK, TASKS_LFCLKSTOP)) {
		R(CLOCK, LFCLKSTAT) = 0;
	} else if (addr == NRF_REG(CLOCK, TASKS_CAL)) {
		if (!sim.hfxo)
			fail("LFRC calibration needs HFXO running", addr);
		R(CLOCK, EVENTS_DONE) = 1;
	}
}

static void saadc_task(uint32_t addr)
{
	if (R(SAADC, ENABLE) != 1)
		fail("SAADC task while disabled", addr);
	if (addr == NRF_REG(SAADC, TASKS_START)) {
		R(SAADC, EVENTS_STARTED) = 1;
	} else if (addr == NRF_REG(SAADC, TASKS_SAMPLE)) {
		int16_t *out = dma_ptr(R(SAADC, RESULT_PTR));
		uint32_t gain6 = (R(SAADC, CH0_CONFIG) >> 8) & 7u;

		if (R(SAADC, CH0_PSELP) != SAADC_PSELP_VDD || gain6 != 0 ||
		    R(SAADC, RESOLUTION) != SAADC_RESOLUTION_10BIT)
			fail("SAADC not set up for VDD, gain 1/6, 10 bit", addr);
		*out = (int16_t)((uint32_t)sim.params.vdd_mv * 1024u / SAADC_VDD_FULL_SCALE_MV);
		R(SAADC, RESULT_AMOUNT) = 1;
		R(SAADC, EVENTS_END) = 1;
	} else if (addr == NRF_REG(SAADC, TASKS_STOP)) {
		R(SAADC, EVENTS_STOPPED) = 1;
	}
}

static void ecb_start(void)
{
	uint8_t *data = dma_ptr(R(ECB, ECBDATAPTR));

	aes128_openssl(data, data + 16, data + 32);
	R(ECB, EVENTS_ENDECB) = 1;
}

static void write_hook(uint32_t addr, uint32_t value)
{
	uint32_t base = addr & ~0xFFFu;
	bool task = (addr & 0xFFFu) < 0x100u && value == 1;

	if (base == NRF_RADIO_BASE && task) {
		radio_task(addr);
	} else if (base == NRF_CLOCK_BASE && task) {
		clock_task(addr);
	} else if (base == NRF_SAADC_BASE && task) {
		saadc_task(addr);
	} else if (addr == NRF_REG(ECB, TASKS_STARTECB) && value == 1) {
		ecb_start();
	} else if (addr == NRF_REG(TEMP, TASKS_START) && value == 1) {
		R(TEMP, TEMP) = (uint32_t)sim.params.temp_quarter_c;
		R(TEMP, EVENTS_DATARDY) = 1;
	} else if (addr == NRF_REG(RNG, TASKS_START) && value == 1) {
		sim.rng_running = true;
		R(RNG, VALUE) = rng_next();
		R(RNG, EVENTS_VALRDY) = 1;
	} else if (addr == NRF_REG(RNG, TASKS_STOP) && value == 1) {
		sim.rng_running = false;
	} else if (addr == NRF_REG(RNG, EVENTS_VALRDY) && value == 0 && sim.rng_running) {
		R(RNG, VALUE) = rng_next();
		R(RNG, EVENTS_VALRDY) = 1;
	} else if (addr == NRF_REG(WDT, TASKS_START) && value == 1) {
		if (!(R(WDT, CONFIG) & WDT_CONFIG_RUN_IN_SLEEP) || (R(WDT, RREN) & 1u) == 0)
			fail("watchdog would not run in sleep or has no reload register", addr);
		sim.wdt_running = true;
		sim.wdt_fed = sim.ticks;
		R(WDT, RUNSTATUS) = 1;
	} else if (addr == NRF_REG(WDT, RR[0]) && value == WDT_RR_RELOAD) {
		sim.wdt_fed = sim.ticks;
	} else if (base == NRF_WDT_BASE && sim.wdt_running && addr != NRF_REG(WDT, RR[0])) {
		fail("WDT reconfigured while running (ignored by the hardware)", addr);
	} else if (addr == NRF_REG(RTC0, TASKS_START) && value == 1) {
		sim.rtc_running = true;
	} else if (addr == NRF_REG(RTC0, TASKS_STOP) && value == 1) {
		sim.rtc_running = false;
	} else if (addr == NRF_REG(RTC0, TASKS_CLEAR) && value == 1) {
		sim.rtc_zero = sim.ticks;
	} else if (base == NRF_FICR_BASE || base == NRF_UICR_BASE) {
		fail("write to FICR/UICR (flash) through a plain store", addr);
	}
}

uint32_t hal_read(uint32_t addr)
{
	if (addr == NRF_REG(RTC0, COUNTER))
		return (uint32_t)(sim.ticks - sim.rtc_zero) & RTC_COUNTER_MASK;
	return *reg(addr);
}

void hal_write(uint32_t addr, uint32_t value)
{
	*reg(addr) = value;
	write_hook(addr, value);
}

void hal_wait_for_event(void)
{
	uint32_t now = (uint32_t)(sim.ticks - sim.rtc_zero) & RTC_COUNTER_MASK;
	uint32_t delta = (R(RTC0, CC[0]) - now) & RTC_COUNTER_MASK;

	if (R(RTC0, EVENTS_COMPARE[0]))
		return; /* an event is already pending: WFE returns at once */
	if (!sim.rtc_running || !(R(RTC0, INTENSET) & RTC_INTEN_COMPARE0) ||
	    !(*reg(ARM_SCB_SCR) & ARM_SCB_SCR_SEVONPEND))
		fail("WFE with no wake-up source: the tag would sleep forever", ARM_SCB_SCR);
	if (sim.hfxo)
		sim.sleeps_with_hfxo++;
	sim.ticks += delta ? delta : RTC_COUNTER_MASK + 1u;
	sim.awake_us = 0;
	if (sim.wdt_running && sim.ticks - sim.wdt_fed > (uint64_t)R(WDT, CRV) + 1u)
		fail("the watchdog would have reset the tag during this sleep", NRF_WDT_BASE);
	R(RTC0, EVENTS_COMPARE[0]) = 1;
}
