/*
 * cmd_keys.c - beaconctl keygen / sign: the backend side of signed consent
 * updates (Ed25519), so that it can be set up and tested without other tools.
 *
 *   beaconctl keygen --out PREFIX     -> PREFIX.key (private) + PREFIX.pub
 *   beaconctl sign --key PRIV FILE    -> the message to publish on <prefix>/consent
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_sig.h"
#include "consent_update.h"
#include "ctl.h"

#define SIGN_MAX_BYTES (64 * 1024)

const char cmd_keygen_help[] =
	"Create the Ed25519 key pair that signs consent updates sent over MQTT\n"
	"Usage: beaconctl keygen --out PREFIX\n"
	"Writes PREFIX.key (private key, PEM, mode 0600: keep it on the backend only) and\n"
	"PREFIX.pub (public key, PEM: the gateway's [consent] public_key). Never overwrites\n"
	"an existing file. Prints the key fingerprint that appears in the audit log as\n"
	"mqtt:FINGERPRINT. Touches no database.\n";

const char cmd_sign_help[] =
	"Sign a consent update for <prefix>/consent\n"
	"Usage: beaconctl sign --key PRIVATE.pem FILE.json   (FILE - reads stdin)\n"
	"FILE holds the update as one JSON object, e.g.\n"
	"  {\"seq\": 7, \"op\": \"withdraw\", \"ref\": \"C-1001\", \"purpose\": \"retargeting\"}\n"
	"ops: grant (ref, purpose [, channels, expires, policy]), withdraw (ref, purpose),\n"
	"forget (ref), identifier_add (ref, type, value), identifier_remove (type, value).\n"
	"The exact bytes of FILE are signed. Prints the message to publish (one line of\n"
	"JSON: base64 payload, base64 signature, key fingerprint). Touches no database.\n";

int cmd_keygen(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		CTL_OPTIONS_END,
	};
	struct ctl_args a = { .opts = opts };
	const char *out = NULL;
	char err[512], fpr[32];
	cJSON *fields;
	int c;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 'o')
			out = optarg;
	}
	if (c < 0)
		return a.code;
	if (!out || !out[0])
		return ctl_usage(ctl, "keygen: --out PREFIX is required");
	if (consent_keygen(out, fpr, sizeof(fpr), err, sizeof(err)))
		return ctl_fail(strstr(err, "exists") ? BGW_EXIT_DATAERR : BGW_EXIT_UNAVAILABLE,
				"keygen: %s", err);
	fields = cJSON_CreateObject();
	if (fields) {
		char path[4200];

		snprintf(path, sizeof(path), "%s.key", out);
		cJSON_AddStringToObject(fields, "private_key", path);
		snprintf(path, sizeof(path), "%s.pub", out);
		cJSON_AddStringToObject(fields, "public_key", path);
		cJSON_AddStringToObject(fields, "fingerprint", fpr);
	}
	ctl_print_done(ctl, fields,
		       "wrote %s.key (private: keep it secret) and %s.pub (the gateway's [consent] "
		       "public_key); fingerprint %s",
		       out, out, fpr);  /* takes fields */
	return BGW_EXIT_OK;
}

/* The whole file, bounded; NULL + message on error. */
static char *read_all(const char *path, size_t *n)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf;

	if (!f) {
		ctl_fail(BGW_EXIT_DATAERR, "sign: %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(SIGN_MAX_BYTES + 1);
	if (!buf) {
		ctl_fail(BGW_EXIT_UNAVAILABLE, "sign: out of memory");
		goto out;
	}
	*n = fread(buf, 1, SIGN_MAX_BYTES + 1, f);
	if (ferror(f) || *n > SIGN_MAX_BYTES) {
		ctl_fail(BGW_EXIT_DATAERR, "sign: %s: %s", path,
			 ferror(f) ? strerror(errno) : "larger than 64 KiB");
		free(buf);
		buf = NULL;
	}
out:
	if (f != stdin)
		fclose(f);
	return buf;
}

int cmd_sign(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		CTL_OPTIONS_END,
	};
	struct ctl_args a = { .opts = opts, .min = 1, .max = 1 };
	const char *key = NULL, *path;
	struct consent_change change;
	char err[512], *payload, *msg;
	EVP_PKEY *pk;
	size_t n = 0;
	int c;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 'k')
			key = optarg;
	}
	if (c < 0)
		return a.code;
	if (!key)
		return ctl_usage(ctl, "sign: --key PRIVATE.pem is required");
	path = argv[a.at];
	payload = read_all(path, &n);
	if (!payload)
		return BGW_EXIT_DATAERR;
	/* Refuse what every gateway would reject, before it is signed and sent. */
	if (consent_change_parse((const uint8_t *)payload, n, &change, err, sizeof(err))) {
		free(payload);
		return ctl_fail(BGW_EXIT_DATAERR, "sign: %s: %s", path, err);
	}
	pk = consent_key_load_private(key, err, sizeof(err));
	if (!pk) {
		free(payload);
		return ctl_fail(BGW_EXIT_DATAERR, "sign: %s", err);
	}
	msg = consent_sign_envelope(pk, payload, n, err, sizeof(err));
	EVP_PKEY_free(pk);
	free(payload);
	if (!msg)
		return ctl_fail(BGW_EXIT_UNAVAILABLE, "sign: %s", err);
	puts(msg);
	free(msg);
	return BGW_EXIT_OK;
}
