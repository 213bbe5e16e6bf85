/*
 * Beacon frame codec: AD iteration, every decoder and its edge cases,
 * URL compression, encoding and round trips.
 *
 * Payloads from real devices or from other implementations' test suites
 * are used wherever one is documented; each carries its source. The rest
 * are built from the specifications and say so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "beacon_frame.h"
#include "bgw_util.h"

/* ------------------------------------------------------------ vectors */

/* AirLocate iBeacon (Apple's sample UUID E2C56DB5-DFFB-48D2-B060-D0F5A71096E0,
 * major 0, minor 0, power -59) as captured on air in the answer to
 * stackoverflow.com/questions/18906988 "What is the iBeacon Bluetooth Profile". */
#define IBEACON_AIRLOCATE "02011a1aff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5"

/* Epson TM-m30II receipt printer default iBeacon (Technical Reference,
 * "Bluetooth low energy Advertising Packet specifications"): UUID
 * fac1ba2f-61a2-4d83-9a8c-60087c232569, major = model number, minor = last
 * IP address byte (here 0x11 and 0x64 as examples), power 0xBD = -67 dBm,
 * then a fixed 0x00: a zero-length AD structure that ends the data. */
#define IBEACON_EPSON "0201061aff4c000215fac1ba2f61a24d839a8c60087c2325690011" "0064bd00"

/* AltBeacon from the AltBeacon reference library's own test suite
 * (AltBeacon/android-beacon-library, AltBeaconTest.java): Radius Networks
 * (0x0118), id 2f234454cf6d4a0fadf2f4911ba9ffa6 00010002, ref RSSI -59,
 * mfg reserved 9. */
#define ALTBEACON_RADIUS "02011a1bff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c509"

/* A beacon reported in android-beacon-library issue 229 (BeaconParserTest.java
 * testParseProblematicBeaconFromIssue229): company 0x00E0, a 20-byte id that
 * starts with "www.bluki.com", ref RSSI 0xAA = -86, reserved 0x00, followed
 * by zero padding. */
#define ALTBEACON_BLUKII "0201061bffe000beac7777772e626c756b692e636f6d000100010001abaa000000"

/* A BBC micro:bit running MakeCode, captured by aioblescan
 * (frawau/aioblescan tests/test_eddystone.py), Eddystone-URL
 * https://makecode.com/#about at -10 dBm. */
#define URL_MAKECODE "0201060303aafe1516aafe10f603" "6d616b65636f6465" "00" "2361626f7574"

/* The same micro:bit's Eddystone-UID: 18-byte frame, no RFU bytes. */
#define UID_MICROBIT "0201060303aafe1516aafe00f6" "00000000000000000063" "000000000058"

/* A RadBeacon G (android-beacon-library BeaconParserTest.java,
 * testParseGattIdentifierThatRunsOverPduLength): http://google.com/ at
 * -25 dBm, then a local name "RadBeacon G", then zero padding. */
#define URL_RADBEACON "0201060303aafe0d16aafe10e702676f6f676c6500" \
	"0c09526164426561636f6e2047" "0000000000000000"

/* The TLM frame from Google's Eddystone validator tests (google/eddystone,
 * TlmValidatorTest.java): 5000 mV, 21.0 C, 1 PDU, 1 s, wrapped in the
 * advertisement layout of the Eddystone-TLM specification. */
#define TLM_VALIDATOR "0201060303aafe1116aafe2000" "1388" "1500" "00000001" "00000001"

/* Built from the Eddystone-UID specification: 20-byte frame with RFU. */
#define UID_SPEC "0201060303aafe1716aafe00ec" "0102030405060708090a" "0b0c0d0e0f10" "0000"

/* Built from the Eddystone-eTLM specification (synthetic contents). */
#define ETLM_SPEC "0201060303aafe1516aafe2001" "a1a2a3a4a5a6a7a8a9aaabac" "1234" "beef"

/* Built from the Eddystone-EID specification, carrying the EID of the
 * RadiusNetworks/ephemeral_calc vector (see test_eddystone_eid.c). */
#define EID_SPEC "0201060303aafe0d16aafe30e8" "a9b76a71c5f89290"

