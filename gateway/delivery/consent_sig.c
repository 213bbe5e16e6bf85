#include "consent_sig.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

long consent_b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap)
{
	size_t i, pad = 0;
	int n;

	if (inlen == 0 || inlen % 4 || inlen > (size_t)INT32_MAX || inlen / 4 * 3 > outcap)
		return -1;
	/* EVP_DecodeBlock is lenient (skips blanks, ignores padding rules): check first. */
	for (i = 0; i < inlen; i++) {
		if (in[i] == '=' && i >= inlen - 2) {
			pad++;
			continue;
		}
		if (pad || !b64_char(in[i]))
			return -1;
	}
	if (pad == 1 && in[inlen - 1] != '=')
		return -1;
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)inlen);
	if (n < 0 || (size_t)n < pad)
		return -1;
	return (long)((size_t)n - pad);
}

char *consent_b64_encode(const void *in, size_t n)
{
	char *out;

	if (n > (size_t)INT32_MAX / 2)
		return NULL;
	out = malloc((n + 2) / 3 * 4 + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

static void ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[160];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s %s: %s", what, path, e ? buf : strerror(errno ? errno : EINVAL));
	ERR_clear_error();
}

static EVP_PKEY *load(const char *path, bool private, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
		    : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		ssl_err(err, errlen, private ? "cannot read private key" : "cannot read public key",
			path);
		return NULL;
	}
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: not an Ed25519 key", path);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

EVP_PKEY *consent_key_load_public(const char *path, char *err, size_t errlen)
{
	return load(path, false, err, errlen);
}

EVP_PKEY *consent_key_load_private(const char *path, char *err, size_t errlen)
{
	return load(path, true, err, errlen);
}

int consent_key_fingerprint(EVP_PKEY *key, char out[CONSENT_FPR_LEN + 1])
{
	uint8_t raw[32], md[SHA256_DIGEST_LENGTH];
	size_t n = sizeof(raw);
	int i;

	if (EVP_PKEY_get_raw_public_key(key, raw, &n) != 1 || n != 32)
		return -1;
	SHA256(raw, n, md);
	for (i = 0; i < CONSENT_FPR_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

bool consent_sig_verify(EVP_PKEY *pub, const void *msg, size_t n, const uint8_t *sig,
			size_t siglen)
{
	EVP_MD_CTX *ctx;
	bool ok;

	if (siglen != CONSENT_SIG_LEN)
		return false;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return false;
	/* Ed25519 is "pure": no digest, the whole message goes in at once. */
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
	     EVP_DigestVerify(ctx, sig, siglen, msg, n) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int consent_sig_sign(EVP_PKEY *priv, const void *msg, size_t n, uint8_t sig[CONSENT_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = CONSENT_SIG_LEN;
	int ok;

	if (!ctx)
		return -1;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, priv) == 1 &&
	     EVP_DigestSign(ctx, sig, &len, msg, n) == 1 && len == CONSENT_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int write_pem(const char *path, EVP_PKEY *k, bool private, char *err, size_t errlen)
{
	/* O_EXCL: never overwrite a key someone may depend on. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private ? 0600 : 0644);
	FILE *f;
	int ok;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ok = private ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_PUBKEY(f, k);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		unlink(path);
		snprintf(err, errlen, "%s: cannot write the key", path);
		return -1;
	}
	return 0;
}

int consent_keygen(const char *prefix, char *fpr_out, size_t fprlen, char *err, size_t errlen)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char priv[4096], pub[4096], fpr[CONSENT_FPR_LEN + 1];
	int rc = -1;

	if (!k) {
		snprintf(err, errlen, "cannot generate an Ed25519 key");
		return -1;
	}
	if ((size_t)snprintf(priv, sizeof(priv), "%s.key", prefix) >= sizeof(priv) ||
	    (size_t)snprintf(pub, sizeof(pub), "%s.pub", prefix) >= sizeof(pub)) {
		snprintf(err, errlen, "key path too long");
		goto out;
	}
	if (access(priv, F_OK) == 0 || access(pub, F_OK) == 0) {
		snprintf(err, errlen, "%s or %s already exists; not overwriting", priv, pub);
		goto out;
	}
	if (write_pem(priv, k, true, err, errlen))
		goto out;
	if (write_pem(pub, k, false, err, errlen)) {
		unlink(priv);
		goto out;
	}
	if (consent_key_fingerprint(k, fpr) == 0 && fpr_out)
		snprintf(fpr_out, fprlen, "%s", fpr);
	rc = 0;
out:
	EVP_PKEY_free(k);
	return rc;
}

char *consent_sign_envelope(EVP_PKEY *priv, const void *payload, size_t n, char *err,
			    size_t errlen)
{
	uint8_t sig[CONSENT_SIG_LEN];
	char fpr[CONSENT_FPR_LEN + 1];
	char *p64 = NULL, *s64 = NULL, *out = NULL;
	cJSON *o = NULL;

	if (consent_sig_sign(priv, payload, n, sig)) {
		snprintf(err, errlen, "signing failed");
		return NULL;
	}
	p64 = consent_b64_encode(payload, n);
	s64 = consent_b64_encode(sig, sizeof(sig));
	o = cJSON_CreateObject();
	if (!p64 || !s64 || !o || consent_key_fingerprint(priv, fpr))
		goto nomem;
	if (!cJSON_AddStringToObject(o, "payload", p64) ||
	    !cJSON_AddStringToObject(o, "sig", s64) || !cJSON_AddStringToObject(o, "key", fpr))
		goto nomem;
	out = cJSON_PrintUnformatted(o);
	if (!out)
		goto nomem;
	goto done;
nomem:
	snprintf(err, errlen, "out of memory");
done:
	cJSON_Delete(o);
	free(p64);
	free(s64);
	return out;
}
