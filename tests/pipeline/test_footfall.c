/* test_footfall.c - anonymous counts: threshold, accuracy, repeats, period key rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "siphash.h"

#include "footfall.h"

#define T0 1700000100ull /* 2023-11-14T22:15:00Z, a 900-s boundary */
#define S(x) ((uint64_t)(x) * 1000000ull)

struct sink {
	int n;
	char last[1024];
};

static void emit(void *ctx, const char *json)
{
	struct sink *s = ctx;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", json);
}

static void add_devices(struct footfall *f, uint32_t first, uint32_t count, uint64_t at_us)
{
	for (uint32_t i = first; i < first + count; i++) {
		char id[32];
		int n = snprintf(id, sizeof(id), "device-%u", i);
		/* each seen several times: duplicates must not count */
		for (int rep = 0; rep < 3; rep++)
			footfall_add(f, id, (size_t)n, at_us + (uint64_t)rep * 1000);
	}
}

static void test_below_minimum_is_not_published(void **state)
{
	struct sink s = { 0 };
	struct footfall *f = footfall_new("s1", "gw1", "entrance", 900, 5, emit, &s);

	(void)state;
	add_devices(f, 0, 4, S(T0 + 10));
	assert_false(footfall_tick(f, S(T0 + 899)));
	assert_true(footfall_tick(f, S(T0 + 900)));
	assert_int_equal(s.n, 0);
	assert_int_equal(footfall_suppressed(f), 1);
	footfall_free(f);
}

static void test_published_payload(void **state)
{
	struct sink s = { 0 };
	struct footfall *f = footfall_new("store \"7\"", "gw1", "entrance", 900, 5, emit, &s);
	cJSON *j, *it;
	int fields = 0;

	(void)state;
	add_devices(f, 0, 7, S(T0 + 100));
	footfall_tick(f, S(T0 + 901));
	assert_int_equal(s.n, 1);
	j = cJSON_Parse(s.last);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "site")->valuestring, "store \"7\"");
	assert_string_equal(cJSON_GetObjectItem(j, "gateway")->valuestring, "gw1");
	assert_string_equal(cJSON_GetObjectItem(j, "zone")->valuestring, "entrance");
	assert_string_equal(cJSON_GetObjectItem(j, "period_start")->valuestring,
			    "2023-11-14T22:15:00Z");
	assert_int_equal(cJSON_GetObjectItem(j, "period_s")->valueint, 900);
	assert_int_equal(cJSON_GetObjectItem(j, "count")->valueint, 7);
	assert_int_equal(cJSON_GetObjectItem(j, "schema")->valueint, 1);
	/* Nothing else leaves the process. */
	cJSON_ArrayForEach(it, j) fields++;
	assert_int_equal(fields, 7);
	cJSON_Delete(j);
	footfall_free(f);
}

static void test_accuracy(void **state)
{
	struct sink s = { 0 };
	struct footfall *f = footfall_new("s", "g", "z", 900, 5, emit, &s);

	(void)state;
	add_devices(f, 0, 300, S(T0));
	/* The key is random: bounds at ~4.5 standard errors of linear counting (±3.4). */
	assert_in_range((long)(footfall_estimate(f) + 0.5), 285, 315);
	add_devices(f, 300, 19700, S(T0 + 1));
	/* 20,000 distinct: within ~4.5 standard errors (1.6 % each). */
	assert_in_range((long)footfall_estimate(f), 18600, 21400);
	footfall_free(f);
}

/* Repeats spread over more identifiers than the repeat filter holds (so its
 * slots are taken over again and again) leave the sketch exactly as one
 * pass left it, and the first pass counts every new identifier. */
static void test_repeats_beyond_the_filter(void **state)
{
	struct sink s = { 0 };
	struct footfall *f = footfall_new("s", "g", "z", 900, 5, emit, &s);
	double once;

	(void)state;
	for (uint32_t i = 0; i < 40000; i++) {
		char id[32];
		int n = snprintf(id, sizeof(id), "phone-%u", i);

		footfall_add(f, id, (size_t)n, S(T0 + 1));
	}
	once = footfall_estimate(f);
	assert_in_range((long)once, 37200, 42800);
	for (int round = 0; round < 3; round++)
		for (uint32_t i = 0; i < 40000; i++) {
			char id[32];
			int n = snprintf(id, sizeof(id), "phone-%u", (i * 7919u + (uint32_t)round) % 40000u);

			footfall_add(f, id, (size_t)n, S(T0 + 2 + round));
		}
	assert_true(footfall_estimate(f) == once);
	footfall_free(f);
}

