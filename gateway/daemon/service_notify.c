/*
 * service_notify.c - $NOTIFY_SOCKET datagrams and $WATCHDOG_USEC (see
 * service_notify.h). A socket per message, as libsystemd does: messages are
 * seconds apart, and a socket kept open would outlive a manager restart.
 */
#include "service_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int service_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n, len = strlen(state);
	socklen_t salen;
	ssize_t sent;
	int fd, err;

	if (!path || !path[0])
		return 0;
	/* A path, or '@' for a name in the abstract namespace. */
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
		return -EAFNOSUPPORT;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	/* A path counts its NUL, an abstract name does not. */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sent = sendto(fd, state, len, MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
	err = errno;
	close(fd);
	if (sent < 0)
		return -err;
	return (size_t)sent == len ? 1 : -EMSGSIZE;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

int service_watchdog_usec(uint64_t *usec)
{
	const char *pid = getenv("WATCHDOG_PID");
	uint64_t v, p;

	if (parse_u64(getenv("WATCHDOG_USEC"), &v) || v == 0)
		return 0;
	/* Meant for another process (inherited through a fork and exec)? */
	if (pid && (parse_u64(pid, &p) || p != (uint64_t)getpid()))
		return 0;
	*usec = v;
	return 1;
}
