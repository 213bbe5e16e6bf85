/*
 * hal_host.c - RAM-backed registers and peripheral models (see hal_host.h).
 * The models follow the product specification's task/event behaviour just
 * far enough for the firmware's usage; any access outside the modelled
 * register blocks aborts, so a wrong address in the firmware is caught by
 * the host tests instead of silently reading zero. So do the mistakes the
 * hardware would punish: changing LFCLKSRC while the LF clock runs,
 * programming flash without the NVMC write enable or twice without an
 * erase, DC/DC on a board without its inductor, powering off used RAM.
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
#define US_PER_S 1000000u
#define RAM_USED_END 0x20000800u /* the image's 2 KiB budget */

static const uint32_t block_bases[] = {
	NRF_CLOCK_BASE, NRF_RADIO_BASE, NRF_SAADC_BASE, NRF_RTC0_BASE, NRF_TEMP_BASE,
	NRF_RNG_BASE,   NRF_ECB_BASE,   NRF_FICR_BASE,  NRF_UICR_BASE, SCS_BASE,
	NRF_WDT_BASE,   NRF_TIMER0_BASE, NRF_NVMC_BASE,
};
#define NBLOCKS (sizeof(block_bases) / sizeof(block_bases[0]))

#define DMA_BASE 0x20000000u
#define DMA_SLOT 0x00010000u
#define DMA_SLOTS 16u
#define FLASH_WORDS (2u * NVMC_PAGE_BYTES / 4u)

/* Operations in progress: each sets its event (or status) when due. */
enum op_id { OP_HFXO, OP_LFSTART, OP_LFSTOP, OP_CAL, OP_RADIO, OP_RNG, OP_TIMER, OP_TEMP,
	     OP_SAADC, OP_ECB, OP_NVMC, OP_N };

struct op {
	bool active;
	int polls; /* reads of its register since the last wait (or write) */
	uint64_t due;
};

/* An event that, with its interrupt enabled, wakes WFE (SEVONPEND). */
struct wake {
	uint32_t event, intenset, mask;
};

static const struct wake op_wake[OP_N] = {
	[OP_HFXO] = { NRF_REG(CLOCK, EVENTS_HFCLKSTARTED), NRF_REG(CLOCK, INTENSET),
		      CLOCK_INT_HFCLKSTARTED },
	[OP_LFSTART] = { NRF_REG(CLOCK, EVENTS_LFCLKSTARTED), NRF_REG(CLOCK, INTENSET),
			 CLOCK_INT_LFCLKSTARTED },
	[OP_CAL] = { NRF_REG(CLOCK, EVENTS_DONE), NRF_REG(CLOCK, INTENSET), CLOCK_INT_DONE },
	[OP_RADIO] = { NRF_REG(RADIO, EVENTS_DISABLED), NRF_REG(RADIO, INTENSET),
		       RADIO_INT_DISABLED },
	[OP_RNG] = { NRF_REG(RNG, EVENTS_VALRDY), NRF_REG(RNG, INTENSET), RNG_INT_VALRDY },
	[OP_TIMER] = { NRF_REG(TIMER0, EVENTS_COMPARE[0]), NRF_REG(TIMER0, INTENSET),
		       TIMER_INT_COMPARE0 },
};

/* The register a firmware loop reads while it waits for each operation. */
static const uint32_t op_watch[OP_N] = {
	[OP_HFXO] = NRF_REG(CLOCK, EVENTS_HFCLKSTARTED),
	[OP_LFSTART] = NRF_REG(CLOCK, EVENTS_LFCLKSTARTED),
	[OP_LFSTOP] = NRF_REG(CLOCK, LFCLKSTAT),
	[OP_CAL] = NRF_REG(CLOCK, EVENTS_DONE),
	[OP_RADIO] = NRF_REG(RADIO, EVENTS_DISABLED),
	[OP_RNG] = NRF_REG(RNG, EVENTS_VALRDY),
	[OP_TIMER] = NRF_REG(TIMER0, EVENTS_COMPARE[0]),
	[OP_TEMP] = NRF_REG(TEMP, EVENTS_DATARDY),
	[OP_SAADC] = NRF_REG(SAADC, EVENTS_END),
	[OP_ECB] = NRF_REG(ECB, EVENTS_ENDECB),
	[OP_NVMC] = NRF_REG(NVMC, READY),
};

