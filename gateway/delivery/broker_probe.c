/*
 * broker_probe.c - the non-blocking TCP probe of the broker.
 *
 * libmosquitto's connect() blocks, up to minutes for an unreachable host;
 * connecting a socket of our own first keeps the event loop free, and once
 * the broker has accepted it libmosquitto's connect completes in one round
 * trip. The probe's socket is closed before that: it only answers "is
 * anybody listening".
 */
#include "broker_probe.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum broker_failure broker_probe_start(const char *host, int port, int *fd, char *why,
				       size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *ai = NULL, *a;
	char service[8];
	int rc, e = 0;

	*fd = -1;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &ai);
	if (rc) {
		snprintf(why, whylen, "%s", gai_strerror(rc));
		return BROKER_FAIL_RESOLVE;
	}
	/* Addresses that fail at once (e.g. ::1 with the broker on 127.0.0.1 only)
	 * are skipped; the first pending or connected one is probed. */
	for (a = ai; a; a = a->ai_next) {
		*fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (*fd >= 0 && (connect(*fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS))
			break;
		e = errno;
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	freeaddrinfo(ai);
	if (*fd < 0) {
		snprintf(why, whylen, "%s", strerror(e));
		return BROKER_FAIL_UNREACHABLE;
	}
	return BROKER_OK;
}

int broker_probe_result(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int e = 0;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	return e ? -e : 1;
}
