/* pl_json.h - allocation-free helpers for the small fixed-shape JSON payloads. */
#ifndef BGW_PL_JSON_H
#define BGW_PL_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Escape s as the inside of a JSON string (no quotes added); truncates to
 * cap - 1 bytes on a character boundary of the escaped form. */
void pl_json_escape(char *out, size_t cap, const char *s);

/* "2026-11-22T20:40:12.345Z" from µs since the epoch. */
void pl_json_time(char *out, size_t cap, uint64_t ts_us);

#endif
