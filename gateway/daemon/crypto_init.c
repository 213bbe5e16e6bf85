/*
 * crypto_init.c - OpenSSL without its error strings when nothing would
 * print them (see crypto_init.h).
 */
#include "crypto_init.h"

#include <openssl/crypto.h>

bool crypto_needs_error_strings(const struct config *cfg)
{
	const struct delivery_config *d = &cfg->delivery;

	return d->cafile[0] || d->capath[0] || d->certfile[0] || d->keyfile[0] ||
	       d->consent_pubkey[0] || d->consent_pubkey_next[0] ||
	       d->tls_required == DELIVERY_TLS_YES;
}

void crypto_init(const struct config *cfg)
{
	/* The strings are loaded once, on first use, unless told otherwise
	 * first; once left out they stay out, so decide before any use. */
	if (!crypto_needs_error_strings(cfg))
		OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
}
