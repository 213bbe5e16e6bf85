/*
 * eddystone_etlm.c - AES-EAX over an AES-128 block callback and the
 * Eddystone eTLM payload on top of it (format in eddystone_etlm.h).
 *
 * EAX needs only the forward cipher: OMAC (CMAC) for the nonce, header and
 * ciphertext, CTR for the encryption. Blocks are processed in place on the
 * stack; nothing is allocated. <string.h> only, as the rest of common/.
 */
#include "eddystone_etlm.h"
#include "bgw_util.h"

#include <stdbool.h>
#include <string.h>

/* Multiply by x in GF(2^128) (CMAC subkey derivation, RFC 4493). */
static void dbl(uint8_t b[16])
{
	uint8_t carry = b[0] >> 7;

	for (int i = 0; i < 15; i++)
		b[i] = (uint8_t)(b[i] << 1 | b[i + 1] >> 7);
	b[15] = (uint8_t)(b[15] << 1 ^ (carry ? 0x87 : 0));
}

/* EAX's tweaked OMAC: CMAC_K([t]_128 || m). The message is never empty
 * (the 16-byte tweak block comes first), so the last block is the one
 * that gets K1 (complete) or the padding and K2 (incomplete). */
static void omac_t(eid_aes128_fn aes, const uint8_t key[16], uint8_t t, const uint8_t *m,
		   size_t len, uint8_t mac[16])
{
	uint8_t k1[16] = { 0 }, k2[16], x[16] = { 0 }, blk[16];
	size_t total = 16 + len;

	aes(key, k1, k1);
	dbl(k1);
	memcpy(k2, k1, 16);
	dbl(k2);
	for (size_t off = 0; off < total; off += 16) {
		size_t n = total - off < 16 ? total - off : 16;
		bool last = off + 16 >= total;

		for (size_t i = 0; i < 16; i++) {
			size_t at = off + i;
			uint8_t v = 0;

			if (i < n)
				v = at < 16 ? (at == 15 ? t : 0) : m[at - 16];
			else if (i == n)
				v = 0x80; /* 10* padding of an incomplete last block */
			blk[i] = v;
		}
		if (last)
			for (size_t i = 0; i < 16; i++)
				blk[i] ^= n == 16 ? k1[i] : k2[i];
		for (size_t i = 0; i < 16; i++)
			x[i] ^= blk[i];
		aes(key, x, x);
	}
	memcpy(mac, x, 16);
}

void eddystone_eax_seal(eid_aes128_fn aes, const uint8_t key[16], const uint8_t *nonce,
			size_t nonce_len, const uint8_t *hdr, size_t hdr_len, const uint8_t *msg,
			size_t len, uint8_t *out, uint8_t *tag, size_t tag_len)
{
	uint8_t n[16], h[16], c[16], ctr[16], ks[16];

	omac_t(aes, key, 0, nonce, nonce_len, n);
	omac_t(aes, key, 1, hdr, hdr_len, h);
	memcpy(ctr, n, 16);
	for (size_t off = 0; off < len; off += 16) {
		aes(key, ctr, ks);
		for (size_t i = 0; i < 16 && off + i < len; i++)
			out[off + i] = msg[off + i] ^ ks[i];
		for (int i = 15; i >= 0 && ++ctr[i] == 0; i--) {
		}
	}
	omac_t(aes, key, 2, out, len, c);
	for (size_t i = 0; i < tag_len && i < 16; i++)
		tag[i] = n[i] ^ h[i] ^ c[i];
	memset(ks, 0, sizeof(ks));
}

void eddystone_etlm_seal(eid_aes128_fn aes, const uint8_t ik[16], uint32_t time_base,
			 uint16_t salt, uint16_t battery_mv, int16_t temp_8_8, uint32_t adv_count,
			 uint32_t uptime_ds, uint8_t etlm[12], uint16_t *mic)
{
	uint8_t plain[12], nonce[6], m[2];
	uint16_t t = (uint16_t)temp_8_8;

	plain[0] = (uint8_t)(battery_mv >> 8);
	plain[1] = (uint8_t)battery_mv;
	plain[2] = (uint8_t)(t >> 8);
	plain[3] = (uint8_t)t;
	bgw_put_be32(plain + 4, adv_count);
	bgw_put_be32(plain + 8, uptime_ds);
	bgw_put_be32(nonce, time_base);
	nonce[4] = (uint8_t)(salt >> 8);
	nonce[5] = (uint8_t)salt;
	eddystone_eax_seal(aes, ik, nonce, sizeof(nonce), NULL, 0, plain, sizeof(plain), etlm, m,
			   sizeof(m));
	*mic = bgw_get_be16(m);
	memset(plain, 0, sizeof(plain));
}
