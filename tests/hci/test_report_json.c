/*
 * test_report_json.c - the --dump JSON line: every field and beacon format,
 * parsed back with cJSON so the test checks what a consumer would read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "beacon_frame.h"
#include "report_json.h"

static char line[REPORT_JSON_MAX];

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2) {
		char b[3] = { s[0], s[1], 0 };

		out[n++] = (uint8_t)strtoul(b, NULL, 16);
	}
	return n;
}

/* Format a legacy non-connectable report with this data and parse it back. */
static cJSON *format(const char *hex, struct adv_report *base)
{
	static uint8_t data[BF_EXT_ADV_MAX];
	struct adv_report r = { .ts_us = 1772359200123456ULL,
				.addr = { 0x0f, 0xe0, 0x22, 0x1a, 0x7b, 0xc4 },
				.addr_type = ADV_ADDR_RANDOM, .rssi = -71,
				.kind = ADV_KIND_NONCONN_IND };
	size_t n;
	cJSON *j;

	if (base)
		r = *base;
	r.data_len = (uint16_t)unhex(hex, data);
	r.data = data;
	n = report_json_format(&r, line, sizeof(line));
	assert_int_equal(n, strlen(line));
	assert_null(strchr(line, '\n'));
	j = cJSON_Parse(line);
	assert_non_null(j);
	return j;
}

static const cJSON *beacon(const cJSON *j, int i)
{
	const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "beacons"), i);

	assert_non_null(b);
	return b;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* A whole number as an int: assert_int_equal() takes an unsigned integer,
 * and a negative double converted to one is undefined (x86 wraps, arm64
 * gives 0), so convert through int first. */
static int inum(const cJSON *o, const char *key)
{
	return (int)num(o, key);
}

static void test_common_fields_ibeacon(void **state)
{
	cJSON *j = format("0201061aff4c000215b9407f30f5f8466eaff925556b57fe6d3039d431c5", NULL);
	const cJSON *b = beacon(j, 0);

	(void)state;
	assert_string_equal(str(j, "ts"), "2026-03-01T10:00:00.123456Z");
	assert_string_equal(str(j, "addr"), "C4:7B:1A:22:E0:0F");
	assert_string_equal(str(j, "addr_type"), "random");
	assert_int_equal(inum(j, "rssi"), -71);
	assert_string_equal(str(j, "kind"), "adv_nonconn_ind");
	assert_string_equal(str(j, "data"),
			    "0201061aff4c000215b9407f30f5f8466eaff925556b57fe6d3039d431c5");
	assert_null(cJSON_GetObjectItem(j, "phy"));
	assert_string_equal(str(b, "type"), "ibeacon");
	assert_string_equal(str(b, "uuid"), "b9407f30-f5f8-466e-aff9-25556b57fe6d");
	assert_int_equal(inum(b, "major"), 12345);
	assert_int_equal(inum(b, "minor"), 54321);
	assert_int_equal(inum(b, "measured_power"), -59);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "beacons")), 1);
	cJSON_Delete(j);
}

static void test_rssi_null_and_names(void **state)
{
	static const char *const types[] = { "public", "random", "public-id", "random-id" };
	static const char *const kinds[] = { "adv_ind", "adv_direct_ind", "adv_scan_ind",
					     "adv_nonconn_ind", "scan_rsp" };
	struct adv_report r = { .rssi = ADV_RSSI_UNAVAILABLE };
	cJSON *j;

	(void)state;
	for (int t = 0; t < 4; t++) {
		r.addr_type = (uint8_t)t;
		r.kind = (enum adv_kind)t;
		j = format("", &r);
		assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "rssi")));
		assert_string_equal(str(j, "addr_type"), types[t]);
		assert_string_equal(str(j, "kind"), kinds[t]);
		assert_string_equal(str(j, "data"), "");
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "beacons")), 0);
		assert_string_equal(str(j, "ts"), "1970-01-01T00:00:00.000000Z");
		cJSON_Delete(j);
	}
	r.addr_type = ADV_ADDR_ANONYMOUS;
	r.kind = ADV_KIND_SCAN_RSP;
	j = format("", &r);
	assert_string_equal(str(j, "addr_type"), "anonymous");
	assert_string_equal(str(j, "kind"), "scan_rsp");
	cJSON_Delete(j);
}

static void test_extended_fields(void **state)
{
	struct adv_report r = { .kind = ADV_KIND_EXT, .rssi = -88, .primary_phy = 3,
				.secondary_phy = 2, .sid = 1, .tx_power = -8,
				.data_status = ADV_DATA_TRUNCATED };
	cJSON *j = format("020106", &r);

	(void)state;
	assert_string_equal(str(j, "kind"), "ext");
	assert_string_equal(str(j, "phy"), "coded");
	assert_string_equal(str(j, "secondary_phy"), "2m");
	assert_int_equal(inum(j, "sid"), 1);
	assert_int_equal(inum(j, "tx_power"), -8);
	assert_string_equal(str(j, "data_status"), "truncated");
	cJSON_Delete(j);

	r.primary_phy = 1;
	r.secondary_phy = 0;
	r.sid = 0xff;
	r.tx_power = ADV_TX_POWER_UNAVAILABLE;
	r.data_status = ADV_DATA_COMPLETE;
	j = format("", &r);
	assert_string_equal(str(j, "phy"), "1m");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "secondary_phy")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "sid")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "tx_power")));
	assert_string_equal(str(j, "data_status"), "complete");
	cJSON_Delete(j);
}

