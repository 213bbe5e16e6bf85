/*
 * test_sim_model.c - the simulator's building blocks: PRNG determinism,
 * the path-loss + noise statistics, and addresses (RPA checked with the
 * Core spec's `ah` sample vector).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aes_openssl.h"
#include "sim_addr.h"
#include "sim_radio.h"
#include "sim_rng.h"

static void test_rng_deterministic(void **state)
{
	struct sim_rng a, b, c, d;

	(void)state;
	sim_rng_seed(&a, 42, 7);
	sim_rng_seed(&b, 42, 7);
	sim_rng_seed(&c, 43, 7);
	sim_rng_seed(&d, 42, 8);
	int diff_seed = 0, diff_stream = 0;

	for (int i = 0; i < 1000; i++) {
		uint64_t va = sim_rng_next(&a);

		assert_int_equal(va, sim_rng_next(&b));
		diff_seed += va != sim_rng_next(&c);
		diff_stream += va != sim_rng_next(&d);
	}
	assert_int_equal(diff_seed, 1000);
	assert_int_equal(diff_stream, 1000);
}

static void test_rng_ranges(void **state)
{
	struct sim_rng r;
	unsigned hist[10] = { 0 };

	(void)state;
	sim_rng_seed(&r, 1, 0);
	for (int i = 0; i < 100000; i++) {
		double u = sim_rng_uniform(&r);

		assert_true(u >= 0.0 && u < 1.0);
		uint64_t k = sim_rng_below(&r, 10);

		assert_true(k < 10);
		hist[k]++;
	}
	/* 10000 expected per bucket; 5 sigma is about 475. */
	for (int i = 0; i < 10; i++)
		assert_true(hist[i] > 9500 && hist[i] < 10500);
	assert_int_equal(sim_rng_below(&r, 0), 0);
	assert_int_equal(sim_rng_below(&r, 1), 0);
}

static void test_gauss_statistics(void **state)
{
	struct sim_rng r;
	const int n = 200000;
	double sum = 0, sq = 0;

	(void)state;
	sim_rng_seed(&r, 99, 0);
	for (int i = 0; i < n; i++) {
		double g = sim_rng_gauss(&r);

		sum += g;
		sq += g * g;
	}
	double mean = sum / n, var = sq / n - mean * mean;

	assert_true(fabs(mean) < 0.01);
	assert_true(fabs(sqrt(var) - 1.0) < 0.01);
}

static void test_path_loss_mean(void **state)
{
	(void)state;
	/* At 1 m the calibrated power; each decade of distance costs 10 n dB. */
	assert_true(fabs(sim_radio_mean_rssi(-59, 2.0, 1.0) - -59.0) < 1e-9);
	assert_true(fabs(sim_radio_mean_rssi(-59, 2.0, 10.0) - -79.0) < 1e-9);
	assert_true(fabs(sim_radio_mean_rssi(-59, 3.0, 100.0) - -119.0) < 1e-9);
	/* Closer than the model's floor counts as the floor. */
	assert_true(fabs(sim_radio_mean_rssi(-59, 2.0, 0.0) - -39.0) < 1e-9);
	assert_true(fabs(sim_radio_mean_rssi(-59, 2.0, -5.0) - -39.0) < 1e-9);
}

static void test_rssi_noise_statistics(void **state)
{
	struct sim_rng r;
	const int n = 100000;
	double sum = 0, sq = 0;

	(void)state;
	sim_rng_seed(&r, 5, 0);
	/* Mean -59 - 20 log10(4) = -71.04 dB; sigma 4 dB (rounding adds 1/12). */
	for (int i = 0; i < n; i++) {
		int v = sim_radio_rssi(&r, -59, 2.0, 4.0, 4.0);

		sum += v;
		sq += (double)v * v;
	}
	double mean = sum / n, sd = sqrt(sq / n - mean * mean);

	assert_true(fabs(mean - sim_radio_mean_rssi(-59, 2.0, 4.0)) < 0.1);
	assert_true(fabs(sd - sqrt(16.0 + 1.0 / 12)) < 0.1);

	/* Clamped to what HCI can carry. */
	for (int i = 0; i < 1000; i++) {
		int v = sim_radio_rssi(&r, 20, 2.0, 30.0, 0.1);
		int w = sim_radio_rssi(&r, -100, 6.0, 30.0, 10000.0);

		assert_true(v <= 20 && v >= -127);
		assert_true(w <= 20 && w >= -127);
	}
	/* No noise: exact. */
	assert_int_equal(sim_radio_rssi(&r, -59, 2.0, 0.0, 10.0), -79);
}

static const uint8_t spec_irk[16] = { 0xec, 0x02, 0x34, 0xa3, 0x57, 0xc8, 0xad, 0x05,
				      0x34, 0x10, 0x10, 0xa6, 0x0a, 0x39, 0x7d, 0x9b };

static void test_ah_sample_vector(void **state)
{
	(void)state;
	/* Core spec Vol 3 Part H Appendix D.7: ah(IRK, 0x708194) = 0x0dfbaa. */
	assert_int_equal(sim_ah(aes128_openssl, spec_irk, 0x708194), 0x0dfbaa);

	uint8_t addr[6];

	sim_rpa_from_prand(aes128_openssl, spec_irk, 0x708194, addr);
	const uint8_t want[6] = { 0xaa, 0xfb, 0x0d, 0x94, 0x81, 0x70 }; /* 70:81:94:0D:FB:AA */

	assert_memory_equal(addr, want, 6);
	assert_true(sim_rpa_resolves(aes128_openssl, spec_irk, addr));
	char s[18];

	sim_addr_str(addr, s);
	assert_string_equal(s, "70:81:94:0D:FB:AA");
}

static void test_rpa_generation(void **state)
{
	struct sim_rng r;
	uint8_t other[16];

	(void)state;
	memcpy(other, spec_irk, 16);
	other[0] ^= 1;
	sim_rng_seed(&r, 3, 0);
	for (int i = 0; i < 200; i++) {
		uint8_t a[6];

		sim_rpa_new(aes128_openssl, spec_irk, &r, a);
		assert_int_equal(a[5] & 0xC0, 0x40);
		assert_true(sim_rpa_resolves(aes128_openssl, spec_irk, a));
		assert_false(sim_rpa_resolves(aes128_openssl, other, a));
	}
}

static void test_random_addresses(void **state)
{
	struct sim_rng r;

	(void)state;
	sim_rng_seed(&r, 4, 0);
	for (int i = 0; i < 200; i++) {
		uint8_t n[6], s[6];

		sim_nrpa_new(&r, n);
		sim_static_addr_new(&r, s);
		assert_int_equal(n[5] & 0xC0, 0x00);
		assert_int_equal(s[5] & 0xC0, 0xC0);
		assert_false(sim_rpa_resolves(aes128_openssl, spec_irk, n));
	}
}

static void test_hash_name(void **state)
{
	(void)state;
	/* FNV-1a reference values. */
	assert_int_equal(sim_hash_name(""), 0xcbf29ce484222325ull);
	assert_int_equal(sim_hash_name("a"), 0xaf63dc4c8601ec8cull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_deterministic),
		cmocka_unit_test(test_rng_ranges),
		cmocka_unit_test(test_gauss_statistics),
		cmocka_unit_test(test_path_loss_mean),
		cmocka_unit_test(test_rssi_noise_statistics),
		cmocka_unit_test(test_ah_sample_vector),
		cmocka_unit_test(test_rpa_generation),
		cmocka_unit_test(test_random_addresses),
		cmocka_unit_test(test_hash_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
