/*
 * sim_addr.h - Bluetooth LE device addresses the simulated devices use:
 * resolvable private addresses made from an IRK with the Core spec's `ah`
 * function, non-resolvable private addresses and static random addresses.
 *
 * Addresses are in HCI wire order: addr[0] is the least significant byte,
 * addr[5] holds the two address sub-type bits.
 */
#ifndef BGW_SIM_ADDR_H
#define BGW_SIM_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "eddystone_eid.h" /* eid_aes128_fn */
#include "sim_rng.h"

/*
 * The random address hash function ah (Core spec Vol 3 Part H 2.2.2):
 * ah(k, r) = e(k, 0^104 || r) mod 2^24, k and the AES block written most
 * significant byte first. r is the 24-bit prand.
 */
uint32_t sim_ah(eid_aes128_fn aes, const uint8_t irk[16], uint32_t prand);

/* Resolvable private address: prand (22 random bits + sub-type 0b01) in
 * the upper 24 bits, ah(irk, prand) in the lower 24. */
void sim_rpa_from_prand(eid_aes128_fn aes, const uint8_t irk[16], uint32_t prand, uint8_t addr[6]);
void sim_rpa_new(eid_aes128_fn aes, const uint8_t irk[16], struct sim_rng *rng, uint8_t addr[6]);

/* Whether addr is an RPA that irk resolves (what the gateway does). */
bool sim_rpa_resolves(eid_aes128_fn aes, const uint8_t irk[16], const uint8_t addr[6]);

/* The IRK of member m of a crowd with an irk-key: AES-128 under the key
 * of the block 0^96 || m (m big-endian), so that a bench can compute the
 * same keys and enrol them. */
void sim_crowd_irk(eid_aes128_fn aes, const uint8_t key[16], uint32_t member, uint8_t irk[16]);

/* Non-resolvable private address (sub-type 0b00, not all zeros or ones). */
void sim_nrpa_new(struct sim_rng *rng, uint8_t addr[6]);

/* Static random address (sub-type 0b11). */
void sim_static_addr_new(struct sim_rng *rng, uint8_t addr[6]);

/* "AA:BB:CC:DD:EE:FF", most significant first; buf of at least 18. */
void sim_addr_str(const uint8_t addr[6], char buf[18]);

#endif