static struct {
	uint32_t regs[NBLOCKS][BLOCK_WORDS];
	struct hal_host_params params;
	struct op ops[OP_N];
	uint64_t now_us;
	uint64_t rtc_zero;      /* absolute tick at the last RTC CLEAR */
	bool rtc_running;
	bool hfxo;              /* starting or running */
	bool rng_running;
	bool wdt_running;
	uint64_t wdt_fed_us;
	uint64_t rng_state;
	unsigned sleeps_with_hfxo;
	bool system_off;
	bool dcdc;
	uint32_t ram_off_low;   /* RAM0..7 sections off, bit 2n+s */
	uint32_t ram8_off;
	uint32_t nvmc_addr, nvmc_value; /* write in progress, or erase of page nvmc_addr */
	bool nvmc_erase;
	struct hal_host_usage use;
	/* Reset schedule. */
	uint64_t reset_at;
	bool reset_power;
	uint64_t reset_off_us;
	bool flash_cut;
	unsigned flash_cut_n;
	uint64_t flash_cut_off_us;
} sim;

/* Outside sim: what survives a reset (hooks, DMA map) or a power loss (flash). */
static hal_host_tx_fn tx_hook;
static void *tx_ctx;
static hal_host_reset_fn reset_hook;
static void *reset_ctx;
static const volatile void *dma[DMA_SLOTS];
static uint32_t flash[FLASH_WORDS];
static volatile uint32_t retained[HAL_RETAINED_WORDS];

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

static bool in_flash(uint32_t addr)
{
	return addr >= sim.params.clock_pages && addr < sim.params.clock_pages + 4u * FLASH_WORDS;
}

uint32_t hal_dma_addr(const volatile void *p)
{
	for (unsigned i = 0; i < DMA_SLOTS; i++) {
		if (dma[i] == p || dma[i] == NULL) {
			dma[i] = p;
			return DMA_BASE + i * DMA_SLOT;
		}
	}
	fail("too many DMA buffers", 0);
}

static void *dma_ptr(uint32_t addr)
{
	uint32_t slot = (addr - DMA_BASE) / DMA_SLOT;

	if (addr < DMA_BASE || slot >= DMA_SLOTS || !dma[slot] || addr % DMA_SLOT)
		fail("EasyDMA pointer to no known buffer", addr);
	return (void *)(uintptr_t)dma[slot];
}

static uint32_t rng_next(void)
{
	/* xorshift64*: reproducible per seed, enough for a model. */
	sim.rng_state ^= sim.rng_state >> 12;
	sim.rng_state ^= sim.rng_state << 25;
	sim.rng_state ^= sim.rng_state >> 27;
	return (uint32_t)((sim.rng_state * 0x2545F4914F6CDD1Dull) >> 56);
}

static uint64_t ticks_at(uint64_t us)
{
	return us * RTC_HZ / US_PER_S;
}

/* ------------------------------------------------------------ time */

static void start_op(enum op_id id, uint64_t duration_us)
{
	sim.ops[id].active = true;
	sim.ops[id].polls = 0;
	sim.ops[id].due = sim.now_us + duration_us;
}

static void account(uint64_t d, bool busy)
{
	struct hal_host_usage *u = &sim.use;

	u->total_us += d;
	if (busy)
		u->cpu_busy_us += d;
	if (sim.hfxo)
		u->hfxo_us += d;
	if (sim.ops[OP_RADIO].active)
		u->radio_us += d;
	if (sim.rng_running)
		u->rng_us += d;
	if (sim.ops[OP_TIMER].active)
		u->timer_us += d;
	if (sim.ops[OP_CAL].active)
		u->lfrc_cal_us += d;
	if (sim.ops[OP_TEMP].active)
		u->temp_us += d;
	if (R(SAADC, ENABLE))
		u->saadc_us += d;
	if (sim.ops[OP_ECB].active)
		u->ecb_us += d;
	if (sim.ops[OP_NVMC].active) {
		if (sim.nvmc_erase)
			u->flash_erase_us += d;
		else
			u->flash_write_us += d;
	}
}

static void power_down_chip(void);
static void op_done(enum op_id id);

