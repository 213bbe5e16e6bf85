/*
 * fuzz_consent_update.c - hostile messages on <prefix>/consent: the envelope
 * parser, base64, the signature check and the payload parser must never
 * crash, leak or read out of bounds, whatever arrives.
 *
 * The input is used twice: as a whole message (envelope path, then the
 * verification with a fixed key), and as a payload (change parser), since a
 * forged signature would otherwise stop most inputs before the payload parser.
 *
 * What the parser accepts is checked too (issue 13): no control character
 * in any string it hands on, seq within 1 .. CONSENT_SEQ_MAX, and the log
 * escaping of whatever came in leaves no control character either.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consent_sig.h"
#include "consent_update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key(void)
{
	static EVP_PKEY *k;
	static const uint8_t raw[32] = { 0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
					 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
					 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
					 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a };

	if (!k)
		k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, sizeof(raw));
	return k;
}

static void no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			abort();
}

static void check_accepted(const struct consent_change *c)
{
	if (c->seq < 1 || c->seq > CONSENT_SEQ_MAX || c->expires < 0)
		abort();
	no_controls(c->ref);
	no_controls(c->purpose);
	no_controls(c->channels);
	no_controls(c->policy);
	no_controls(c->id_type);
	no_controls(c->id_value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct consent_change c;
	uint8_t sig[64], *payload = NULL;
	char err[256], fpr[32];
	size_t plen = 0;

	if (consent_envelope_parse((const char *)data, size, 8192, &payload, &plen, sig, fpr,
				   sizeof(fpr), err, sizeof(err)) == CONSENT_APPLIED) {
		consent_sig_verify(key(), payload, plen, sig, sizeof(sig));
		if (consent_change_parse(payload, plen, &c, err, sizeof(err)) == 0)
			check_accepted(&c);
	}
	free(payload);
	if (consent_change_parse(data, size, &c, err, sizeof(err)) == 0)
		check_accepted(&c);
	{
		/* The log's escaping of outside text, NUL-terminated. */
		char in[512], out[512];
		size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;

		memcpy(in, data, n);
		in[n] = '\0';
		consent_escape(in, out, sizeof(out));
		no_controls(out);
		if (strchr(out, '"'))
			abort();
	}
	return 0;
}
