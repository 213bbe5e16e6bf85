/*
 * sim_rng.h - the simulator's pseudo-random numbers: xoshiro256** seeded
 * through splitmix64, so a scenario run is reproducible bit for bit from
 * its seed on every platform (rand() is neither portable nor seedable per
 * device).
 */
#ifndef BGW_SIM_RNG_H
#define BGW_SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t s[4];
};

/* Seed from a 64-bit value and a stream number: devices get their own
 * stream so adding one device to a scenario does not change the others. */
void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream);

uint64_t sim_rng_next(struct sim_rng *r);

/* Uniform in [0, 1). */
double sim_rng_uniform(struct sim_rng *r);

/* Uniform integer in [0, n) without modulo bias; 0 when n == 0. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);

/* Uniform in [lo, hi]. */
double sim_rng_range(struct sim_rng *r, double lo, double hi);

/* Standard normal deviate (mean 0, sigma 1), Marsaglia's polar method. */
double sim_rng_gauss(struct sim_rng *r);

void sim_rng_bytes(struct sim_rng *r, uint8_t *out, unsigned len);

/* FNV-1a of a string: turns device names into stream numbers. */
uint64_t sim_hash_name(const char *s);

#endif
