/*
 * test_h4.c - H4 stream decoder: framing, resynchronisation after garbage,
 * chunking independence, encoder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h4.h"

struct seen {
	size_t n;
	uint8_t type[64];
	size_t len[64];
	uint8_t bytes[64][H4_MAX_PACKET];
};

static void on_packet(void *ctx, uint8_t type, const uint8_t *pkt, size_t len)
{
	struct seen *s = ctx;

	assert_true(s->n < 64);
	s->type[s->n] = type;
	s->len[s->n] = len;
	memcpy(s->bytes[s->n], pkt, len);
	s->n++;
}

/* Reset, Command Complete for it, an LE Advertising Report, an ACL packet. */
static const uint8_t stream[] = {
	0x01, 0x03, 0x0c, 0x00,
	0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00,
	0x04, 0x3e, 0x0f, 0x02, 0x01, 0x03, 0x01, 0x11, 0x00, 0x00, 0xee, 0xff, 0xc0,
	0x03, 0x02, 0x01, 0x06, 0xc5,
	0x02, 0x40, 0x00, 0x03, 0x00, 0xaa, 0xbb, 0xcc,
};

static void test_frames_packets(void **state)
{
	static struct h4_decoder d;
	static struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	h4_decoder_init(&d, on_packet, &s);
	h4_decoder_feed(&d, stream, sizeof(stream));
	assert_int_equal(s.n, 4);
	assert_int_equal(s.type[0], H4_CMD);
	assert_int_equal(s.len[0], 3);
	assert_int_equal(s.type[1], H4_EVENT);
	assert_int_equal(s.len[1], 6);
	assert_int_equal(s.type[2], H4_EVENT);
	assert_int_equal(s.len[2], 17);
	assert_int_equal(s.bytes[2][0], 0x3e);
	assert_int_equal(s.type[3], H4_ACL);
	assert_int_equal(s.len[3], 7);
	assert_memory_equal(s.bytes[3], stream + sizeof(stream) - 7, 7);
	assert_int_equal(d.packets, 4);
	assert_int_equal(d.garbage_bytes, 0);
	assert_int_equal(h4_decoder_pending(&d), 0);
}

static void test_byte_by_byte_equals_bulk(void **state)
{
	static struct h4_decoder a, b;
	static struct seen sa, sb;
	uint8_t input[3 * sizeof(stream) + 8];
	size_t n = 0;

	(void)state;
	/* Garbage in front, between and after. */
	input[n++] = 0x00;
	input[n++] = 0xff;
	memcpy(input + n, stream, sizeof(stream));
	n += sizeof(stream);
	input[n++] = 0x99;
	memcpy(input + n, stream, sizeof(stream));
	n += sizeof(stream);
	input[n++] = 0x04; /* start of an event that never completes */
	input[n++] = 0x3e;

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	h4_decoder_init(&a, on_packet, &sa);
	h4_decoder_init(&b, on_packet, &sb);
	h4_decoder_feed(&a, input, n);
	for (size_t i = 0; i < n; i++)
		h4_decoder_feed(&b, input + i, 1);
	assert_int_equal(sa.n, 8);
	assert_int_equal(sa.n, sb.n);
	for (size_t i = 0; i < sa.n; i++) {
		assert_int_equal(sa.type[i], sb.type[i]);
		assert_int_equal(sa.len[i], sb.len[i]);
		assert_memory_equal(sa.bytes[i], sb.bytes[i], sa.len[i]);
	}
	assert_int_equal(a.garbage_bytes, 3);
	assert_int_equal(b.garbage_bytes, 3);
	assert_int_equal(h4_decoder_pending(&a), 2);
	assert_int_equal(h4_decoder_pending(&b), 2);
}

