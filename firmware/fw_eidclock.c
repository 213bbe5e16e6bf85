/* fw_eidclock.c - EID time in retained RAM and wear-levelled flash records. */
#include "fw_eidclock.h"

#include "fw_uicr.h"
#include "hal.h"
#include "nrf52_regs.h"

#define RETAINED_MAGIC 0x4B4C4345u /* "ECLK" */
#define ERASED 0xFFFFFFFFu

static uint32_t tag_of(const struct fw_config *cfg)
{
	uint8_t b[21];

	for (unsigned i = 0; i < 16; i++)
		b[i] = cfg->identity_key[i];
	b[16] = cfg->eid_exponent;
	for (unsigned i = 0; i < 4; i++)
		b[17 + i] = (uint8_t)(cfg->eid_clock_base >> (8 * i));
	return fw_crc32(b, sizeof(b));
}

static uint32_t check_of(uint32_t tag, uint32_t a, uint32_t b)
{
	uint8_t raw[12];

	for (unsigned i = 0; i < 4; i++) {
		raw[i] = (uint8_t)(tag >> (8 * i));
		raw[4 + i] = (uint8_t)(a >> (8 * i));
		raw[8 + i] = (uint8_t)(b >> (8 * i));
	}
	return fw_crc32(raw, sizeof(raw));
}

uint32_t fw_eidclock_save_period(uint8_t k)
{
	uint32_t p = k >= 2 ? 1u << (k - 2) : 1u;

	return p < FW_EIDCLOCK_SAVE_MIN_S ? FW_EIDCLOCK_SAVE_MIN_S : p;
}

static uint32_t slot_addr(const struct fw_eidclock *c, uint32_t page, uint32_t slot)
{
	return c->pages + page * NVMC_PAGE_BYTES + slot * 4u * FW_EIDCLOCK_RECORD_WORDS;
}

static void nvmc_wait(void)
{
	while (hal_read(NRF_REG(NVMC, READY)) == 0) {
	}
}

static void nvmc_write(uint32_t addr, uint32_t value)
{
	hal_write(NRF_REG(NVMC, CONFIG), NVMC_CONFIG_WEN);
	nvmc_wait();
	hal_write(addr, value);
	nvmc_wait();
	hal_write(NRF_REG(NVMC, CONFIG), NVMC_CONFIG_REN);
	nvmc_wait();
}

static void nvmc_erase(uint32_t addr)
{
	hal_write(NRF_REG(NVMC, CONFIG), NVMC_CONFIG_EEN);
	nvmc_wait();
	hal_write(NRF_REG(NVMC, ERASEPAGE), addr);
	nvmc_wait();
	hal_write(NRF_REG(NVMC, CONFIG), NVMC_CONFIG_REN);
	nvmc_wait();
}

/* Newest valid record; *page and *slot get where the next one goes: after
 * the last programmed slot of the newest record's page (a half-written
 * record is never written over). */
static bool scan(struct fw_eidclock *c, uint32_t *best)
{
	bool found = false;

	c->page = 0;
	c->slot = 0;
	for (uint32_t p = 0; p < 2; p++) {
		uint32_t last_used = 0;
		bool newest_here = false;

		for (uint32_t s = 0; s < FW_EIDCLOCK_SLOTS; s++) {
			uint32_t a = slot_addr(c, p, s);
			uint32_t secs = hal_read(a), check = hal_read(a + 4u);

			if (secs != ERASED || check != ERASED)
				last_used = s + 1u;
			if (check == check_of(c->tag, secs, ~secs) && (!found || secs > *best)) {
				*best = secs;
				found = true;
				newest_here = true;
			}
		}
		if (newest_here) {
			c->page = p;
			c->slot = last_used;
		}
	}
	return found;
}

static void retained_store(const struct fw_eidclock *c, uint32_t s, uint32_t frac)
{
	volatile uint32_t *r = hal_retained();

	r[0] = RETAINED_MAGIC;
	r[1] = s;
	r[2] = frac;
	r[3] = check_of(c->tag, s, frac);
}

static bool retained_load(const struct fw_eidclock *c, uint32_t *s, uint32_t *frac)
{
	volatile uint32_t *r = hal_retained();

	if (r[0] != RETAINED_MAGIC || r[2] >= RTC_HZ || r[3] != check_of(c->tag, r[1], r[2]))
		return false;
	*s = r[1];
	*frac = r[2];
	return true;
}

void fw_eidclock_init(struct fw_eidclock *c, const struct fw_config *cfg, uint64_t tick)
{
	struct hal_board board;
	uint32_t flash_s = 0, s, frac = 0;
	bool in_flash;

	hal_board_get(&board);
	c->pages = board.clock_pages;
	c->tag = tag_of(cfg);
	c->save_period = fw_eidclock_save_period(cfg->eid_exponent);
	in_flash = scan(c, &flash_s);
	if (retained_load(c, &s, &frac) && (!in_flash || s >= flash_s)) {
		c->source = FW_EIDCLOCK_RETAINED;
	} else if (in_flash) {
		s = flash_s;
		frac = 0;
		c->source = FW_EIDCLOCK_FLASH;
	} else {
		s = cfg->eid_clock_base;
		c->source = FW_EIDCLOCK_PROVISIONED;
	}
	c->saved_s = in_flash ? flash_s : s;
	c->base_s = s;
	c->base_frac = frac;
	c->base_tick = tick;
	retained_store(c, s, frac);
}

uint32_t fw_eidclock_seconds(const struct fw_eidclock *c, uint64_t t)
{
	return c->base_s + (uint32_t)((t - c->base_tick + c->base_frac) / RTC_HZ);
}

static void save(struct fw_eidclock *c, uint32_t s)
{
	if (c->slot >= FW_EIDCLOCK_SLOTS) {
		/* Erase the other page only now: until its first record is
		 * written, the full page still holds the newest time. */
		c->page ^= 1u;
		c->slot = 0;
		nvmc_erase(slot_addr(c, c->page, 0));
	}
	/* Seconds first, check last: a cut in between leaves no valid record. */
	nvmc_write(slot_addr(c, c->page, c->slot), s);
	nvmc_write(slot_addr(c, c->page, c->slot) + 4u, check_of(c->tag, s, ~s));
	c->slot++;
	c->saved_s = s;
}

void fw_eidclock_update(struct fw_eidclock *c, uint64_t t)
{
	uint64_t total = t - c->base_tick + c->base_frac;
	uint32_t s = c->base_s + (uint32_t)(total / RTC_HZ);

	retained_store(c, s, (uint32_t)(total % RTC_HZ));
	if (s - c->saved_s >= c->save_period)
		save(c, s);
}
