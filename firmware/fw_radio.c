/* fw_radio.c - RADIO setup for BLE advertising and the per-chip errata. */
#include "fw_radio.h"

#include "hal.h"
#include "nrf52_regs.h"

void fw_chip_read(struct fw_chip *chip)
{
	chip->part = hal_read(NRF_REG(FICR, INFO_PART));
	chip->variant = hal_read(NRF_REG(FICR, INFO_VARIANT));
}

int8_t fw_radio_tx_power_step(const struct fw_chip *chip, int8_t dbm)
{
	/* PS RADIO TXPOWER: nRF52832 has +4, +3, 0, -4 ... -20 (step 4), -40;
	 * nRF52840 adds +2 .. +8 in 1 dB steps. */
	int8_t max = chip->part == FICR_PART_NRF52840 ? 8 : 4;

	if (dbm >= max)
		return max;
	if (dbm >= 2 && (chip->part == FICR_PART_NRF52840 || dbm == 3))
		return dbm;
	if (dbm >= 0)
		return 0;
	if (dbm >= -20)
		return (int8_t)-(((-dbm) + 3) / 4 * 4);
	return -40;
}

uint8_t fw_radio_frequency(uint8_t channel)
{
	switch (channel) {
	case 37:
		return 2;
	case 38:
		return 26;
	default:
		return 80;
	}
}

static void apply_errata(const struct fw_chip *chip)
{
	uint8_t build = (uint8_t)FICR_VARIANT_BUILD(chip->variant);

	if (chip->part != FICR_PART_NRF52832)
		/* nRF52840: its RADIO errata (e.g. 164, 191) concern Coded PHY
		 * (Long Range) or RSSI; none applies to 1 Mbit/s advertising. */
		return;
	if (build == 'B') {
		/* nRF52832 rev 1 (AAB0/ABB0): errata 102 (PAYLOAD/END delayed
		 * after ADDRESS), 106 (CRC errors for some access addresses),
		 * 107 (immediate address match for MSBs 0x00). The documented
		 * workaround costs 3 dB sensitivity, which a transmitter ignores. */
		uint32_t v = hal_read(NRF_REG(RADIO, ERRATA_102));

		hal_write(NRF_REG(RADIO, ERRATA_102), (v & 0xFFFFFFFEu) | 0x01000000u);
	} else if (build == 'E') {
		/* nRF52832 rev 2 (AAE0): erratum 182, "the fixes for anomalies
		 * 102, 106 and 107 do not take effect": rev 2 has the silicon
		 * fixes for the rev 1 problems above, but they are switched on
		 * only by this bit. Erratum 143 needs two logical addresses with
		 * equal prefixes; we only ever use address 0. */
		uint32_t v = hal_read(NRF_REG(RADIO, ERRATA_182));

		hal_write(NRF_REG(RADIO, ERRATA_182), v | (1u << 10));
	}
}

void fw_radio_init(const struct fw_chip *chip, int8_t tx_power_dbm)
{
	int8_t step = fw_radio_tx_power_step(chip, tx_power_dbm);

	hal_write(NRF_REG(RADIO, POWER), 1);
	apply_errata(chip);
	hal_write(NRF_REG(RADIO, MODE), RADIO_MODE_BLE_1MBIT);
	/* Fast ramp-up: 40 us instead of 140 us of TX current before each of
	 * the three packets (PS RADIO "Fast ramp-up"; both chips have it). */
	hal_write(NRF_REG(RADIO, MODECNF0), RADIO_MODECNF0_RU_FAST);
	hal_write(NRF_REG(RADIO, TXPOWER), (uint32_t)(int32_t)step);
	/* LL PDU in RAM: S0 = header byte, LENGTH = 8 bits, no S1. */
	hal_write(NRF_REG(RADIO, PCNF0),
		  RADIO_PCNF0_LFLEN(8) | RADIO_PCNF0_S0LEN(1) | RADIO_PCNF0_S1LEN(0));
	/* 37-byte payload max, 3-byte base + 1-byte prefix, LSB first, whitened. */
	hal_write(NRF_REG(RADIO, PCNF1),
		  RADIO_PCNF1_MAXLEN(37) | RADIO_PCNF1_STATLEN(0) | RADIO_PCNF1_BALEN(3) |
			  RADIO_PCNF1_WHITEEN);
	/* Access address 0x8E89BED6: prefix = top byte, base = low 3 bytes
	 * in the upper 3 bytes of BASE0 (PS RADIO "Address configuration"). */
	hal_write(NRF_REG(RADIO, BASE0), FW_BLE_ACCESS_ADDRESS << 8);
	hal_write(NRF_REG(RADIO, PREFIX0), FW_BLE_ACCESS_ADDRESS >> 24);
	hal_write(NRF_REG(RADIO, TXADDRESS), 0);
	hal_write(NRF_REG(RADIO, RXADDRESSES), 1);
	hal_write(NRF_REG(RADIO, CRCCNF), RADIO_CRCCNF_LEN(3) | RADIO_CRCCNF_SKIPADDR);
	hal_write(NRF_REG(RADIO, CRCPOLY), FW_BLE_CRC_POLY);
	hal_write(NRF_REG(RADIO, CRCINIT), FW_BLE_CRC_INIT);
}

void fw_radio_send(uint8_t channel, const uint8_t *pdu)
{
	hal_write(NRF_REG(RADIO, FREQUENCY), fw_radio_frequency(channel));
	/* Whitening LFSR preset: bit 6 is 1, bits 5:0 the channel index. */
	hal_write(NRF_REG(RADIO, DATAWHITEIV), 0x40u | channel);
	hal_write(NRF_REG(RADIO, PACKETPTR), hal_dma_addr(pdu));
	hal_write(NRF_REG(RADIO, SHORTS), RADIO_SHORTS_READY_START | RADIO_SHORTS_END_DISABLE);
	hal_event_clear(NRF_REG(RADIO, EVENTS_END));
	hal_event_clear(NRF_REG(RADIO, EVENTS_DISABLED));
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_RADIO_IRQN);
	hal_dma_barrier();
	hal_task(NRF_REG(RADIO, TASKS_TXEN));
	/* Ramp-up, packet and disable take ~0.4 ms: sleep through them. */
	hal_event_sleep(NRF_REG(RADIO, EVENTS_DISABLED), NRF_REG(RADIO, INTENSET),
			RADIO_INT_DISABLED, NRF_RADIO_IRQN);
	hal_event_clear(NRF_REG(RADIO, EVENTS_READY));
	hal_event_clear(NRF_REG(RADIO, EVENTS_END));
}