/* A reset (soft or power loss) now: the chip restarts, the hook takes over. */
static _Noreturn void do_reset(bool power, uint64_t off_us)
{
	hal_host_tx_fn keep_hook = tx_hook;

	sim.use.resets++;
	if (power) {
		power_down_chip();
		sim.now_us += off_us;
		sim.use.total_us += off_us;
	}
	{
		struct hal_host_params p = sim.params;
		uint64_t now = sim.now_us, state = sim.rng_state;
		struct hal_host_usage use = sim.use;
		uint32_t uicr[NRF_UICR_CUSTOMER_WORDS];

		for (unsigned i = 0; i < NRF_UICR_CUSTOMER_WORDS; i++)
			uicr[i] = R(UICR, CUSTOMER[i]);
		memset(&sim, 0, sizeof(sim));
		sim.params = p;
		sim.now_us = now;
		sim.rng_state = state;
		sim.use = use;
		R(FICR, DEVICEADDRTYPE) = 1;
		R(FICR, DEVICEADDR[0]) = p.device_addr[0];
		R(FICR, DEVICEADDR[1]) = p.device_addr[1];
		R(FICR, INFO_PART) = p.part;
		R(FICR, INFO_VARIANT) = p.variant;
		for (unsigned i = 0; i < NRF_UICR_CUSTOMER_WORDS; i++)
			R(UICR, CUSTOMER[i]) = uicr[i];
		R(RADIO, DATAWHITEIV) = 0x40;
		R(NVMC, READY) = 1;
		sim.rtc_zero = ticks_at(now);
	}
	tx_hook = keep_hook;
	if (!reset_hook)
		fail("reset with no reset hook", 0);
	reset_hook(reset_ctx);
	fail("the reset hook returned", 0);
}

/* Let time run to t: operations complete in order, a scheduled reset
 * fires, the watchdog is checked. busy: the CPU runs (polls) meanwhile. */
static void advance(uint64_t t, bool busy)
{
	for (;;) {
		int next = -1;
		uint64_t upto = t;

		for (int i = 0; i < OP_N; i++)
			if (sim.ops[i].active && sim.ops[i].due <= upto) {
				upto = sim.ops[i].due;
				next = i;
			}
		if (sim.reset_at && sim.reset_at <= upto) {
			account(sim.reset_at - sim.now_us, busy);
			sim.now_us = sim.reset_at;
			do_reset(sim.reset_power, sim.reset_off_us);
		}
		account(upto - sim.now_us, busy);
		sim.now_us = upto;
		if (sim.wdt_running &&
		    (sim.now_us - sim.wdt_fed_us) * RTC_HZ / US_PER_S > (uint64_t)R(WDT, CRV) + 1u)
			fail("the watchdog would have reset the tag", NRF_WDT_BASE);
		if (next < 0)
			break;
		sim.ops[next].active = false;
		op_done((enum op_id)next);
	}
	for (int i = 0; i < OP_N; i++)
		sim.ops[i].polls = 0;
}

/* ------------------------------------------------------------ public */

void hal_host_params_default(struct hal_host_params *p)
{
	memset(p, 0, sizeof(*p));
	p->device_addr[0] = 0x33221100u; /* AdvA 11:22:33 ... as on a DK */
	p->device_addr[1] = 0xFFFF5544u;
	p->part = FICR_PART_NRF52832;
	p->variant = 0x41414530u; /* "AAE0" */
	p->lfxo = true;
	p->dcdc = true;
	p->clock_pages = 0x7E000u;
	p->temp_quarter_c = 93; /* 23.25 degC */
	p->vdd_mv = 3000;
	p->rng_seed = 0x9E3779B97F4A7C15ull;
}

void hal_host_reset(const struct hal_host_params *p)
{
	memset(&sim, 0, sizeof(sim));
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
	R(NVMC, READY) = 1;
	memset(flash, 0xFF, sizeof(flash));
	power_down_chip();
}

void hal_host_set_tx_hook(hal_host_tx_fn fn, void *ctx)
{
	tx_hook = fn;
	tx_ctx = ctx;
}

void hal_host_set_reset_hook(hal_host_reset_fn fn, void *ctx)
{
	reset_hook = fn;
	reset_ctx = ctx;
}

void hal_host_schedule_reset(uint64_t at_us, bool power_loss, uint64_t off_us)
{
	sim.reset_at = at_us;
	sim.reset_power = power_loss;
	sim.reset_off_us = off_us;
}

void hal_host_cut_power_at_flash_op(unsigned n, uint64_t off_us)
{
	sim.flash_cut = true;
	sim.flash_cut_n = n;
	sim.flash_cut_off_us = off_us;
}

