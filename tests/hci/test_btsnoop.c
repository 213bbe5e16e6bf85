/*
 * test_btsnoop.c - btsnoop write/read round trips for both datalinks (file
 * and memory readers) and the reader's validation of damaged files.
 * A long capture checks the file reader's blocks: records cut by a block's
 * end, the largest records, a pipe, and a file cut inside its last record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "btsnoop.h"
#include "h4.h"
#include "bgw_util.h"

static const uint8_t cmd_reset[] = { 0x03, 0x0c, 0x00 };
static const uint8_t evt_cc[] = { 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00 };
static const uint8_t acl_rx[] = { 0x40, 0x20, 0x02, 0x00, 0xaa, 0xbb };
static const uint8_t acl_tx[] = { 0x40, 0x00, 0x01, 0x00, 0xcc };
static const uint8_t sco[] = { 0x01, 0x00, 0x01, 0x77 };
static const uint8_t iso[] = { 0x01, 0x00, 0x01, 0x00, 0x55 };

static const struct btsnoop_record recs[] = {
	{ .ts_us = 1772359200000000ULL, .h4_type = H4_CMD, .data = cmd_reset, .len = 3 },
	{ .ts_us = 1772359200000001ULL, .h4_type = H4_EVENT, .received = true, .data = evt_cc,
	  .len = 6 },
	{ .ts_us = 1772359200500000ULL, .h4_type = H4_ACL, .received = true, .data = acl_rx,
	  .len = 6 },
	{ .ts_us = 1772359201000000ULL, .h4_type = H4_ACL, .received = false, .data = acl_tx,
	  .len = 5 },
	{ .ts_us = 1772359202000000ULL, .h4_type = H4_SCO, .received = true, .data = sco,
	  .len = 4 },
	{ .ts_us = 1772359203000000ULL, .h4_type = H4_ISO, .received = false, .data = iso,
	  .len = 5 },
	{ .ts_us = 0, .h4_type = H4_EVENT, .received = true, .data = evt_cc, .len = 0 },
};
#define NRECS (BGW_ARRAY_SIZE(recs))

/* Write recs to memory; returns the buffer (caller frees). */
static uint8_t *write_all(uint32_t datalink, size_t *len, bool with_index)
{
	struct btsnoop_writer w;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	const uint8_t addr[6] = { 1, 2, 3, 4, 5, 6 };

	assert_non_null(f);
	assert_int_equal(btsnoop_writer_open(&w, f, datalink), 0);
	if (with_index) {
		assert_int_equal(btsnoop_writer_new_index(&w, 5, 0, addr, "hci0"), 0);
		assert_int_equal(btsnoop_writer_write_monitor(&w, 6, 0, BTSNOOP_MON_SYSTEM_NOTE,
							      (const uint8_t *)"note", 5), 0);
	}
	for (size_t i = 0; i < NRECS; i++) {
		struct btsnoop_record r = recs[i];

		r.index = datalink == BTSNOOP_DATALINK_MONITOR ? (uint16_t)(i % 2) : 0;
		assert_int_equal(btsnoop_writer_write(&w, &r), 0);
	}
	assert_int_equal(fclose(f), 0);
	return (uint8_t *)buf;
}

static void check_all(struct btsnoop_reader *rd, uint32_t datalink)
{
	struct btsnoop_record r;

	assert_int_equal(rd->datalink, datalink);
	for (size_t i = 0; i < NRECS; i++) {
		assert_int_equal(btsnoop_reader_next(rd, &r), 1);
		assert_int_equal(r.ts_us, recs[i].ts_us);
		assert_int_equal(r.h4_type, recs[i].h4_type);
		assert_int_equal(r.received, recs[i].received);
		assert_int_equal(r.len, recs[i].len);
		if (r.len)
			assert_memory_equal(r.data, recs[i].data, r.len);
		assert_false(r.truncated);
		if (datalink == BTSNOOP_DATALINK_MONITOR)
			assert_int_equal(r.index, i % 2);
	}
	assert_int_equal(btsnoop_reader_next(rd, &r), 0);
	assert_int_equal(btsnoop_reader_next(rd, &r), 0);
}

static void round_trip(uint32_t datalink, bool with_index)
{
	static struct btsnoop_reader rd;
	size_t len;
	uint8_t *buf = write_all(datalink, &len, with_index);
	FILE *f;

	assert_int_equal(btsnoop_reader_open_mem(&rd, buf, len), 0);
	check_all(&rd, datalink);
	assert_int_equal(rd.skipped, with_index ? 2 : 0);

	f = fmemopen(buf, len, "rb");
	assert_non_null(f);
	assert_int_equal(btsnoop_reader_open_file(&rd, f), 0);
	check_all(&rd, datalink);
	fclose(f);
	free(buf);
}

