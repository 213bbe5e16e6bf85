/*
 * ctl_confirm.c - the question before a change that cannot be undone
 * (forget, customer remove, campaign remove, purge).
 *
 * A person at a terminal is asked; a script says --yes. A script that did
 * not say so is refused rather than guessed at: a cron job or a pipeline
 * has no one to answer, and erasing by default is the wrong default.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ctl.h"

int ctl_confirm(const struct ctl *ctl, const char *fmt, ...)
{
	char question[256], answer[16];
	va_list ap;
	size_t n;

	if (ctl->yes)
		return BGW_EXIT_OK;
	va_start(ap, fmt);
	vsnprintf(question, sizeof(question), fmt, ap);
	va_end(ap);
	if (!isatty(STDIN_FILENO))
		return ctl_fail(BGW_EXIT_USAGE, "%s: not confirmed, nothing changed (no terminal to "
				"ask on: add --yes to do it without asking)", question);
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		answer[0] = '\0';
	n = strcspn(answer, "\r\n");
	answer[n] = '\0';
	if (strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0)
		return BGW_EXIT_OK;
	return ctl_fail(CTL_EXIT_DECLINED, "not confirmed, nothing changed");
}