void hal_host_write_uicr(const uint32_t words[32])
{
	for (unsigned i = 0; i < NRF_UICR_CUSTOMER_WORDS; i++)
		R(UICR, CUSTOMER[i]) = words[i];
}

uint64_t hal_host_now_us(void)
{
	return sim.now_us;
}

unsigned hal_host_sleeps_with_hfxo(void)
{
	return sim.sleeps_with_hfxo;
}

void hal_host_usage(struct hal_host_usage *u)
{
	*u = sim.use;
}

void hal_host_usage_clear(void)
{
	memset(&sim.use, 0, sizeof(sim.use));
}

bool hal_host_system_off(void)
{
	return sim.system_off;
}

bool hal_host_dcdc_on(void)
{
	return sim.dcdc;
}

unsigned hal_host_ram_sections_on(void)
{
	unsigned on = 16u - (unsigned)__builtin_popcount(sim.ram_off_low);

	if (sim.params.part == FICR_PART_NRF52840)
		on += 6u - (unsigned)__builtin_popcount(sim.ram8_off);
	return on;
}

void hal_board_get(struct hal_board *b)
{
	b->dcdc = sim.params.dcdc;
	b->clock_pages = sim.params.clock_pages;
	b->ram_end = RAM_USED_END;
}

volatile uint32_t *hal_retained(void)
{
	return retained;
}

/* A power loss: retained RAM decays to noise. */
static void power_down_chip(void)
{
	for (unsigned i = 0; i < HAL_RETAINED_WORDS; i++)
		retained[i] = rng_next() * 0x01010101u ^ (uint32_t)sim.now_us;
}

/* ------------------------------------------------------------ RADIO */

static void radio_txen(void)
{
	struct hal_host_tx tx;
	const uint8_t *ram = dma_ptr(R(RADIO, PACKETPTR));
	uint32_t maxlen = R(RADIO, PCNF1) & 0xFFu;
	uint32_t rampup = R(RADIO, MODECNF0) & RADIO_MODECNF0_RU_FAST ? HAL_HOST_RAMPUP_FAST_US
									 : HAL_HOST_RAMPUP_US;

	if ((R(RADIO, SHORTS) & (RADIO_SHORTS_READY_START | RADIO_SHORTS_END_DISABLE)) !=
	    (RADIO_SHORTS_READY_START | RADIO_SHORTS_END_DISABLE))
		fail("RADIO TXEN without the READY-START and END-DISABLE shorts", 0);
	memset(&tx, 0, sizeof(tx));
	tx.time_us = sim.now_us + rampup;
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
	tx.hfxo_running = (R(CLOCK, HFCLKSTAT) & CLOCK_HFCLKSTAT_RUNNING) != 0;
	/* S0 (1 byte) and LENGTH (8 bits) as configured by the firmware; the
	 * radio never sends more than MAXLEN payload bytes (PS PCNF1). */
	tx.pdu_len = 2u + (ram[1] > maxlen ? maxlen : ram[1]);
	memcpy(tx.pdu, ram, tx.pdu_len);
	sim.use.packets++;
	if (tx_hook)
		tx_hook(&tx, tx_ctx);
	/* 1 Mbit/s: preamble 1 + access address 4 + PDU + CRC 3 bytes. */
	start_op(OP_RADIO, rampup + (1u + 4u + tx.pdu_len + 3u) * 8u + HAL_HOST_DISABLE_US);
}

static void radio_task(uint32_t addr)
{
	if (R(RADIO, POWER) != 1)
		fail("RADIO task while powered off", addr);
	if (addr == NRF_REG(RADIO, TASKS_TXEN)) {
		if (sim.ops[OP_RADIO].active)
			fail("RADIO TXEN while busy", addr);
		radio_txen();
	} else if (addr == NRF_REG(RADIO, TASKS_DISABLE)) {
		sim.ops[OP_RADIO].active = false;
		R(RADIO, EVENTS_DISABLED) = 1;
	} else {
		fail("RADIO task not modelled", addr);
	}
}

/* ------------------------------------------------------------ CLOCK */