/* Every vector above, for the round trips and the mutations. */
static const char *const vectors[] = {
	IBEACON_AIRLOCATE, IBEACON_EPSON, ALTBEACON_RADIUS, ALTBEACON_BLUKII,
	URL_MAKECODE, UID_MICROBIT, URL_RADBEACON, TLM_VALIDATOR, UID_SPEC,
	ETLM_SPEC, EID_SPEC,
};

/* ------------------------------------------------------------ helpers */

/* Decode hex into a heap buffer of exactly the right size, so that
 * AddressSanitizer reports any read past the end. */
static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		b[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	*len = n;
	return b;
}

/* Decode a hex payload; returns the number of frames, first in *f. */
static size_t decode_hex(const char *hex, struct bf_frame *f, size_t max)
{
	size_t len, n;
	uint8_t *b = unhex(hex, &len);

	n = bf_decode(b, len, f, max);
	free(b);
	return n;
}

static void assert_one(const char *hex, enum bf_type type, struct bf_frame *f)
{
	assert_int_equal(decode_hex(hex, f, 1), 1);
	assert_int_equal(f->type, type);
}

static void assert_none(const char *hex)
{
	struct bf_frame f[2];

	assert_int_equal(decode_hex(hex, f, 2), 0);
}

static void assert_round_trip(const struct bf_frame *f)
{
	uint8_t buf[BF_LEGACY_ADV_MAX];
	struct bf_frame back[2];
	size_t n = bf_encode(f, buf, sizeof(buf));

	assert_true(n > 0 && n <= BF_LEGACY_ADV_MAX);
	assert_int_equal(bf_decode(buf, n, back, 2), 1);
	assert_true(bf_frame_equal(f, &back[0]));
}

/* ------------------------------------------------------------ AD */

static void test_ad_iteration(void **state)
{
	size_t len, off = 0;
	uint8_t *b = unhex("020106" "03ffaabb" "0109", &len);
	struct bf_ad ad;

	(void)state;
	assert_true(bf_ad_next(b, len, &off, &ad));
	assert_int_equal(ad.type, BF_AD_FLAGS);
	assert_int_equal(ad.len, 1);
	assert_int_equal(ad.value[0], 0x06);
	assert_true(bf_ad_next(b, len, &off, &ad));
	assert_int_equal(ad.type, 0xff);
	assert_int_equal(ad.len, 2);
	/* a structure with a type and no value is well formed */
	assert_true(bf_ad_next(b, len, &off, &ad));
	assert_int_equal(ad.type, 0x09);
	assert_int_equal(ad.len, 0);
	assert_false(bf_ad_next(b, len, &off, &ad));
	assert_int_equal(off, len);
	free(b);

	off = 0;
	assert_false(bf_ad_next(NULL, 0, &off, &ad));
	assert_false(bf_ad_next((const uint8_t *)"", 0, &off, &ad));
}

/* Core spec Vol 3 Part C 11: a length of 0 terminates the data early. */
static void test_ad_zero_length_ends_data(void **state)
{
	size_t len, off = 0;
	uint8_t *b = unhex("020106" "00" "1aff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5",
			   &len);
	struct bf_ad ad;

	(void)state;
	assert_true(bf_ad_next(b, len, &off, &ad));
	assert_false(bf_ad_next(b, len, &off, &ad));
	assert_int_equal(off, len);
	/* the iBeacon after the terminator is padding, not a beacon */
	assert_int_equal(bf_decode(b, len, NULL, 0), 0);
	free(b);

	/* zero padding after a beacon (Epson, blukii) is harmless */
	struct bf_frame f;

	assert_one(IBEACON_EPSON, BF_IBEACON, &f);
	assert_one(ALTBEACON_BLUKII, BF_ALTBEACON, &f);
}

