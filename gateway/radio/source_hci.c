/*
 * source_hci.c - a BlueZ adapter through a raw HCI socket (libbluetooth).
 *
 * The kernel owns the adapter: no Reset by default, and the socket filter
 * passes only what the gateway needs (LE Meta, Command Complete/Status,
 * Hardware Error). The filter is installed right after opening, before
 * any command is sent, so no report between "scan enabled" and "filter
 * set" is lost.
 *
 * Adapter down and up: a raw socket bound to an adapter is not told when
 * the adapter goes down (reads simply stop), so a second raw socket, bound
 * to no adapter, listens to the kernel's stack-internal device events
 * (HCI_DEV_UP/DOWN/UNREG). Both sockets sit in a private epoll set whose fd
 * is the one the daemon waits on. Without that socket (it needs the same
 * rights as the first), the adapter is polled with HCIGETDEVINFO every
 * SOURCE_RETRY_MS after a read error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bluetooth/bluetooth.h>
#include <bluetooth/hci.h>
#include <bluetooth/hci_lib.h>

#include "log.h"
#include "source_impl.h"

struct hci_link {
	int fd;                 /* raw socket bound to the adapter, -1 while down */
	int watch;              /* raw socket for device events, -1 if unavailable */
	int ep;                 /* epoll set of both, -1 without watch */
	uint64_t retry_at_ms;
};

