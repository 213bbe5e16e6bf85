/*
 * sim_rng.c - xoshiro256** (Blackman and Vigna) with splitmix64 seeding.
 */
#include "sim_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	/* Mix the stream in through splitmix64 itself so that nearby seeds and
	 * streams still give unrelated states. */
	uint64_t x = seed;
	uint64_t mixed = splitmix64(&x) ^ stream;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&mixed);
}

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double sim_rng_uniform(struct sim_rng *r)
{
	/* 53 random bits: every double in [0, 1) with that spacing. */
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t v;

	do
		v = sim_rng_next(r);
	while (v >= limit);
	return v % n;
}

double sim_rng_range(struct sim_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * sim_rng_uniform(r);
}

double sim_rng_gauss(struct sim_rng *r)
{
	double u, v, s;

	do {
		u = 2.0 * sim_rng_uniform(r) - 1.0;
		v = 2.0 * sim_rng_uniform(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	/* The second deviate (v * factor) is dropped on purpose: keeping no
	 * hidden state makes a device's stream depend only on its calls. */
	return u * sqrt(-2.0 * log(s) / s);
}

void sim_rng_bytes(struct sim_rng *r, uint8_t *out, unsigned len)
{
	while (len > 0) {
		uint64_t v = sim_rng_next(r);

		for (int i = 0; i < 8 && len > 0; i++, len--) {
			*out++ = (uint8_t)v;
			v >>= 8;
		}
	}
}

uint64_t sim_hash_name(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}
