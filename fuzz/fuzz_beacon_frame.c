/*
 * fuzz_beacon_frame - arbitrary bytes as advertising data.
 *
 * bf_ad_next and bf_decode must stay inside the buffer (ASan) and
 * terminate; every frame that decodes must encode and decode back to an
 * equal frame, and the URL compressor must accept what the URL
 * decompressor produced. A violated property is a crash (__builtin_trap)
 * so libFuzzer keeps the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "beacon_frame.h"

#define MAX_FRAMES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ad_walk(const uint8_t *data, size_t size)
{
	size_t off = 0, prev = 0, count = 0;
	struct bf_ad ad;

	while (bf_ad_next(data, size, &off, &ad)) {
		/* progress, inside the buffer, value inside the structure */
		if (off <= prev || off > size)
			__builtin_trap();
		if (ad.value < data || ad.value + ad.len > data + size)
			__builtin_trap();
		prev = off;
		if (++count > size)
			__builtin_trap();
	}
}

static void check_round_trip(const struct bf_frame *f)
{
	uint8_t buf[BF_LEGACY_ADV_MAX];
	struct bf_frame back[MAX_FRAMES];
	size_t n = bf_encode(f, buf, sizeof(buf));

	if (n == 0 || n > sizeof(buf))
		__builtin_trap();
	if (bf_decode(buf, n, back, MAX_FRAMES) != 1)
		__builtin_trap();
	if (!bf_frame_equal(f, &back[0]))
		__builtin_trap();
	/* a buffer one byte short is refused, not overrun */
	if (bf_encode(f, buf, n - 1) != 0)
		__builtin_trap();
}

/* Raw bytes as an encoded URL: if they decode, they re-encode. */
static void check_url(const uint8_t *data, size_t size)
{
	char url[BF_URL_MAX + 1];
	uint8_t enc[32];

	if (size > 18)
		size = 18;
	if (!bf_url_decode(data, size, url, sizeof(url)))
		return;
	if (bf_url_encode(url, enc, sizeof(enc)) == 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bf_frame frames[MAX_FRAMES];
	size_t n, i;

	check_ad_walk(data, size);
	n = bf_decode(data, size, frames, MAX_FRAMES);
	for (i = 0; i < n && i < MAX_FRAMES; i++) {
		if (bf_type_name(frames[i].type)[0] == '\0')
			__builtin_trap();
		check_round_trip(&frames[i]);
	}
	/* the count does not depend on how many the caller can take */
	if (bf_decode(data, size, NULL, 0) != n)
		__builtin_trap();
	check_url(data, size);
	return 0;
}
