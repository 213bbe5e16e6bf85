/*
 * etlm.h - AES-EAX (Bellare, Rogaway, Wagner) and the Eddystone encrypted
 * TLM frame built on it.
 *
 * eTLM (Eddystone spec, tlm-encrypted.md): the 12 plain TLM bytes
 * (VBATT, TEMP, ADV_CNT, SEC_CNT, big-endian) encrypted with AES-EAX under
 * the tag's identity key; the nonce is 48 bits: the EID time base (the
 * tag's seconds counter with its low K bits cleared, 4 bytes big-endian)
 * followed by the frame's 16-bit salt; no header; the tag is cut to its
 * first 16 bits (the MIC).
 */
#ifndef BGW_ETLM_H
#define BGW_ETLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beacon_frame.h"
#include "pl_aes.h"

/* EAX with a tag of tag_len (1..16) bytes. decrypt returns false (and
 * leaves out unspecified) when the tag does not match. */
bool eax_encrypt(struct pl_aes *a, const uint8_t key[16], const uint8_t *nonce, size_t nonce_len,
		 const uint8_t *hdr, size_t hdr_len, const uint8_t *msg, size_t len, uint8_t *out,
		 uint8_t *tag, size_t tag_len);
bool eax_decrypt(struct pl_aes *a, const uint8_t key[16], const uint8_t *nonce, size_t nonce_len,
		 const uint8_t *hdr, size_t hdr_len, const uint8_t *ct, size_t len,
		 const uint8_t *tag, size_t tag_len, uint8_t *out);

/* Decrypt and authenticate one eTLM frame. */
bool etlm_decrypt(struct pl_aes *a, const uint8_t ik[16], uint32_t time_base,
		  const struct bf_eddystone_etlm *e, struct bf_eddystone_tlm *out);

/* The tag side (tests, simulator): encrypt a TLM into an eTLM frame. */
bool etlm_encrypt(struct pl_aes *a, const uint8_t ik[16], uint32_t time_base, uint16_t salt,
		  const struct bf_eddystone_tlm *tlm, struct bf_eddystone_etlm *out);

#endif