static void clock_task(uint32_t addr)
{
	if (addr == NRF_REG(CLOCK, TASKS_HFCLKSTART)) {
		if (R(CLOCK, HFCLKSTAT) & CLOCK_HFCLKSTAT_RUNNING) {
			R(CLOCK, EVENTS_HFCLKSTARTED) = 1;
		} else if (!sim.ops[OP_HFXO].active) {
			sim.hfxo = true;
			start_op(OP_HFXO, HAL_HOST_HFXO_STARTUP_US);
		}
	} else if (addr == NRF_REG(CLOCK, TASKS_HFCLKSTOP)) {
		sim.hfxo = false;
		sim.ops[OP_HFXO].active = false;
		R(CLOCK, HFCLKSTAT) = 0;
	} else if (addr == NRF_REG(CLOCK, TASKS_LFCLKSTART)) {
		uint32_t src = R(CLOCK, LFCLKSRC) & 3u;

		if (sim.ops[OP_LFSTOP].active)
			fail("LFCLKSTART before LFCLKSTAT shows the LF clock stopped", addr);
		R(CLOCK, LFCLKSTAT) = CLOCK_LFCLKSTAT_RUNNING | src;
		if (src == CLOCK_LFCLKSRC_RC)
			start_op(OP_LFSTART, HAL_HOST_LFRC_STARTUP_US);
		else if (sim.params.lfxo)
			start_op(OP_LFSTART, HAL_HOST_LFXO_STARTUP_US);
		/* else: no crystal, the LF clock never starts */
	} else if (addr == NRF_REG(CLOCK, TASKS_LFCLKSTOP)) {
		sim.ops[OP_LFSTART].active = false;
		if (R(CLOCK, LFCLKSTAT) & CLOCK_LFCLKSTAT_RUNNING)
			start_op(OP_LFSTOP, HAL_HOST_LFCLK_STOP_US);
	} else if (addr == NRF_REG(CLOCK, TASKS_CAL)) {
		if (!(R(CLOCK, HFCLKSTAT) & CLOCK_HFCLKSTAT_RUNNING))
			fail("LFRC calibration needs HFXO running", addr);
		start_op(OP_CAL, HAL_HOST_LFRC_CAL_US);
	}
}

/* ------------------------------------------------------------ others */

static void saadc_task(uint32_t addr)
{
	if (R(SAADC, ENABLE) != 1)
		fail("SAADC task while disabled", addr);
	if (addr == NRF_REG(SAADC, TASKS_START)) {
		R(SAADC, EVENTS_STARTED) = 1;
	} else if (addr == NRF_REG(SAADC, TASKS_SAMPLE)) {
		uint32_t gain6 = (R(SAADC, CH0_CONFIG) >> 8) & 7u;

		if (R(SAADC, CH0_PSELP) != SAADC_PSELP_VDD || gain6 != 0 ||
		    R(SAADC, RESOLUTION) != SAADC_RESOLUTION_10BIT)
			fail("SAADC not set up for VDD, gain 1/6, 10 bit", addr);
		start_op(OP_SAADC, HAL_HOST_SAADC_US);
	} else if (addr == NRF_REG(SAADC, TASKS_STOP)) {
		R(SAADC, EVENTS_STOPPED) = 1;
	}
}

static void timer_start(void)
{
	uint64_t us = (uint64_t)R(TIMER0, CC[0]) << (R(TIMER0, PRESCALER) & 0xFu);

	if (R(TIMER0, MODE) != 0 || R(TIMER0, BITMODE) != TIMER_BITMODE_32)
		fail("TIMER0 not a 32-bit timer", NRF_TIMER0_BASE);
	start_op(OP_TIMER, us / 16u); /* 16 MHz base clock */
}

static void nvmc_flash_write(uint32_t addr, uint32_t value)
{
	if (R(NVMC, CONFIG) != NVMC_CONFIG_WEN)
		fail("flash write without NVMC CONFIG = WEN", addr);
	if (sim.ops[OP_NVMC].active)
		fail("flash write while the NVMC is busy", addr);
	if (flash[(addr - sim.params.clock_pages) / 4u] != 0xFFFFFFFFu)
		fail("flash word written twice without an erase", addr);
	sim.nvmc_addr = addr;
	sim.nvmc_value = value;
	sim.nvmc_erase = false;
	sim.use.flash_writes++;
	R(NVMC, READY) = 0;
	start_op(OP_NVMC, HAL_HOST_FLASH_WRITE_US);
}

