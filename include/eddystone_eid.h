/*
 * eddystone_eid.h - Eddystone-EID computation, shared by the gateway (to
 * precompute the EIDs of enrolled tags) and the firmware (to broadcast them).
 *
 * The AES-128 block cipher is supplied by the caller: OpenSSL on the host,
 * the nRF52 ECB peripheral on the tag. Nothing here allocates.
 */
#ifndef EDDYSTONE_EID_H
#define EDDYSTONE_EID_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Encrypt one 16-byte block with a 128-bit key (AES-128-ECB). */
typedef void (*eid_aes128_fn)(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

#define EID_MAX_EXPONENT 15

/*
 * The ephemeral identifier a tag with identity key ik and rotation
 * exponent k (0..15) broadcasts when its 32-bit seconds counter reads t.
 * Per the Eddystone-EID specification:
 *   temporary key  tk  = AES(ik, 0x00 x11 | 0xFF | 0x00 0x00 | t[31:16] (BE))
 *   eid               = AES(tk, 0x00 x11 | k | (t with its low k bits cleared) (BE))[0..7]
 */
void eid_compute(eid_aes128_fn aes, const uint8_t ik[16], uint8_t k, uint32_t t, uint8_t eid[8]);

/* Start of the rotation period that contains t: t with its low k bits cleared. */
static inline uint32_t eid_period_start(uint8_t k, uint32_t t)
{
	return k >= 32 ? 0 : (t >> k) << k;
}

#ifdef __cplusplus
}
#endif
#endif
