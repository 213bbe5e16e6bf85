/*
 * h4.h - H4 (UART transport) framing: a stream decoder that turns arbitrary
 * byte chunks into complete HCI packets, and an encoder.
 *
 * An H4 packet is one packet-type byte followed by the HCI packet. The
 * decoder hands the callback the type and the HCI packet WITHOUT the type
 * byte (for an event: event code, parameter length, parameters).
 *
 * Resynchronisation: a byte that is not a known packet type is skipped and
 * counted as garbage; so is the type byte of a header whose length cannot
 * be (ACL/ISO data longer than H4_MAX_DATA, ISO length with its reserved
 * bits set). The bytes after a skipped byte are scanned again, so a valid
 * packet hidden behind garbage is found. Fixed buffer, no allocation.
 */
#ifndef BGW_H4_H
#define BGW_H4_H

#include <stddef.h>
#include <stdint.h>

#define H4_CMD 0x01
#define H4_ACL 0x02
#define H4_SCO 0x03
#define H4_EVENT 0x04
#define H4_ISO 0x05

/* Longest ACL/ISO payload accepted. The gateway never uses ACL; this only
 * bounds the buffer (controllers' LE ACL buffers are far smaller). */
#define H4_MAX_DATA 1024
/* Longest HCI packet (without the type byte): ACL/ISO header + data. */
#define H4_MAX_PACKET (4 + H4_MAX_DATA)

typedef void (*h4_packet_cb)(void *ctx, uint8_t type, const uint8_t *pkt, size_t len);

struct h4_decoder {
	h4_packet_cb cb;
	void *ctx;
	uint64_t packets;       /* complete packets delivered */
	uint64_t garbage_bytes; /* bytes skipped while resynchronising */
	size_t fill;            /* bytes in buf (type byte first) */
	uint8_t buf[1 + H4_MAX_PACKET];
};

void h4_decoder_init(struct h4_decoder *d, h4_packet_cb cb, void *ctx);

/* Feed any number of bytes; the callback runs once per complete packet.
 * Feeding byte by byte gives exactly the same packets as feeding at once. */
void h4_decoder_feed(struct h4_decoder *d, const uint8_t *data, size_t len);

/* Bytes held for an incomplete packet (e.g. to report a stream that ended
 * mid-packet). */
size_t h4_decoder_pending(const struct h4_decoder *d);

/* Header length of an HCI packet of this type (without the type byte), or
 * 0 for an unknown type. */
size_t h4_header_len(uint8_t type);

/*
 * Length of the complete HCI packet (without the type byte) given its
 * header (at least h4_header_len(type) bytes), or 0 when the header states
 * an impossible length.
 */
size_t h4_packet_len(uint8_t type, const uint8_t *hdr);

/* Encode: out = type byte + pkt. Returns 1 + len, or 0 when it does not fit. */
size_t h4_encode(uint8_t type, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

#endif
