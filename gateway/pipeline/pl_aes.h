/*
 * pl_aes.h - AES-128 primitives from OpenSSL with contexts allocated once
 * and reused, so the per-report paths (IRK resolution, eTLM) neither
 * allocate nor pay for a context set-up per block.
 */
#ifndef BGW_PL_AES_H
#define BGW_PL_AES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl_aes;

struct pl_aes *pl_aes_new(void);
void pl_aes_free(struct pl_aes *a);

/* One AES-128-ECB block. key is in the order AES expects (FIPS-197). */
void pl_aes_block(struct pl_aes *a, const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

/* AES-128-CTR from a 16-byte initial counter block; len may be any size. */
bool pl_aes_ctr(struct pl_aes *a, const uint8_t key[16], const uint8_t iv[16], const uint8_t *in,
		size_t len, uint8_t *out);

/* AES-CMAC (OMAC1) of the concatenation prefix[16] || msg. */
bool pl_aes_cmac(struct pl_aes *a, const uint8_t key[16], const uint8_t prefix[16],
		 const uint8_t *msg, size_t len, uint8_t mac[16]);

#endif
