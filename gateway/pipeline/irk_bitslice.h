/*
 * irk_bitslice.h - ah() of one address under 64 IRKs at once.
 *
 * An address that matches no enrolled key must be tried against every
 * key, and every one of those tries encrypts the same block (0^104 ||
 * prand) under a different key and compares 24 bits of the result with
 * the same hash. So the keys are stored bitsliced: a group holds 64 keys
 * as 128 words, word 8·i + b holding bit b (0 = least significant) of key
 * byte i of every key, one key per bit position ("lane"). AES then runs on
 * the 64 keys at once with word-wide AND and XOR only: a boolean circuit
 * for the S-box, ShiftRows as a renaming of words, MixColumns as XORs, the
 * key schedule on the fly. The result is a mask of the lanes whose ah()
 * equals the hash; no lookup depends on a key, so the work is the same for
 * every key and address.
 *
 * A group costs 16 bytes per key, the same as the keys themselves, and is
 * the only copy of them the resolver keeps (irk_bs_get_key() gives one back).
 */
#ifndef BGW_IRK_BITSLICE_H
#define BGW_IRK_BITSLICE_H

#include <stdint.h>

#define IRK_BS_LANES 64
#define IRK_BS_WORDS 128

struct irk_bs_group {
	uint64_t w[IRK_BS_WORDS];
};

/* Put irk (most significant byte first, as irk_ah_soft() takes it) into
 * lane `lane` of g, replacing what the lane held. */
void irk_bs_set_key(struct irk_bs_group *g, unsigned lane, const uint8_t irk[16]);

/* The key in lane `lane` of g. */
void irk_bs_get_key(const struct irk_bs_group *g, unsigned lane, uint8_t irk[16]);

/* The lanes of g whose ah(key, prand) equals hash (24-bit integers), as a
 * mask (bit l = lane l). Every lane is computed; a caller with fewer keys
 * than lanes masks the unused ones off. */
uint64_t irk_bs_match(const struct irk_bs_group *g, uint32_t prand, uint32_t hash);

/* The first key, in key order, of the n_keys keys stored in groups (key k
 * in lane k % 64 of group k / 64) whose ah(key, prand) equals hash, or -1.
 * Every candidate is confirmed with irk_ah_soft() before it is returned. */
int64_t irk_bs_search(const struct irk_bs_group *groups, uint32_t n_keys, uint32_t prand,
		      uint32_t hash);

#endif