static void test_round_trip_h4(void **state)
{
	(void)state;
	round_trip(BTSNOOP_DATALINK_H4, false);
}

static void test_round_trip_monitor(void **state)
{
	(void)state;
	round_trip(BTSNOOP_DATALINK_MONITOR, true);
}

static void test_wire_format(void **state)
{
	size_t len;
	uint8_t *buf = write_all(BTSNOOP_DATALINK_H4, &len, false);
	/* First record: Reset command, sent, command flag. */
	const uint8_t want[] = {
		'b', 't', 's', 'n', 'o', 'o', 'p', 0, 0, 0, 0, 1, 0, 0, 0x03, 0xea,
		0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 0,
	};
	uint64_t ts = 0;

	(void)state;
	assert_memory_equal(buf, want, sizeof(want));
	for (int i = 0; i < 8; i++)
		ts = ts << 8 | buf[32 + i];
	assert_int_equal(ts, recs[0].ts_us + BTSNOOP_EPOCH_DELTA_US);
	assert_int_equal(buf[40], 0x01);
	/* Second record's flags: received event = 3. */
	assert_int_equal(buf[16 + 24 + 4 + 11], 3);
	free(buf);
}

static int open_err(const uint8_t *buf, size_t len, const char **msg)
{
	static struct btsnoop_reader rd;
	struct btsnoop_record r;
	int rc = btsnoop_reader_open_mem(&rd, buf, len);

	while (rc == 0) {
		rc = btsnoop_reader_next(&rd, &r);
		if (rc == 1)
			rc = 0;
		else if (rc == 0)
			break;
	}
	*msg = btsnoop_reader_message(&rd);
	if (rc < 0) {
		/* Errors are final. */
		assert_int_equal(btsnoop_reader_next(&rd, &r), rc);
		assert_true(strlen(*msg) > 0);
	}
	return rc;
}

static void test_damaged_files(void **state)
{
	size_t len;
	uint8_t *buf = write_all(BTSNOOP_DATALINK_H4, &len, false);
	uint8_t *copy = malloc(len);
	const char *msg;

	(void)state;
	assert_int_equal(open_err(buf, len, &msg), 0);
	assert_int_equal(open_err(buf, 0, &msg), BTSNOOP_E_TRUNCATED);
	assert_int_equal(open_err(NULL, 0, &msg), BTSNOOP_E_TRUNCATED);
	assert_int_equal(open_err(buf, 10, &msg), BTSNOOP_E_TRUNCATED);
	assert_int_equal(open_err((const uint8_t *)"hello", 5, &msg), BTSNOOP_E_MAGIC);
	/* Every cut inside a record is an error; cuts between records are not. */
	for (size_t cut = 16; cut < len; cut++) {
		int rc = open_err(buf, cut, &msg);

		assert_true(rc == 0 || rc == BTSNOOP_E_TRUNCATED);
	}
	assert_int_equal(open_err(buf, 16 + 24 + 3, &msg), BTSNOOP_E_TRUNCATED);
	assert_non_null(strstr(msg, "record 1"));
	assert_int_equal(open_err(buf, 16 + 24 + 4, &msg), 0);

	memcpy(copy, buf, len);
	copy[0] = 'B';
	assert_int_equal(open_err(copy, len, &msg), BTSNOOP_E_MAGIC);
	memcpy(copy, buf, len);
	copy[11] = 2;
	assert_int_equal(open_err(copy, len, &msg), BTSNOOP_E_VERSION);
	memcpy(copy, buf, len);
	copy[15] = 0xe9; /* 1001: HCI without the type byte, not supported */
	assert_int_equal(open_err(copy, len, &msg), BTSNOOP_E_DATALINK);
	assert_non_null(strstr(msg, "1001"));
	/* Absurd included length. */
	memcpy(copy, buf, len);
	copy[16] = copy[20] = 0x7f;
	assert_int_equal(open_err(copy, len, &msg), BTSNOOP_E_LENGTH);
	/* Included longer than original. */
	memcpy(copy, buf, len);
	copy[19] = 3;
	assert_int_equal(open_err(copy, len, &msg), BTSNOOP_E_LENGTH);
	free(copy);
	free(buf);
}

