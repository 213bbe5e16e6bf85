/*
 * scn_lex.h - the words and values of a beaconsim scenario line: splitting
 * a line into words and a word into colon fields, and reading numbers,
 * durations, ranges, device addresses and times.
 *
 * Every reader returns 0 and fills *out, or -1 and leaves the reporting
 * (with the line number) to the caller; none of them allocates. The
 * command line of beaconsim reads --seed, --duration and --start-time with
 * the same functions, so a value means the same there as in a file.
 */
#ifndef BGW_SIM_SCN_LEX_H
#define BGW_SIM_SCN_LEX_H

#include <stddef.h>
#include <stdint.h>

/* The longest TIME anywhere: a year and a day. */
#define SCN_LEX_MAX_DURATION_US (366ull * 24 * 3600 * 1000000)

/*
 * Split a line in place into blank-separated words, stopping at a '#' that
 * starts a word (a comment). Returns the number of words, or -1 when there
 * are more than max.
 */
int scn_lex_words(char *line, char **argv, int max);

/* Split "a:b:c" in place into at most max fields; returns the count, or
 * max + 1 when there are more. */
size_t scn_lex_fields(char *s, char **fields, size_t max);

/* An integer in [lo, hi], decimal or hex with 0x. A leading zero is just a
 * zero: "0110" is one hundred and ten, never octal. */
int scn_lex_int(const char *s, long long lo, long long hi, long long *out);

/* An unsigned 64-bit integer, decimal or 0x hex; no sign. */
int scn_lex_u64(const char *s, uint64_t *out);

/* A finite number in [lo, hi]. */
int scn_lex_double(const char *s, double lo, double hi, double *out);

/* "12.5s", "15m", "1h30m", "250ms", "2d", or bare seconds, at most
 * SCN_LEX_MAX_DURATION_US. */
int scn_lex_duration(const char *s, uint64_t *out_us);

/* "MIN..MAX" (MIN <= MAX) or one value for both. */
int scn_lex_range(const char *s, double lo, double hi, double *min, double *max);
int scn_lex_duration_range(const char *s, uint64_t *min_us, uint64_t *max_us);

/* AA:BB:CC:DD:EE:FF, most significant first, stored in HCI wire order
 * (addr[0] least significant). */
int scn_lex_addr(const char *s, uint8_t addr[6]);

/* Unix seconds or YYYY-MM-DDTHH:MM:SSZ (UTC), up to 2100-01-01. */
int scn_lex_start_time(const char *s, int64_t *out);

#endif