/* A socket for the kernel's device events (up, down, removed). */
static int open_watch(void)
{
	struct sockaddr_hci a = { .hci_family = AF_BLUETOOTH, .hci_dev = HCI_DEV_NONE,
				  .hci_channel = HCI_CHANNEL_RAW };
	struct hci_filter flt;
	int fd = socket(AF_BLUETOOTH, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, BTPROTO_HCI);

	if (fd < 0)
		return -1;
	hci_filter_clear(&flt);
	hci_filter_set_ptype(HCI_EVENT_PKT, &flt);
	hci_filter_set_event(EVT_STACK_INTERNAL, &flt);
	if (setsockopt(fd, SOL_HCI, HCI_FILTER, &flt, sizeof(flt)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void ep_add(struct hci_link *l, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (l->ep >= 0)
		epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void ep_del(struct hci_link *l, int fd)
{
	if (l->ep >= 0)
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
}

/* Is the adapter there (1 up, 0 down) or gone (-errno)? */
static int adapter_up(int dev_id)
{
	struct hci_dev_info di;

	if (hci_devinfo(dev_id, &di) < 0)
		return -errno;
	return hci_test_bit(HCI_UP, &di.flags) ? 1 : 0;
}

static int open_socket(int dev_id, char *err, size_t errlen)
{
	struct hci_filter flt;
	int fd = hci_open_dev(dev_id), rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "hci%d: %s", dev_id, strerror(errno));
		return rc;
	}
	hci_filter_clear(&flt);
	hci_filter_set_ptype(HCI_EVENT_PKT, &flt);
	hci_filter_set_event(EVT_LE_META_EVENT, &flt);
	hci_filter_set_event(EVT_CMD_COMPLETE, &flt);
	hci_filter_set_event(EVT_CMD_STATUS, &flt);
	hci_filter_set_event(EVT_HARDWARE_ERROR, &flt);
	if (setsockopt(fd, SOL_HCI, HCI_FILTER, &flt, sizeof(flt)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "hci%d: cannot set the HCI filter: %s", dev_id,
			 strerror(errno));
		hci_close_dev(fd);
		return rc;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "hci%d: %s", dev_id, strerror(errno));
		hci_close_dev(fd);
		return rc;
	}
	return fd;
}

static void hci_src_close(struct source *s);

static int hci_src_open(struct source *s, char *err, size_t errlen)
{
	struct hci_link *l = calloc(1, sizeof(*l));
	int up, fd;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->fd = -1;
	l->ep = -1;
	l->watch = open_watch();
	if (l->watch >= 0) {
		l->ep = epoll_create1(EPOLL_CLOEXEC);
		if (l->ep < 0) {
			close(l->watch);
			l->watch = -1;
		} else {
			ep_add(l, l->watch);
		}
	}
	up = adapter_up(s->spec.dev_id);
	if (up < 0) {
		snprintf(err, errlen, "hci%d: no such adapter (%s)", s->spec.dev_id, strerror(-up));
		s->impl = l;
		hci_src_close(s);
		return up;
	}
	s->impl = l;
	if (!up) {
		/* Not an error: wait for whoever powers the adapter (bluetoothd, rfkill). */
		log_notice("hci%d is down; waiting for it to come up", s->spec.dev_id);
		return 0;
	}
	fd = open_socket(s->spec.dev_id, err, errlen);
	if (fd < 0) {
		hci_src_close(s);
		return fd;
	}
	l->fd = fd;
	ep_add(l, fd);
	source_set_up(s, true);
	return 0;
}

static int hci_src_fd(const struct source *s)
{
	const struct hci_link *l = s->impl;

	if (!l)
		return -1;
	return l->ep >= 0 ? l->ep : l->fd;
}

static int64_t hci_src_delay_ms(struct source *s, uint64_t now_ms)
{
	struct hci_link *l = s->impl;

	if (!l || l->fd >= 0 || l->ep >= 0)
		return -1;
	return l->retry_at_ms > now_ms ? (int64_t)(l->retry_at_ms - now_ms) : 0;
}

static void go_down(struct source *s, struct hci_link *l, const char *why, uint64_t now_ms)
{
	if (l->fd < 0)
		return;
	log_warn("hci%d: adapter %s; waiting for it to come back", s->spec.dev_id, why);
	ep_del(l, l->fd);
	hci_close_dev(l->fd);
	l->fd = -1;
	l->retry_at_ms = now_ms + SOURCE_RETRY_MS;
	source_set_up(s, false);
}

static void reopen(struct source *s, struct hci_link *l)
{
	char err[256];
	int fd;

	if (l->fd >= 0 || adapter_up(s->spec.dev_id) != 1)
		return;
	fd = open_socket(s->spec.dev_id, err, sizeof(err));
	if (fd < 0) {
		log_limited(LOG_PRIO_WARNING, "hci reopen", "%s", err);
		return;
	}
	l->fd = fd;
	ep_add(l, fd);
	log_notice("hci%d is up", s->spec.dev_id);
	source_set_up(s, true);
}

/* Device events from the kernel: is it about our adapter? */
static void read_watch(struct source *s, struct hci_link *l, uint64_t now_ms)
{
	uint8_t buf[HCI_MAX_FRAME_SIZE];
	ssize_t n;

	while ((n = read(l->watch, buf, sizeof(buf))) > 0) {
		/* H4 type, event code 0xFD, length, type (2), event (2), dev_id (2) */
		uint16_t type, event, dev;

		if (n < 1 + 2 + 6 || buf[0] != HCI_EVENT_PKT || buf[1] != EVT_STACK_INTERNAL)
			continue;
		type = (uint16_t)(buf[3] | buf[4] << 8);
		event = (uint16_t)(buf[5] | buf[6] << 8);
		dev = (uint16_t)(buf[7] | buf[8] << 8);
		if (type != EVT_SI_DEVICE || dev != (uint16_t)s->spec.dev_id)
			continue;
		if (event == HCI_DEV_DOWN)
			go_down(s, l, "went down", now_ms);
		else if (event == HCI_DEV_UNREG)
			go_down(s, l, "was removed", now_ms);
		else if (event == HCI_DEV_UP)
			reopen(s, l);
	}
}

static int hci_src_read(struct source *s, uint64_t now_ms)
{
	struct hci_link *l = s->impl;
	uint8_t buf[HCI_MAX_FRAME_SIZE];

	if (!l)
		return -EBADF;
	if (l->watch >= 0)
		read_watch(s, l, now_ms);
	if (l->fd < 0) {
		/* Without the device-event socket: poll. */
		if (l->watch < 0) {
			l->retry_at_ms = now_ms + SOURCE_RETRY_MS;
			reopen(s, l);
		}
		return SOURCE_OK;
	}
	for (int i = 0; i < 64; i++) {
		/* One packet per read: H4 type byte, then the event. */
		ssize_t n = read(l->fd, buf, sizeof(buf));

		if (n > 1) {
			s->cb.packet(s->cb.ctx, buf[0], buf + 1, (size_t)n - 1, source_wall_us());
			if (l->fd < 0)
				break;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n >= 0)
			continue;
		go_down(s, l, strerror(errno), now_ms);
		break;
	}
	return SOURCE_OK;
}

static int hci_src_send(struct source *s, const uint8_t *pkt, size_t len)
{
	const struct hci_link *l = s->impl;

	return source_write_all(l ? l->fd : -1, pkt, len);
}

static void hci_src_close(struct source *s)
{
	struct hci_link *l = s->impl;

	if (!l)
		return;
	if (l->fd >= 0)
		hci_close_dev(l->fd);
	if (l->watch >= 0)
		close(l->watch);
	if (l->ep >= 0)
		close(l->ep);
	free(l);
	s->impl = NULL;
}

const struct source_ops source_hci_ops = {
	.name = "hci",
	.finite = false,
	.commands = true,
	.owns_controller = false,
	.open = hci_src_open,
	.fd = hci_src_fd,
	.delay_ms = hci_src_delay_ms,
	.read = hci_src_read,
	.send = hci_src_send,
	.close = hci_src_close,
};
