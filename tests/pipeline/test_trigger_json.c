/*
 * test_trigger_json.c - the trigger document is written by hand; these
 * tests hold it to the bytes cJSON_PrintUnformatted gives for the same
 * fields (what subscribers got before), over escapes, UTF-8, null RSSI,
 * large campaign ids and many random readings, and check the UUIDv7 ids.
 * The publisher's quick reading of a document's channels must agree with
 * cJSON's wherever it gives an answer, on whole and on damaged documents.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "pl_json.h"
#include "trigger_json.h"

/* The document as a cJSON tree, the way the gateway built it before. */
static char *reference(const struct trigger_fields *f, const char *id)
{
	cJSON *o = cJSON_CreateObject(), *ch;
	char ts[40];
	char *out = NULL;

	pl_json_time(ts, sizeof(ts), f->ts_us);
	if (!cJSON_AddNumberToObject(o, "schema", TRIGGER_SCHEMA_VERSION) ||
	    !cJSON_AddStringToObject(o, "id", id) || !cJSON_AddStringToObject(o, "ts", ts) ||
	    !cJSON_AddStringToObject(o, "site", f->site) ||
	    !cJSON_AddStringToObject(o, "gateway", f->gateway) ||
	    !cJSON_AddStringToObject(o, "zone", f->zone) ||
	    !cJSON_AddStringToObject(o, "event", trigger_event_name(f->event)) ||
	    !cJSON_AddStringToObject(o, "customer_ref", f->customer_ref) ||
	    !cJSON_AddStringToObject(o, "campaign", f->campaign) ||
	    !cJSON_AddNumberToObject(o, "campaign_id", (double)f->campaign_id) ||
	    !cJSON_AddNumberToObject(o, "dwell_s", f->dwell_s) ||
	    !(f->rssi_known ? cJSON_AddNumberToObject(o, "rssi", round(f->rssi / 0.1) * 0.1)
			    : cJSON_AddNullToObject(o, "rssi")) ||
	    !(f->rssi_known ? cJSON_AddNumberToObject(o, "proximity_m",
						      round(f->proximity_m / 0.01) * 0.01)
			    : cJSON_AddNullToObject(o, "proximity_m")) ||
	    !(ch = cJSON_AddArrayToObject(o, "channels")) ||
	    !cJSON_AddStringToObject(o, "policy", f->policy))
		goto out;
	for (uint32_t i = 0; i < f->n_channels; i++)
		if (!cJSON_AddItemToArray(ch, cJSON_CreateString(f->channels[i])))
			goto out;
	out = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return out;
}

static void same(const struct trigger_fields *f, const char *id)
{
	char *want = reference(f, id), *got = trigger_json_build(f, id);

	assert_non_null(want);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	cJSON_free(want);
}

static struct trigger_fields sample(void)
{
	return (struct trigger_fields){
		.ts_us = 1773133200123456ull, .site = "store-7", .gateway = "gw-1",
		.zone = "entrance", .event = VISIT_ENTER, .customer_ref = "c-000123",
		.campaign = "welcome", .campaign_id = 4, .dwell_s = 0, .rssi = -67.25f,
		.proximity_m = 2.3456f, .rssi_known = true,
		.channels = { "push", "sms" }, .n_channels = 2, .policy = "2026-01",
	};
}

static void test_plain(void **state)
{
	struct trigger_fields f = sample();

	(void)state;
	same(&f, "01890a5d-ac96-774b-bcce-b302099a8057");
	f.rssi_known = false;
	f.event = VISIT_EXIT;
	f.dwell_s = 4000000000u;
	f.n_channels = 0;
	same(&f, "x");
	f.event = VISIT_DWELL;
	f.campaign_id = 5000000000ll;   /* beyond an int: printed from the double */
	same(&f, "x");
	f.campaign_id = -3;
	same(&f, "x");
	f.campaign_id = 999999999999999ll;
	same(&f, "x");
	f.campaign_id = 1000000000000000ll;
	same(&f, "x");
	f.campaign_id = 1234567890123456789ll;
	f.rssi_known = true;
	f.rssi = -0.04f;          /* rounds to -0: cJSON writes "-0" */
	f.proximity_m = 0.004f;
	same(&f, "x");
}

