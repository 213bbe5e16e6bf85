/*
 * eddystone_eid.c - Eddystone-EID ephemeral identifier computation
 * (eddystone-eid/eid-computation.md in Google's Eddystone specification).
 *
 * Two AES-128 blocks per identifier; the cipher is a callback so that
 * the gateway can use OpenSSL and the tag its ECB peripheral. Builds for
 * the host and Cortex-M alike: <string.h> only, no allocation.
 */
#include "eddystone_eid.h"

#include <string.h>

/* Byte 11 of the temporary-key block: the specification's fixed salt. */
#define EID_TK_SALT 0xFF

void eid_compute(eid_aes128_fn aes, const uint8_t ik[16], uint8_t k, uint32_t t, uint8_t eid[8])
{
	uint8_t block[16], tk[16], out[16];
	uint32_t ts = eid_period_start(k, t);

	/* Temporary key: AES(ik, 00 x11 | FF | 00 00 | t[31:16] BE). It only
	 * changes every 65536 s; a caller that needs many EIDs may cache it,
	 * but two AES blocks are cheap enough not to complicate the API. */
	memset(block, 0, sizeof(block));
	block[11] = EID_TK_SALT;
	block[14] = (uint8_t)(t >> 24);
	block[15] = (uint8_t)(t >> 16);
	aes(ik, block, tk);

	/* EID: AES(tk, 00 x11 | K | t with its K low bits cleared, BE)[0..7]. */
	memset(block, 0, sizeof(block));
	block[11] = k;
	block[12] = (uint8_t)(ts >> 24);
	block[13] = (uint8_t)(ts >> 16);
	block[14] = (uint8_t)(ts >> 8);
	block[15] = (uint8_t)ts;
	aes(tk, block, out);
	memcpy(eid, out, 8);

	/* The temporary key is as secret as the identity key for 18 hours. */
	memset(tk, 0, sizeof(tk));
	memset(out, 0, sizeof(out));
}
