/*
 * source_h4.c - an HCI controller speaking H4 over a byte stream: a unix
 * or TCP socket (beaconsim, a serial-to-network bridge) or a UART.
 *
 * Bytes go through the H4 stream decoder, which resynchronises after
 * garbage. When the stream ends or fails, the link is reported down and
 * reopened every SOURCE_RETRY_MS; the owner sets the controller up again.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "h4.h"
#include "log.h"
#include "source_impl.h"
#include "bgw_util.h"

struct h4_link {
	int fd;
	uint64_t retry_at_ms;
	struct source *s;
	struct h4_decoder dec;
	uint64_t garbage_before;  /* skipped on earlier connections (the decoder restarts) */
	uint64_t read_us;         /* when the bytes being decoded were read */
};

static const struct {
	uint32_t baud;
	speed_t speed;
} speeds[] = {
	{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
	{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 }, { 500000, B500000 },
	{ 576000, B576000 }, { 921600, B921600 }, { 1000000, B1000000 },
	{ 1152000, B1152000 }, { 1500000, B1500000 }, { 2000000, B2000000 },
	{ 2500000, B2500000 }, { 3000000, B3000000 }, { 3500000, B3500000 },
	{ 4000000, B4000000 },
};

static void on_packet(void *ctx, uint8_t type, const uint8_t *pkt, size_t len)
{
	struct h4_link *l = ctx;

	l->s->cb.packet(l->s->cb.ctx, type, pkt, len, l->read_us);
}

static int open_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

static int open_tcp(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char portstr[8];
	int fd = -1, rc;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	rc = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		/* Bounded: a connect to a silent host must not stall the loop for long. */
		struct timeval tv = { .tv_sec = 2 };

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		rc = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "%s:%u: %s", host, port, strerror(-rc));
		return rc;
	}
	return fd;
}

static int open_tty(const char *dev, uint32_t baud, char *err, size_t errlen)
{
	struct termios tio;
	speed_t speed = B0;
	int fd, rc;

	for (size_t i = 0; i < BGW_ARRAY_SIZE(speeds); i++)
		if (speeds[i].baud == baud)
			speed = speeds[i].speed;
	if (speed == B0) {
		snprintf(err, errlen, "%s: unsupported baud rate %u", dev, baud);
		return -EINVAL;
	}
	fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dev, strerror(errno));
		return rc;
	}
	if (tcgetattr(fd, &tio) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: not a terminal: %s", dev, strerror(errno));
		close(fd);
		return rc;
	}
	/* Raw 8N1 with RTS/CTS: HCI UART transports need hardware flow control. */
	cfmakeraw(&tio);
	tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CSIZE);
	tio.c_cflag |= CS8 | CLOCAL | CREAD | CRTSCTS;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, speed);
	cfsetospeed(&tio, speed);
	if (tcsetattr(fd, TCSANOW, &tio) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot configure: %s", dev, strerror(errno));
		close(fd);
		return rc;
	}
	tcflush(fd, TCIOFLUSH);
	return fd;
}

static int connect_link(struct source *s, struct h4_link *l, char *err, size_t errlen)
{
	int fd;

	switch (s->spec.kind) {
	case SOURCE_H4_UNIX:
		fd = open_unix(s->spec.path, err, errlen);
		break;
	case SOURCE_H4_TCP:
		fd = open_tcp(s->spec.host, s->spec.port, err, errlen);
		break;
	default:
		fd = open_tty(s->spec.path, s->spec.baud, err, errlen);
		break;
	}
	if (fd < 0)
		return fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	l->fd = fd;
	/* Whatever was half-received on the old link is gone; its count of
	 * skipped garbage is kept for the report at close. */
	l->garbage_before += l->dec.garbage_bytes;
	h4_decoder_init(&l->dec, on_packet, l);
	return 0;
}

static int h4_open(struct source *s, char *err, size_t errlen)
{
	struct h4_link *l = calloc(1, sizeof(*l));
	int rc;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->fd = -1;
	l->s = s;
	rc = connect_link(s, l, err, errlen);
	if (rc < 0) {
		free(l);
		return rc;
	}
	s->impl = l;
	source_set_up(s, true);
	return 0;
}

static int h4_fd(const struct source *s)
{
	const struct h4_link *l = s->impl;

	return l ? l->fd : -1;
}

static void drop_link(struct source *s, struct h4_link *l, const char *why, uint64_t now_ms)
{
	log_limited(LOG_PRIO_WARNING, "h4 link down", "h4: link lost (%s); retrying every %u ms",
		    why, SOURCE_RETRY_MS);
	if (l->dec.garbage_bytes)
		log_info("h4: %llu garbage bytes skipped on the lost link",
			 (unsigned long long)l->dec.garbage_bytes);
	close(l->fd);
	l->fd = -1;
	l->retry_at_ms = now_ms + SOURCE_RETRY_MS;
	source_set_up(s, false);
}

static int64_t h4_delay_ms(struct source *s, uint64_t now_ms)
{
	struct h4_link *l = s->impl;

	if (!l || l->fd >= 0)
		return -1;
	return l->retry_at_ms > now_ms ? (int64_t)(l->retry_at_ms - now_ms) : 0;
}

static int h4_read(struct source *s, uint64_t now_ms)
{
	struct h4_link *l = s->impl;
	uint8_t buf[4096];

	if (!l)
		return -EBADF;
	if (l->fd < 0) {
		char err[256];

		if (now_ms < l->retry_at_ms)
			return SOURCE_OK;
		if (connect_link(s, l, err, sizeof(err)) < 0) {
			log_debug("h4: reconnect failed: %s", err);
			l->retry_at_ms = now_ms + SOURCE_RETRY_MS;
			return SOURCE_OK;
		}
		log_notice("h4: link up again");
		source_set_up(s, true);
		return SOURCE_OK;
	}
	/* Bounded work per wake-up; the loop comes back while data remains. */
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(l->fd, buf, sizeof(buf));

		if (n > 0) {
			/* One clock read per read(): the packets it completes arrived
			 * together, and a busy UART delivers dozens of reports in one. */
			l->read_us = source_wall_us();
			h4_decoder_feed(&l->dec, buf, (size_t)n);
			if (l->fd < 0)
				break;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		drop_link(s, l, n == 0 ? "end of stream" : strerror(errno), now_ms);
		break;
	}
	return SOURCE_OK;
}

static int h4_send(struct source *s, const uint8_t *pkt, size_t len)
{
	const struct h4_link *l = s->impl;

	return source_write_all(l ? l->fd : -1, pkt, len);
}

static void h4_close(struct source *s)
{
	struct h4_link *l = s->impl;

	if (!l)
		return;
	if (l->garbage_before + l->dec.garbage_bytes)
		log_info("h4: %llu garbage bytes skipped",
			 (unsigned long long)(l->garbage_before + l->dec.garbage_bytes));
	s->garbage_closed += l->garbage_before + l->dec.garbage_bytes; /* for the final metrics */
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	s->impl = NULL;
}

static uint64_t h4_garbage_bytes(const struct source *s)
{
	const struct h4_link *l = s->impl;

	return l ? l->garbage_before + l->dec.garbage_bytes : 0;
}

const struct source_ops source_h4_ops = {
	.name = "h4",
	.finite = false,
	.commands = true,
	.owns_controller = true,
	.open = h4_open,
	.fd = h4_fd,
	.delay_ms = h4_delay_ms,
	.read = h4_read,
	.send = h4_send,
	.close = h4_close,
	.garbage_bytes = h4_garbage_bytes,
};
