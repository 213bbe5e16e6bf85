/*
 * irk_try_count.c - a fixed number of IRK tries, for counting the
 * instructions of one try where no profiler runs (an AArch64 build under
 * qemu-user, one trace line per executed instruction). Needs nothing but
 * the two ah() units, so it cross-compiles without the gateway's libraries.
 *
 *   irk_try_count N table   N scalar tries, irk_ah_soft()
 *   irk_try_count N sliced  N groups of 64 keys, irk_bs_match()
 *
 * The instructions of one call are the difference between two runs with
 * different N, divided by the difference of N (BENCHMARKS.md gives the
 * commands). Prints a checksum so that nothing is optimised away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irk_ah.h"
#include "irk_bitslice.h"

int main(int argc, char **argv)
{
	static struct irk_bs_group g;
	uint8_t k[16];
	uint64_t sum = 0;
	unsigned long n;
	int sliced;

	if (argc != 3 || (strcmp(argv[2], "table") && strcmp(argv[2], "sliced"))) {
		fprintf(stderr, "usage: irk_try_count N table|sliced\n");
		return 64;
	}
	n = strtoul(argv[1], NULL, 10);
	sliced = !strcmp(argv[2], "sliced");
	for (unsigned l = 0; l < IRK_BS_LANES; l++) {
		for (unsigned i = 0; i < 16; i++)
			k[i] = (uint8_t)(l * 31 + i * 7);
		irk_bs_set_key(&g, l, k);
	}
	/* A different prand each call, as a search of a new address meets
	 * them; the hash is one no key gives, as for a phone of nobody's. */
	for (unsigned long i = 0; i < n; i++) {
		uint32_t prand = 0x400000u | (uint32_t)(i & 0x3fffff);

		sum += sliced ? irk_bs_match(&g, prand, 0x123456) : irk_ah_soft(k, prand);
	}
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}
