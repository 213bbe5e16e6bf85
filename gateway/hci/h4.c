/*
 * h4.c - H4 stream decoder and encoder (see h4.h).
 */
#include "h4.h"

#include <string.h>

void h4_decoder_init(struct h4_decoder *d, h4_packet_cb cb, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->cb = cb;
	d->ctx = ctx;
}

size_t h4_header_len(uint8_t type)
{
	switch (type) {
	case H4_CMD:   return 3; /* opcode(2) plen(1) */
	case H4_ACL:   return 4; /* handle+flags(2) dlen(2) */
	case H4_SCO:   return 3; /* handle+flags(2) dlen(1) */
	case H4_EVENT: return 2; /* code(1) plen(1) */
	case H4_ISO:   return 4; /* handle+flags(2) dlen(14 bits) */
	default:       return 0;
	}
}

size_t h4_packet_len(uint8_t type, const uint8_t *hdr)
{
	size_t dlen;

	switch (type) {
	case H4_CMD:
		return 3 + (size_t)hdr[2];
	case H4_SCO:
		return 3 + (size_t)hdr[2];
	case H4_EVENT:
		return 2 + (size_t)hdr[1];
	case H4_ACL:
		dlen = (size_t)hdr[2] | (size_t)hdr[3] << 8;
		return dlen > H4_MAX_DATA ? 0 : 4 + dlen;
	case H4_ISO:
		/* The top two bits of the length are reserved: set means we are
		 * not looking at a real header. */
		if (hdr[3] & 0xC0)
			return 0;
		dlen = (size_t)hdr[2] | (size_t)(hdr[3] & 0x3F) << 8;
		return dlen > H4_MAX_DATA ? 0 : 4 + dlen;
	default:
		return 0;
	}
}

/* Drop the first byte of the buffer as garbage; what follows is scanned again. */
static void drop_first(struct h4_decoder *d)
{
	d->garbage_bytes++;
	d->fill--;
	memmove(d->buf, d->buf + 1, d->fill);
}

/*
 * Consume whatever complete packets and garbage the buffer starts with.
 * Leaves only the beginning of a plausible packet in the buffer.
 */
static void drain(struct h4_decoder *d)
{
	while (d->fill > 0) {
		uint8_t type = d->buf[0];
		size_t hlen = h4_header_len(type);
		size_t plen;

		if (hlen == 0) {
			drop_first(d);
			continue;
		}
		if (d->fill < 1 + hlen)
			return;
		plen = h4_packet_len(type, d->buf + 1);
		if (plen == 0) {
			drop_first(d);
			continue;
		}
		if (d->fill < 1 + plen)
			return;
		d->packets++;
		if (d->cb)
			d->cb(d->ctx, type, d->buf + 1, plen);
		d->fill -= 1 + plen;
		memmove(d->buf, d->buf + 1 + plen, d->fill);
	}
}

/* How many more bytes the buffered prefix needs before drain() can decide
 * something: the rest of the header, or the rest of the packet. */
static size_t wanted(const struct h4_decoder *d)
{
	size_t hlen, plen;

	if (d->fill == 0)
		return 1;
	hlen = h4_header_len(d->buf[0]);
	if (d->fill < 1 + hlen)
		return 1 + hlen - d->fill;
	plen = h4_packet_len(d->buf[0], d->buf + 1);
	return 1 + plen - d->fill;
}

void h4_decoder_feed(struct h4_decoder *d, const uint8_t *data, size_t len)
{
	while (len > 0) {
		/* Copy no more than the current packet needs, so the buffer
		 * (sized for the longest packet) never overflows and the packet
		 * boundaries do not depend on how the input was chunked. */
		size_t n = wanted(d);

		if (n > len)
			n = len;
		memcpy(d->buf + d->fill, data, n);
		d->fill += n;
		data += n;
		len -= n;
		drain(d);
	}
}

size_t h4_decoder_pending(const struct h4_decoder *d)
{
	return d->fill;
}

size_t h4_encode(uint8_t type, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	if (cap < 1 || len > cap - 1)
		return 0;
	out[0] = type;
	if (len)
		memcpy(out + 1, pkt, len);
	return 1 + len;
}
