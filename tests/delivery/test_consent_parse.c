/* Envelope and payload parsing, base64, Ed25519 sign/verify round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consent_sig.h"
#include "consent_update.h"

static void test_b64(void **state)
{
	uint8_t out[16];

	(void)state;
	assert_int_equal(consent_b64_decode("aGVsbG8=", 8, out, sizeof(out)), 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(consent_b64_decode("aGVsbA==", 8, out, sizeof(out)), 4);
	assert_int_equal(consent_b64_decode("aGVs", 4, out, sizeof(out)), 3);
	assert_int_equal(consent_b64_decode("aGV", 3, out, sizeof(out)), -1);
	assert_int_equal(consent_b64_decode("aG=s", 4, out, sizeof(out)), -1);
	assert_int_equal(consent_b64_decode("a Vs", 4, out, sizeof(out)), -1);
	assert_int_equal(consent_b64_decode("", 0, out, sizeof(out)), -1);
	assert_int_equal(consent_b64_decode("aGVsbG8gd29ybGQhIQ==", 20, out, 4), -1);
}

static const char *parse_env(const char *msg, enum consent_result *r)
{
	static char err[300];
	uint8_t sig[64], *p = NULL;
	size_t n;
	char fpr[32];

	*r = consent_envelope_parse(msg, strlen(msg), 8192, &p, &n, sig, fpr, sizeof(fpr), err,
				    sizeof(err));
	free(p);
	return err;
}

static void test_envelope(void **state)
{
	enum consent_result r;
	char big[9000];

	(void)state;
	parse_env("{\"payload\":\"e30=\"}", &r);
	assert_int_equal(r, CONSENT_UNSIGNED);
	parse_env("{\"payload\":\"e30=\",\"sig\":\"\"}", &r);
	assert_int_equal(r, CONSENT_UNSIGNED);
	parse_env("{\"payload\":\"e30=\",\"sig\":\"AAAA\"}", &r);
	assert_int_equal(r, CONSENT_BAD_SIGNATURE);
	parse_env("[1]", &r);
	assert_int_equal(r, CONSENT_MALFORMED);
	parse_env("{\"payload\":{\"seq\":1},\"sig\":\"AAAA\"}", &r);
	assert_int_equal(r, CONSENT_MALFORMED);
	parse_env("{\"payload\":\"e30=\",\"sig\":\"x\",\"extra\":1}", &r);
	assert_int_equal(r, CONSENT_MALFORMED);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	parse_env(big, &r);
	assert_int_equal(r, CONSENT_OVERSIZED);
}

static int change(const char *json, struct consent_change *c)
{
	char err[300];

	return consent_change_parse((const uint8_t *)json, strlen(json), c, err, sizeof(err));
}

static void test_change(void **state)
{
	struct consent_change c;

	(void)state;
	assert_int_equal(change("{\"seq\":3,\"op\":\"grant\",\"ref\":\"C1\",\"purpose\":"
				"\"retargeting\",\"channels\":[\"push\",\"mail\"],\"expires\":5}",
				&c), 0);
	assert_int_equal(c.seq, 3);
	assert_int_equal(c.op, CONSENT_OP_GRANT);
	assert_string_equal(c.channels, "push,mail");
	assert_int_equal(c.expires, 5);
	assert_int_equal(change("{\"seq\":4,\"op\":\"withdraw\",\"ref\":\"C1\",\"purpose\":\"x\"}",
				&c), 0);
	assert_int_equal(change("{\"seq\":0,\"op\":\"forget\",\"ref\":\"C1\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1.5,\"op\":\"forget\",\"ref\":\"C1\"}", &c), -1);
	assert_int_equal(change("{\"seq\":\"1\",\"op\":\"forget\",\"ref\":\"C1\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"explode\",\"ref\":\"C1\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\",\"x\":1}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"identifier_remove\",\"type\":\"irk\","
				"\"value\":\"00\"}", &c), 0);
	assert_int_equal(change("{\"seq\":1,\"op\":\"identifier_add\",\"type\":\"irk\","
				"\"value\":\"00\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1e300,\"op\":\"forget\",\"ref\":\"C1\"}", &c), -1);
}

/* Issue 13: what a strict parser of signed updates must refuse. */
static void test_change_strict(void **state)
{
	struct consent_change c;
	char out[64];

	(void)state;
	/* cJSON would end the string at \u0000 and apply it to "C1". */
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\\u0000zz\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\\n\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\\u001b\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\\u0085\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\x7f\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\xc2\x85\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\x01\"}", &c), -1);
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"C\\u00e9\\/\\\"\"}", &c),
			 0);
	assert_string_equal(c.ref, "C\xc3\xa9/\"");
	/* Duplicate keys, whichever comes first. */
	assert_int_equal(change("{\"seq\":1,\"op\":\"forget\",\"ref\":\"A\",\"ref\":\"B\"}", &c),
			 -1);
	assert_int_equal(change("{\"seq\":1,\"seq\":2,\"op\":\"forget\",\"ref\":\"A\"}", &c), -1);
	/* seq: 1 .. 2^53 - 1. */
	assert_int_equal(change("{\"seq\":9007199254740991,\"op\":\"forget\",\"ref\":\"A\"}", &c),
			 0);
	assert_int_equal(c.seq, CONSENT_SEQ_MAX);
	assert_int_equal(change("{\"seq\":9007199254740992,\"op\":\"forget\",\"ref\":\"A\"}", &c),
			 -1);
	/* A raw NUL anywhere. */
	assert_int_equal(consent_change_parse((const uint8_t *)"{\"seq\":1}\0", 10, &c, out,
					      sizeof(out)), -1);
	consent_escape("a\x1b[1m\"\\\xff", out, sizeof(out));
	assert_string_equal(out, "a\\x1b[1m\\x22\\x5c\\xff");
}

static void test_sign_verify(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	const char *payload = "{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\"}";
	char err[300], fpr[32];
	uint8_t sig[64], *p = NULL;
	size_t n;
	char *env;

	(void)state;
	assert_non_null(k);
	env = consent_sign_envelope(k, payload, strlen(payload), err, sizeof(err));
	assert_non_null(env);
	assert_int_equal(consent_envelope_parse(env, strlen(env), 8192, &p, &n, sig, fpr,
						sizeof(fpr), err, sizeof(err)),
			 CONSENT_APPLIED);
	assert_int_equal(n, strlen(payload));
	assert_true(consent_sig_verify(k, p, n, sig, 64));
	p[0] ^= 1;
	assert_false(consent_sig_verify(k, p, n, sig, 64));
	assert_int_equal(strlen(fpr), CONSENT_FPR_LEN);
	free(p);
	free(env);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_change_strict),
		cmocka_unit_test(test_sign_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
