/* Identifier, CSV cell and time syntax: the parsers beaconctl and import share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"
#include "bgw_util.h"

static void ibeacon_canonical(void **state)
{
	struct store_identifier id;
	char err[STORE_ERRLEN], buf[128];

	(void)state;
	assert_int_equal(store_identifier_parse(STORE_ID_IBEACON,
						"F7826DA64FA24E988024BC5B71E0893E:1:65535", &id, err),
			 STORE_OK);
	assert_string_equal(id.value, "f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:65535");
	assert_int_equal(id.n_bytes, 20);
	assert_int_equal(id.bytes[0], 0xf7);
	assert_int_equal(id.bytes[17], 1);
	assert_int_equal(id.bytes[18], 0xff);
	assert_int_equal(store_identifier_parse(STORE_ID_IBEACON,
						"f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:65535", &id, err),
			 STORE_OK);
	store_identifier_format(&id, buf, sizeof(buf));
	assert_string_equal(buf, "ibeacon f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:65535");
}

static void ibeacon_errors(void **state)
{
	static const char *bad[] = {
		"f7826da6-4fa2-4e98-8024-bc5b71e0893e:1",          /* no minor */
		"f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:65536",    /* minor too big */
		"f7826da6-4fa2-4e98-8024-bc5b71e0893:1:2",         /* short uuid */
		"f7826da64-fa2-4e98-8024-bc5b71e0893e:1:2",        /* dash misplaced */
		"g7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2",        /* not hex */
		"f7826da6-4fa2-4e98-8024-bc5b71e0893e:-1:2",       /* negative */
		"f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2:3",      /* extra */
		"",
	};
	struct store_identifier id;
	char err[STORE_ERRLEN];

	(void)state;
	for (size_t i = 0; i < BGW_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(store_identifier_parse(STORE_ID_IBEACON, bad[i], &id, err),
				 STORE_EINVAL);
		assert_true(strlen(err) > 0);
	}
}

static void uid_and_keys(void **state)
{
	struct store_identifier id;
	char err[STORE_ERRLEN], buf[128];

	(void)state;
	assert_int_equal(store_identifier_parse(STORE_ID_EDDYSTONE_UID,
						"00112233445566778899:AABBCCDDEEFF", &id, err),
			 STORE_OK);
	assert_string_equal(id.value, "00112233445566778899:aabbccddeeff");
	assert_int_equal(store_identifier_parse(STORE_ID_EDDYSTONE_UID,
						"0011223344556677889:aabbccddeeff", &id, err),
			 STORE_EINVAL);
	assert_non_null(strstr(err, "NAMESPACE"));

	assert_int_equal(store_identifier_parse(STORE_ID_EDDYSTONE_EID,
						"00112233445566778899AABBCCDDEEFF:15:-3600", &id, err),
			 STORE_OK);
	assert_int_equal(id.exponent, 15);
	assert_int_equal(id.clock_offset, -3600);
	store_identifier_format(&id, buf, sizeof(buf));
	assert_string_equal(buf, "eddystone-eid 00112233445566778899aabbccddeeff:15:-3600");
	assert_int_equal(store_identifier_parse(STORE_ID_EDDYSTONE_EID,
						"00112233445566778899aabbccddeeff:16", &id, err),
			 STORE_EINVAL);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(store_identifier_parse(STORE_ID_EDDYSTONE_EID,
						"00112233445566778899aabbccddee:1", &id, err),
			 STORE_EINVAL);
	assert_non_null(strstr(err, "32 hex digits"));
	assert_int_equal(store_identifier_parse(STORE_ID_EDDYSTONE_EID,
						"00112233445566778899aabbccddeeff:x", &id, err),
			 STORE_EINVAL);

	assert_int_equal(store_identifier_parse(STORE_ID_IRK, "00112233445566778899aabbccddeeff00",
						&id, err),
			 STORE_EINVAL);
	assert_non_null(strstr(err, "got 34"));
	assert_int_equal(store_identifier_parse_pair("irk 00112233445566778899AABBCCDDEEFF", &id,
						     err),
			 STORE_OK);
	assert_string_equal(id.value, "00112233445566778899aabbccddeeff");
	assert_int_equal(store_identifier_parse_pair("mac 001122334455", &id, err), STORE_EINVAL);
	assert_non_null(strstr(err, "unknown identifier type"));
}

/* AltBeacon: company id decimal (a leading zero is no octal) or 0xHEX, the
 * 20-byte beacon id with optional dashes; one canonical text for all. */
static void altbeacon(void **state)
{
	static const char *const same[] = {
		"0x0118:00112233445566778899aabbccddeeff00112233",
		"280:00112233-4455-6677-8899-AABBCCDDEEFF00112233",
		"0280:00112233445566778899aabbccddeeff00112233",
		"0X118:0011223344556677-8899aabbccddeeff00112233",
	};
	struct store_identifier id;
	char err[STORE_ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(store_identifier_parse(STORE_ID_ALTBEACON, same[i], &id, err),
				 STORE_OK);
		assert_string_equal(id.value, "0x0118:00112233445566778899aabbccddeeff00112233");
		assert_int_equal(id.n_bytes, 22);
		assert_int_equal(id.bytes[0], 0x01);
		assert_int_equal(id.bytes[1], 0x18);
		assert_int_equal(id.bytes[21], 0x33);
	}
	assert_int_equal(store_identifier_parse(STORE_ID_ALTBEACON,
						"0118:00112233445566778899aabbccddeeff00112233",
						&id, err), STORE_OK);
	assert_string_equal(id.value, "0x0076:00112233445566778899aabbccddeeff00112233");
	assert_int_equal(store_identifier_parse_pair(
				 "altbeacon 65535:00112233445566778899aabbccddeeff00112233", &id, err),
			 STORE_OK);
	assert_int_equal(id.type, STORE_ID_ALTBEACON);
	assert_string_equal(store_id_type_name(id.type), "altbeacon");
	assert_int_equal(store_identifier_parse(STORE_ID_ALTBEACON,
						"65536:00112233445566778899aabbccddeeff00112233",
						&id, err), STORE_EINVAL);
	assert_non_null(strstr(err, "COMPANY"));
	assert_int_equal(store_identifier_parse(STORE_ID_ALTBEACON,
						"0x10000:00112233445566778899aabbccddeeff00112233",
						&id, err), STORE_EINVAL);
	assert_int_equal(store_identifier_parse(STORE_ID_ALTBEACON,
						"0x0118:00112233445566778899aabbccddeeff001122",
						&id, err), STORE_EINVAL);
	assert_non_null(strstr(err, "40 hex digits"));
	assert_int_equal(store_identifier_parse(STORE_ID_ALTBEACON,
						"00112233445566778899aabbccddeeff00112233",
						&id, err), STORE_EINVAL);
	assert_non_null(strstr(err, "COMPANY:BEACONID"));
}

