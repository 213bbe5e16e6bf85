/* fw_periph.c - RNG, TEMP, SAADC and ECB through the register HAL. */
#include "fw_periph.h"

#include <string.h>

#include "hal.h"
#include "nrf52_regs.h"

void fw_rng_bytes(uint8_t *out, unsigned n)
{
	/* Bias correction on: slower, but uniform bytes (PS RNG). */
	hal_write(NRF_REG(RNG, CONFIG), RNG_CONFIG_DERCEN);
	hal_event_clear(NRF_REG(RNG, EVENTS_VALRDY));
	hal_write(ARM_NVIC_ICPR0, 1u << NRF_RNG_IRQN);
	hal_task(NRF_REG(RNG, TASKS_START));
	for (unsigned i = 0; i < n; i++) {
		/* ~0.1 ms per byte with bias correction: sleep, don't spin. */
		hal_event_sleep(NRF_REG(RNG, EVENTS_VALRDY), NRF_REG(RNG, INTENSET),
				RNG_INT_VALRDY, NRF_RNG_IRQN);
		out[i] = (uint8_t)hal_read(NRF_REG(RNG, VALUE));
	}
	hal_task(NRF_REG(RNG, TASKS_STOP));
}

int16_t fw_temp_8_8(void)
{
	int32_t quarter;

	hal_event_clear(NRF_REG(TEMP, EVENTS_DATARDY));
	hal_task(NRF_REG(TEMP, TASKS_START));
	hal_event_wait(NRF_REG(TEMP, EVENTS_DATARDY));
	quarter = (int32_t)hal_read(NRF_REG(TEMP, TEMP));
	hal_task(NRF_REG(TEMP, TASKS_STOP));
	/* 0.25 degC units to 1/256 degC: multiply by 64. */
	return (int16_t)(quarter * 64);
}

uint16_t fw_vdd_mv(void)
{
	static volatile int16_t sample; /* EasyDMA target: must be in RAM */
	int32_t raw;

	hal_write(NRF_REG(SAADC, RESOLUTION), SAADC_RESOLUTION_10BIT);
	hal_write(NRF_REG(SAADC, OVERSAMPLE), 0);
	hal_write(NRF_REG(SAADC, SAMPLERATE), 0);
	hal_write(NRF_REG(SAADC, CH0_PSELP), SAADC_PSELP_VDD);
	hal_write(NRF_REG(SAADC, CH0_PSELN), 0);
	hal_write(NRF_REG(SAADC, CH0_CONFIG),
		  SAADC_CONFIG_GAIN_1_6 | SAADC_CONFIG_REFSEL_INTERNAL | SAADC_CONFIG_TACQ_10US);
	hal_write(NRF_REG(SAADC, RESULT_PTR), hal_dma_addr(&sample));
	hal_write(NRF_REG(SAADC, RESULT_MAXCNT), 1);
	hal_write(NRF_REG(SAADC, ENABLE), 1);
	hal_event_clear(NRF_REG(SAADC, EVENTS_STARTED));
	hal_event_clear(NRF_REG(SAADC, EVENTS_END));
	hal_task(NRF_REG(SAADC, TASKS_START));
	hal_event_wait(NRF_REG(SAADC, EVENTS_STARTED));
	hal_task(NRF_REG(SAADC, TASKS_SAMPLE));
	hal_event_wait(NRF_REG(SAADC, EVENTS_END));
	hal_event_clear(NRF_REG(SAADC, EVENTS_STOPPED));
	hal_task(NRF_REG(SAADC, TASKS_STOP));
	hal_event_wait(NRF_REG(SAADC, EVENTS_STOPPED));
	/* Disabled between samples: the SAADC draws current while enabled. */
	hal_write(NRF_REG(SAADC, ENABLE), 0);
	raw = sample;
	if (raw < 0)
		raw = 0; /* single-ended samples can read slightly negative */
	return (uint16_t)((uint32_t)raw * SAADC_VDD_FULL_SCALE_MV / 1024u);
}

void fw_ecb_aes128(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	/* ECBDATAPTR layout (PS ECB): key, cleartext, ciphertext. */
	static struct {
		uint8_t key[16];
		uint8_t clear[16];
		uint8_t cipher[16];
	} ecb;

	memcpy(ecb.key, key, 16);
	memcpy(ecb.clear, in, 16);
	hal_write(NRF_REG(ECB, ECBDATAPTR), hal_dma_addr(&ecb));
	hal_dma_barrier();
	for (;;) {
		hal_event_clear(NRF_REG(ECB, EVENTS_ENDECB));
		hal_event_clear(NRF_REG(ECB, EVENTS_ERRORECB));
		hal_task(NRF_REG(ECB, TASKS_STARTECB));
		while (!hal_read(NRF_REG(ECB, EVENTS_ENDECB)) &&
		       !hal_read(NRF_REG(ECB, EVENTS_ERRORECB))) {
		}
		/* ERRORECB only when CCM/AAR preempt ECB; neither runs here,
		 * but retrying is the documented response. */
		if (hal_read(NRF_REG(ECB, EVENTS_ENDECB)))
			break;
	}
	hal_event_clear(NRF_REG(ECB, EVENTS_ENDECB));
	hal_dma_barrier();
	memcpy(out, ecb.cipher, 16);
	memset(ecb.key, 0, sizeof(ecb.key));
}

void fw_wdt_start(uint32_t timeout_s)
{
	/* Timeout = (CRV + 1) / 32768 s (PS WDT). */
	hal_write(NRF_REG(WDT, CONFIG), WDT_CONFIG_RUN_IN_SLEEP);
	hal_write(NRF_REG(WDT, CRV), timeout_s * RTC_HZ - 1u);
	hal_write(NRF_REG(WDT, RREN), 1u);
	hal_task(NRF_REG(WDT, TASKS_START));
}

void fw_wdt_feed(void)
{
	hal_write(NRF_REG(WDT, RR[0]), WDT_RR_RELOAD);
}