static void test_altbeacon(void **state)
{
	cJSON *j = format("1bff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c500", NULL);
	const cJSON *b = beacon(j, 0);

	(void)state;
	assert_string_equal(str(b, "type"), "altbeacon");
	assert_int_equal(inum(b, "company_id"), 0x0118);
	assert_string_equal(str(b, "beacon_id"), "2f234454cf6d4a0fadf2f4911ba9ffa600010002");
	assert_int_equal(inum(b, "ref_rssi"), -59);
	assert_int_equal(inum(b, "mfg_reserved"), 0);
	cJSON_Delete(j);
}

static void test_eddystone_uid_url(void **state)
{
	cJSON *j = format("0201060303aafe1716aafe00e7edd1ebeac04e5defa0170123456789ab0000", NULL);
	const cJSON *b = beacon(j, 0);

	(void)state;
	assert_string_equal(str(b, "type"), "eddystone-uid");
	assert_string_equal(str(b, "namespace"), "edd1ebeac04e5defa017");
	assert_string_equal(str(b, "instance"), "0123456789ab");
	assert_int_equal(inum(b, "tx_power"), -25);
	cJSON_Delete(j);

	/* "https://www." "a\"b\\c" ".com/" : quote and backslash must be escaped. */
	j = format("0201060303aafe0c16aafe10eb016122625c6300", NULL);
	b = beacon(j, 0);
	assert_string_equal(str(b, "type"), "eddystone-url");
	assert_string_equal(str(b, "url"), "https://www.a\"b\\c.com/");
	assert_int_equal(inum(b, "tx_power"), -21);
	cJSON_Delete(j);
}

static void test_eddystone_tlm(void **state)
{
	cJSON *j = format("0201060303aafe1116aafe20000bb819800000006400000e11", NULL);
	const cJSON *b = beacon(j, 0);

	(void)state;
	assert_string_equal(str(b, "type"), "eddystone-tlm");
	assert_int_equal(inum(b, "battery_mv"), 3000);
	assert_true(num(b, "temperature_c") == 25.5);
	assert_int_equal(inum(b, "adv_count"), 100);
	assert_true(num(b, "uptime_s") == 360.1);
	assert_non_null(strstr(line, "\"uptime_s\":360.1}"));
	cJSON_Delete(j);

	/* No sensor: null; negative fixed point: exact. */
	j = format("0201060303aafe1116aafe20000c1c8000000003e800054321", NULL);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(beacon(j, 0), "temperature_c")));
	assert_true(num(beacon(j, 0), "uptime_s") == 34486.5);
	cJSON_Delete(j);
	j = format("0201060303aafe1116aafe200000a0ffc0000000000000000000", NULL);
	assert_true(num(beacon(j, 0), "temperature_c") == -0.25);
	assert_true(num(beacon(j, 0), "uptime_s") == 0);
	assert_non_null(strstr(line, "\"uptime_s\":0.0}"));
	cJSON_Delete(j);
}

static void test_eddystone_etlm_eid(void **state)
{
	cJSON *j = format("0201060303aafe1516aafe2001a1b2c3d4e5f60718293a4b5c1234abcd", NULL);
	const cJSON *b = beacon(j, 0);

	(void)state;
	assert_string_equal(str(b, "type"), "eddystone-etlm");
	assert_string_equal(str(b, "etlm"), "a1b2c3d4e5f60718293a4b5c");
	assert_int_equal(inum(b, "salt"), 0x1234);
	assert_int_equal(inum(b, "mic"), 0xabcd);
	cJSON_Delete(j);

	j = format("0201060303aafe0d16aafe30f48badbeefcafef00d", NULL);
	b = beacon(j, 0);
	assert_string_equal(str(b, "type"), "eddystone-eid");
	assert_string_equal(str(b, "eid"), "8badbeefcafef00d");
	assert_int_equal(inum(b, "tx_power"), -12);
	cJSON_Delete(j);
}

static void test_two_beacons_and_long_data(void **state)
{
	static char hex[2 * BF_EXT_ADV_MAX + 1];
	struct adv_report r = { .kind = ADV_KIND_EXT, .rssi = -50, .primary_phy = 1,
				.secondary_phy = 2, .sid = 0, .tx_power = 0 };
	const char *two = "1aff4c000215b9407f30f5f8466eaff925556b57fe6d3039d431c5"
			  "0d16aafe30f48badbeefcafef00d";
	size_t n = strlen(two);
	cJSON *j;

	(void)state;
	memcpy(hex, two, n);
	/* Pad to 1650 bytes with zero-length AD... no: 0x00 ends the data. */
	while (n < sizeof(hex) - 1)
		hex[n++] = '0';
	hex[n] = '\0';
	j = format(hex, &r);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "beacons")), 2);
	assert_string_equal(str(beacon(j, 0), "type"), "ibeacon");
	assert_string_equal(str(beacon(j, 1), "type"), "eddystone-eid");
	assert_int_equal(strlen(str(j, "data")), 2 * BF_EXT_ADV_MAX);
	cJSON_Delete(j);
}

static void test_small_buffers(void **state)
{
	struct adv_report r = { .rssi = -1 };
	char small[16];
	size_t full;

	(void)state;
	full = report_json_format(&r, line, sizeof(line));
	assert_int_equal(report_json_format(&r, small, sizeof(small)), full);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, line, sizeof(small) - 1);
	assert_int_equal(report_json_format(&r, NULL, 0), full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_fields_ibeacon),
		cmocka_unit_test(test_rssi_null_and_names),
		cmocka_unit_test(test_extended_fields),
		cmocka_unit_test(test_altbeacon),
		cmocka_unit_test(test_eddystone_uid_url),
		cmocka_unit_test(test_eddystone_tlm),
		cmocka_unit_test(test_eddystone_etlm_eid),
		cmocka_unit_test(test_two_beacons_and_long_data),
		cmocka_unit_test(test_small_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