static void test_escapes(void **state)
{
	static const char *const odd[] = {
		"entrance \"A\"", "back\\slash", "tab\there", "nl\ncr\rff\fbs\b", "\x01\x1f\x7f",
		"caf\xc3\xa9 \xe2\x82\xac", "", "</script>", "a/b",
	};
	struct trigger_fields f = sample();

	(void)state;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		f.zone = odd[i];
		f.customer_ref = odd[(i + 1) % (sizeof(odd) / sizeof(odd[0]))];
		f.channels[0] = odd[(i + 2) % (sizeof(odd) / sizeof(odd[0]))];
		f.policy = odd[(i + 3) % (sizeof(odd) / sizeof(odd[0]))];
		same(&f, odd[(i + 4) % (sizeof(odd) / sizeof(odd[0]))]);
	}
}

static void test_random_readings(void **state)
{
	struct trigger_fields f = sample();

	(void)state;
	srand(7);
	for (int i = 0; i < 20000; i++) {
		f.rssi = -127.0f + 147.0f * (float)rand() / (float)RAND_MAX;
		f.proximity_m = 100.0f * (float)rand() / (float)RAND_MAX;
		if (i % 7 == 0)
			f.proximity_m = (float)(rand() % 1000) / 100.0f;
		if (i % 11 == 0)
			f.rssi = (float)(rand() % 128) - 127.0f;
		f.dwell_s = (uint32_t)rand();
		f.campaign_id = (int64_t)rand() * (i % 3 ? 1 : 4);
		f.ts_us = 1773133200000000ull + (uint64_t)rand() * 1000u + (uint64_t)(i % 1000);
		same(&f, "id");
	}
}

static void test_missing_field_fails(void **state)
{
	struct trigger_fields f = sample();

	(void)state;
	f.policy = NULL;
	assert_null(trigger_json_build(&f, "x"));
	f = sample();
	f.channels[1] = NULL;
	assert_null(trigger_json_build(&f, "x"));
}

static void test_uuid7(void **state)
{
	char a[37], b[37];
	const uint64_t ts = 1773133200123456ull;

	(void)state;
	assert_true(trigger_uuid7(ts, a));
	assert_true(trigger_uuid7(ts, b));
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	/* 48-bit ms time, then version 7 and the RFC 9562 variant. */
	assert_memory_equal(a, "019cd6f9-7afb-7", 15);
	assert_true(strchr("89ab", a[19]) != NULL);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_true(strchr("0123456789abcdef", a[i]) != NULL);
	}
}

/* The timestamp as gmtime_r and strftime gave it. */
static void time_ref(char out[64], uint64_t ts_us)
{
	time_t t = (time_t)(ts_us / 1000000u);
	struct tm tm;
	char base[40];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 64, "%s.%03uZ", base, (unsigned)(ts_us % 1000000u / 1000u));
}

static void test_time(void **state)
{
	static const uint64_t days[] = { 0, 59, 60, 365, 10956, 11016, 11017, 11382, 20454,
					 47541, 47542, 2932896, 2932897 };
	char got[64], want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		for (uint64_t s = 0; s < 2; s++) {
			uint64_t ts = (days[i] * 86400u + s * 86399u) * 1000000u + 999999u;

			pl_json_time(got, sizeof(got), ts);
			time_ref(want, ts);
			assert_string_equal(got, want);
		}
	}
	srand(11);
	for (int i = 0; i < 200000; i++) {
		uint64_t ts = ((uint64_t)rand() << 31 | (uint64_t)rand()) % 300000000000000000ull;

		pl_json_time(got, sizeof(got), ts);
		time_ref(want, ts);
		assert_string_equal(got, want);
	}
	pl_json_time(got, 11, 1773133200123456ull);
	assert_string_equal(got, "2026-03-10");
}

#define MAXCH 8

/* The channels as the publisher read them with cJSON: count, or -1 when the
 * document does not have a readable array of at most MAXCH strings. */
