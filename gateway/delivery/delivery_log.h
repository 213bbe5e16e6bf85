/*
 * delivery_log.h - one-line log messages of the delivery component.
 *
 * By default lines go to stderr as "beacongw: delivery: ..." (journald adds
 * time and priority). The daemon may route them into its own logger.
 * Never pass a customer identifier to these functions.
 */
#ifndef BGW_DELIVERY_LOG_H
#define BGW_DELIVERY_LOG_H

#include <syslog.h>

typedef void (*delivery_log_fn)(int priority, const char *line);

/* NULL restores the stderr default. */
void delivery_log_set(delivery_log_fn fn);
void delivery_log_set_verbose(int verbose);

void delivery_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
