/*
 * sim_listen.c - listening socket set-up.
 */
#include "sim_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

static int open_unix(struct sim_listener *l, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "unix socket path empty or longer than %zu bytes",
			 sizeof(sun.sun_path) - 1);
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* A socket left behind by an earlier run is replaced; any other file
	 * at that path is not ours to remove. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(l->fd, 4)) {
		snprintf(err, errlen, "cannot listen on unix:%s: %s", path, strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		return -1;
	}
	strcpy(l->unix_path, path);
	snprintf(l->where, sizeof(l->where), "unix:%s", path);
	return 0;
}

static int open_tcp(struct sim_listener *l, const char *hostport, char *err, size_t errlen)
{
	char host[128];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints, *ai = NULL;
	int one = 1;

	if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof(host) || !colon[1]) {
		snprintf(err, errlen, "bad tcp address '%s' (tcp:HOST:PORT)", hostport);
		return -1;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	/* [::1]:PORT */
	char *h = host;

	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = 0;
		h++;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	int gai = getaddrinfo(h, colon + 1, &hints, &ai);

	if (gai) {
		snprintf(err, errlen, "bad tcp address '%s': %s", hostport, gai_strerror(gai));
		return -1;
	}
	if (!is_loopback(ai->ai_addr)) {
		snprintf(err, errlen, "refusing to listen on %s: only loopback addresses", h);
		freeaddrinfo(ai);
		return -1;
	}
	l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l->fd, ai->ai_addr, ai->ai_addrlen) || listen(l->fd, 4)) {
		snprintf(err, errlen, "cannot listen on tcp:%s: %s", hostport, strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);

	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (!getsockname(l->fd, (struct sockaddr *)&ss, &sl)) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
			port = ntohs(in->sin_port);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
			port = ntohs(in6->sin6_port);
		}
	}
	snprintf(l->where, sizeof(l->where), ss.ss_family == AF_INET6 ? "tcp:[%s]:%u" : "tcp:%s:%u",
		 addr, port);
	return 0;
}

int sim_listen_open(struct sim_listener *l, const char *spec, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (!strncmp(spec, "unix:", 5))
		return open_unix(l, spec + 5, err, errlen);
	if (!strncmp(spec, "tcp:", 4))
		return open_tcp(l, spec + 4, err, errlen);
	snprintf(err, errlen, "bad listen address '%s' (unix:PATH or tcp:HOST:PORT)", spec);
	return -1;
}

void sim_listen_close(struct sim_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->unix_path[0])
		unlink(l->unix_path);
	l->fd = -1;
	l->unix_path[0] = 0;
}
