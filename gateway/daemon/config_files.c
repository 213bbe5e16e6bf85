/*
 * config_files.c - open and read every file the configuration names, the
 * way the running daemon will, and say which line named a bad one.
 *
 * A path that exists is not enough: a directory, an empty password file,
 * a CA file without a certificate or an RSA key where Ed25519 is expected
 * all pass access(2) and fail later, at the first connection or the first
 * signed update, long after "configuration OK" was printed.
 */
#include "config_files.h"
#include "consent_sig.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct checker {
	const struct config *cfg;
	config_problem_fn report;
	void *ctx;
	unsigned problems;
};

__attribute__((format(printf, 4, 5)))
static void problem(struct checker *c, const char *section, const char *key, const char *fmt, ...)
{
	char msg[768], where[CONFIG_PATH_MAX + 16];
	unsigned line = config_key_line(c->cfg, section, key);
	va_list ap;
	int n;

	if (line)
		snprintf(where, sizeof(where), "%s:%u", c->cfg->path, line);
	else
		snprintf(where, sizeof(where), "%s", c->cfg->path[0] ? c->cfg->path : "defaults");
	n = snprintf(msg, sizeof(msg), "%s: [%s] %s ", where, section, key);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	c->problems++;
	c->report(c->ctx, msg);
}

/* Opened for reading and a regular file; NULL after reporting why not. */
static FILE *open_regular(struct checker *c, const char *section, const char *key,
			  const char *path)
{
	struct stat sb;
	FILE *f = fopen(path, "re");

	if (!f) {
		problem(c, section, key, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		problem(c, section, key, "%s: %s", path,
			S_ISDIR(sb.st_mode) ? "is a directory, not a file" : "is not a regular file");
		fclose(f);
		return NULL;
	}
	return f;
}

static void openssl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, n);
	else
		snprintf(buf, n, "no PEM block found");
	ERR_clear_error();
}

/* The first line, like the broker link reads it: not empty. */
static void check_password(struct checker *c, const char *path)
{
	char line[512];
	FILE *f;

	if (!*path || !(f = open_regular(c, "mqtt", "password_file", path)))
		return;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	if (!line[strcspn(line, "\r\n")] && strlen(line) == sizeof(line) - 1)
		problem(c, "mqtt", "password_file", "%s: password too long", path);
	else if (!strcspn(line, "\r\n"))
		problem(c, "mqtt", "password_file", "%s: the first line (the password) is empty",
			path);
}

/* At least one PEM certificate, as TLS will load it. */
static void check_cert(struct checker *c, const char *key, const char *path)
{
	char why[256];
	X509 *x;
	FILE *f;

	if (!*path || !(f = open_regular(c, "mqtt", key, path)))
		return;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x) {
		openssl_reason(why, sizeof(why));
		problem(c, "mqtt", key, "%s: not a PEM certificate (%s)", path, why);
		return;
	}
	X509_free(x);
}

/* No pass phrase: nobody is there to type one. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static void check_private_key(struct checker *c, const char *path)
{
	char why[256];
	EVP_PKEY *k;
	FILE *f;

	if (!*path || !(f = open_regular(c, "mqtt", "keyfile", path)))
		return;
	k = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!k) {
		openssl_reason(why, sizeof(why));
		problem(c, "mqtt", "keyfile", "%s: not an unencrypted PEM private key (%s)", path,
			why);
		return;
	}
	EVP_PKEY_free(k);
}

static void check_capath(struct checker *c, const char *path)
{
	struct stat sb;

	if (!*path)
		return;
	if (stat(path, &sb) != 0)
		problem(c, "mqtt", "capath", "%s: %s", path, strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		problem(c, "mqtt", "capath", "%s: is not a directory", path);
	else if (access(path, R_OK | X_OK) != 0)
		problem(c, "mqtt", "capath", "%s: %s", path, strerror(errno));
}

/* The same loader the consent-update handler uses: Ed25519 only. */
static void check_public_key(struct checker *c, const char *path)
{
	char why[320];
	EVP_PKEY *k;
	FILE *f;

	if (!*path || !(f = open_regular(c, "consent", "public_key", path)))
		return;
	fclose(f);
	k = consent_key_load_public(path, why, sizeof(why));
	if (!k) {
		problem(c, "consent", "public_key", "%s", why);
		return;
	}
	EVP_PKEY_free(k);
}

unsigned config_check_files(const struct config *cfg, config_problem_fn report, void *ctx)
{
	struct checker c = { .cfg = cfg, .report = report, .ctx = ctx };
	const struct delivery_config *d = &cfg->delivery;

	check_cert(&c, "cafile", d->cafile);
	check_capath(&c, d->capath);
	check_cert(&c, "certfile", d->certfile);
	check_private_key(&c, d->keyfile);
	check_password(&c, d->password_file);
	check_public_key(&c, d->consent_pubkey);
	return c.problems;
}