static void nvmc_erase_page(uint32_t addr)
{
	if (R(NVMC, CONFIG) != NVMC_CONFIG_EEN)
		fail("page erase without NVMC CONFIG = EEN", addr);
	if (sim.ops[OP_NVMC].active)
		fail("page erase while the NVMC is busy", addr);
	if (!in_flash(addr) || addr % NVMC_PAGE_BYTES)
		fail("page erase outside the EID clock pages", addr);
	sim.nvmc_addr = addr;
	sim.nvmc_erase = true;
	sim.use.flash_erases++;
	R(NVMC, READY) = 0;
	start_op(OP_NVMC, HAL_HOST_FLASH_ERASE_US);
}

/* A flash operation is starting: is this where power fails? Then a
 * random part of it happens, and the chip loses power. */
static void maybe_cut_flash(void)
{
	uint32_t *w, *end;

	if (!sim.flash_cut)
		return;
	if (sim.flash_cut_n > 0) {
		sim.flash_cut_n--;
		return;
	}
	sim.flash_cut = false;
	sim.ops[OP_NVMC].active = false;
	if (sim.nvmc_erase) {
		w = &flash[(sim.nvmc_addr - sim.params.clock_pages) / 4u];
		for (end = w + NVMC_PAGE_BYTES / 4u; w < end; w++)
			*w |= rng_next() << 24 | rng_next() << 16 | rng_next() << 8 | rng_next();
	} else {
		w = &flash[(sim.nvmc_addr - sim.params.clock_pages) / 4u];
		/* Some of the bits that were to go to 0 did. */
		*w &= sim.nvmc_value | (rng_next() << 24 | rng_next() << 16 | rng_next() << 8 |
					rng_next());
	}
	do_reset(true, sim.flash_cut_off_us);
}

static void op_done(enum op_id id)
{
	switch (id) {
	case OP_HFXO:
		R(CLOCK, HFCLKSTAT) = CLOCK_HFCLKSTAT_RUNNING | CLOCK_HFCLKSTAT_SRC_XTAL;
		R(CLOCK, EVENTS_HFCLKSTARTED) = 1;
		break;
	case OP_LFSTART:
		R(CLOCK, EVENTS_LFCLKSTARTED) = 1;
		break;
	case OP_LFSTOP:
		R(CLOCK, LFCLKSTAT) = 0;
		break;
	case OP_CAL:
		R(CLOCK, EVENTS_DONE) = 1;
		break;
	case OP_RADIO:
		R(RADIO, EVENTS_READY) = 1;
		R(RADIO, EVENTS_ADDRESS) = 1;
		R(RADIO, EVENTS_PAYLOAD) = 1;
		R(RADIO, EVENTS_END) = 1;
		R(RADIO, EVENTS_DISABLED) = 1;
		break;
	case OP_RNG:
		R(RNG, VALUE) = rng_next();
		R(RNG, EVENTS_VALRDY) = 1;
		break;
	case OP_TIMER:
		R(TIMER0, EVENTS_COMPARE[0]) = 1;
		break;
	case OP_TEMP:
		R(TEMP, TEMP) = (uint32_t)sim.params.temp_quarter_c;
		R(TEMP, EVENTS_DATARDY) = 1;
		break;
	case OP_SAADC: {
		int16_t *out = dma_ptr(R(SAADC, RESULT_PTR));

		*out = (int16_t)((uint32_t)sim.params.vdd_mv * 1024u / SAADC_VDD_FULL_SCALE_MV);
		R(SAADC, RESULT_AMOUNT) = 1;
		R(SAADC, EVENTS_END) = 1;
		break;
	}
	case OP_ECB: {
		uint8_t *data = dma_ptr(R(ECB, ECBDATAPTR));

		aes128_openssl(data, data + 16, data + 32);
		R(ECB, EVENTS_ENDECB) = 1;
		break;
	}
	case OP_NVMC:
		if (sim.nvmc_erase) {
			uint32_t first = (sim.nvmc_addr - sim.params.clock_pages) / 4u;

			for (uint32_t i = 0; i < NVMC_PAGE_BYTES / 4u; i++)
				flash[first + i] = 0xFFFFFFFFu;
		} else {
			flash[(sim.nvmc_addr - sim.params.clock_pages) / 4u] &= sim.nvmc_value;
		}
		R(NVMC, READY) = 1;
		break;
	case OP_N:
		break;
	}
}