static int cjson_channels(const char *doc, size_t len, char names[MAXCH][64])
{
	cJSON *d = cJSON_ParseWithLength(doc, len), *ch, *it;
	int n = 0;

	ch = cJSON_GetObjectItemCaseSensitive(d, "channels");
	if (!cJSON_IsArray(ch))
		n = -1;
	cJSON_ArrayForEach(it, ch) {
		if (!cJSON_IsString(it) || n == MAXCH || strlen(it->valuestring) >= 64) {
			n = -1;
			break;
		}
		strcpy(names[n++], it->valuestring);
	}
	cJSON_Delete(d);
	return n;
}

/* Where the quick reader answers, cJSON must give the same names. */
static int agree(const char *doc, size_t len)
{
	const char *names[MAXCH];
	char buf[256], want[MAXCH][64];
	int n = trigger_json_channels(doc, len, names, MAXCH, buf, sizeof(buf));

	if (n >= 0) {
		assert_int_equal(cjson_channels(doc, len, want), n);
		for (int i = 0; i < n; i++)
			assert_string_equal(names[i], want[i]);
	}
	return n;
}

static void test_channels_read(void **state)
{
	static const char *const odd[] = { "push", "a\"b", "tab\t", "", "caf\xc3\xa9", "x/y" };
	struct trigger_fields f = sample();
	const char *names[MAXCH];
	char buf[256];
	char *doc;

	(void)state;
	for (uint32_t n = 0; n <= 6; n++) {
		f.n_channels = n;
		for (uint32_t i = 0; i < n; i++)
			f.channels[i] = odd[(i + n) % 6];
		f.rssi_known = n % 2;
		doc = trigger_json_build(&f, "01890a5d-ac96-774b-bcce-b302099a8057");
		assert_int_equal(agree(doc, strlen(doc)), (int)n);
		free(doc);
	}
	/* Shapes left to the full parser. */
	assert_int_equal(trigger_json_channels("{\"channels\": []}", 16, names, MAXCH, buf,
					       sizeof(buf)), -1);
	assert_int_equal(trigger_json_channels("{\"a\":1}", 7, names, MAXCH, buf, sizeof(buf)),
			 -1);
	assert_int_equal(trigger_json_channels("{\"channels\":[\"\\u0041\"]}", 22, names,
					       MAXCH, buf, sizeof(buf)), -1);
	assert_int_equal(trigger_json_channels("{\"channels\":[],\"channels\":[]}", 29, names,
					       MAXCH, buf, sizeof(buf)), -1);
	assert_int_equal(trigger_json_channels("{\"channels\":[\"a\",\"b\"]}", 22, names, 1,
					       buf, sizeof(buf)), -1);
	assert_int_equal(trigger_json_channels("{\"channels\":[\"a\"]}", 18, names, MAXCH, buf,
					       sizeof(buf)), 1);
	assert_string_equal(names[0], "a");
}

/* Every cut and every single-byte change of a document: whatever the quick
 * reader answers, cJSON answers the same. */
static void test_channels_damaged(void **state)
{
	static const char bytes[] = "{}[]\",:\\ab0-.eE+nulltrfs \t\x01\xc3";
	struct trigger_fields f = sample();
	char *doc = trigger_json_build(&f, "id-1");
	size_t len = strlen(doc);
	char *copy = malloc(len + 1);
	int answered = 0;

	(void)state;
	for (size_t cut = 0; cut <= len; cut++)
		answered += agree(doc, cut) >= 0;
	assert_int_equal(answered, 1);  /* only the whole document */
	for (size_t i = 0; i < len; i++) {
		for (size_t b = 0; b < sizeof(bytes) - 1; b++) {
			memcpy(copy, doc, len + 1);
			copy[i] = bytes[b];
			agree(copy, len);
		}
	}
	free(copy);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_random_readings),
		cmocka_unit_test(test_missing_field_fails),
		cmocka_unit_test(test_uuid7),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_channels_read),
		cmocka_unit_test(test_channels_damaged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
