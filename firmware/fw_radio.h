/* fw_radio.h - RADIO in BLE 1 Mbit/s mode, sending legacy advertising PDUs. */
#ifndef FW_RADIO_H
#define FW_RADIO_H

#include <stdint.h>

#define FW_BLE_ACCESS_ADDRESS 0x8E89BED6u /* advertising channels, Core Vol 6 B 2.1.2 */
#define FW_BLE_CRC_POLY 0x00065Bu         /* x^24 + x^10 + x^9 + x^6 + x^4 + x^3 + x + 1 */
#define FW_BLE_CRC_INIT 0x555555u         /* advertising channel CRC preset */
#define FW_ADV_PDU_MAX (2 + 37)           /* header + AdvA + 31 bytes AdvData */

/* Chip facts from FICR, used for TX power steps and errata. */
struct fw_chip {
	uint32_t part;    /* FICR INFO.PART: 0x52832, 0x52840 */
	uint32_t variant; /* FICR INFO.VARIANT, e.g. "AAE0" */
};

void fw_chip_read(struct fw_chip *chip);

/* The TXPOWER step the chip supports at or below dbm (PS RADIO TXPOWER). */
int8_t fw_radio_tx_power_step(const struct fw_chip *chip, int8_t dbm);

/* One-time setup: mode, packet format, access address, CRC, whitening,
 * TX power, and the errata workarounds that apply to this chip. */
void fw_radio_init(const struct fw_chip *chip, int8_t tx_power_dbm);

/* Send one PDU (header, length, payload, in RAM) on advertising channel
 * 37, 38 or 39 and return once the radio is disabled again. HFXO must run. */
void fw_radio_send(uint8_t channel, const uint8_t *pdu);

/* RF channel of an advertising channel index: 2402, 2426, 2480 MHz. */
uint8_t fw_radio_frequency(uint8_t channel);

#endif
