/*
 * source.h - where HCI packets come from, whatever the transport:
 *
 *   btsnoop:FILE              replay of a capture (finite; its timestamps are the clock)
 *   h4:unix:PATH              H4 over a unix stream socket (e.g. beaconsim)
 *   h4:tcp:HOST:PORT          H4 over TCP
 *   h4:tty:DEVICE[@BAUD]      H4 over a UART (raw 8N1, RTS/CTS), e.g. an nRF52840 dongle
 *   hci:hciN                  a BlueZ adapter through a raw HCI socket (libbluetooth)
 *
 * A source is loop-agnostic: it exposes an fd to wait on (or a delay after
 * which source_read should run, for replays and reconnection attempts),
 * hands every packet it reads to a callback as (H4 type, HCI packet without
 * the type byte, timestamp), and takes HCI commands if it is live. Links
 * that drop (socket closed, adapter down, UART unplugged) report "down",
 * retry by themselves and report "up" again; the caller then runs the
 * controller setup again.
 */
#ifndef BGW_SOURCE_H
#define BGW_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOURCE_SPEC_MAX 256

enum source_kind {
	SOURCE_BTSNOOP = 0,
	SOURCE_H4_UNIX,
	SOURCE_H4_TCP,
	SOURCE_H4_TTY,
	SOURCE_HCI,
};

struct source_spec {
	enum source_kind kind;
	char path[SOURCE_SPEC_MAX];   /* btsnoop file, unix socket, tty device */
	char host[SOURCE_SPEC_MAX];   /* tcp */
	uint16_t port;                /* tcp */
	uint32_t baud;                /* tty */
	int dev_id;                   /* hci: N of hciN */
};

#define SOURCE_DEFAULT_BAUD 1000000u

/* Parse SPEC; 0, or -1 with a one-line reason in err. */
int source_spec_parse(const char *text, struct source_spec *spec, char *err, size_t errlen);

/* Is this a supported UART speed? */
bool source_baud_supported(uint32_t baud);

struct source_callbacks {
	void *ctx;
	/* One HCI packet: type is the H4 packet type (0x04 event ...). */
	void (*packet)(void *ctx, uint8_t type, const uint8_t *pkt, size_t len, uint64_t ts_us);
	/* The link came up (again) or went down. May be NULL. */
	void (*link)(void *ctx, bool up);
};

struct source_options {
	bool realtime;                /* btsnoop: pace by the capture's timestamps */
};

struct source;

/* Result of source_read. */
#define SOURCE_OK 0
#define SOURCE_END 1              /* a finite source is finished */

struct source *source_new(const struct source_spec *spec, const struct source_options *opt,
			  const struct source_callbacks *cb);
void source_free(struct source *s);

/* Open for the first time. 0, or -errno with a one-line reason in err. */
int source_open(struct source *s, char *err, size_t errlen);

/* fd to wait for readability on, or -1 (then use source_delay_ms). */
int source_fd(const struct source *s);

/* With no fd: milliseconds until source_read should run; -1 = never. */
int64_t source_delay_ms(struct source *s, uint64_t now_ms);

/* Read what is available (or, with no fd, do the due work). SOURCE_OK,
 * SOURCE_END, or -errno for a fatal error (message logged). */
int source_read(struct source *s, uint64_t now_ms);

/* Send one H4 packet (type byte first). -ENOTSUP on replays, -ENOTCONN
 * while the link is down. */
int source_send(struct source *s, const uint8_t *pkt, size_t len);

bool source_is_finite(const struct source *s);
bool source_accepts_commands(const struct source *s);
bool source_is_up(const struct source *s);
/* Does the daemon own the controller (send Reset by default)? */
bool source_owns_controller(const struct source *s);
/* Bytes of a byte stream (H4) skipped while resynchronising: line noise,
 * a controller that restarted mid-packet. 0 for packet sources. */
uint64_t source_garbage_bytes(const struct source *s);
/* "btsnoop", "h4:unix", ... (no paths: safe for status lines). */
const char *source_kind_name(const struct source *s);

#endif
