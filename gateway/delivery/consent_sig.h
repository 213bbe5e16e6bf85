/*
 * consent_sig.h - Ed25519 keys and signatures for consent updates (OpenSSL),
 * shared by the gateway (verify) and beaconctl (keygen, sign).
 *
 * Wire format of a consent update (docs/backend.md):
 *
 *   {"payload": "<base64 of the exact payload bytes>",
 *    "sig":     "<base64 of the 64-byte Ed25519 signature over those bytes>",
 *    "key":     "<optional: fingerprint of the signing key>"}
 *
 * The payload travels as base64 so that the verifier checks exactly the
 * bytes that were signed: no JSON canonicalisation, no re-serialisation
 * ambiguity (key order, spaces, number formats, escapes).
 */
#ifndef BGW_CONSENT_SIG_H
#define BGW_CONSENT_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define CONSENT_SIG_LEN 64
#define CONSENT_FPR_LEN 16   /* hex digits of the key fingerprint */

/* Strict standard base64 (with padding). Returns decoded length or -1. */
long consent_b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap);
/* malloc'd NUL-terminated base64 of in; NULL on allocation failure. */
char *consent_b64_encode(const void *in, size_t n);

/* PEM files. NULL + err (one line) on failure or if the key is not Ed25519. */
EVP_PKEY *consent_key_load_public(const char *path, char *err, size_t errlen);
EVP_PKEY *consent_key_load_private(const char *path, char *err, size_t errlen);

/* First 16 hex digits of SHA-256 over the raw 32-byte public key. */
int consent_key_fingerprint(EVP_PKEY *key, char out[CONSENT_FPR_LEN + 1]);

bool consent_sig_verify(EVP_PKEY *pub, const void *msg, size_t n, const uint8_t *sig,
			size_t siglen);
int consent_sig_sign(EVP_PKEY *priv, const void *msg, size_t n, uint8_t sig[CONSENT_SIG_LEN]);

/* New key pair: PREFIX.key (private, PEM PKCS#8, mode 0600, never overwritten)
 * and PREFIX.pub (public, PEM). 0, or -1 + err. */
int consent_keygen(const char *prefix, char *fpr_out, size_t fprlen, char *err, size_t errlen);

/* The signed envelope for payload (malloc'd JSON, one line), NULL + err. */
char *consent_sign_envelope(EVP_PKEY *priv, const void *payload, size_t n, char *err,
			    size_t errlen);

#endif