static void csv_split(void **state)
{
	struct store_csv_row row;
	char err[STORE_ERRLEN];
	char l1[] = "C1,\"ibeacon a:1:2|irk x\",\"presence;retargeting@push+email\",seg";
	char l2[] = "C2,,,";
	char l3[] = "C3,\"a\"\"b\",,";
	char l4[] = "C4,a,b";
	char l5[] = "C5,\"open,,";
	char l6[] = "C6,a,b,c,d";

	(void)state;
	assert_int_equal(store_csv_split(l1, &row, err), STORE_OK);
	assert_string_equal(row.field[1], "ibeacon a:1:2|irk x");
	assert_string_equal(row.field[2], "presence;retargeting@push+email");
	assert_string_equal(row.field[3], "seg");
	assert_int_equal(store_csv_split(l2, &row, err), STORE_OK);
	assert_string_equal(row.field[3], "");
	assert_int_equal(store_csv_split(l3, &row, err), STORE_OK);
	assert_string_equal(row.field[1], "a\"b");
	assert_int_equal(store_csv_split(l4, &row, err), STORE_EINVAL);
	assert_int_equal(store_csv_split(l5, &row, err), STORE_EINVAL);
	assert_int_equal(store_csv_split(l6, &row, err), STORE_EINVAL);
}

static void csv_consent(void **state)
{
	struct store_grant g;
	char err[STORE_ERRLEN], ch[256];
	char c1[] = "retargeting@push+email+push/2099-01-01Z";
	char c2[] = "presence";
	char c3[] = "marketing@push";
	char c4[] = "presence@";

	(void)state;
	assert_int_equal(store_csv_consent_parse(c1, &g, ch, sizeof(ch), err), STORE_OK);
	assert_int_equal(g.purpose, STORE_RETARGETING);
	assert_string_equal(g.channels, "push,email");
	assert_int_equal(g.expires_at, 4070908800LL);
	assert_int_equal(store_csv_consent_parse(c2, &g, ch, sizeof(ch), err), STORE_OK);
	assert_int_equal(g.purpose, STORE_PRESENCE);
	assert_int_equal(store_csv_consent_parse(c3, &g, ch, sizeof(ch), err), STORE_EINVAL);
	assert_non_null(strstr(err, "purpose"));
	assert_int_equal(store_csv_consent_parse(c4, &g, ch, sizeof(ch), err), STORE_EINVAL);
}

static void times(void **state)
{
	int64_t t;
	char err[STORE_ERRLEN], buf[32];

	(void)state;
	assert_int_equal(store_time_parse("2026-01-31T12:00:00Z", 0, &t, err), STORE_OK);
	assert_int_equal(t, 1769860800LL);
	store_time_format(t, buf, sizeof(buf));
	assert_string_equal(buf, "2026-01-31T12:00:00Z");
	assert_int_equal(store_time_parse("@1000", 0, &t, err), STORE_OK);
	assert_int_equal(t, 1000);
	assert_int_equal(store_time_parse("+2d", 100, &t, err), STORE_OK);
	assert_int_equal(t, 100 + 2 * 86400);
	assert_int_equal(store_time_parse("-1d", 100000, &t, err), STORE_OK);
	assert_int_equal(t, 100000 - 86400);
	assert_int_equal(store_time_parse("-90m", 100000, &t, err), STORE_OK);
	assert_int_equal(t, 100000 - 90 * 60);
	assert_int_equal(store_time_parse("-x", 0, &t, err), STORE_EINVAL);
	assert_int_equal(store_time_parse("tomorrow", 0, &t, err), STORE_EINVAL);
	assert_int_equal(store_time_parse("2026-13-01", 0, &t, err), STORE_EINVAL);
}

static void names(void **state)
{
	char err[STORE_ERRLEN], out[64];

	(void)state;
	assert_int_equal(store_name_check("segment", "first-flat.v2_x", err), STORE_OK);
	assert_int_equal(store_name_check("segment", "with space", err), STORE_EINVAL);
	assert_int_equal(store_name_check("segment", "", err), STORE_EINVAL);
	assert_int_equal(store_channels_normalise("push,email,push", out, sizeof(out), err),
			 STORE_OK);
	assert_string_equal(out, "push,email");
	assert_int_equal(store_channels_normalise("push,e mail", out, sizeof(out), err),
			 STORE_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ibeacon_canonical), cmocka_unit_test(ibeacon_errors),
		cmocka_unit_test(uid_and_keys),	     cmocka_unit_test(csv_split),
		cmocka_unit_test(csv_consent),	     cmocka_unit_test(times),
		cmocka_unit_test(names),	     cmocka_unit_test(altbeacon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
