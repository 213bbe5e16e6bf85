/*
 * nrf52_regs.h - the nRF52832/nRF52840 registers this firmware touches.
 *
 * Written from Nordic's product specifications (nRF52832 PS v1.4, nRF52840
 * PS v1.1; the blocks used here are identical in both). Each peripheral is a
 * struct laid out like the PS register table, with RESERVED padding between
 * the registers we use; the _Static_asserts below pin every used register to
 * the offset the PS gives, so a wrong padding count fails the build instead
 * of writing a random register. Code never dereferences these structs: it
 * takes register addresses (base + offsetof) and goes through the register
 * HAL (hal.h), which is what lets the host build back them with RAM.
 */
#ifndef NRF52_REGS_H
#define NRF52_REGS_H

#include <stddef.h>
#include <stdint.h>

#define NRF_REG_ASSERT(type, field, off) \
	_Static_assert(offsetof(struct type, field) == (off), #type "." #field " offset")

/* ---------------------------------------------------------------- CLOCK */
#define NRF_CLOCK_BASE 0x40000000u
struct nrf_clock {
	uint32_t TASKS_HFCLKSTART;      /* 0x000 */
	uint32_t TASKS_HFCLKSTOP;       /* 0x004 */
	uint32_t TASKS_LFCLKSTART;      /* 0x008 */
	uint32_t TASKS_LFCLKSTOP;       /* 0x00C */
	uint32_t TASKS_CAL;             /* 0x010 */
	uint32_t RESERVED0[(0x100 - 0x014) / 4];
	uint32_t EVENTS_HFCLKSTARTED;   /* 0x100 */
	uint32_t EVENTS_LFCLKSTARTED;   /* 0x104 */
	uint32_t RESERVED1;
	uint32_t EVENTS_DONE;           /* 0x10C */
	uint32_t RESERVED2[(0x304 - 0x110) / 4];
	uint32_t INTENSET;              /* 0x304 */
	uint32_t INTENCLR;              /* 0x308 */
	uint32_t RESERVED2B[(0x40C - 0x30C) / 4];
	uint32_t HFCLKSTAT;             /* 0x40C */
	uint32_t RESERVED3[(0x418 - 0x410) / 4];
	uint32_t LFCLKSTAT;             /* 0x418 */
	uint32_t RESERVED4[(0x518 - 0x41C) / 4];
	uint32_t LFCLKSRC;              /* 0x518 */
};
NRF_REG_ASSERT(nrf_clock, TASKS_HFCLKSTART, 0x000);
NRF_REG_ASSERT(nrf_clock, TASKS_HFCLKSTOP, 0x004);
NRF_REG_ASSERT(nrf_clock, TASKS_LFCLKSTART, 0x008);
NRF_REG_ASSERT(nrf_clock, TASKS_LFCLKSTOP, 0x00C);
NRF_REG_ASSERT(nrf_clock, TASKS_CAL, 0x010);
NRF_REG_ASSERT(nrf_clock, EVENTS_HFCLKSTARTED, 0x100);
NRF_REG_ASSERT(nrf_clock, EVENTS_LFCLKSTARTED, 0x104);
NRF_REG_ASSERT(nrf_clock, EVENTS_DONE, 0x10C);
NRF_REG_ASSERT(nrf_clock, INTENSET, 0x304);
NRF_REG_ASSERT(nrf_clock, INTENCLR, 0x308);
NRF_REG_ASSERT(nrf_clock, HFCLKSTAT, 0x40C);
NRF_REG_ASSERT(nrf_clock, LFCLKSTAT, 0x418);
NRF_REG_ASSERT(nrf_clock, LFCLKSRC, 0x518);
#define CLOCK_HFCLKSTAT_SRC_XTAL (1u << 0)
#define CLOCK_HFCLKSTAT_RUNNING (1u << 16)
#define CLOCK_LFCLKSTAT_RUNNING (1u << 16)
#define CLOCK_INT_HFCLKSTARTED (1u << 0)
#define CLOCK_INT_LFCLKSTARTED (1u << 1)
#define CLOCK_INT_DONE (1u << 3)
#define NRF_POWER_CLOCK_IRQN 0u
#define CLOCK_LFCLKSRC_RC 0u
#define CLOCK_LFCLKSRC_XTAL 1u

/* ---------------------------------------------------------------- POWER
 * Same base as CLOCK; the registers do not overlap. RAM[n] are the RAM
 * block power switches: POWER bits 0..5 keep section S0..S5 on in System
 * ON, bits 16..21 retain it in System OFF. */
#define NRF_POWER_BASE 0x40000000u
struct nrf_power_ram {
	uint32_t POWER;
	uint32_t POWERSET;
	uint32_t POWERCLR;
	uint32_t RESERVED;
};
struct nrf_power {
	uint32_t RESERVED0[0x400 / 4];
	uint32_t RESETREAS;             /* 0x400 */
	uint32_t RESERVED1[(0x500 - 0x404) / 4];
	uint32_t SYSTEMOFF;             /* 0x500 */
	uint32_t RESERVED2[(0x578 - 0x504) / 4];
	uint32_t DCDCEN;                /* 0x578 */
	uint32_t RESERVED3[(0x900 - 0x57C) / 4];
	struct nrf_power_ram RAM[9];    /* 0x900, RAM8 on nRF52840 only */
};
NRF_REG_ASSERT(nrf_power, RESETREAS, 0x400);
NRF_REG_ASSERT(nrf_power, SYSTEMOFF, 0x500);
NRF_REG_ASSERT(nrf_power, DCDCEN, 0x578);
NRF_REG_ASSERT(nrf_power, RAM[0].POWER, 0x900);
NRF_REG_ASSERT(nrf_power, RAM[1].POWERCLR, 0x918);
NRF_REG_ASSERT(nrf_power, RAM[8].POWERCLR, 0x988);
#define POWER_RAM_SECTION_BYTES 4096u   /* RAM0..RAM7: two 4 KiB sections each */
#define POWER_RAM8_SECTION_BYTES 32768u /* nRF52840 RAM8: six 32 KiB sections */
#define POWER_RAM_ON_AND_RETAIN(sections) ((sections) | (sections) << 16)

/* ---------------------------------------------------------------- RADIO */
#define NRF_RADIO_BASE 0x40001000u
struct nrf_radio {
	uint32_t TASKS_TXEN;            /* 0x000 */
	uint32_t TASKS_RXEN;            /* 0x004 */
	uint32_t TASKS_START;           /* 0x008 */
	uint32_t TASKS_STOP;            /* 0x00C */
	uint32_t TASKS_DISABLE;         /* 0x010 */
	uint32_t RESERVED0[(0x100 - 0x014) / 4];
	uint32_t EVENTS_READY;          /* 0x100 */
	uint32_t EVENTS_ADDRESS;        /* 0x104 */
	uint32_t EVENTS_PAYLOAD;        /* 0x108 */
	uint32_t EVENTS_END;            /* 0x10C */
	uint32_t EVENTS_DISABLED;       /* 0x110 */
	uint32_t RESERVED1[(0x200 - 0x114) / 4];
	uint32_t SHORTS;                /* 0x200 */
	uint32_t RESERVED2[(0x304 - 0x204) / 4];
	uint32_t INTENSET;              /* 0x304 */
	uint32_t INTENCLR;              /* 0x308 */
	uint32_t RESERVED2B[(0x504 - 0x30C) / 4];
	uint32_t PACKETPTR;             /* 0x504 */
	uint32_t FREQUENCY;             /* 0x508 */
	uint32_t TXPOWER;               /* 0x50C */
	uint32_t MODE;                  /* 0x510 */
	uint32_t PCNF0;                 /* 0x514 */
	uint32_t PCNF1;                 /* 0x518 */
	uint32_t BASE0;                 /* 0x51C */
	uint32_t BASE1;                 /* 0x520 */
	uint32_t PREFIX0;               /* 0x524 */
	uint32_t PREFIX1;               /* 0x528 */
	uint32_t TXADDRESS;             /* 0x52C */
	uint32_t RXADDRESSES;           /* 0x530 */
	uint32_t CRCCNF;                /* 0x534 */
	uint32_t CRCPOLY;               /* 0x538 */
	uint32_t CRCINIT;               /* 0x53C */
	uint32_t RESERVED3[(0x550 - 0x540) / 4];
	uint32_t STATE;                 /* 0x550 */
	uint32_t DATAWHITEIV;           /* 0x554 */
	uint32_t RESERVED4[(0x650 - 0x558) / 4];
	uint32_t MODECNF0;              /* 0x650 */
	uint32_t RESERVED5[(0x73C - 0x654) / 4];
	uint32_t ERRATA_182;            /* 0x73C undocumented, errata sheet only */
	uint32_t RESERVED6[(0x774 - 0x740) / 4];
	uint32_t ERRATA_102;            /* 0x774 undocumented, errata sheet only */
	uint32_t RESERVED7[(0xFFC - 0x778) / 4];
	uint32_t POWER;                 /* 0xFFC */
};
NRF_REG_ASSERT(nrf_radio, TASKS_TXEN, 0x000);
NRF_REG_ASSERT(nrf_radio, TASKS_START, 0x008);
NRF_REG_ASSERT(nrf_radio, TASKS_DISABLE, 0x010);
NRF_REG_ASSERT(nrf_radio, EVENTS_READY, 0x100);
NRF_REG_ASSERT(nrf_radio, EVENTS_ADDRESS, 0x104);
NRF_REG_ASSERT(nrf_radio, EVENTS_PAYLOAD, 0x108);
NRF_REG_ASSERT(nrf_radio, EVENTS_END, 0x10C);
NRF_REG_ASSERT(nrf_radio, EVENTS_DISABLED, 0x110);
NRF_REG_ASSERT(nrf_radio, SHORTS, 0x200);
NRF_REG_ASSERT(nrf_radio, INTENSET, 0x304);
NRF_REG_ASSERT(nrf_radio, PACKETPTR, 0x504);
NRF_REG_ASSERT(nrf_radio, FREQUENCY, 0x508);
NRF_REG_ASSERT(nrf_radio, TXPOWER, 0x50C);
NRF_REG_ASSERT(nrf_radio, MODE, 0x510);
NRF_REG_ASSERT(nrf_radio, PCNF0, 0x514);
NRF_REG_ASSERT(nrf_radio, PCNF1, 0x518);
NRF_REG_ASSERT(nrf_radio, BASE0, 0x51C);
NRF_REG_ASSERT(nrf_radio, PREFIX0, 0x524);
NRF_REG_ASSERT(nrf_radio, TXADDRESS, 0x52C);
NRF_REG_ASSERT(nrf_radio, RXADDRESSES, 0x530);
NRF_REG_ASSERT(nrf_radio, CRCCNF, 0x534);
NRF_REG_ASSERT(nrf_radio, CRCPOLY, 0x538);
NRF_REG_ASSERT(nrf_radio, CRCINIT, 0x53C);
NRF_REG_ASSERT(nrf_radio, STATE, 0x550);
NRF_REG_ASSERT(nrf_radio, DATAWHITEIV, 0x554);
NRF_REG_ASSERT(nrf_radio, MODECNF0, 0x650);
NRF_REG_ASSERT(nrf_radio, ERRATA_182, 0x73C);
NRF_REG_ASSERT(nrf_radio, ERRATA_102, 0x774);
NRF_REG_ASSERT(nrf_radio, POWER, 0xFFC);
#define RADIO_SHORTS_READY_START (1u << 0)
#define RADIO_SHORTS_END_DISABLE (1u << 1)
#define RADIO_INT_DISABLED (1u << 4)
#define NRF_RADIO_IRQN 1u
#define RADIO_MODECNF0_RU_FAST (1u << 0)
#define RADIO_MODE_BLE_1MBIT 3u
#define RADIO_PCNF0_LFLEN(n) ((uint32_t)(n) << 0)
#define RADIO_PCNF0_S0LEN(n) ((uint32_t)(n) << 8)
#define RADIO_PCNF0_S1LEN(n) ((uint32_t)(n) << 16)
#define RADIO_PCNF1_MAXLEN(n) ((uint32_t)(n) << 0)
#define RADIO_PCNF1_STATLEN(n) ((uint32_t)(n) << 8)
#define RADIO_PCNF1_BALEN(n) ((uint32_t)(n) << 16)
#define RADIO_PCNF1_WHITEEN (1u << 25)
#define RADIO_CRCCNF_LEN(n) ((uint32_t)(n) << 0)
#define RADIO_CRCCNF_SKIPADDR (1u << 8)

/* ---------------------------------------------------------------- SAADC */
#define NRF_SAADC_BASE 0x40007000u
struct nrf_saadc {
	uint32_t TASKS_START;           /* 0x000 */
	uint32_t TASKS_SAMPLE;          /* 0x004 */
	uint32_t TASKS_STOP;            /* 0x008 */
	uint32_t RESERVED0[(0x100 - 0x00C) / 4];
	uint32_t EVENTS_STARTED;        /* 0x100 */
	uint32_t EVENTS_END;            /* 0x104 */
	uint32_t RESERVED1[(0x114 - 0x108) / 4];
	uint32_t EVENTS_STOPPED;        /* 0x114 */
	uint32_t RESERVED2[(0x500 - 0x118) / 4];
	uint32_t ENABLE;                /* 0x500 */
	uint32_t RESERVED3[(0x510 - 0x504) / 4];
	uint32_t CH0_PSELP;             /* 0x510 */
	uint32_t CH0_PSELN;             /* 0x514 */
	uint32_t CH0_CONFIG;            /* 0x518 */
	uint32_t RESERVED4[(0x5F0 - 0x51C) / 4];
	uint32_t RESOLUTION;            /* 0x5F0 */
	uint32_t OVERSAMPLE;            /* 0x5F4 */
	uint32_t SAMPLERATE;            /* 0x5F8 */
	uint32_t RESERVED5[(0x62C - 0x5FC) / 4];
	uint32_t RESULT_PTR;            /* 0x62C */
	uint32_t RESULT_MAXCNT;         /* 0x630 */
	uint32_t RESULT_AMOUNT;         /* 0x634 */
};
NRF_REG_ASSERT(nrf_saadc, TASKS_START, 0x000);
NRF_REG_ASSERT(nrf_saadc, TASKS_SAMPLE, 0x004);
NRF_REG_ASSERT(nrf_saadc, TASKS_STOP, 0x008);
NRF_REG_ASSERT(nrf_saadc, EVENTS_STARTED, 0x100);
NRF_REG_ASSERT(nrf_saadc, EVENTS_END, 0x104);
NRF_REG_ASSERT(nrf_saadc, EVENTS_STOPPED, 0x114);
NRF_REG_ASSERT(nrf_saadc, ENABLE, 0x500);
NRF_REG_ASSERT(nrf_saadc, CH0_PSELP, 0x510);
NRF_REG_ASSERT(nrf_saadc, CH0_PSELN, 0x514);
NRF_REG_ASSERT(nrf_saadc, CH0_CONFIG, 0x518);
NRF_REG_ASSERT(nrf_saadc, RESOLUTION, 0x5F0);
NRF_REG_ASSERT(nrf_saadc, OVERSAMPLE, 0x5F4);
NRF_REG_ASSERT(nrf_saadc, SAMPLERATE, 0x5F8);
NRF_REG_ASSERT(nrf_saadc, RESULT_PTR, 0x62C);
NRF_REG_ASSERT(nrf_saadc, RESULT_MAXCNT, 0x630);
NRF_REG_ASSERT(nrf_saadc, RESULT_AMOUNT, 0x634);
#define SAADC_PSELP_VDD 9u
#define SAADC_CONFIG_GAIN_1_6 (0u << 8)
#define SAADC_CONFIG_REFSEL_INTERNAL (0u << 12)
#define SAADC_CONFIG_TACQ_10US (2u << 16)
#define SAADC_RESOLUTION_10BIT 1u
/* 10-bit result, gain 1/6, 0.6 V reference: full scale is 3.6 V. */
#define SAADC_VDD_FULL_SCALE_MV 3600u

/* ---------------------------------------------------------------- RTC0 */
#define NRF_RTC0_BASE 0x4000B000u
#define NRF_RTC0_IRQN 11u
struct nrf_rtc {
	uint32_t TASKS_START;           /* 0x000 */
	uint32_t TASKS_STOP;            /* 0x004 */
	uint32_t TASKS_CLEAR;           /* 0x008 */
	uint32_t RESERVED0[(0x140 - 0x00C) / 4];
	uint32_t EVENTS_COMPARE[4];     /* 0x140 */
	uint32_t RESERVED1[(0x304 - 0x150) / 4];
	uint32_t INTENSET;              /* 0x304 */
	uint32_t INTENCLR;              /* 0x308 */
	uint32_t RESERVED2[(0x504 - 0x30C) / 4];
	uint32_t COUNTER;               /* 0x504 */
	uint32_t PRESCALER;             /* 0x508 */
	uint32_t RESERVED3[(0x540 - 0x50C) / 4];
	uint32_t CC[4];                 /* 0x540 */
};
NRF_REG_ASSERT(nrf_rtc, TASKS_START, 0x000);
NRF_REG_ASSERT(nrf_rtc, TASKS_STOP, 0x004);
NRF_REG_ASSERT(nrf_rtc, TASKS_CLEAR, 0x008);
NRF_REG_ASSERT(nrf_rtc, EVENTS_COMPARE[0], 0x140);
NRF_REG_ASSERT(nrf_rtc, INTENSET, 0x304);
NRF_REG_ASSERT(nrf_rtc, INTENCLR, 0x308);
NRF_REG_ASSERT(nrf_rtc, COUNTER, 0x504);
NRF_REG_ASSERT(nrf_rtc, PRESCALER, 0x508);
NRF_REG_ASSERT(nrf_rtc, CC[0], 0x540);
#define RTC_INTEN_COMPARE0 (1u << 16)
#define RTC_COUNTER_MASK 0x00FFFFFFu
#define RTC_HZ 32768u

/* ---------------------------------------------------------------- TEMP */
#define NRF_TEMP_BASE 0x4000C000u
struct nrf_temp {
	uint32_t TASKS_START;           /* 0x000 */
	uint32_t TASKS_STOP;            /* 0x004 */
	uint32_t RESERVED0[(0x100 - 0x008) / 4];
	uint32_t EVENTS_DATARDY;        /* 0x100 */
	uint32_t RESERVED1[(0x508 - 0x104) / 4];
	uint32_t TEMP;                  /* 0x508, signed, 0.25 degC */
};
NRF_REG_ASSERT(nrf_temp, TASKS_START, 0x000);
NRF_REG_ASSERT(nrf_temp, TASKS_STOP, 0x004);
NRF_REG_ASSERT(nrf_temp, EVENTS_DATARDY, 0x100);
NRF_REG_ASSERT(nrf_temp, TEMP, 0x508);

/* ---------------------------------------------------------------- RNG */
#define NRF_RNG_BASE 0x4000D000u
struct nrf_rng {
	uint32_t TASKS_START;           /* 0x000 */
	uint32_t TASKS_STOP;            /* 0x004 */
	uint32_t RESERVED0[(0x100 - 0x008) / 4];
	uint32_t EVENTS_VALRDY;         /* 0x100 */
	uint32_t RESERVED1[(0x304 - 0x104) / 4];
	uint32_t INTENSET;              /* 0x304 */
	uint32_t INTENCLR;              /* 0x308 */
	uint32_t RESERVED1B[(0x504 - 0x30C) / 4];
	uint32_t CONFIG;                /* 0x504 */
	uint32_t VALUE;                 /* 0x508 */
};
NRF_REG_ASSERT(nrf_rng, TASKS_START, 0x000);
NRF_REG_ASSERT(nrf_rng, TASKS_STOP, 0x004);
NRF_REG_ASSERT(nrf_rng, EVENTS_VALRDY, 0x100);
NRF_REG_ASSERT(nrf_rng, INTENSET, 0x304);
NRF_REG_ASSERT(nrf_rng, CONFIG, 0x504);
NRF_REG_ASSERT(nrf_rng, VALUE, 0x508);
#define RNG_CONFIG_DERCEN (1u << 0)
#define RNG_INT_VALRDY (1u << 0)
#define NRF_RNG_IRQN 13u

/* ---------------------------------------------------------------- TIMER0 */
#define NRF_TIMER0_BASE 0x40008000u
#define NRF_TIMER0_IRQN 8u
struct nrf_timer {
	uint32_t TASKS_START;           /* 0x000 */
	uint32_t TASKS_STOP;            /* 0x004 */
	uint32_t RESERVED0;
	uint32_t TASKS_CLEAR;           /* 0x00C */
	uint32_t RESERVED1[(0x140 - 0x010) / 4];
	uint32_t EVENTS_COMPARE[4];     /* 0x140 */
	uint32_t RESERVED2[(0x304 - 0x150) / 4];
	uint32_t INTENSET;              /* 0x304 */
	uint32_t INTENCLR;              /* 0x308 */
	uint32_t RESERVED3[(0x504 - 0x30C) / 4];
	uint32_t MODE;                  /* 0x504 */
	uint32_t BITMODE;               /* 0x508 */
	uint32_t RESERVED4;
	uint32_t PRESCALER;             /* 0x510 */
	uint32_t RESERVED5[(0x540 - 0x514) / 4];
	uint32_t CC[4];                 /* 0x540 */
};
NRF_REG_ASSERT(nrf_timer, TASKS_CLEAR, 0x00C);
NRF_REG_ASSERT(nrf_timer, EVENTS_COMPARE[0], 0x140);
NRF_REG_ASSERT(nrf_timer, INTENSET, 0x304);
NRF_REG_ASSERT(nrf_timer, MODE, 0x504);
NRF_REG_ASSERT(nrf_timer, BITMODE, 0x508);
NRF_REG_ASSERT(nrf_timer, PRESCALER, 0x510);
NRF_REG_ASSERT(nrf_timer, CC[0], 0x540);
#define TIMER_INT_COMPARE0 (1u << 16)
#define TIMER_BITMODE_32 3u
#define TIMER_PRESCALER_1MHZ 4u /* 16 MHz / 2^4 */

/* ---------------------------------------------------------------- NVMC */
#define NRF_NVMC_BASE 0x4001E000u
struct nrf_nvmc {
	uint32_t RESERVED0[0x400 / 4];
	uint32_t READY;                 /* 0x400 */
	uint32_t RESERVED1[(0x504 - 0x404) / 4];
	uint32_t CONFIG;                /* 0x504 */
	uint32_t ERASEPAGE;             /* 0x508 */
};
NRF_REG_ASSERT(nrf_nvmc, READY, 0x400);
NRF_REG_ASSERT(nrf_nvmc, CONFIG, 0x504);
NRF_REG_ASSERT(nrf_nvmc, ERASEPAGE, 0x508);
#define NVMC_CONFIG_REN 0u
#define NVMC_CONFIG_WEN 1u
#define NVMC_CONFIG_EEN 2u
#define NVMC_PAGE_BYTES 4096u

/* ---------------------------------------------------------------- ECB */
#define NRF_ECB_BASE 0x4000E000u
struct nrf_ecb {
	uint32_t TASKS_STARTECB;        /* 0x000 */
	uint32_t TASKS_STOPECB;         /* 0x004 */
	uint32_t RESERVED0[(0x100 - 0x008) / 4];
	uint32_t EVENTS_ENDECB;         /* 0x100 */
	uint32_t EVENTS_ERRORECB;       /* 0x104 */
	uint32_t RESERVED1[(0x504 - 0x108) / 4];
	uint32_t ECBDATAPTR;            /* 0x504 */
};
NRF_REG_ASSERT(nrf_ecb, TASKS_STARTECB, 0x000);
NRF_REG_ASSERT(nrf_ecb, TASKS_STOPECB, 0x004);
NRF_REG_ASSERT(nrf_ecb, EVENTS_ENDECB, 0x100);
NRF_REG_ASSERT(nrf_ecb, EVENTS_ERRORECB, 0x104);
NRF_REG_ASSERT(nrf_ecb, ECBDATAPTR, 0x504);

/* ---------------------------------------------------------------- WDT */
#define NRF_WDT_BASE 0x40010000u
struct nrf_wdt {
	uint32_t TASKS_START;           /* 0x000 */
	uint32_t RESERVED0[(0x100 - 0x004) / 4];
	uint32_t EVENTS_TIMEOUT;        /* 0x100 */
	uint32_t RESERVED1[(0x400 - 0x104) / 4];
	uint32_t RUNSTATUS;             /* 0x400 */
	uint32_t RESERVED2[(0x504 - 0x404) / 4];
	uint32_t CRV;                   /* 0x504 */
	uint32_t RREN;                  /* 0x508 */
	uint32_t CONFIG;                /* 0x50C */
	uint32_t RESERVED3[(0x600 - 0x510) / 4];
	uint32_t RR[8];                 /* 0x600 */
};
NRF_REG_ASSERT(nrf_wdt, TASKS_START, 0x000);
NRF_REG_ASSERT(nrf_wdt, EVENTS_TIMEOUT, 0x100);
NRF_REG_ASSERT(nrf_wdt, RUNSTATUS, 0x400);
NRF_REG_ASSERT(nrf_wdt, CRV, 0x504);
NRF_REG_ASSERT(nrf_wdt, RREN, 0x508);
NRF_REG_ASSERT(nrf_wdt, CONFIG, 0x50C);
NRF_REG_ASSERT(nrf_wdt, RR[0], 0x600);
#define WDT_CONFIG_RUN_IN_SLEEP (1u << 0)
#define WDT_RR_RELOAD 0x6E524635u

/* ---------------------------------------------------------------- FICR */
#define NRF_FICR_BASE 0x10000000u
struct nrf_ficr {
	uint32_t RESERVED0[0x0A0 / 4];
	uint32_t DEVICEADDRTYPE;        /* 0x0A0 */
	uint32_t DEVICEADDR[2];         /* 0x0A4 */
	uint32_t RESERVED1[(0x100 - 0x0AC) / 4];
	uint32_t INFO_PART;             /* 0x100 */
	uint32_t INFO_VARIANT;          /* 0x104 */
};
NRF_REG_ASSERT(nrf_ficr, DEVICEADDRTYPE, 0x0A0);
NRF_REG_ASSERT(nrf_ficr, DEVICEADDR[0], 0x0A4);
NRF_REG_ASSERT(nrf_ficr, DEVICEADDR[1], 0x0A8);
NRF_REG_ASSERT(nrf_ficr, INFO_PART, 0x100);
NRF_REG_ASSERT(nrf_ficr, INFO_VARIANT, 0x104);
#define FICR_PART_NRF52832 0x52832u
#define FICR_PART_NRF52840 0x52840u
/* INFO.VARIANT is four ASCII characters, e.g. "AAB0" = 0x41414230: the
 * third character is the silicon build code that the errata sheets key on. */
#define FICR_VARIANT_BUILD(v) (((v) >> 8) & 0xFFu)

/* ---------------------------------------------------------------- UICR */
#define NRF_UICR_BASE 0x10001000u
#define NRF_UICR_CUSTOMER_WORDS 32u
struct nrf_uicr {
	uint32_t RESERVED0[0x080 / 4];
	uint32_t CUSTOMER[NRF_UICR_CUSTOMER_WORDS]; /* 0x080 */
};
NRF_REG_ASSERT(nrf_uicr, CUSTOMER[0], 0x080);
NRF_REG_ASSERT(nrf_uicr, CUSTOMER[31], 0x0FC);

/* ---------------------------------------------------------------- Cortex-M4 */
#define ARM_NVIC_ICPR0 0xE000E280u /* ARMv7-M ARM B3.4 */
#define ARM_SCB_SCR 0xE000ED10u
#define ARM_SCB_SCR_SEVONPEND (1u << 4)

/* Address of a register: NRF_REG(RADIO, FREQUENCY), NRF_REG(RTC0, CC[0]). */
#define NRF_REG_POWER_T nrf_power
#define NRF_REG_TIMER0_T nrf_timer
#define NRF_REG_NVMC_T nrf_nvmc
#define NRF_REG_RADIO_T nrf_radio
#define NRF_REG_CLOCK_T nrf_clock
#define NRF_REG_SAADC_T nrf_saadc
#define NRF_REG_RTC0_T nrf_rtc
#define NRF_REG_TEMP_T nrf_temp
#define NRF_REG_RNG_T nrf_rng
#define NRF_REG_ECB_T nrf_ecb
#define NRF_REG_WDT_T nrf_wdt
#define NRF_REG_FICR_T nrf_ficr
#define NRF_REG_UICR_T nrf_uicr
#define NRF_REG(p, field) ((uint32_t)(NRF_##p##_BASE + offsetof(struct NRF_REG_##p##_T, field)))

#endif