/* A length running past the end stops iteration; what came before stays. */
static void test_ad_overrun_keeps_earlier(void **state)
{
	struct bf_frame f;
	size_t len, off = 0;
	uint8_t *b = unhex("020106" "05ff4c00", &len);
	struct bf_ad ad;

	(void)state;
	assert_true(bf_ad_next(b, len, &off, &ad));
	assert_false(bf_ad_next(b, len, &off, &ad));
	assert_int_equal(off, len);
	/* calling again after the end stays at the end */
	assert_false(bf_ad_next(b, len, &off, &ad));
	free(b);

	/* a stray trailing byte after the last structure must not hide it */
	assert_one(IBEACON_AIRLOCATE "05", BF_IBEACON, &f);
	assert_one(IBEACON_AIRLOCATE "ff", BF_IBEACON, &f);
	assert_one(UID_MICROBIT "1b", BF_EDDYSTONE_UID, &f);
	/* but a beacon whose own length overruns is not a beacon */
	assert_none("0201061bff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5");
}

/* ------------------------------------------------------------ iBeacon */

static void test_ibeacon_airlocate(void **state)
{
	static const uint8_t uuid[16] = { 0xe2, 0xc5, 0x6d, 0xb5, 0xdf, 0xfb, 0x48, 0xd2,
					  0xb0, 0x60, 0xd0, 0xf5, 0xa7, 0x10, 0x96, 0xe0 };
	struct bf_frame f;

	(void)state;
	assert_one(IBEACON_AIRLOCATE, BF_IBEACON, &f);
	assert_memory_equal(f.u.ibeacon.uuid, uuid, 16);
	assert_int_equal(f.u.ibeacon.major, 0);
	assert_int_equal(f.u.ibeacon.minor, 0);
	assert_int_equal(f.u.ibeacon.measured_power, -59);
}

static void test_ibeacon_epson(void **state)
{
	struct bf_frame f;

	(void)state;
	assert_one(IBEACON_EPSON, BF_IBEACON, &f);
	assert_int_equal(f.u.ibeacon.uuid[0], 0xfa);
	assert_int_equal(f.u.ibeacon.uuid[15], 0x69);
	/* major and minor are big-endian */
	assert_int_equal(f.u.ibeacon.major, 0x0011);
	assert_int_equal(f.u.ibeacon.minor, 0x0064);
	assert_int_equal(f.u.ibeacon.measured_power, -67);
}

static void test_ibeacon_signed_power(void **state)
{
	struct bf_frame f;

	(void)state;
	assert_one("1aff4c000215e2c56db5dffb48d2b060d0f5a71096e0ffff000180", BF_IBEACON, &f);
	assert_int_equal(f.u.ibeacon.measured_power, -128);
	assert_int_equal(f.u.ibeacon.major, 0xffff);
	assert_int_equal(f.u.ibeacon.minor, 1);
	assert_one("1aff4c000215e2c56db5dffb48d2b060d0f5a71096e0000000007f", BF_IBEACON, &f);
	assert_int_equal(f.u.ibeacon.measured_power, 127);
}

static void test_ibeacon_apple_not_ibeacon(void **state)
{
	(void)state;
	/* Apple Nearby Info (TLV type 0x10): Apple, but not iBeacon */
	assert_none("02011a" "07ff4c0010020100");
	/* type 0x02 with a length other than 0x15 */
	assert_none("1aff4c000214e2c56db5dffb48d2b060d0f5a71096e000000000c5");
	/* type other than 0x02 with length 0x15 */
	assert_none("1aff4c000315e2c56db5dffb48d2b060d0f5a71096e000000000c5");
	/* the right header, one byte short */
	assert_none("19ff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000");
	/* another company with the iBeacon header */
	assert_none("1aff4d000215e2c56db5dffb48d2b060d0f5a71096e000000000c5");
}

/* Decided: a longer Apple AD is still iBeacon. Apple manufacturer data is
 * a sequence of type-length-value items; what follows the 21-byte iBeacon
 * item is another item. */
static void test_ibeacon_longer_accepted(void **state)
{
	struct bf_frame f;

	(void)state;
	assert_one("1dff4c000215e2c56db5dffb48d2b060d0f5a71096e000070008c5" "100100",
		   BF_IBEACON, &f);
	assert_int_equal(f.u.ibeacon.major, 7);
	assert_int_equal(f.u.ibeacon.minor, 8);
	assert_int_equal(f.u.ibeacon.measured_power, -59);
}

/* ------------------------------------------------------------ AltBeacon */

