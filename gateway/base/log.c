/*
 * log.c - stderr logging in a journald-friendly form, with rate limiting.
 */
#include "log.h"

#include "bgw_clock.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define LOG_LINE_MAX 512
#define LOG_DEFAULT_PROGRAM "beacongw"
#define LOG_KEYS 32

struct limit_slot {
	const char *key;
	enum log_prio prio;
	uint64_t window_start_ms;
	uint64_t suppressed;
};

static struct {
	FILE *out;
	const char *program;
	bool journal;
	bool verbose;
	uint64_t (*now_ms)(void);
	struct limit_slot slots[LOG_KEYS];
} g_log = { .out = NULL };

static const char *prio_name(enum log_prio prio)
{
	switch (prio) {
	case LOG_PRIO_ERR: return "error";
	case LOG_PRIO_WARNING: return "warning";
	case LOG_PRIO_NOTICE: return "notice";
	case LOG_PRIO_INFO: return "info";
	case LOG_PRIO_DEBUG: return "debug";
	}
	return "log";
}

void log_init(bool verbose)
{
	g_log.out = stderr;
	g_log.verbose = verbose;
	g_log.journal = getenv("JOURNAL_STREAM") != NULL || getenv("INVOCATION_ID") != NULL;
	g_log.now_ms = bgw_mono_ms;
	memset(g_log.slots, 0, sizeof(g_log.slots));
}

void log_set_verbose(bool verbose) { g_log.verbose = verbose; }
bool log_is_verbose(void) { return g_log.verbose; }
void log_set_program(const char *name) { g_log.program = name; }
void log_set_stream(FILE *f) { g_log.out = f; }
void log_set_journal(bool journal) { g_log.journal = journal; }
void log_set_clock(uint64_t (*now_ms)(void)) { g_log.now_ms = now_ms ? now_ms : bgw_mono_ms; }

/* Appends s to line[*n], keeping one byte for the newline: what does not
 * fit is cut, as snprintf cut it. */
static void put(char *line, size_t cap, size_t *n, const char *s)
{
	size_t k = strlen(s);

	if (k > cap - 1 - *n)
		k = cap - 1 - *n;
	memcpy(line + *n, s, k);
	*n += k;
}

/* One write per line so concurrent writers to the journal stream never
 * interleave. The line is put together without printf: each visit and
 * trigger logs one, and printf's format parsing was half their cost. */
static void emit(enum log_prio prio, const char *text)
{
	char line[LOG_LINE_MAX + 32];
	size_t n = 0;
	FILE *out = g_log.out ? g_log.out : stderr;

	if (g_log.journal) {
		char tag[] = { '<', (char)('0' + ((unsigned)prio & 7)), '>', '\0' };

		put(line, sizeof(line), &n, tag);
	} else {
		put(line, sizeof(line), &n, g_log.program ? g_log.program : LOG_DEFAULT_PROGRAM);
		put(line, sizeof(line), &n, ": ");
		put(line, sizeof(line), &n, prio_name(prio));
		put(line, sizeof(line), &n, ": ");
	}
	put(line, sizeof(line), &n, text);
	/* A message never spans lines: a newline inside would forge a new entry. */
	for (char *c = line; (c = memchr(c, '\n', (size_t)(line + n - c))); )
		*c++ = ' ';
	for (char *c = line; (c = memchr(c, '\r', (size_t)(line + n - c))); )
		*c++ = ' ';
	line[n] = '\n';
	fwrite(line, 1, n + 1, out);
	fflush(out);
}

/* Appends the decimal digits of v (negative when neg) to out[*n], as far
 * as cap - 1 allows. */
static void put_dec(char *out, size_t cap, size_t *n, unsigned long long v, bool neg)
{
	char d[24];
	size_t k = sizeof(d);

	do
		d[--k] = (char)('0' + v % 10u);
	while (v /= 10u);
	if (neg)
		d[--k] = '-';
	for (; k < sizeof(d) && *n < cap - 1; k++)
		out[(*n)++] = d[k];
}

/*
 * vsnprintf(out, cap, fmt, ap) for the formats log lines use: %s, %c, %%
 * and d/u with no, l, ll or z length, without flags, width or precision.
 * Each visit and trigger logs a line and printf's format machinery was
 * more than half its cost. false, with ap untouched, for any other
 * conversion: the caller then formats with vsnprintf, so every line comes
 * out as printf writes it.
 */
