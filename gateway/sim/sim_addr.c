/*
 * sim_addr.c - address generation for simulated devices.
 */
#include "sim_addr.h"

#include <stdio.h>
#include <string.h>

uint32_t sim_ah(eid_aes128_fn aes, const uint8_t irk[16], uint32_t prand)
{
	uint8_t block[16] = { 0 }, out[16];

	block[13] = (uint8_t)(prand >> 16);
	block[14] = (uint8_t)(prand >> 8);
	block[15] = (uint8_t)prand;
	aes(irk, block, out);
	return (uint32_t)out[13] << 16 | (uint32_t)out[14] << 8 | out[15];
}

void sim_rpa_from_prand(eid_aes128_fn aes, const uint8_t irk[16], uint32_t prand, uint8_t addr[6])
{
	uint32_t hash = sim_ah(aes, irk, prand);

	addr[0] = (uint8_t)hash;
	addr[1] = (uint8_t)(hash >> 8);
	addr[2] = (uint8_t)(hash >> 16);
	addr[3] = (uint8_t)prand;
	addr[4] = (uint8_t)(prand >> 8);
	addr[5] = (uint8_t)(prand >> 16);
}

void sim_rpa_new(eid_aes128_fn aes, const uint8_t irk[16], struct sim_rng *rng, uint8_t addr[6])
{
	uint32_t prand;

	/* The random part of prand shall not be all zeros or all ones. */
	do
		prand = (uint32_t)sim_rng_next(rng) & 0x3FFFFF;
	while (prand == 0 || prand == 0x3FFFFF);
	sim_rpa_from_prand(aes, irk, prand | 0x400000, addr);
}

bool sim_rpa_resolves(eid_aes128_fn aes, const uint8_t irk[16], const uint8_t addr[6])
{
	if ((addr[5] & 0xC0) != 0x40)
		return false;
	uint32_t prand = (uint32_t)addr[5] << 16 | (uint32_t)addr[4] << 8 | addr[3];
	uint32_t hash = (uint32_t)addr[2] << 16 | (uint32_t)addr[1] << 8 | addr[0];

	return sim_ah(aes, irk, prand) == hash;
}

void sim_crowd_irk(eid_aes128_fn aes, const uint8_t key[16], uint32_t member, uint8_t irk[16])
{
	uint8_t block[16] = { 0 };

	block[12] = (uint8_t)(member >> 24);
	block[13] = (uint8_t)(member >> 16);
	block[14] = (uint8_t)(member >> 8);
	block[15] = (uint8_t)member;
	aes(key, block, irk);
}

static void random_48(struct sim_rng *rng, uint8_t addr[6], uint8_t subtype)
{
	static const uint8_t zeros[6], ones[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3F };

	do {
		sim_rng_bytes(rng, addr, 6);
		addr[5] &= 0x3F;
		/* The 46 random bits shall not be all zeros or all ones. */
	} while (!memcmp(addr, zeros, 6) || !memcmp(addr, ones, 6));
	addr[5] |= subtype;
}

void sim_nrpa_new(struct sim_rng *rng, uint8_t addr[6])
{
	random_48(rng, addr, 0x00);
}

void sim_static_addr_new(struct sim_rng *rng, uint8_t addr[6])
{
	random_48(rng, addr, 0xC0);
}

void sim_addr_str(const uint8_t addr[6], char buf[18])
{
	snprintf(buf, 18, "%02X:%02X:%02X:%02X:%02X:%02X", addr[5], addr[4], addr[3], addr[2],
		 addr[1], addr[0]);
}