static void test_key_rotates_each_period(void **state)
{
	struct sink s = { 0 };
	struct footfall *f = footfall_new("s", "g", "z", 900, 1, emit, &s);
	uint64_t h1, h1b, h2;

	(void)state;
	footfall_add(f, "abc", 3, S(T0 + 5));
	h1 = footfall_hash(f, "abc", 3);
	h1b = footfall_hash(f, "abc", 3);
	assert_int_equal(h1, h1b);
	footfall_tick(f, S(T0 + 905)); /* closes the period and drops its key */
	assert_int_equal(footfall_hash(f, "abc", 3), 0);
	footfall_add(f, "abc", 3, S(T0 + 906));
	h2 = footfall_hash(f, "abc", 3);
	assert_true(h2 != h1);
	/* The new period starts empty: the same device counts once again. */
	assert_in_range((long)(footfall_estimate(f) + 0.5), 1, 1);
	assert_int_equal(s.n, 1);
	footfall_free(f);
}

static void test_gap_of_several_periods(void **state)
{
	struct sink s = { 0 };
	struct footfall *f = footfall_new("s", "g", "z", 900, 5, emit, &s);

	(void)state;
	add_devices(f, 0, 10, S(T0));
	add_devices(f, 100, 6, S(T0 + 3 * 900 + 1)); /* closes the first, opens the 4th slot */
	assert_int_equal(s.n, 1);
	footfall_flush(f);
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(s.last, "\"count\":6"));
	footfall_free(f);
}

/* SipHash-2-4 against the reference: key 00..0f, message 00..(n-1). The
 * paper's vectors (n = 0, 15 and others from the reference vectors.h), then
 * every length 0..64 against OpenSSL's SipHash. */
static uint64_t openssl_siphash(const uint8_t key[16], const uint8_t *msg, size_t len)
{
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;
	size_t size = 8, n = 0;
	OSSL_PARAM params[2] = { OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
				 OSSL_PARAM_construct_end() };
	uint8_t out[8];
	uint64_t h = 0;

	assert_non_null(ctx);
	assert_true(EVP_MAC_CTX_set_params(ctx, params));
	assert_true(EVP_MAC_init(ctx, key, 16, NULL));
	assert_true(EVP_MAC_update(ctx, msg, len));
	assert_true(EVP_MAC_final(ctx, out, &n, sizeof(out)));
	assert_int_equal(n, 8);
	for (int i = 7; i >= 0; i--)
		h = h << 8 | out[i];
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
	return h;
}

static void test_siphash_reference_vectors(void **state)
{
	static const struct {
		size_t len;
		uint64_t h;
	} ref[] = {
		{ 0, 0x726fdb47dd0e0e31ull },
		{ 1, 0x74f839c593dc67fdull },
		{ 7, 0xab0200f58b01d137ull },
		{ 8, 0x93f5f5799a932462ull },
		{ 15, 0xa129ca6149be45e5ull },
		{ 63, 0x958a324ceb064572ull },
	};
	uint8_t key[16], msg[64];
	struct siphash_key k;

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	siphash_key_set(&k, key);
	for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++)
		assert_int_equal(siphash24(&k, msg, ref[i].len), ref[i].h);
	for (size_t len = 0; len <= 64; len++)
		assert_int_equal(siphash24(&k, msg, len), openssl_siphash(key, msg, len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_reference_vectors),
		cmocka_unit_test(test_below_minimum_is_not_published),
		cmocka_unit_test(test_published_payload),
		cmocka_unit_test(test_accuracy),
		cmocka_unit_test(test_repeats_beyond_the_filter),
		cmocka_unit_test(test_key_rotates_each_period),
		cmocka_unit_test(test_gap_of_several_periods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
