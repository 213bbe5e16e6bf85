/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, 2012), written out.
 *
 * The footfall sketch hashes every anonymous report under the period's
 * secret key. OpenSSL has SipHash, but through EVP_MAC each call asks the
 * provider for the MAC size by name and re-initialises a context: about
 * 750 instructions per report, a third of the whole daemon, for a function
 * that is ~100 instructions of arithmetic. This is the reference algorithm
 * (checked against the paper's test vectors and OpenSSL's output in
 * tests/pipeline/test_footfall.c), with the key split into two words once
 * per period.
 */
#ifndef BGW_SIPHASH_H
#define BGW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

/* The 128-bit key as the reference takes it: bytes 0-7 little-endian k0,
 * 8-15 k1. */
void siphash_key_set(struct siphash_key *k, const uint8_t key[16]);

/* SipHash-2-4 of msg: the 64-bit result, whose little-endian bytes are
 * the reference implementation's 8-byte output. */
uint64_t siphash24(const struct siphash_key *k, const void *msg, size_t len);

#endif
