/*
 * source_impl.h - what each source implementation provides (private to
 * the source_*.c files).
 */
#ifndef BGW_SOURCE_IMPL_H
#define BGW_SOURCE_IMPL_H

#include "source.h"

struct source_ops {
	const char *name;
	bool finite;
	bool commands;
	bool owns_controller;
	int (*open)(struct source *s, char *err, size_t errlen);
	int (*fd)(const struct source *s);
	int64_t (*delay_ms)(struct source *s, uint64_t now_ms);
	int (*read)(struct source *s, uint64_t now_ms);
	int (*send)(struct source *s, const uint8_t *pkt, size_t len);
	void (*close)(struct source *s);
	/* Bytes skipped to find packet boundaries again on the open link(s).
	 * May be NULL. close adds them to source.garbage_closed. */
	uint64_t (*garbage_bytes)(const struct source *s);
};

struct source {
	const struct source_ops *ops;
	struct source_spec spec;
	struct source_options opt;
	struct source_callbacks cb;
	bool up;
	uint64_t garbage_closed;      /* garbage bytes of implementations already closed */
	void *impl;                   /* the implementation's state */
};

extern const struct source_ops source_btsnoop_ops;
extern const struct source_ops source_h4_ops;
extern const struct source_ops source_hci_ops;

/* Wall clock in µs since the Unix epoch: the timestamp of live packets. */
uint64_t source_wall_us(void);

/* Tell the owner the link changed (only on a change). */
void source_set_up(struct source *s, bool up);

/* Write all of buf to a non-blocking fd, waiting briefly for room;
 * -ENOTCONN for fd -1 (the link is down). */
int source_write_all(int fd, const uint8_t *buf, size_t len);

/* How often a dropped link is retried. */
#define SOURCE_RETRY_MS 1000

#endif
