/*
 * eid_vectors - reads "KEYHEX K T" lines on stdin and prints the EID that
 * eid_compute gives for each, in hex. Test helper for eid_oracle.py.
 */
#include <stdio.h>
#include <stdlib.h>

#include "aes_openssl.h"
#include "eddystone_eid.h"

int main(void)
{
	char key_hex[33];
	unsigned int k;
	unsigned long t;

	while (scanf("%32s %u %lu", key_hex, &k, &t) == 3) {
		uint8_t ik[16], eid[8];

		for (int i = 0; i < 16; i++) {
			unsigned int b;

			if (sscanf(key_hex + 2 * i, "%2x", &b) != 1) {
				fprintf(stderr, "eid_vectors: bad key %s\n", key_hex);
				return 1;
			}
			ik[i] = (uint8_t)b;
		}
		if (k > EID_MAX_EXPONENT || t > 0xffffffffUL) {
			fprintf(stderr, "eid_vectors: bad exponent or time\n");
			return 1;
		}
		eid_compute(aes128_openssl, ik, (uint8_t)k, (uint32_t)t, eid);
		for (int i = 0; i < 8; i++)
			printf("%02x", eid[i]);
		printf("\n");
	}
	return 0;
}
