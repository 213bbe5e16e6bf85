/* ble_air.c - CRC-24, whitening and pcap output of the host simulator. */
#include "ble_air.h"

#include <string.h>

void ble_crc24(uint32_t poly, uint32_t init, const uint8_t *data, size_t len, uint8_t out[3])
{
	/* Bit n of the state is LFSR position n; bits enter LSB first. */
	uint32_t s = init & 0xFFFFFFu;

	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			uint32_t fb = ((s >> 23) ^ (uint32_t)(data[i] >> b)) & 1u;

			s = (s << 1) & 0xFFFFFFu;
			if (fb)
				s ^= (poly | 1u) & 0xFFFFFFu;
		}
	}
	/* Position 23 goes on air first, and bytes go LSB first: each byte
	 * of the CRC is bit-reversed relative to the register. */
	for (int k = 0; k < 3; k++) {
		uint8_t v = (uint8_t)(s >> (16 - 8 * k)), r = 0;

		for (int b = 0; b < 8; b++)
			r |= (uint8_t)(((v >> b) & 1u) << (7 - b));
		out[k] = r;
	}
}

void ble_whiten(uint32_t whiteiv, uint8_t *data, size_t len)
{
	uint32_t r = (whiteiv | 0x40u) & 0x7Fu;

	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			uint32_t out = r & 1u; /* position 6 */

			r >>= 1;
			r |= out << 6;      /* position 0 <- position 6 */
			r ^= out << 2;      /* position 4 <- position 3 ^ position 6 */
			data[i] ^= (uint8_t)(out << b);
		}
	}
}

int ble_adv_channel(uint32_t frequency)
{
	switch (frequency) {
	case 2:
		return 37;
	case 26:
		return 38;
	case 80:
		return 39;
	default:
		return -1;
	}
}

size_t ble_air_roundtrip(const struct hal_host_tx *tx, uint8_t ll[BLE_LL_MAX])
{
	uint8_t air[2 + 255 + 3];
	uint8_t crc[3];
	size_t n = tx->pdu_len;

	if (n < 2 || n > 2 + 255 || (tx->crccnf & 3u) != 3u)
		return 0;
	/* Transmitter: CRC over the PDU (SKIPADDR), then whiten PDU + CRC. */
	memcpy(air, tx->pdu, n);
	ble_crc24(tx->crcpoly, tx->crcinit, air, n, air + n);
	if (tx->pcnf1 & (1u << 25))
		ble_whiten(tx->datawhiteiv, air, n + 3);
	/* Receiver: de-whiten with the IV of the channel it listens on (the
	 * spec's, not the register's) and check the CRC with the spec's. */
	int ch = ble_adv_channel(tx->frequency);

	if (ch < 0)
		return 0;
	ble_whiten(0x40u | (uint32_t)ch, air, n + 3);
	ble_crc24(0x00065Bu, 0x555555u, air, n, crc);
	if (memcmp(crc, air + n, 3) != 0)
		return 0;
	ll[0] = (uint8_t)tx->access_address;
	ll[1] = (uint8_t)(tx->access_address >> 8);
	ll[2] = (uint8_t)(tx->access_address >> 16);
	ll[3] = (uint8_t)(tx->access_address >> 24);
	memcpy(ll + 4, air, n + 3);
	return 4 + n + 3;
}

static bool put32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	return fwrite(b, 1, 4, f) == 4;
}

bool ble_pcap_write_header(FILE *f)
{
	/* Classic pcap, little-endian, microsecond timestamps. */
	return put32(f, 0xA1B2C3D4u) && put32(f, 2u | 4u << 16) && put32(f, 0) && put32(f, 0) &&
	       put32(f, 65535u) && put32(f, PCAP_LINKTYPE_BLUETOOTH_LE_LL);
}

bool ble_pcap_write_record(FILE *f, uint64_t time_us, const uint8_t *data, size_t len)
{
	return put32(f, (uint32_t)(time_us / 1000000u)) &&
	       put32(f, (uint32_t)(time_us % 1000000u)) && put32(f, (uint32_t)len) &&
	       put32(f, (uint32_t)len) && fwrite(data, 1, len, f) == len;
}
