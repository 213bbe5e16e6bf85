/*
 * peak_rss.c - run a command and report its peak resident set size.
 *
 *   e2e_peak_rss OUT COMMAND [ARG]...
 *
 * Writes the command's ru_maxrss (KiB) to OUT and exits with the command's
 * exit status (128 + N when killed by signal N).
 *
 * Why not measure from the Python test itself: the kernel carries the
 * high-water mark of the address space a process had before exec() over to
 * the new program, and a child forked (or vforked) from a test interpreter
 * that holds a large capture in memory starts with the interpreter's RSS.
 * Forked from this small program, the figure is the daemon's own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid, r;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: e2e_peak_rss OUT COMMAND [ARG]...\n");
		return 64;
	}
	pid = fork();
	if (pid < 0) {
		perror("e2e_peak_rss: fork");
		return 71;
	}
	if (pid == 0) {
		execvp(argv[2], &argv[2]);
		fprintf(stderr, "e2e_peak_rss: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	do
		r = wait4(pid, &status, 0, &ru);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		perror("e2e_peak_rss: wait4");
		return 71;
	}
	out = fopen(argv[1], "w");
	if (!out || fprintf(out, "%ld\n", ru.ru_maxrss) < 0 || fclose(out) != 0) {
		perror("e2e_peak_rss: writing the result");
		return 74;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