static void power_write(uint32_t addr, uint32_t value)
{
	uint32_t ram0 = NRF_REG(POWER, RAM[0].POWER);

	if (addr == NRF_REG(POWER, DCDCEN)) {
		if (value && !sim.params.dcdc)
			fail("DC/DC enabled on a board without its inductor", addr);
		sim.dcdc = value & 1u;
	} else if (addr == NRF_REG(POWER, SYSTEMOFF) && value == 1) {
		sim.system_off = true;
	} else if (addr >= ram0 && addr < ram0 + 9u * 16u && (addr - ram0) % 16u == 8u) {
		uint32_t block = (addr - ram0) / 16u, sections = value & 0x3Fu;

		if (block == 8) {
			if (sim.params.part != FICR_PART_NRF52840)
				fail("RAM8 exists on nRF52840 only", addr);
			sim.ram8_off |= sections;
			return;
		}
		if (sections & ~3u)
			fail("RAM0..7 have two sections", addr);
		for (uint32_t s = 0; s < 2; s++) {
			uint32_t start = 0x20000000u + (block * 2u + s) * POWER_RAM_SECTION_BYTES;

			if ((sections >> s & 1u) && start < RAM_USED_END)
				fail("powered off RAM the image uses", addr);
		}
		sim.ram_off_low |= sections << (2u * block);
	}
}

static void write_hook(uint32_t addr, uint32_t value)
{
	uint32_t base = addr & ~0xFFFu;
	bool task = (addr & 0xFFFu) < 0x100u && value == 1;

	if (base == NRF_RADIO_BASE && task) {
		radio_task(addr);
	} else if (base == NRF_CLOCK_BASE && task) {
		clock_task(addr);
	} else if (addr == NRF_REG(CLOCK, LFCLKSRC)) {
		if (R(CLOCK, LFCLKSTAT) & CLOCK_LFCLKSTAT_RUNNING || sim.ops[OP_LFSTOP].active)
			fail("LFCLKSRC changed while the LF clock runs", addr);
	} else if (base == NRF_POWER_BASE && (addr & 0xFFFu) >= 0x400u) {
		power_write(addr, value);
	} else if (base == NRF_SAADC_BASE && task) {
		saadc_task(addr);
	} else if (addr == NRF_REG(ECB, TASKS_STARTECB) && value == 1) {
		start_op(OP_ECB, HAL_HOST_ECB_US);
	} else if (addr == NRF_REG(TEMP, TASKS_START) && value == 1) {
		start_op(OP_TEMP, HAL_HOST_TEMP_US);
	} else if (addr == NRF_REG(RNG, TASKS_START) && value == 1) {
		sim.rng_running = true;
		start_op(OP_RNG, HAL_HOST_RNG_BYTE_US);
	} else if (addr == NRF_REG(RNG, TASKS_STOP) && value == 1) {
		sim.rng_running = false;
		sim.ops[OP_RNG].active = false;
	} else if (addr == NRF_REG(RNG, EVENTS_VALRDY) && value == 0 && sim.rng_running &&
		   !sim.ops[OP_RNG].active) {
		start_op(OP_RNG, HAL_HOST_RNG_BYTE_US);
	} else if (addr == NRF_REG(TIMER0, TASKS_START) && value == 1) {
		timer_start();
	} else if (addr == NRF_REG(TIMER0, TASKS_STOP) && value == 1) {
		sim.ops[OP_TIMER].active = false;
	} else if (addr == NRF_REG(TIMER0, TASKS_CLEAR) && value == 1) {
		if (sim.ops[OP_TIMER].active)
			timer_start();
	} else if (addr == NRF_REG(NVMC, ERASEPAGE)) {
		nvmc_erase_page(value);
		maybe_cut_flash();
	} else if (addr == NRF_REG(NVMC, CONFIG)) {
		if (sim.ops[OP_NVMC].active)
			fail("NVMC CONFIG changed while busy", addr);
	} else if (addr == NRF_REG(WDT, TASKS_START) && value == 1) {
		if (!(R(WDT, CONFIG) & WDT_CONFIG_RUN_IN_SLEEP) || (R(WDT, RREN) & 1u) == 0)
			fail("watchdog would not run in sleep or has no reload register", addr);
		sim.wdt_running = true;
		sim.wdt_fed_us = sim.now_us;
		R(WDT, RUNSTATUS) = 1;
	} else if (addr == NRF_REG(WDT, RR[0]) && value == WDT_RR_RELOAD) {
		sim.wdt_fed_us = sim.now_us;
	} else if (base == NRF_WDT_BASE && sim.wdt_running && addr != NRF_REG(WDT, RR[0])) {
		fail("WDT reconfigured while running (ignored by the hardware)", addr);
	} else if (addr == NRF_REG(RTC0, TASKS_START) && value == 1) {
		sim.rtc_running = true;
	} else if (addr == NRF_REG(RTC0, TASKS_STOP) && value == 1) {
		sim.rtc_running = false;
	} else if (addr == NRF_REG(RTC0, TASKS_CLEAR) && value == 1) {
		sim.rtc_zero = ticks_at(sim.now_us);
	} else if (base == NRF_FICR_BASE || base == NRF_UICR_BASE) {
		fail("write to FICR/UICR (flash) through a plain store", addr);
	}
}