static void test_random_chunks_equal_bulk(void **state)
{
	static struct h4_decoder a, b;
	static struct seen sa, sb;
	uint8_t input[4 * sizeof(stream)];
	size_t n = 0, off = 0;

	(void)state;
	for (int i = 0; i < 4; i++, n += sizeof(stream))
		memcpy(input + n, stream, sizeof(stream));
	input[5] = 0x07; /* corrupt: the CC's event code becomes garbage-ish */
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	h4_decoder_init(&a, on_packet, &sa);
	h4_decoder_init(&b, on_packet, &sb);
	h4_decoder_feed(&a, input, n);
	srand(7);
	while (off < n) {
		size_t k = 1 + (size_t)rand() % 9;

		if (k > n - off)
			k = n - off;
		h4_decoder_feed(&b, input + off, k);
		off += k;
	}
	assert_int_equal(sa.n, sb.n);
	for (size_t i = 0; i < sa.n; i++) {
		assert_int_equal(sa.type[i], sb.type[i]);
		assert_int_equal(sa.len[i], sb.len[i]);
		assert_memory_equal(sa.bytes[i], sb.bytes[i], sa.len[i]);
	}
	assert_int_equal(a.garbage_bytes, b.garbage_bytes);
}

static void test_impossible_acl_length_is_garbage(void **state)
{
	static struct h4_decoder d;
	static struct seen s;
	/* An ACL header claiming 0xFFFF bytes, then a real Hardware Error:
	 * the type byte is garbage and the header bytes after it (none a
	 * packet type) too. */
	const uint8_t in[] = { 0x02, 0xff, 0x0f, 0xff, 0xff, 0x04, 0x10, 0x01, 0x2a };

	(void)state;
	memset(&s, 0, sizeof(s));
	h4_decoder_init(&d, on_packet, &s);
	h4_decoder_feed(&d, in, sizeof(in));
	assert_int_equal(s.n, 1);
	assert_int_equal(s.type[0], H4_EVENT);
	assert_int_equal(s.bytes[0][0], 0x10);
	assert_int_equal(s.bytes[0][2], 0x2a);
	assert_int_equal(d.garbage_bytes, 5);
	assert_int_equal(d.packets, 1);
}

static void test_iso_reserved_bits_are_garbage(void **state)
{
	uint8_t hdr[4] = { 0x01, 0x00, 0x10, 0xC0 };

	(void)state;
	assert_int_equal(h4_packet_len(H4_ISO, hdr), 0);
	hdr[3] = 0x00;
	assert_int_equal(h4_packet_len(H4_ISO, hdr), 4 + 16);
	hdr[2] = 0x01;
	hdr[3] = 0x04; /* 1025 > H4_MAX_DATA */
	assert_int_equal(h4_packet_len(H4_ISO, hdr), 0);
}

static void test_largest_packets_fit(void **state)
{
	static struct h4_decoder d;
	static struct seen s;
	static uint8_t in[1 + H4_MAX_PACKET + 1 + 257];

	(void)state;
	memset(in, 0x5a, sizeof(in));
	in[0] = H4_ACL;
	in[1] = 0x01;
	in[2] = 0x00;
	in[3] = H4_MAX_DATA & 0xff;
	in[4] = H4_MAX_DATA >> 8;
	in[1 + H4_MAX_PACKET] = H4_EVENT;
	in[2 + H4_MAX_PACKET] = 0x3e;
	in[3 + H4_MAX_PACKET] = 255;
	memset(&s, 0, sizeof(s));
	h4_decoder_init(&d, on_packet, &s);
	h4_decoder_feed(&d, in, sizeof(in));
	assert_int_equal(s.n, 2);
	assert_int_equal(s.len[0], H4_MAX_PACKET);
	assert_int_equal(s.len[1], 257);
	assert_int_equal(d.garbage_bytes, 0);
}

static void test_encode(void **state)
{
	const uint8_t pkt[] = { 0x03, 0x0c, 0x00 };
	uint8_t out[4];

	(void)state;
	assert_int_equal(h4_encode(H4_CMD, pkt, 3, out, sizeof(out)), 4);
	assert_int_equal(out[0], 0x01);
	assert_memory_equal(out + 1, pkt, 3);
	assert_int_equal(h4_encode(H4_CMD, pkt, 3, out, 3), 0);
	assert_int_equal(h4_encode(H4_CMD, pkt, 3, out, 0), 0);
	assert_int_equal(h4_header_len(0x06), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_packets),
		cmocka_unit_test(test_byte_by_byte_equals_bulk),
		cmocka_unit_test(test_random_chunks_equal_bulk),
		cmocka_unit_test(test_impossible_acl_length_is_garbage),
		cmocka_unit_test(test_iso_reserved_bits_are_garbage),
		cmocka_unit_test(test_largest_packets_fit),
		cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
