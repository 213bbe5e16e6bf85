/* pl_aes.c - reusable OpenSSL AES-128 ECB / CTR / CMAC contexts. */
#include "pl_aes.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct pl_aes {
	EVP_CIPHER_CTX *ecb;
	EVP_CIPHER_CTX *ctr;
	EVP_MAC *cmac_alg;
	EVP_MAC_CTX *cmac;
	OSSL_PARAM cmac_params[2];
};

struct pl_aes *pl_aes_new(void)
{
	struct pl_aes *a = calloc(1, sizeof(*a));
	static const uint8_t zero[16];

	if (!a)
		return NULL;
	a->ecb = EVP_CIPHER_CTX_new();
	a->ctr = EVP_CIPHER_CTX_new();
	a->cmac_alg = EVP_MAC_fetch(NULL, "CMAC", NULL);
	a->cmac = a->cmac_alg ? EVP_MAC_CTX_new(a->cmac_alg) : NULL;
	if (!a->ecb || !a->ctr || !a->cmac)
		goto fail;
	/* Bind the ciphers once; later calls only change the key, which keeps
	 * the provider context (and its memory) in place. */
	if (!EVP_EncryptInit_ex(a->ecb, EVP_aes_128_ecb(), NULL, zero, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(a->ecb, 0) ||
	    !EVP_EncryptInit_ex(a->ctr, EVP_aes_128_ctr(), NULL, zero, zero))
		goto fail;
	a->cmac_params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
							     (char *)"AES-128-CBC", 0);
	a->cmac_params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(a->cmac, zero, sizeof(zero), a->cmac_params))
		goto fail;
	return a;
fail:
	pl_aes_free(a);
	return NULL;
}

void pl_aes_free(struct pl_aes *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ecb);
	EVP_CIPHER_CTX_free(a->ctr);
	EVP_MAC_CTX_free(a->cmac);
	EVP_MAC_free(a->cmac_alg);
	free(a);
}

void pl_aes_block(struct pl_aes *a, const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	int n = 0;

	if (!EVP_EncryptInit_ex(a->ecb, NULL, NULL, key, NULL) ||
	    !EVP_EncryptUpdate(a->ecb, out, &n, in, 16) || n != 16)
		memset(out, 0, 16); /* cannot happen with a bound AES-128-ECB context */
}

bool pl_aes_ctr(struct pl_aes *a, const uint8_t key[16], const uint8_t iv[16], const uint8_t *in,
		size_t len, uint8_t *out)
{
	int n = 0;

	if (len > 0x7fffffff)
		return false;
	return EVP_EncryptInit_ex(a->ctr, NULL, NULL, key, iv) &&
	       EVP_EncryptUpdate(a->ctr, out, &n, in, (int)len) && (size_t)n == len;
}

bool pl_aes_cmac(struct pl_aes *a, const uint8_t key[16], const uint8_t prefix[16],
		 const uint8_t *msg, size_t len, uint8_t mac[16])
{
	size_t n = 0;

	return EVP_MAC_init(a->cmac, key, 16, NULL) && EVP_MAC_update(a->cmac, prefix, 16) &&
	       (len == 0 || EVP_MAC_update(a->cmac, msg, len)) &&
	       EVP_MAC_final(a->cmac, mac, &n, 16) && n == 16;
}