static bool format_plain(char *out, size_t cap, const char *fmt, va_list ap0)
{
	size_t n = 0;
	va_list ap;

	va_copy(ap, ap0);
	for (const char *f = fmt; *f; f++) {
		const char *s;
		int len = 0;

		if (*f != '%') {
			if (n < cap - 1)
				out[n++] = *f;
			continue;
		}
		f++;
		if (*f == 'l') {
			len = 1;
			if (*++f == 'l') {
				len = 2;
				f++;
			}
		} else if (*f == 'z') {
			len = 3;
			f++;
		}
		switch (*f) {
		case '%':
			if (len)
				goto other;
			if (n < cap - 1)
				out[n++] = '%';
			break;
		case 's':
			if (len)
				goto other;
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			put(out, cap, &n, s);
			break;
		case 'c':
			if (len)
				goto other;
			if (n < cap - 1)
				out[n++] = (char)va_arg(ap, int);
			break;
		case 'u': {
			unsigned long long v = len == 0 ? va_arg(ap, unsigned)
					     : len == 1 ? va_arg(ap, unsigned long)
					     : len == 2 ? va_arg(ap, unsigned long long)
							: va_arg(ap, size_t);

			put_dec(out, cap, &n, v, false);
			break;
		}
		case 'd': {
			long long v = len == 0 ? va_arg(ap, int)
				    : len == 1 ? va_arg(ap, long)
				    : len == 2 ? va_arg(ap, long long)
					       : (long long)va_arg(ap, ssize_t);

			put_dec(out, cap, &n, v < 0 ? 0ull - (unsigned long long)v
						    : (unsigned long long)v, v < 0);
			break;
		}
		default:
			goto other;
		}
	}
	va_end(ap);
	out[n] = '\0';
	return true;
other:
	va_end(ap);
	return false;
}

static void vlog(enum log_prio prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vlog(enum log_prio prio, const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX];

	if (!format_plain(text, sizeof(text), fmt, ap))
		vsnprintf(text, sizeof(text), fmt, ap);
	emit(prio, text);
}

void log_msg(enum log_prio prio, const char *fmt, ...)
{
	va_list ap;

	if (prio == LOG_PRIO_DEBUG && !g_log.verbose)
		return;
	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

static void summarize(struct limit_slot *s)
{
	char text[LOG_LINE_MAX];

	if (s->suppressed == 0)
		return;
	snprintf(text, sizeof(text), "%s: %llu repeats suppressed", s->key,
		 (unsigned long long)s->suppressed);
	emit(s->prio, text);
	s->suppressed = 0;
}

static struct limit_slot *find_slot(const char *key)
{
	struct limit_slot *free_slot = NULL, *oldest = &g_log.slots[0];

	for (size_t i = 0; i < LOG_KEYS; i++) {
		struct limit_slot *s = &g_log.slots[i];

		if (s->key && (s->key == key || strcmp(s->key, key) == 0))
			return s;
		if (!s->key && !free_slot)
			free_slot = s;
		if (s->key && s->window_start_ms < oldest->window_start_ms)
			oldest = s;
	}
	if (free_slot)
		return free_slot;
	/* Table full: recycle the stalest key, reporting what it held back. */
	summarize(oldest);
	oldest->key = NULL;
	return oldest;
}

void log_limited(enum log_prio prio, const char *key, const char *fmt, ...)
{
	uint64_t now = (g_log.now_ms ? g_log.now_ms : bgw_mono_ms)();
	struct limit_slot *s;
	va_list ap;

	if (prio == LOG_PRIO_DEBUG && !g_log.verbose)
		return;
	s = find_slot(key);
	if (s->key && now - s->window_start_ms < LOG_RATELIMIT_WINDOW_MS) {
		s->suppressed++;
		return;
	}
	if (s->key)
		summarize(s);
	s->key = key;
	s->prio = prio;
	s->window_start_ms = now;
	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

void log_flush_suppressed(void)
{
	uint64_t now = (g_log.now_ms ? g_log.now_ms : bgw_mono_ms)();

	for (size_t i = 0; i < LOG_KEYS; i++) {
		struct limit_slot *s = &g_log.slots[i];

		if (s->key && s->suppressed &&
		    now - s->window_start_ms >= LOG_RATELIMIT_WINDOW_MS) {
			summarize(s);
			/* A new window starts with the next message. */
			s->key = NULL;
		}
	}
}

void log_flush_all_suppressed(void)
{
	for (size_t i = 0; i < LOG_KEYS; i++) {
		struct limit_slot *s = &g_log.slots[i];

		if (s->key && s->suppressed) {
			summarize(s);
			s->key = NULL;
		}
	}
}
