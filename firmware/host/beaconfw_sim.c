/*
 * beaconfw_sim.c - beaconfw-sim: run the firmware logic on RAM-backed
 * registers and write every packet the radio would send to a pcap file
 * (LINKTYPE_BLUETOOTH_LE_LL), so Wireshark/tshark can read and check it.
 *
 *   beaconfw-sim --out FILE.pcap [--seconds N] [--config FILE] [--power]
 *
 * --power prints where the simulated time went (per peripheral, after the
 * start-up) and the average current and CR2032 life the power model
 * (power_model.h) computes from it.
 * With --config the tag configuration is programmed into the simulated
 * UICR and the firmware reads it back from there, as on a provisioned tag.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ble_air.h"
#include "fw_beacon.h"
#include "fw_power.h"
#include "fw_uicr.h"
#include "hal_host.h"
#include "power_model.h"
#include "sim_config.h"

#define EX_OK 0
#define EX_USAGE 64
#define EX_SOFTWARE 70
#define EX_CANTCREAT 73
#define EX_CONFIG 78

struct capture {
	FILE *f;
	unsigned long packets;
	bool failed;
	bool bad_air;
};

static void on_tx(const struct hal_host_tx *tx, void *ctx)
{
	struct capture *cap = ctx;
	uint8_t ll[BLE_LL_MAX];
	size_t n = ble_air_roundtrip(tx, ll);

	if (n == 0) {
		cap->bad_air = true;
		return;
	}
	if (!ble_pcap_write_record(cap->f, tx->time_us, ll, n))
		cap->failed = true;
	cap->packets++;
}

static void usage(FILE *to)
{
	fprintf(to, "usage: beaconfw-sim --out FILE.pcap [--seconds N] [--config FILE] [--power]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "power", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *config = NULL;
	unsigned long seconds = 60;
	struct fw_config cfg;
	struct hal_host_params hp;
	static struct fw_beacon beacon;
	struct capture cap = { 0 };
	char tmp[4096], err[256];
	int c;
	bool power = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 's':
			errno = 0;
			seconds = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || seconds == 0 || seconds > 86400 * 7) {
				fprintf(stderr, "beaconfw-sim: --seconds must be 1..604800\n");
				return EX_USAGE;
			}
			break;
		case 'c':
			config = optarg;
			break;
		case 'p':
			power = true;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (!out || optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}

	hal_host_params_default(&hp);
	fw_config_defaults(&cfg);
	if (config && fw_sim_config_load(config, &cfg, &hp, err, sizeof(err)) != 0) {
		fprintf(stderr, "beaconfw-sim: %s\n", err);
		return EX_CONFIG;
	}
	hal_host_reset(&hp);
	if (config) {
		uint32_t words[FW_UICR_WORDS];

		if (fw_uicr_encode(&cfg, words) != FW_CONFIG_OK) {
			fprintf(stderr, "beaconfw-sim: %s: invalid tag configuration\n", config);
			return EX_CONFIG;
		}
		hal_host_write_uicr(words);
	}

	/* Write next to the target and rename: never a half-written capture. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", out) >= sizeof(tmp)) {
		fprintf(stderr, "beaconfw-sim: %s: path too long\n", out);
		return EX_USAGE;
	}
	int fd = mkstemp(tmp);

	if (fd < 0 || !(cap.f = fdopen(fd, "wb"))) {
		fprintf(stderr, "beaconfw-sim: %s: %s\n", out, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EX_CANTCREAT;
	}
	/* mkstemp creates 0600; a capture is meant to be shared like any file. */
	if (fchmod(fd, 0644) != 0)
		cap.failed = true;
	cap.failed = cap.failed || !ble_pcap_write_header(cap.f);
	hal_host_set_tx_hook(on_tx, &cap);

	fw_config_load(&cfg);
	if (!fw_beacon_init(&beacon, &cfg))
		fw_system_off(); /* as on the tag: nothing is sent */
	/* The power model is about the steady state, not the start-up. */
	if (!hal_host_system_off()) {
		fw_beacon_event(&beacon);
		fw_beacon_sleep(&beacon);
	}
	hal_host_usage_clear();
	while (!hal_host_system_off() && hal_host_now_us() < (uint64_t)seconds * 1000000u &&
	       !cap.failed && !cap.bad_air) {
		fw_beacon_event(&beacon);
		fw_beacon_sleep(&beacon);
	}

	if (fflush(cap.f) != 0 || fsync(fileno(cap.f)) != 0)
		cap.failed = true;
	if (fclose(cap.f) != 0)
		cap.failed = true;
	if (cap.bad_air || cap.failed || rename(tmp, out) != 0) {
		fprintf(stderr, "beaconfw-sim: %s: %s\n", out,
			cap.bad_air ? "a packet failed the receiver-side CRC check"
				    : "write failed");
		unlink(tmp);
		return cap.bad_air ? EX_SOFTWARE : EX_CANTCREAT;
	}
	printf("beaconfw-sim: %lu packets in %lu advertising events over %lu s -> %s\n",
	       cap.packets, (unsigned long)beacon.event_count, seconds, out);
	if (power && beacon.event_count > 1) {
		struct hal_host_usage u;
		struct fw_power_estimate e;
		int8_t dbm = fw_radio_tx_power_step(&beacon.chip, cfg.tx_power_dbm);

		hal_host_usage(&u);
		fw_power_estimate(&u, dbm, hal_host_dcdc_on(), &e);
		printf("timing: %u wake-ups in %.1f s; per wake-up: radio %.0f us, HFXO %.0f us, "
		       "RNG %.0f us, CPU polling %.1f us; flash %u writes, %u erases\n",
		       u.wakeups, u.total_us / 1e6, (double)u.radio_us / u.wakeups,
		       (double)u.hfxo_us / u.wakeups, (double)u.rng_us / u.wakeups,
		       (double)u.cpu_busy_us / u.wakeups, u.flash_writes, u.flash_erases);
		printf("power: interval %u ms, %d dBm, DC/DC %s: %.1f uA (sleep %.1f, radio %.1f, "
		       "HFXO %.1f, CPU %.1f, other %.1f); CR2032 220 mAh: %.0f days = %.1f years\n",
		       cfg.interval_ms, dbm, hal_host_dcdc_on() ? "on" : "off", e.avg_ua,
		       e.sleep_ua, e.radio_ua, e.hfxo_ua, e.cpu_ua, e.other_ua, e.life_days,
		       e.life_days / 365.25);
	}
	return EX_OK;
}
