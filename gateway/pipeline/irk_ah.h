/*
 * irk_ah.h - the Core spec's address hash ah(k, r), computed without
 * OpenSSL and without a stored key schedule.
 *
 * Resolving a resolvable private address means trying it against every
 * enrolled IRK, so the cost of one try decides what a store can afford.
 * Through OpenSSL a try is either a pre-scheduled context per key (about
 * 1 KiB each, so it does not scale to 100,000 keys) or a re-key of a shared
 * context, where OpenSSL's parameter handling costs more than the cipher
 * (~2,500 instructions per try on a CPU without AES instructions). Here the
 * round keys are derived on the fly while the block is encrypted, so a key
 * costs its 16 bytes and a try the same at 100 or 100,000 keys; and since
 * ah() keeps only 24 bits of the result, the last round computes only
 * those three bytes.
 *
 * The resolver's searches run on 64 keys at once (irk_bitslice.h); this
 * one-key version confirms their candidates and serves single tries.
 *
 * It is a table-driven AES: its memory accesses depend on the key. That is
 * acceptable here because the timing of one IRK search is not observable
 * from outside the gateway at that resolution; a process that shares the
 * CPU's caches could in principle learn about the keys, as with OpenSSL's
 * own table-driven AES on CPUs without AES instructions.
 */
#ifndef BGW_IRK_AH_H
#define BGW_IRK_AH_H

#include <stdint.h>

/* ah(irk, prand) with irk most significant byte first (as the snapshot
 * stores it) and prand, the result, as 24-bit integers. Thread-safe: it
 * touches only constant tables. */
uint32_t irk_ah_soft(const uint8_t irk[16], uint32_t prand);

#endif
