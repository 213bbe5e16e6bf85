/*
 * log.h - the daemon's log: one line per event on stderr.
 *
 * Under systemd (JOURNAL_STREAM or INVOCATION_ID in the environment) each
 * line starts with a "<N>" syslog priority that journald strips and keeps;
 * elsewhere lines read "beacongw: warning: ..." (or another program's name,
 * see log_set_program).
 *
 * Privacy rule: nothing here formats a device address or beacon identifier,
 * and callers must never pass one. Log counters, customer references of
 * consented customers, zone and campaign names -- never what a radio sent.
 */
#ifndef BGW_LOG_H
#define BGW_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* syslog(3) priorities, named so they do not clash with <syslog.h>. */
enum log_prio {
	LOG_PRIO_ERR = 3,
	LOG_PRIO_WARNING = 4,
	LOG_PRIO_NOTICE = 5,
	LOG_PRIO_INFO = 6,
	LOG_PRIO_DEBUG = 7,
};

/* How long repeats of one rate-limited key are folded into a summary. */
#define LOG_RATELIMIT_WINDOW_MS 10000u

/* Decide the format from the environment; verbose enables debug lines. */
void log_init(bool verbose);
void log_set_verbose(bool verbose);
bool log_is_verbose(void);

/* The name that starts each plain line (default "beacongw"; NULL restores
 * it): beaconsim and the other tools log through this one logger too.
 * name must outlive the logging, e.g. a string constant. */
void log_set_program(const char *name);

/* Tests: write to another stream, force the journald form, fake the clock. */
void log_set_stream(FILE *f);
void log_set_journal(bool journal);
void log_set_clock(uint64_t (*now_ms)(void));

void log_msg(enum log_prio prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Rate-limited: the first message of a key in a window is logged, the rest
 * of the window only counted; when the key is seen again after the window
 * (or log_flush_suppressed runs), "<key>: N repeats suppressed" is logged.
 * key must be a string constant naming the kind of event.
 */
void log_limited(enum log_prio prio, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Emit the summaries of windows that have ended (call from a timer). */
void log_flush_suppressed(void);

/* Emit every pending summary, ended window or not (at exit: a count held
 * back must not vanish with the process). */
void log_flush_all_suppressed(void);

#define log_err(...) log_msg(LOG_PRIO_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_PRIO_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_PRIO_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_PRIO_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_PRIO_DEBUG, __VA_ARGS__)

#endif
