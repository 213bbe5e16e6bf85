/*
 * run_stub.c - stands in for run.c in builds without the store, pipeline
 * or delivery parts: --dump works, the full run reports it is missing.
 */
#include <stdio.h>

#include "run.h"
#include "scanner.h"

struct run *run_new(struct loop *l, const struct config *cfg, bool replay, char *err,
		    size_t errlen, int *status)
{
	(void)l;
	(void)cfg;
	(void)replay;
	snprintf(err, errlen, "this build has no pipeline (use --dump)");
	*status = EXIT_UNAVAILABLE;
	return NULL;
}

void run_free(struct run *r) { (void)r; }
void run_set_scanner(struct run *r, const struct scanner *s) { (void)r; (void)s; }
void run_report(struct run *r, const struct adv_report *rep) { (void)r; (void)rep; }
void run_clock(struct run *r, uint64_t ts_us) { (void)r; (void)ts_us; }
void run_reload(struct run *r, const struct config *cfg) { (void)r; (void)cfg; }

void run_flush(struct run *r, uint64_t now_us)
{
	(void)r;
	(void)now_us;
}

bool run_drained(const struct run *r)
{
	(void)r;
	return true;
}

void run_stop(struct run *r, int timeout_ms)
{
	(void)r;
	(void)timeout_ms;
}

void run_status(const struct run *r, char *buf, size_t n)
{
	(void)r;
	if (n)
		buf[0] = '\0';
}

void run_metrics(const struct run *r, struct metrics_sample *m)
{
	(void)r;
	(void)m;
}

int run_check_db(const char *path, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: this build cannot open databases", path);
	return -1;
}
