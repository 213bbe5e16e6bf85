/*
 * Eddystone-EID against published vectors, and the OpenSSL AES helper
 * against FIPS-197.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aes_openssl.h"
#include "eddystone_eid.h"

/* FIPS-197 Appendix C.1: AES-128 example vector. */
static void test_aes_fips197(void **state)
{
	static const uint8_t key[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	static const uint8_t pt[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	static const uint8_t ct[16] = { 0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
					0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a };
	uint8_t out[16], inplace[16];

	(void)state;
	aes128_openssl(key, pt, out);
	assert_memory_equal(out, ct, 16);
	/* in == out is allowed */
	memcpy(inplace, pt, 16);
	aes128_openssl(key, inplace, inplace);
	assert_memory_equal(inplace, ct, 16);
}

/*
 * Published vectors from RadiusNetworks/ephemeral_calc (spec/encryptor_spec.rb):
 * identity key 0102030405060708090A111213141516, rotation exponent 10;
 * at beacon time 0 the EID is A9B76A71C5F89290, and 2000 s later (the
 * spec constructs the encryptor with an initial time 2000 s in the past)
 * it is 4144413E45FEFA58.
 */
static const uint8_t radius_ik[16] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				       0x09, 0x0a, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16 };

static void test_eid_published_vectors(void **state)
{
	static const uint8_t at0[8] = { 0xa9, 0xb7, 0x6a, 0x71, 0xc5, 0xf8, 0x92, 0x90 };
	static const uint8_t at2000[8] = { 0x41, 0x44, 0x41, 0x3e, 0x45, 0xfe, 0xfa, 0x58 };
	uint8_t eid[8];

	(void)state;
	eid_compute(aes128_openssl, radius_ik, 10, 0, eid);
	assert_memory_equal(eid, at0, 8);
	eid_compute(aes128_openssl, radius_ik, 10, 2000, eid);
	assert_memory_equal(eid, at2000, 8);
}

/* Within one rotation period the EID does not change; across a boundary
 * it does. 2000 lies in the period [1024, 2048) for K = 10. */
static void test_eid_rotation_period(void **state)
{
	uint8_t a[8], b[8], c[8];

	(void)state;
	eid_compute(aes128_openssl, radius_ik, 10, 1024, a);
	eid_compute(aes128_openssl, radius_ik, 10, 2047, b);
	eid_compute(aes128_openssl, radius_ik, 10, 2048, c);
	assert_memory_equal(a, b, 8);
	assert_memory_not_equal(b, c, 8);
	/* Same time and key, another exponent: K is in the encrypted block. */
	eid_compute(aes128_openssl, radius_ik, 11, 1024, b);
	assert_memory_not_equal(a, b, 8);
}

static void test_period_start(void **state)
{
	(void)state;
	assert_int_equal(eid_period_start(0, 12345), 12345);
	assert_int_equal(eid_period_start(10, 2000), 1024);
	assert_int_equal(eid_period_start(15, 0xffffffffu), 0xffff8000u);
	assert_int_equal(eid_period_start(32, 0xffffffffu), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aes_fips197),
		cmocka_unit_test(test_eid_published_vectors),
		cmocka_unit_test(test_eid_rotation_period),
		cmocka_unit_test(test_period_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
