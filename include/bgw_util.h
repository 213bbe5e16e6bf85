/*
 * bgw_util.h - the small helpers every part of beacongw shares: array
 * length, byte order, hex digits.
 *
 * Header-only and freestanding (stdint, stddef and stdbool only), so the
 * frame codec and the nRF52 firmware can use it as well as the gateway.
 * Anything that needs libc or allocates does not belong here.
 */
#ifndef BGW_UTIL_H
#define BGW_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BGW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- byte order: Bluetooth is little-endian, Eddystone and iBeacon big ---- */

static inline uint16_t bgw_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t bgw_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint16_t bgw_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t bgw_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	       (uint32_t)p[3];
}

static inline void bgw_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void bgw_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void bgw_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void bgw_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- hex ---- */

/* 0..15 for a hex digit of either case, -1 for anything else. */
static inline int bgw_hex_nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Exactly n bytes from the hex text [s, s + slen). Characters listed in
 * skip (for example "-" in a UUID, ":" in an address; NULL for none) may
 * stand between byte pairs and are ignored. False, with out partly written,
 * unless the text holds exactly n bytes and nothing else.
 */
static inline bool bgw_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n,
				  const char *skip)
{
	size_t got = 0;

	for (size_t i = 0; i < slen;) {
		bool skipped = false;

		for (const char *k = skip; k && *k; k++)
			if (s[i] == *k)
				skipped = true;
		if (skipped) {
			i++;
			continue;
		}
		if (i + 1 >= slen || got == n)
			return false;
		int hi = bgw_hex_nibble((unsigned char)s[i]);
		int lo = bgw_hex_nibble((unsigned char)s[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[got++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return got == n;
}

/* n bytes as 2n lowercase hex digits and a NUL: out holds 2n + 1. */
static inline void bgw_hex_encode(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

#endif
