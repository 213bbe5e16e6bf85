/* fw_periph.h - the small peripherals: RNG, TEMP, SAADC (VDD), ECB (AES). */
#ifndef FW_PERIPH_H
#define FW_PERIPH_H

#include <stdint.h>

void fw_rng_bytes(uint8_t *out, unsigned n);
/* Die temperature in 8.8 fixed point degrees C (Eddystone-TLM format). */
int16_t fw_temp_8_8(void);
/* Supply voltage in mV from SAADC channel 0 on VDD. */
uint16_t fw_vdd_mv(void);
/* AES-128 of one block through the ECB peripheral (eid_aes128_fn). */
void fw_ecb_aes128(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

/* Start the watchdog (runs in sleep, pauses under a debugger); it can
 * not be stopped until reset. fw_wdt_feed() reloads it. */
void fw_wdt_start(uint32_t timeout_s);
void fw_wdt_feed(void);

#endif