static void test_altbeacon_radius(void **state)
{
	static const uint8_t id[20] = { 0x2f, 0x23, 0x44, 0x54, 0xcf, 0x6d, 0x4a,
					0x0f, 0xad, 0xf2, 0xf4, 0x91, 0x1b, 0xa9,
					0xff, 0xa6, 0x00, 0x01, 0x00, 0x02 };
	struct bf_frame f;

	(void)state;
	assert_one(ALTBEACON_RADIUS, BF_ALTBEACON, &f);
	assert_int_equal(f.u.altbeacon.company_id, 0x0118);
	assert_memory_equal(f.u.altbeacon.beacon_id, id, 20);
	assert_int_equal(f.u.altbeacon.ref_rssi, -59);
	assert_int_equal(f.u.altbeacon.mfg_reserved, 9);
}

static void test_altbeacon_blukii(void **state)
{
	struct bf_frame f;

	(void)state;
	assert_one(ALTBEACON_BLUKII, BF_ALTBEACON, &f);
	assert_int_equal(f.u.altbeacon.company_id, 0x00e0);
	assert_memory_equal(f.u.altbeacon.beacon_id, "www.bluki.com\0\1\0\1\0\1\xab", 20);
	assert_int_equal(f.u.altbeacon.ref_rssi, -86);
	assert_int_equal(f.u.altbeacon.mfg_reserved, 0);
}

static void test_altbeacon_rejects(void **state)
{
	struct bf_frame f;

	(void)state;
	/* beacon code other than 0xBEAC, including the byte-swapped one */
	assert_none("1bff1801bead2f234454cf6d4a0fadf2f4911ba9ffa600010002c509");
	assert_none("1bff1801acbe2f234454cf6d4a0fadf2f4911ba9ffa600010002c509");
	/* one byte short and one byte long (the spec fixes AD length 0x1B) */
	assert_none("1aff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c5");
	assert_none("1cff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c50900");
	/* any company id, Apple's included, with 0xBEAC is AltBeacon */
	assert_one("1bff4c00beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c509", BF_ALTBEACON, &f);
	assert_int_equal(f.u.altbeacon.company_id, BF_COMPANY_APPLE);
}

/* ------------------------------------------------------------ Eddystone */

static void test_uid_without_rfu(void **state)
{
	static const uint8_t ns[10] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x63 };
	static const uint8_t inst[6] = { 0, 0, 0, 0, 0, 0x58 };
	struct bf_frame f;

	(void)state;
	assert_one(UID_MICROBIT, BF_EDDYSTONE_UID, &f);
	assert_int_equal(f.u.uid.tx_power, -10);
	assert_memory_equal(f.u.uid.namespace_id, ns, 10);
	assert_memory_equal(f.u.uid.instance, inst, 6);
	assert_false(f.u.uid.has_reserved);
}

static void test_uid_with_rfu(void **state)
{
	struct bf_frame f;

	(void)state;
	assert_one(UID_SPEC, BF_EDDYSTONE_UID, &f);
	assert_int_equal(f.u.uid.tx_power, -20);
	assert_int_equal(f.u.uid.namespace_id[0], 1);
	assert_int_equal(f.u.uid.namespace_id[9], 0x0a);
	assert_int_equal(f.u.uid.instance[0], 0x0b);
	assert_int_equal(f.u.uid.instance[5], 0x10);
	assert_true(f.u.uid.has_reserved);
	/* 19 bytes (half an RFU) and 21 bytes are not UID frames */
	assert_none("1616aafe00ec0102030405060708090a0b0c0d0e0f1000");
	assert_none("1816aafe00ec0102030405060708090a0b0c0d0e0f10000000");
}

static void test_url_real_devices(void **state)
{
	struct bf_frame f;
	struct bf_frame two[2];

	(void)state;
	assert_one(URL_MAKECODE, BF_EDDYSTONE_URL, &f);
	assert_string_equal(f.u.url.url, "https://makecode.com/#about");
	assert_int_equal(f.u.url.tx_power, -10);
	/* the local name after the frame is not a beacon; padding ends it */
	assert_int_equal(decode_hex(URL_RADBEACON, two, 2), 1);
	assert_int_equal(two[0].type, BF_EDDYSTONE_URL);
	assert_string_equal(two[0].u.url.url, "http://google.com/");
	assert_int_equal(two[0].u.url.tx_power, -25);
}

