/*
 * eddystone_etlm.h - the tag side of Eddystone encrypted TLM: AES-EAX
 * built on a caller-supplied AES-128 block function (the nRF52 ECB
 * peripheral on the tag, OpenSSL in host tests), so it runs freestanding.
 *
 * eTLM (Eddystone spec, tlm-encrypted.md): the 12 plain TLM bytes (VBATT,
 * TEMP, ADV_CNT, SEC_CNT, big-endian) encrypted with AES-EAX under the
 * tag's identity key; the nonce is the EID time base (the seconds counter
 * with its low K bits cleared, 4 bytes big-endian) followed by the 16-bit
 * salt; no header; the EAX tag is cut to its first 16 bits (the MIC).
 */
#ifndef EDDYSTONE_ETLM_H
#define EDDYSTONE_ETLM_H

#include <stddef.h>
#include <stdint.h>

#include "eddystone_eid.h"

#ifdef __cplusplus
extern "C" {
#endif

/* EAX encryption (Bellare, Rogaway, Wagner): out gets len bytes of
 * ciphertext, tag the first tag_len (1..16) bytes of the EAX tag. */
void eddystone_eax_seal(eid_aes128_fn aes, const uint8_t key[16], const uint8_t *nonce,
			size_t nonce_len, const uint8_t *hdr, size_t hdr_len, const uint8_t *msg,
			size_t len, uint8_t *out, uint8_t *tag, size_t tag_len);

/* The eTLM payload of one frame: 12 encrypted bytes and the MIC, for the
 * plain TLM fields given. */
void eddystone_etlm_seal(eid_aes128_fn aes, const uint8_t ik[16], uint32_t time_base,
			 uint16_t salt, uint16_t battery_mv, int16_t temp_8_8, uint32_t adv_count,
			 uint32_t uptime_ds, uint8_t etlm[12], uint16_t *mic);

#ifdef __cplusplus
}
#endif
#endif
