#include "delivery_log.h"

#include <stdarg.h>
#include <stdio.h>

static delivery_log_fn log_fn;
static int log_verbose;

void delivery_log_set(delivery_log_fn fn)
{
	log_fn = fn;
}

void delivery_log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

void delivery_log(int priority, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (priority >= LOG_DEBUG && !log_verbose && !log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(priority, line);
	else
		fprintf(stderr, "beacongw: delivery: %s\n", line);
}