static void test_url_decode_tables(void **state)
{
	static const char *const schemes[] = { "http://www.", "https://www.", "http://",
					       "https://" };
	static const char *const exp[] = { ".com/", ".org/", ".edu/", ".net/", ".info/",
					   ".biz/", ".gov/", ".com",  ".org",  ".edu",
					   ".net",  ".info", ".biz",  ".gov" };
	char out[BF_URL_MAX + 1], want[64];

	(void)state;
	for (uint8_t s = 0; s < 4; s++) {
		for (uint8_t e = 0; e < 14; e++) {
			const uint8_t enc[] = { s, 'a', e, 'z' };

			assert_true(bf_url_decode(enc, sizeof(enc), out, sizeof(out)));
			strcpy(want, schemes[s]);
			strcat(want, "a");
			strcat(want, exp[e]);
			strcat(want, "z");
			assert_string_equal(out, want);
		}
	}
	/* only the scheme */
	assert_true(bf_url_decode((const uint8_t *)"\x03", 1, out, sizeof(out)));
	assert_string_equal(out, "https://");
}

static void test_url_decode_rejects(void **state)
{
	static const uint8_t bad[] = { 0x0e, 0x1f, 0x20, 0x7f, 0x80, 0xff };
	char out[BF_URL_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		const uint8_t enc[] = { 0x00, 'a', bad[i] };

		assert_false(bf_url_decode(enc, sizeof(enc), out, sizeof(out)));
	}
	/* the printable edges are literals */
	assert_true(bf_url_decode((const uint8_t *)"\x02!~", 3, out, sizeof(out)));
	assert_string_equal(out, "http://!~");
	/* unknown scheme, empty input, output too small (NUL counted) */
	assert_false(bf_url_decode((const uint8_t *)"\x04" "a", 2, out, sizeof(out)));
	assert_false(bf_url_decode((const uint8_t *)"", 0, out, sizeof(out)));
	assert_false(bf_url_decode((const uint8_t *)"\x02" "ab", 3, out, 9));
	assert_true(bf_url_decode((const uint8_t *)"\x02" "ab", 3, out, 10));
	assert_string_equal(out, "http://ab");
	/* a frame carrying an invalid byte or an unknown scheme is not a beacon */
	assert_none("0916aafe10f6037a20");
	assert_none("0916aafe10f6047a7a");
	/* more than 17 body bytes is over the specification's limit */
	assert_none("1816aafe10f603" "6162636465666768696a6b6c6d6e6f707172");
}

static void test_url_encode(void **state)
{
	/* A URL and its encoding, n bytes long. */
	static const struct {
		const char *url;
		const char *enc;
		size_t n;
	} cases[] = {
		/* longest scheme and longest expansion win */
		{ "https://www.example.com/", "\x01" "example" "\x00", 9 },
		{ "http://x.org", "\x02" "x" "\x08", 3 },
		{ "https://makecode.com/#about", "\x03" "makecode" "\x00" "#about", 16 },
		/* expansions in the middle of the body too */
		{ "http://www.a.info/b.gov", "\x00" "a" "\x04" "b" "\x0d", 5 },
		/* the longer scheme is not always the shorter encoding */
		{ "http://www.info/", "\x02" "www" "\x04", 5 },
		/* on a tie the scheme table order decides */
		{ "http://www.com/", "\x00" "com/", 5 },
	};
	uint8_t out[32];
	size_t n;

	(void)state;
	for (size_t i = 0; i < BGW_ARRAY_SIZE(cases); i++) {
		n = bf_url_encode(cases[i].url, out, sizeof(out));
		assert_int_equal(n, cases[i].n);
		assert_memory_equal(out, cases[i].enc, cases[i].n);
	}
	/* exactly 17 body bytes fit, 18 do not */
	assert_int_equal(bf_url_encode("http://abcdefghijklmnopq", out, sizeof(out)), 18);
	assert_int_equal(bf_url_encode("http://abcdefghijklmnopqr", out, sizeof(out)), 0);
	/* unsupported scheme, bad characters */
	assert_int_equal(bf_url_encode("ftp://example.com", out, sizeof(out)), 0);
	assert_int_equal(bf_url_encode("HTTP://example.com", out, sizeof(out)), 0);
	assert_int_equal(bf_url_encode("http://a b", out, sizeof(out)), 0);
	assert_int_equal(bf_url_encode("http://caf\xc3\xa9", out, sizeof(out)), 0);
	/* the caller's capacity counts */
	assert_int_equal(bf_url_encode("http://abc", out, 3), 0);
	assert_int_equal(bf_url_encode("http://abc", out, 4), 4);
}

