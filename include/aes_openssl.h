/*
 * aes_openssl.h - the AES-128 block function eddystone_eid.h expects,
 * implemented with OpenSSL libcrypto. Gateway only (the firmware uses
 * the nRF52 ECB peripheral instead).
 */
#ifndef AES_OPENSSL_H
#define AES_OPENSSL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Encrypt one 16-byte block with a 128-bit key (AES-128-ECB, no padding).
 * Matches eid_aes128_fn. in and out may be the same buffer. */
void aes128_openssl(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

#ifdef __cplusplus
}
#endif
#endif
