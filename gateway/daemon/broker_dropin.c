/*
 * broker_dropin.c - IPAddressAllow= lines for the broker's public
 * addresses (see broker_dropin.h for why).
 */
#include "broker_dropin.h"
#include "bgw_exit.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_ADDRS 16

struct addrs {
	char text[MAX_ADDRS][INET6_ADDRSTRLEN];
	size_t n;
};

/* What the unit already allows: loopback, link-local, multicast, RFC 1918,
 * unique local. Keep in step with systemd/beacongw.service. */
static bool allowed_by_unit(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);

		return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 16) == 0xa9fe ||
		       (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 || (a >> 28) == 0xe;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const uint8_t loop[16] = { [15] = 1 };

		return !memcmp(b, loop, 16) || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
		       (b[0] & 0xfe) == 0xfc || b[0] == 0xff;
	}
	return false;
}

/* The public addresses the host resolves to now; -1 if it does not resolve. */
static int public_addrs(const char *host, struct addrs *out, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int rc = getaddrinfo(host, NULL, &hints, &res);

	out->n = 0;
	if (rc) {
		snprintf(err, errlen, "[mqtt] host %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && out->n < MAX_ADDRS; ai = ai->ai_next) {
		char buf[INET6_ADDRSTRLEN];
		const void *a = ai->ai_family == AF_INET
			? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		bool dup = false;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    allowed_by_unit(ai->ai_addr) || !inet_ntop(ai->ai_family, a, buf, sizeof(buf)))
			continue;
		for (size_t i = 0; i < out->n; i++)
			dup |= strcmp(out->text[i], buf) == 0;
		if (!dup)
			memcpy(out->text[out->n++], buf, sizeof(buf));
	}
	freeaddrinfo(res);
	return 0;
}

int broker_dropin_write(const struct config *cfg, FILE *out, char *err, size_t errlen)
{
	const char *host = cfg->delivery.host;
	struct addrs a;

	if (public_addrs(host, &a, err, errlen) < 0)
		return BGW_EXIT_UNAVAILABLE;
	fprintf(out,
		"# %s - written by \"beacongw --broker-drop-in\" from %s.\n"
		"# The unit refuses every address but loopback, link-local and private ones;\n",
		BROKER_DROPIN_PATH, cfg->path[0] ? cfg->path : "the built-in defaults");
	if (!a.n) {
		fprintf(out, "# [mqtt] host = %s is one of those: nothing to add.\n[Service]\n", host);
		return 0;
	}
	fprintf(out,
		"# this adds the addresses [mqtt] host = %s had when it was written, and no\n"
		"# other. If the broker moves, write it again and restart the service.\n"
		"[Service]\n", host);
	for (size_t i = 0; i < a.n; i++)
		fprintf(out, "IPAddressAllow=%s\n", a.text[i]);
	return 0;
}

/* Whether a line "IPAddressAllow=... addr ..." of a *.conf file in dir names addr. */
static bool dir_allows(const char *dir, const char *addr)
{
	char path[512], line[1024];
	struct dirent *e;
	bool found = false;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		FILE *f;

		if (len < 6 || strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			char *tok, *save = NULL;

			if (strncmp(line, "IPAddressAllow=", 15) != 0)
				continue;
			for (tok = strtok_r(line + 15, " \t\r\n", &save); tok && !found;
			     tok = strtok_r(NULL, " \t\r\n", &save))
				found = strcmp(tok, addr) == 0 || strcmp(tok, "any") == 0;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

void broker_dropin_missing(const struct config *cfg, const char *dir, char *missing, size_t n)
{
	char err[256];
	struct addrs a;
	size_t used = 0;

	missing[0] = '\0';
	if (public_addrs(cfg->delivery.host, &a, err, sizeof(err)) < 0)
		return;
	for (size_t i = 0; i < a.n; i++) {
		int w;

		if (dir_allows(dir, a.text[i]))
			continue;
		w = snprintf(missing + used, n - used, "%s%s", used ? ", " : "", a.text[i]);
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
}
