/* pl_json.c - JSON string escaping and timestamps without allocation. */
#include "pl_json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void pl_json_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	if (!cap)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t n;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c < 0x20) {
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		if (o + n >= cap)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = '\0';
}

void pl_json_time(char *out, size_t cap, uint64_t ts_us)
{
	time_t t = (time_t)(ts_us / 1000000u);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%03uZ", base, (unsigned)(ts_us % 1000000u / 1000u));
}
