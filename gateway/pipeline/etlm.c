/* etlm.c - AES-EAX over OpenSSL's CTR and CMAC, and eTLM on top of it. */
#include "etlm.h"

#include <string.h>

#include <openssl/crypto.h>

/* EAX's tweaked OMAC: OMAC_K^t(X) = CMAC_K([t]_128 || X). */
static bool omac_t(struct pl_aes *a, const uint8_t key[16], uint8_t t, const uint8_t *x, size_t len,
		   uint8_t mac[16])
{
	uint8_t prefix[16] = { 0 };

	prefix[15] = t;
	return pl_aes_cmac(a, key, prefix, x, len, mac);
}

/* The full 16-byte tag: OMAC^0(N) xor OMAC^1(H) xor OMAC^2(C). nprime gets OMAC^0(N). */
static bool eax_tag(struct pl_aes *a, const uint8_t key[16], const uint8_t *nonce, size_t nonce_len,
		    const uint8_t *hdr, size_t hdr_len, const uint8_t *ct, size_t len,
		    uint8_t nprime[16], uint8_t tag[16])
{
	uint8_t h[16], c[16];

	if (!omac_t(a, key, 0, nonce, nonce_len, nprime) || !omac_t(a, key, 1, hdr, hdr_len, h) ||
	    !omac_t(a, key, 2, ct, len, c))
		return false;
	for (int i = 0; i < 16; i++)
		tag[i] = nprime[i] ^ h[i] ^ c[i];
	return true;
}

bool eax_encrypt(struct pl_aes *a, const uint8_t key[16], const uint8_t *nonce, size_t nonce_len,
		 const uint8_t *hdr, size_t hdr_len, const uint8_t *msg, size_t len, uint8_t *out,
		 uint8_t *tag, size_t tag_len)
{
	uint8_t nprime[16], full[16];

	if (tag_len < 1 || tag_len > 16 || !omac_t(a, key, 0, nonce, nonce_len, nprime) ||
	    !pl_aes_ctr(a, key, nprime, msg, len, out) ||
	    !eax_tag(a, key, nonce, nonce_len, hdr, hdr_len, out, len, nprime, full))
		return false;
	memcpy(tag, full, tag_len);
	return true;
}

bool eax_decrypt(struct pl_aes *a, const uint8_t key[16], const uint8_t *nonce, size_t nonce_len,
		 const uint8_t *hdr, size_t hdr_len, const uint8_t *ct, size_t len,
		 const uint8_t *tag, size_t tag_len, uint8_t *out)
{
	uint8_t nprime[16], full[16];

	if (tag_len < 1 || tag_len > 16 ||
	    !eax_tag(a, key, nonce, nonce_len, hdr, hdr_len, ct, len, nprime, full))
		return false;
	/* Authenticate before decrypting; compare in constant time. */
	if (CRYPTO_memcmp(full, tag, tag_len) != 0)
		return false;
	return pl_aes_ctr(a, key, nprime, ct, len, out);
}

static void etlm_nonce(uint32_t time_base, uint16_t salt, uint8_t nonce[6])
{
	nonce[0] = (uint8_t)(time_base >> 24);
	nonce[1] = (uint8_t)(time_base >> 16);
	nonce[2] = (uint8_t)(time_base >> 8);
	nonce[3] = (uint8_t)time_base;
	nonce[4] = (uint8_t)(salt >> 8);
	nonce[5] = (uint8_t)salt;
}

bool etlm_decrypt(struct pl_aes *a, const uint8_t ik[16], uint32_t time_base,
		  const struct bf_eddystone_etlm *e, struct bf_eddystone_tlm *out)
{
	uint8_t nonce[6], mic[2] = { (uint8_t)(e->mic >> 8), (uint8_t)e->mic }, p[12];

	etlm_nonce(time_base, e->salt, nonce);
	if (!eax_decrypt(a, ik, nonce, sizeof(nonce), NULL, 0, e->etlm, 12, mic, 2, p))
		return false;
	out->battery_mv = (uint16_t)(p[0] << 8 | p[1]);
	out->temp_8_8 = (int16_t)(uint16_t)(p[2] << 8 | p[3]);
	out->adv_count = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	out->uptime_ds = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	return true;
}

bool etlm_encrypt(struct pl_aes *a, const uint8_t ik[16], uint32_t time_base, uint16_t salt,
		  const struct bf_eddystone_tlm *tlm, struct bf_eddystone_etlm *out)
{
	uint8_t nonce[6], mic[2], p[12];
	uint16_t t = (uint16_t)tlm->temp_8_8;

	p[0] = (uint8_t)(tlm->battery_mv >> 8);
	p[1] = (uint8_t)tlm->battery_mv;
	p[2] = (uint8_t)(t >> 8);
	p[3] = (uint8_t)t;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(tlm->adv_count >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(tlm->uptime_ds >> (24 - 8 * i));
	}
	etlm_nonce(time_base, salt, nonce);
	if (!eax_encrypt(a, ik, nonce, sizeof(nonce), NULL, 0, p, 12, out->etlm, mic, 2))
		return false;
	out->salt = salt;
	out->mic = (uint16_t)(mic[0] << 8 | mic[1]);
	return true;
}
