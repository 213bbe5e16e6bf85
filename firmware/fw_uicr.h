/*
 * fw_uicr.h - the tag configuration as stored in UICR CUSTOMER[0..31]
 * (0x10001080..0x100010FF), so one firmware image is provisioned many times.
 *
 * Layout (32-bit words, little-endian byte order inside the byte area):
 *   word 0      magic FW_UICR_MAGIC ("BGWF")
 *   word 1      bits 7:0 layout version (FW_UICR_VERSION), 31:8 zero
 *   words 2..30 byte area (116 bytes), offsets below, unused bytes 0
 *   word 31     CRC-32 (IEEE 802.3, as zlib's crc32) over words 0..30
 *               taken as 124 little-endian bytes
 * Byte area:
 *    0 interval_ms (u16 LE)    2 tx_power_dbm (i8)     3 ibeacon_power (i8)
 *    4 eddystone_power (i8)    5 eid_exponent          6 tlm_every
 *    7 schedule_len            8..11 schedule[4]       12..27 identity_key
 *   28 eid_clock_base (u32 LE) 32..47 ibeacon_uuid     48 major (u16 LE)
 *   50 minor (u16 LE)          52..61 uid_namespace    62..67 uid_instance
 *   68 url_len                 69..86 url (encoded)
 *   87 tlm_encrypted (0 plain TLM, 1 eTLM; was always 0 before eTLM)
 * An unprogrammed UICR (word 0 = 0xFFFFFFFF) means "use the build-time
 * defaults"; so does any other content that fails the checks.
 */
#ifndef FW_UICR_H
#define FW_UICR_H

#include <stdint.h>

#include "fw_config.h"

#define FW_UICR_WORDS 32
#define FW_UICR_MAGIC 0x46574742u /* "BGWF" in memory order */
#define FW_UICR_VERSION 1u
#define FW_UICR_ADDR 0x10001080u /* UICR.CUSTOMER[0] */

enum fw_uicr_status {
	FW_UICR_VALID = 0,
	FW_UICR_BLANK,       /* unprogrammed */
	FW_UICR_BAD_MAGIC,
	FW_UICR_BAD_VERSION,
	FW_UICR_BAD_CRC,
	FW_UICR_BAD_CONFIG,  /* CRC fine, values fail fw_config_check */
};

/* Encode cfg into the 32 words to program at FW_UICR_ADDR. Returns
 * FW_CONFIG_OK, or the validation error (words untouched). */
enum fw_config_error fw_uicr_encode(const struct fw_config *cfg, uint32_t words[FW_UICR_WORDS]);

/* Decode; *cfg is written only when the result is FW_UICR_VALID. */
enum fw_uicr_status fw_uicr_decode(const uint32_t words[FW_UICR_WORDS], struct fw_config *cfg);

/* CRC-32 (reflected, polynomial 0xEDB88320, init and final xor ~0). */
uint32_t fw_crc32(const uint8_t *data, uint32_t len);

#endif