static void test_tlm(void **state)
{
	struct bf_frame f;

	(void)state;
	assert_one(TLM_VALIDATOR, BF_EDDYSTONE_TLM, &f);
	assert_int_equal(f.u.tlm.battery_mv, 5000);
	assert_int_equal(f.u.tlm.temp_8_8, 21 * 256);
	assert_int_equal(f.u.tlm.adv_count, 1);
	assert_int_equal(f.u.tlm.uptime_ds, 1);
	/* big-endian counters, temperature not supported, -1.5 C */
	assert_one("1116aafe2000" "0000" "8000" "01020304" "a0b0c0d0", BF_EDDYSTONE_TLM, &f);
	assert_int_equal(f.u.tlm.battery_mv, 0);
	assert_int_equal(f.u.tlm.temp_8_8, BF_TLM_TEMP_UNSUPPORTED);
	assert_int_equal(f.u.tlm.adv_count, 0x01020304);
	assert_int_equal(f.u.tlm.uptime_ds, 0xa0b0c0d0u);
	assert_one("1116aafe2000" "0bb8" "fe80" "00000000" "00000000", BF_EDDYSTONE_TLM, &f);
	assert_int_equal(f.u.tlm.temp_8_8, -384);
	/* wrong length for version 0, unknown version */
	assert_none("1216aafe2000" "0bb8" "1500" "00000001" "00000001" "00");
	assert_none("1116aafe2002" "0bb8" "1500" "00000001" "00000001");
}

static void test_etlm(void **state)
{
	static const uint8_t etlm[12] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
					  0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac };
	struct bf_frame f;

	(void)state;
	assert_one(ETLM_SPEC, BF_EDDYSTONE_ETLM, &f);
	assert_memory_equal(f.u.etlm.etlm, etlm, 12);
	assert_int_equal(f.u.etlm.salt, 0x1234);
	assert_int_equal(f.u.etlm.mic, 0xbeef);
	/* version 1 with the plain TLM length is not eTLM (nor TLM) */
	assert_none("1116aafe2001" "0bb8" "1500" "00000001" "00000001");
}

static void test_eid_frame(void **state)
{
	static const uint8_t eid[8] = { 0xa9, 0xb7, 0x6a, 0x71, 0xc5, 0xf8, 0x92, 0x90 };
	struct bf_frame f;

	(void)state;
	assert_one(EID_SPEC, BF_EDDYSTONE_EID, &f);
	assert_int_equal(f.u.eid.tx_power, -24);
	assert_memory_equal(f.u.eid.eid, eid, 8);
	assert_none("0c16aafe30e8a9b76a71c5f892");
	assert_none("0e16aafe30e8a9b76a71c5f8929000");
}

static void test_eddystone_service_data(void **state)
{
	struct bf_frame f;

	(void)state;
	/* the FEAA UUID list (0x03) is not required to decode */
	assert_one("1516aafe10f603" "6d616b65636f6465" "00" "2361626f7574", BF_EDDYSTONE_URL, &f);
	/* other 16-bit services, other AD types, unknown frame types */
	assert_none("0201060303aafe1516abfe10f6036d616b65636f6465002361626f7574");
	assert_none("1515aafe10f6036d616b65636f6465002361626f7574");
	assert_none("0416aafe40");
	assert_none("0316aafe");
	assert_none("0216aa");
}

/* Several beacons in one (extended) payload are all returned; the count
 * is the total even when only the first max are written. */
