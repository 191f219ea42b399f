/* tap.h: just enough of the Test Anything Protocol for our unit tests.
 *
 * Each test file includes this once; results print as "ok N - name" and
 * tap_done() returns the process exit status.
 */
#ifndef SLURM_IDENTITY_TAP_H
#define SLURM_IDENTITY_TAP_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_count;
static int tap_failed;

static int tap_ok(int pass, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int tap_ok(int pass, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!pass)
		tap_failed++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return pass;
}

__attribute__((unused)) static void tap_is_str(const char *got, const char *want, const char *name)
{
	int pass = got && want && strcmp(got, want) == 0;

	if (!tap_ok(pass, "%s", name))
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n",
		       got ? got : "(null)", want ? want : "(null)");
}

__attribute__((unused)) static void tap_is_int(long got, long want, const char *name)
{
	if (!tap_ok(got == want, "%s", name))
		printf("#   got:  %ld\n#   want: %ld\n", got, want);
}

__attribute__((unused)) static void tap_skip(const char *why)
{
	tap_count++;
	printf("ok %d # SKIP %s\n", tap_count, why);
}

/* Remove a test's scratch directory and all below it. */
__attribute__((unused)) static void tap_remove_tree(const char *dir)
{
	char cmd[512];

	if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < (int)sizeof(cmd) &&
	    system(NULL)) {
		int ignored = system(cmd);

		(void)ignored;
	}
}

/* Write text to dir/name (created 0600, truncated). */
__attribute__((unused)) static void tap_write_file(const char *dir, const char *name,
						   const char *text)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		tap_ok(0, "cannot write %s", path);
	if (fd >= 0)
		close(fd);
}

/* The first 4 KiB of dir/name, "" if unreadable; the caller frees it. */
__attribute__((unused)) static char *tap_read_file(const char *dir, const char *name)
{
	char path[4096], buf[4096];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strdup(buf);
}

static int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
