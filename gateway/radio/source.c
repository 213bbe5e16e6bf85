/*
 * source.c - SPEC parsing and the dispatch to the implementations.
 */
#include "source_impl.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bgw_clock.h"
#include "bgw_util.h"

static const uint32_t bauds[] = { 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000,
				  576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000,
				  3000000, 3500000, 4000000 };

bool source_baud_supported(uint32_t baud)
{
	for (size_t i = 0; i < BGW_ARRAY_SIZE(bauds); i++)
		if (bauds[i] == baud)
			return true;
	return false;
}

static int bad_spec(char *err, size_t errlen, const char *text, const char *why)
{
	snprintf(err, errlen, "bad source '%s': %s", text, why);
	return -1;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

static int copy(char *dst, const char *src, size_t n)
{
	if (!*src || strlen(src) >= n)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int source_spec_parse(const char *text, struct source_spec *spec, char *err, size_t errlen)
{
	unsigned long n;

	memset(spec, 0, sizeof(*spec));
	spec->dev_id = -1;
	if (!text || !*text)
		return bad_spec(err, errlen, "", "empty");
	if (strncmp(text, "btsnoop:", 8) == 0) {
		spec->kind = SOURCE_BTSNOOP;
		if (copy(spec->path, text + 8, sizeof(spec->path)) < 0)
			return bad_spec(err, errlen, text, "expected btsnoop:FILE");
		return 0;
	}
	if (strncmp(text, "hci:", 4) == 0) {
		spec->kind = SOURCE_HCI;
		if (strncmp(text + 4, "hci", 3) != 0 || parse_uint(text + 7, 0xFFFE, &n) < 0)
			return bad_spec(err, errlen, text, "expected hci:hciN (e.g. hci:hci0)");
		spec->dev_id = (int)n;
		return 0;
	}
	if (strncmp(text, "h4:unix:", 8) == 0) {
		spec->kind = SOURCE_H4_UNIX;
		/* sun_path holds 108 bytes with the NUL. */
		if (copy(spec->path, text + 8, 108) < 0)
			return bad_spec(err, errlen, text, "expected h4:unix:PATH (at most 107 bytes)");
		return 0;
	}
	if (strncmp(text, "h4:tcp:", 7) == 0) {
		const char *hp = text + 7, *colon = strrchr(hp, ':');
		size_t hlen;

		spec->kind = SOURCE_H4_TCP;
		if (!colon || colon == hp || parse_uint(colon + 1, 65535, &n) < 0 || n == 0)
			return bad_spec(err, errlen, text, "expected h4:tcp:HOST:PORT");
		hlen = (size_t)(colon - hp);
		/* [v6 address] */
		if (hp[0] == '[' && hlen >= 2 && hp[hlen - 1] == ']') {
			hp++;
			hlen -= 2;
		}
		if (hlen == 0 || hlen >= sizeof(spec->host) || memchr(hp, '[', hlen) ||
		    memchr(hp, ']', hlen))
			return bad_spec(err, errlen, text, "expected h4:tcp:HOST:PORT");
		memcpy(spec->host, hp, hlen);
		spec->host[hlen] = '\0';
		spec->port = (uint16_t)n;
		return 0;
	}
	if (strncmp(text, "h4:tty:", 7) == 0) {
		const char *dev = text + 7, *at = strrchr(dev, '@');
		size_t dlen = at ? (size_t)(at - dev) : strlen(dev);

		spec->kind = SOURCE_H4_TTY;
		spec->baud = SOURCE_DEFAULT_BAUD;
		if (dlen == 0 || dlen >= sizeof(spec->path))
			return bad_spec(err, errlen, text, "expected h4:tty:DEVICE[@BAUD]");
		memcpy(spec->path, dev, dlen);
		spec->path[dlen] = '\0';
		if (at) {
			if (parse_uint(at + 1, UINT32_MAX, &n) < 0 ||
			    !source_baud_supported((uint32_t)n))
				return bad_spec(err, errlen, text,
					    "unsupported baud rate (standard rates 9600..4000000)");
			spec->baud = (uint32_t)n;
		}
		return 0;
	}
	return bad_spec(err, errlen, text,
		    "expected hci:hciN, h4:unix:PATH, h4:tcp:HOST:PORT, h4:tty:DEVICE[@BAUD] or "
		    "btsnoop:FILE");
}

uint64_t source_wall_us(void)
{
	return bgw_wall_us();
}

void source_set_up(struct source *s, bool up)
{
	if (s->up == up)
		return;
	s->up = up;
	if (s->cb.link)
		s->cb.link(s->cb.ctx, up);
}

int source_write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	int waits = 0;

	if (fd < 0)
		return -ENOTCONN;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits++ < 5) {
			/* Commands are a few bytes; a full buffer means a stuck peer. */
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, 20);
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

struct source *source_new(const struct source_spec *spec, const struct source_options *opt,
			  const struct source_callbacks *cb)
{
	struct source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->spec = *spec;
	if (opt)
		s->opt = *opt;
	s->cb = *cb;
	switch (spec->kind) {
	case SOURCE_BTSNOOP:
		s->ops = &source_btsnoop_ops;
		break;
	case SOURCE_H4_UNIX:
	case SOURCE_H4_TCP:
	case SOURCE_H4_TTY:
		s->ops = &source_h4_ops;
		break;
	case SOURCE_HCI:
		s->ops = &source_hci_ops;
		break;
	}
	return s;
}

void source_free(struct source *s)
{
	if (!s)
		return;
	if (s->ops->close)
		s->ops->close(s);
	free(s);
}

int source_open(struct source *s, char *err, size_t errlen)
{
	return s->ops->open(s, err, errlen);
}

int source_fd(const struct source *s)
{
	return s->ops->fd(s);
}

int64_t source_delay_ms(struct source *s, uint64_t now_ms)
{
	return s->ops->delay_ms ? s->ops->delay_ms(s, now_ms) : -1;
}

int source_read(struct source *s, uint64_t now_ms)
{
	return s->ops->read(s, now_ms);
}

int source_send(struct source *s, const uint8_t *pkt, size_t len)
{
	if (!s->ops->commands || !s->ops->send)
		return -ENOTSUP;
	if (!s->up)
		return -ENOTCONN;
	return s->ops->send(s, pkt, len);
}

bool source_is_finite(const struct source *s) { return s->ops->finite; }
bool source_accepts_commands(const struct source *s) { return s->ops->commands; }
bool source_is_up(const struct source *s) { return s->up; }
bool source_owns_controller(const struct source *s) { return s->ops->owns_controller; }

uint64_t source_garbage_bytes(const struct source *s)
{
	return s->garbage_closed + (s->ops->garbage_bytes ? s->ops->garbage_bytes(s) : 0);
}

const char *source_kind_name(const struct source *s)
{
	switch (s->spec.kind) {
	case SOURCE_BTSNOOP: return "btsnoop";
	case SOURCE_H4_UNIX: return "h4:unix";
	case SOURCE_H4_TCP: return "h4:tcp";
	case SOURCE_H4_TTY: return "h4:tty";
	case SOURCE_HCI: return "hci";
	}
	return "?";
}