static void test_multiple_frames(void **state)
{
	const char *hex = "020106" "0303aafe"
			  "1716aafe00ec0102030405060708090a0b0c0d0e0f100000"
			  "1116aafe200013881500000000010000000a"
			  "1aff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5";
	struct bf_frame f[4];

	(void)state;
	memset(f, 0, sizeof(f));
	assert_int_equal(decode_hex(hex, f, 4), 3);
	assert_int_equal(f[0].type, BF_EDDYSTONE_UID);
	assert_int_equal(f[1].type, BF_EDDYSTONE_TLM);
	assert_int_equal(f[1].u.tlm.uptime_ds, 10);
	assert_int_equal(f[2].type, BF_IBEACON);
	assert_int_equal(f[3].type, BF_NONE);

	memset(f, 0, sizeof(f));
	assert_int_equal(decode_hex(hex, f, 2), 3);
	assert_int_equal(f[1].type, BF_EDDYSTONE_TLM);
	assert_int_equal(f[2].type, BF_NONE);
	assert_int_equal(decode_hex(hex, NULL, 0), 3);
}

/* ------------------------------------------------------------ encode */

static void test_encode_exact_bytes(void **state)
{
	/* Each vector encodes back to its own bytes from byte 'from' on. The
	 * iBeacon and AltBeacon captures carry another Flags AD than ours
	 * (0x1a, not 0x06), so they compare after it; flags: ours, where checked. */
	static const struct {
		const char *hex;
		enum bf_type type;
		const char *flags;
		size_t from;
	} cases[] = {
		{ ALTBEACON_RADIUS, BF_ALTBEACON, "\x02\x01\x06", 3 },
		{ IBEACON_AIRLOCATE, BF_IBEACON, NULL, 3 },
		/* Eddystone: Flags, the FEAA UUID list, then the service data */
		{ URL_MAKECODE, BF_EDDYSTONE_URL, NULL, 0 },
		{ TLM_VALIDATOR, BF_EDDYSTONE_TLM, NULL, 0 },
	};
	uint8_t buf[BF_LEGACY_ADV_MAX], *ref;
	struct bf_frame f;
	size_t n, len;

	(void)state;
	for (size_t i = 0; i < BGW_ARRAY_SIZE(cases); i++) {
		assert_one(cases[i].hex, cases[i].type, &f);
		n = bf_encode(&f, buf, sizeof(buf));
		ref = unhex(cases[i].hex, &len);
		assert_int_equal(n, len);
		if (cases[i].flags)
			assert_memory_equal(buf, cases[i].flags, 3);
		assert_memory_equal(buf + cases[i].from, ref + cases[i].from, len - cases[i].from);
		free(ref);
	}

	/* a full UID frame is exactly 31 bytes */
	assert_one(UID_SPEC, BF_EDDYSTONE_UID, &f);
	assert_int_equal(bf_encode(&f, buf, sizeof(buf)), BF_LEGACY_ADV_MAX);
}

static void test_encode_round_trip_all(void **state)
{
	struct bf_frame f;

	(void)state;
	for (size_t i = 0; i < BGW_ARRAY_SIZE(vectors); i++) {
		assert_int_equal(decode_hex(vectors[i], &f, 1), 1);
		assert_round_trip(&f);
	}
	/* a URL frame built by hand, longest URL that fits */
	memset(&f, 0, sizeof(f));
	f.type = BF_EDDYSTONE_URL;
	f.u.url.tx_power = -4;
	strcpy(f.u.url.url, "https://www.");
	for (int i = 0; i < 17; i++)
		strcat(f.u.url.url, ".info/");
	assert_round_trip(&f);
}