static void test_skips_and_truncated_records(void **state)
{
	static struct btsnoop_reader rd;
	struct btsnoop_record r;
	size_t len;
	uint8_t *buf = write_all(BTSNOOP_DATALINK_H4, &len, false);

	(void)state;
	/* Unknown H4 type in the first record: skipped, counted. */
	buf[40] = 0x09;
	/* Second record: original length larger than included (snap length). */
	buf[16 + 24 + 4 + 3] = 0x20;
	assert_int_equal(btsnoop_reader_open_mem(&rd, buf, len), 0);
	assert_int_equal(btsnoop_reader_next(&rd, &r), 1);
	assert_int_equal(r.h4_type, H4_EVENT);
	assert_true(r.truncated);
	assert_int_equal(r.orig_len, 0x20);
	assert_int_equal(rd.skipped, 1);
	free(buf);
}

#define LONG_RECS 5000

/* Record i of the long capture: an ACL packet of a length that walks
 * across block ends, now and then the largest there is. */
static size_t long_len(size_t i)
{
	return i % 997 == 500 ? 4 + 65535 : 4 + (i * 37) % 301;
}

static void long_fill(uint8_t *p, size_t i, size_t len)
{
	bgw_put_le16(p, (uint16_t)(0x0040 | (i & 0x0f00)));
	bgw_put_le16(p + 2, (uint16_t)(len - 4));
	for (size_t k = 4; k < len; k++)
		p[k] = (uint8_t)(i * 7 + k);
}

static void long_check(FILE *f, size_t nrecs, int want_end)
{
	static struct btsnoop_reader rd;
	static uint8_t want[4 + 65535];
	struct btsnoop_record r;

	assert_int_equal(btsnoop_reader_open_file(&rd, f), 0);
	for (size_t i = 0; i < nrecs; i++) {
		size_t len = long_len(i);

		assert_int_equal(btsnoop_reader_next(&rd, &r), 1);
		assert_int_equal(r.h4_type, H4_ACL);
		assert_int_equal(r.ts_us, 1772359200000000ULL + i);
		assert_int_equal(r.len, len);
		long_fill(want, i, len);
		assert_memory_equal(r.data, want, len);
	}
	assert_int_equal(btsnoop_reader_next(&rd, &r), want_end);
}

static void test_long_file_and_pipe(void **state)
{
	static uint8_t pkt[4 + 65535];
	const char *tmp = getenv("TMPDIR");
	char path[512], cmd[600];
	struct btsnoop_writer w;
	FILE *f;
	long size;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/test_btsnoop-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w+b");
	assert_non_null(f);
	assert_int_equal(btsnoop_writer_open(&w, f, BTSNOOP_DATALINK_H4), 0);
	for (size_t i = 0; i < LONG_RECS; i++) {
		struct btsnoop_record r = { .ts_us = 1772359200000000ULL + i, .h4_type = H4_ACL,
					    .received = true, .data = pkt, .len = long_len(i) };

		long_fill(pkt, i, r.len);
		assert_int_equal(btsnoop_writer_write(&w, &r), 0);
	}
	assert_int_equal(fflush(f), 0);
	size = ftell(f);

	rewind(f);
	long_check(f, LONG_RECS, 0);
	fclose(f);

	snprintf(cmd, sizeof(cmd), "cat '%s'", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	long_check(f, LONG_RECS, 0);
	assert_int_equal(pclose(f), 0);

	/* Cut inside the last record: every whole record, then the error. */
	assert_int_equal(truncate(path, size - 1), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	long_check(f, LONG_RECS - 1, BTSNOOP_E_TRUNCATED);
	fclose(f);
	unlink(path);
}

static void test_writer_rejects(void **state)
{
	struct btsnoop_writer w;
	struct btsnoop_record r = { .h4_type = 0x09, .data = cmd_reset, .len = 3 };
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(btsnoop_writer_open(&w, f, 1001), BTSNOOP_E_DATALINK);
	assert_int_equal(btsnoop_writer_open(&w, f, BTSNOOP_DATALINK_H4), 0);
	assert_int_equal(btsnoop_writer_write(&w, &r), BTSNOOP_E_ARG);
	assert_int_equal(btsnoop_writer_write_monitor(&w, 0, 0, 12, NULL, 0), BTSNOOP_E_ARG);
	fclose(f);
	free(buf);
	assert_string_equal(btsnoop_strerror(BTSNOOP_E_MAGIC), "not a btsnoop file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_h4),
		cmocka_unit_test(test_round_trip_monitor),
		cmocka_unit_test(test_wire_format),
		cmocka_unit_test(test_damaged_files),
		cmocka_unit_test(test_skips_and_truncated_records),
		cmocka_unit_test(test_long_file_and_pipe),
		cmocka_unit_test(test_writer_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