uint32_t hal_read(uint32_t addr)
{
	if (addr == NRF_REG(RTC0, COUNTER))
		return (uint32_t)(ticks_at(sim.now_us) - sim.rtc_zero) & RTC_COUNTER_MASK;
	if (in_flash(addr)) {
		if (addr & 3u)
			fail("unaligned flash read", addr);
		return flash[(addr - sim.params.clock_pages) / 4u];
	}
	/* A loop reading what an operation will set: the first read finds it
	 * not ready yet; reading the same register again without a WFE in
	 * between is busy polling, and the CPU runs until it completes. */
	for (int i = 0; i < OP_N; i++) {
		if (sim.ops[i].active && op_watch[i] == addr) {
			if (++sim.ops[i].polls >= 2)
				advance(sim.ops[i].due, true);
			break;
		}
	}
	return *reg(addr);
}

void hal_write(uint32_t addr, uint32_t value)
{
	if (in_flash(addr)) {
		nvmc_flash_write(addr, value);
		maybe_cut_flash();
		return;
	}
	*reg(addr) = value;
	write_hook(addr, value);
	/* Clearing an event reads it back (hal_event_clear): that read and
	 * the next are not yet a polling loop. */
	for (int i = 0; i < OP_N; i++)
		if (op_watch[i] == addr)
			sim.ops[i].polls = -1;
}

static bool wake_pending(void)
{
	for (int i = 0; i < OP_N; i++) {
		const struct wake *w = &op_wake[i];

		if (w->event && *reg(w->event) && (*reg(w->intenset) & w->mask))
			return true;
	}
	return R(RTC0, EVENTS_COMPARE[0]) && (R(RTC0, INTENSET) & RTC_INTEN_COMPARE0);
}

void hal_wait_for_event(void)
{
	uint32_t now, delta;
	uint64_t target, wake_us;
	int next = -1;

	if (!(*reg(ARM_SCB_SCR) & ARM_SCB_SCR_SEVONPEND))
		fail("WFE without SEVONPEND: no peripheral event would wake it", ARM_SCB_SCR);
	for (int i = 0; i < OP_N; i++)
		sim.ops[i].polls = 0;
	if (wake_pending())
		return; /* an event is already pending: WFE returns at once */
	for (int i = 0; i < OP_N; i++) {
		const struct wake *w = &op_wake[i];

		if (sim.ops[i].active && w->event && (*reg(w->intenset) & w->mask) &&
		    (next < 0 || sim.ops[i].due < sim.ops[next].due))
			next = i;
	}
	if (next >= 0) {
		advance(sim.ops[next].due, false);
		return;
	}
	if (!sim.rtc_running || !(R(RTC0, INTENSET) & RTC_INTEN_COMPARE0))
		fail("WFE with no wake-up source: the tag would sleep forever", ARM_SCB_SCR);
	if (sim.hfxo)
		sim.sleeps_with_hfxo++;
	now = (uint32_t)(ticks_at(sim.now_us) - sim.rtc_zero) & RTC_COUNTER_MASK;
	delta = (R(RTC0, CC[0]) - now) & RTC_COUNTER_MASK;
	target = ticks_at(sim.now_us) + (delta ? delta : RTC_COUNTER_MASK + 1u);
	wake_us = (target * US_PER_S + RTC_HZ - 1u) / RTC_HZ;
	advance(wake_us, false);
	sim.use.wakeups++;
	R(RTC0, EVENTS_COMPARE[0]) = 1;
}
