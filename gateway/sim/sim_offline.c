/*
 * sim_offline.c - offline capture mode: play the whole scenario into a
 * btsnoop file (datalink 1002, H4) stamped with simulated time, as fast as
 * the machine allows. The gateway replays it with --source btsnoop:FILE,
 * whose clock is the capture's, so minutes of dwell take seconds.
 *
 * The capture opens with the exchange a host and controller would have
 * (reset, masks, scan parameters, scan enable), answered by the same
 * controller code the live mode uses.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aes_openssl.h"
#include "btsnoop.h"
#include "h4.h"
#include "hci_cmd.h"
#include "log.h"
#include "sim_ctrl.h"
#include "sim_run.h"
#include "sim_world.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

struct offline {
	struct btsnoop_writer bw;
	uint64_t now_us;           /* wall time stamped on the next records */
	bool failed;
};

static void record(struct offline *o, const uint8_t *h4, size_t len, bool received)
{
	struct btsnoop_record rec;

	if (o->failed || len < 1)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.ts_us = o->now_us;
	rec.h4_type = h4[0];
	rec.received = received;
	rec.data = h4 + 1;
	rec.len = len - 1;
	if (btsnoop_writer_write(&o->bw, &rec))
		o->failed = true;
}

static void emit(void *ctx, const uint8_t *h4, size_t len)
{
	record(ctx, h4, len, true);
}

static void host_command(struct offline *o, struct sim_ctrl *c, const uint8_t *cmd, size_t len)
{
	record(o, cmd, len, false);
	sim_ctrl_command(c, cmd + 1, len - 1);
}

/* The commands a gateway sends before it sees anything. */
static void host_setup(struct offline *o, struct sim_ctrl *c, bool extended)
{
	uint8_t cmd[HCI_MAX_CMD_H4];
	struct hci_scan_params sp = { .active = 0, .interval = 0x0060, .window = 0x0060 };
	size_t n;

	n = hci_cmd_reset(cmd, sizeof(cmd));
	host_command(o, c, cmd, n);
	n = hci_cmd_set_event_mask(cmd, sizeof(cmd), HCI_EVENT_MASK_DEFAULT);
	host_command(o, c, cmd, n);
	n = hci_cmd_le_set_event_mask(cmd, sizeof(cmd), HCI_LE_EVENT_MASK_SCAN);
	host_command(o, c, cmd, n);
	if (extended) {
		n = hci_cmd_le_set_ext_scan_params(cmd, sizeof(cmd), &sp, 0x01);
		host_command(o, c, cmd, n);
		n = hci_cmd_le_set_ext_scan_enable(cmd, sizeof(cmd), true, false, 0, 0);
	} else {
		n = hci_cmd_le_set_scan_params(cmd, sizeof(cmd), &sp);
		host_command(o, c, cmd, n);
		n = hci_cmd_le_set_scan_enable(cmd, sizeof(cmd), true, false);
	}
	host_command(o, c, cmd, n);
}

int sim_run_offline(const struct sim_run *run)
{
	struct offline o;
	struct sim_ctrl ctrl;
	struct sim_event ev;
	uint8_t bdaddr[6] = { 0x01, 0x00, 0x5E, 0x1A, 0xB0, 0xC0 };
	bool extended = run->extended && !run->scn->legacy_only;
	int rc = BGW_EXIT_OK;

	struct sigaction sa;

	/* Interrupted runs remove their partial file instead of dying in the
	 * middle of it. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (run->extended && run->scn->legacy_only)
		log_notice("the scenario's controller is legacy-only: writing legacy reports");
	if (run->scn->has_controller_addr)
		memcpy(bdaddr, run->scn->controller_addr, 6);

	/* Write next to the target and rename at the end, so a failed run
	 * never leaves a partial capture under the requested name. */
	size_t plen = strlen(run->btsnoop_path) + 16;
	char *tmp = malloc(plen);

	if (!tmp)
		return BGW_EXIT_UNAVAILABLE;
	snprintf(tmp, plen, "%s.tmp%ld", run->btsnoop_path, (long)getpid());
	FILE *f = fopen(tmp, "wb");

	if (!f) {
		log_err("cannot create %s: %s", run->btsnoop_path, strerror(errno));
		free(tmp);
		return BGW_EXIT_UNAVAILABLE;
	}
	memset(&o, 0, sizeof(o));
	struct sim_world *w = sim_world_new(run->scn, run->seed, run->start_time,
					    run->duration_us, aes128_openssl);

	if (!w || btsnoop_writer_open(&o.bw, f, BTSNOOP_DATALINK_H4)) {
		log_err("cannot start: %s", w ? "write error" : "out of memory");
		rc = BGW_EXIT_UNAVAILABLE;
		goto out;
	}
	sim_ctrl_init(&ctrl, run->scn->legacy_only, bdaddr, emit, &o);
	o.now_us = sim_run_wall_us(run, 0);
	host_setup(&o, &ctrl, extended);
	for (;;) {
		sim_world_next(w, UINT64_MAX, &ev);
		if (ev.kind == SIM_EV_END)
			break;
		o.now_us = sim_run_wall_us(run, ev.t_us);
		if (ev.kind == SIM_EV_ADV) {
			sim_ctrl_report_as(&ctrl, &ev.adv, extended ? SIM_SCAN_EXTENDED :
							     SIM_SCAN_LEGACY);
		} else if (ev.kind == SIM_EV_FAULT) {
			switch (ev.fault->kind) {
			case SCN_FAULT_HW_ERROR:
				sim_ctrl_hw_error(&ctrl, ev.fault->code);
				break;
			case SCN_FAULT_SILENCE:
				break; /* the world drops the reports itself */
			default:
				/* A btsnoop file is framed per packet: line noise and
				 * a lost link have no place in it. */
				log_debug("line %u: fault skipped in an offline capture",
					  ev.fault->line);
				break;
			}
		}
		if (o.failed || interrupted)
			break;
	}
	if (interrupted) {
		log_err("interrupted by signal %d; no capture written", (int)interrupted);
		rc = BGW_EXIT_UNAVAILABLE;
	} else if (o.failed || fflush(f) || ferror(f)) {
		log_err("write error on %s", run->btsnoop_path);
		rc = BGW_EXIT_UNAVAILABLE;
	}
out:
	if (fclose(f) && rc == BGW_EXIT_OK) {
		log_err("write error on %s", run->btsnoop_path);
		rc = BGW_EXIT_UNAVAILABLE;
	}
	if (rc == BGW_EXIT_OK && rename(tmp, run->btsnoop_path)) {
		log_err("cannot create %s: %s", run->btsnoop_path, strerror(errno));
		rc = BGW_EXIT_UNAVAILABLE;
	}
	if (rc != BGW_EXIT_OK)
		unlink(tmp);
	if (w && rc == BGW_EXIT_OK) {
		struct sim_world_stats st;

		sim_world_stats(w, &st);
		log_notice("wrote %s: %llu advertising reports over %.1f s (%llu below "
			   "sensitivity, %llu silenced)", run->btsnoop_path,
			   (unsigned long long)ctrl.st.reports,
			   run->duration_us / 1e6, (unsigned long long)st.below_sensitivity,
			   (unsigned long long)st.silenced);
	}
	sim_world_free(w);
	free(tmp);
	return rc;
}
