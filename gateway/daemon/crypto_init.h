/*
 * crypto_init.h - how the daemon initialises OpenSSL.
 *
 * OpenSSL registers the text of every error reason it knows at its first
 * use: about 400 KiB of the library's pages made resident, a fifth of what
 * the gateway's libcrypto costs, for messages that can only reach the log
 * when OpenSSL reads a file (a TLS certificate or key, the consent-update
 * public key) or talks TLS. The AES, CMAC and SHA-256 the data path uses
 * never fail with a reason worth printing. So the strings are left out
 * unless the configuration names such a file or asks for TLS; nothing else
 * changes (the configuration file, the providers and the algorithms are
 * OpenSSL's defaults either way).
 */
#ifndef BGW_CRYPTO_INIT_H
#define BGW_CRYPTO_INIT_H

#include <stdbool.h>

#include "config.h"

/* Would OpenSSL's error reasons be read by anyone under cfg? */
bool crypto_needs_error_strings(const struct config *cfg);

/* Call before anything else uses OpenSSL (a later call changes nothing). */
void crypto_init(const struct config *cfg);

#endif
