/*
 * ble_air.h - what a packet looks like on air: CRC-24 and data whitening
 * computed in software from the RADIO register values (Core v5.x Vol 6
 * Part B 3.1.1 and 3.2), and the pcap writer for LINKTYPE_BLUETOOTH_LE_LL.
 */
#ifndef BLE_AIR_H
#define BLE_AIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hal_host.h"

#define BLE_LL_MAX (4 + 2 + 255 + 3)

/* CRC-24 over data with the register's polynomial (bit n = x^n, x^24
 * implied) and preset; returns the 3 bytes in transmission order. */
void ble_crc24(uint32_t poly, uint32_t init, const uint8_t *data, size_t len, uint8_t out[3]);

/* XOR data with the whitening sequence of the given DATAWHITEIV preset
 * (bit 6 = LFSR position 0, bits 5:0 = positions 1..6). Whitening and
 * de-whitening are the same operation. */
void ble_whiten(uint32_t whiteiv, uint8_t *data, size_t len);

/*
 * Build the over-the-air form of a captured packet the way the radio
 * would: PDU + CRC, whitened. Then undo it like a receiver: de-whiten and
 * check the CRC. Writes the LINKTYPE 251 record (access address LE, PDU,
 * CRC) to ll and returns its length, or 0 when the receiver side check
 * fails (which would be a bug in the radio setup or the model).
 */
size_t ble_air_roundtrip(const struct hal_host_tx *tx, uint8_t ll[BLE_LL_MAX]);

/* BLE channel index for an advertising RF frequency (2, 26, 80), or -1. */
int ble_adv_channel(uint32_t frequency);

bool ble_pcap_write_header(FILE *f);
bool ble_pcap_write_record(FILE *f, uint64_t time_us, const uint8_t *data, size_t len);

#define PCAP_LINKTYPE_BLUETOOTH_LE_LL 251

#endif
