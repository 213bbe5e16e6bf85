/*
 * aes_openssl.c - one AES-128-ECB block with OpenSSL's EVP interface.
 *
 * The cipher is fetched and the context made once per thread and then only
 * re-keyed: creating them is most of the cost of a single block, and the
 * EID table computes a few blocks for every enrolled key at start-up (100 k
 * keys: hundreds of thousands of blocks). Both stay reachable until exit.
 *
 * There is no error return: with a fixed cipher, a 16-byte key and a
 * single 16-byte block with padding off, EVP can only fail when it cannot
 * allocate its context or the library is broken. Carrying on would hand
 * back an identifier computed from garbage, which is worse than stopping,
 * so the process aborts (systemd restarts the daemon).
 */
#include "aes_openssl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static _Thread_local EVP_CIPHER *cipher;
static _Thread_local EVP_CIPHER_CTX *ctx;

void aes128_openssl(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	uint8_t block[16];
	int n = 0, fin = 0;

	if (!ctx) {
		cipher = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
		ctx = EVP_CIPHER_CTX_new();
		if (!cipher || !ctx || EVP_EncryptInit_ex2(ctx, cipher, NULL, NULL, NULL) != 1 ||
		    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
			abort();
	}
	/* EVP may not allow in == out; encrypt into a local block. */
	if (EVP_EncryptInit_ex2(ctx, NULL, key, NULL, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, block, &n, in, 16) != 1 || n != 16 ||
	    EVP_EncryptFinal_ex(ctx, block + n, &fin) != 1 || fin != 0)
		abort();
	memcpy(out, block, sizeof(block));
	memset(block, 0, sizeof(block));
}