static void test_encode_rejects(void **state)
{
	uint8_t buf[BF_LEGACY_ADV_MAX];
	struct bf_frame f;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(bf_encode(&f, buf, sizeof(buf)), 0);
	f.type = (enum bf_type)99;
	assert_int_equal(bf_encode(&f, buf, sizeof(buf)), 0);

	f.type = BF_EDDYSTONE_URL;
	strcpy(f.u.url.url, "gopher://example.com");
	assert_int_equal(bf_encode(&f, buf, sizeof(buf)), 0);
	strcpy(f.u.url.url, "http://this-is-far-too-long-for-eddystone.com");
	assert_int_equal(bf_encode(&f, buf, sizeof(buf)), 0);
	memset(f.u.url.url, 'a', sizeof(f.u.url.url)); /* not NUL-terminated */
	assert_int_equal(bf_encode(&f, buf, sizeof(buf)), 0);

	/* too small a buffer: 0, and the buffer is left alone */
	assert_int_equal(decode_hex(ALTBEACON_RADIUS, &f, 1), 1);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(bf_encode(&f, buf, 30), 0);
	assert_int_equal(buf[0], 0xee);
	assert_int_equal(bf_encode(&f, buf, 31), 31);
	assert_int_equal(bf_encode(NULL, buf, 31), 0);
	assert_int_equal(bf_encode(&f, NULL, 31), 0);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(bf_type_name(BF_IBEACON), "ibeacon");
	assert_string_equal(bf_type_name(BF_ALTBEACON), "altbeacon");
	assert_string_equal(bf_type_name(BF_EDDYSTONE_UID), "eddystone-uid");
	assert_string_equal(bf_type_name(BF_EDDYSTONE_URL), "eddystone-url");
	assert_string_equal(bf_type_name(BF_EDDYSTONE_TLM), "eddystone-tlm");
	assert_string_equal(bf_type_name(BF_EDDYSTONE_ETLM), "eddystone-etlm");
	assert_string_equal(bf_type_name(BF_EDDYSTONE_EID), "eddystone-eid");
	assert_string_equal(bf_type_name(BF_NONE), "none");
	assert_string_equal(bf_type_name((enum bf_type)42), "none");
}

/* Every truncation and every single-byte change of every vector decodes
 * without reading outside the buffer (exact-size heap copies, so ASan
 * sees any over-read), and whatever decodes survives a round trip. */
static void test_mutations_are_safe(void **state)
{
	static const uint8_t values[] = { 0x00, 0x01, 0x02, 0x0d, 0x0e, 0x15, 0x16, 0x1a,
					  0x1b, 0x20, 0x30, 0x7f, 0x80, 0xaa, 0xfe, 0xff };
	struct bf_frame f[4];

	(void)state;
	for (size_t v = 0; v < BGW_ARRAY_SIZE(vectors); v++) {
		size_t len;
		uint8_t *ref = unhex(vectors[v], &len);

		for (size_t cut = 0; cut <= len; cut++) {
			uint8_t *b = malloc(cut ? cut : 1);

			memcpy(b, ref, cut);
			size_t n = bf_decode(b, cut, f, 4);

			for (size_t i = 0; i < n && i < 4; i++)
				assert_round_trip(&f[i]);
			for (size_t pos = 0; pos < cut; pos++) {
				for (size_t k = 0; k < sizeof(values); k++) {
					uint8_t old = b[pos];

					b[pos] = values[k];
					n = bf_decode(b, cut, f, 4);
					for (size_t i = 0; i < n && i < 4; i++)
						assert_round_trip(&f[i]);
					b[pos] = old;
				}
			}
			free(b);
		}
		free(ref);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ad_iteration),
		cmocka_unit_test(test_ad_zero_length_ends_data),
		cmocka_unit_test(test_ad_overrun_keeps_earlier),
		cmocka_unit_test(test_ibeacon_airlocate),
		cmocka_unit_test(test_ibeacon_epson),
		cmocka_unit_test(test_ibeacon_signed_power),
		cmocka_unit_test(test_ibeacon_apple_not_ibeacon),
		cmocka_unit_test(test_ibeacon_longer_accepted),
		cmocka_unit_test(test_altbeacon_radius),
		cmocka_unit_test(test_altbeacon_blukii),
		cmocka_unit_test(test_altbeacon_rejects),
		cmocka_unit_test(test_uid_without_rfu),
		cmocka_unit_test(test_uid_with_rfu),
		cmocka_unit_test(test_url_real_devices),
		cmocka_unit_test(test_url_decode_tables),
		cmocka_unit_test(test_url_decode_rejects),
		cmocka_unit_test(test_url_encode),
		cmocka_unit_test(test_tlm),
		cmocka_unit_test(test_etlm),
		cmocka_unit_test(test_eid_frame),
		cmocka_unit_test(test_eddystone_service_data),
		cmocka_unit_test(test_multiple_frames),
		cmocka_unit_test(test_encode_exact_bytes),
		cmocka_unit_test(test_encode_round_trip_all),
		cmocka_unit_test(test_encode_rejects),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_mutations_are_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
