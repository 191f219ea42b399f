/* gate.c: read StateDir/node/<hostname> as the prolog wrote it: ready, and
 * made in this boot. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gate.h"

static void read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/* Value of "key=" at the start of a line, or "". */
static void field(const char *text, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = text;

	out[0] = '\0';
	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, "\n");

			snprintf(out, len, "%.*s", (int)n, p + klen + 1);
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

int gate_check(const char *state_dir, char *why, size_t whylen)
{
	char host[256], path[1400], record[4096], phase[64], boot[64], now[64];
	char *dot;
	const char *c;

	if (gethostname(host, sizeof(host)) < 0) {
		snprintf(why, whylen, "gethostname: %s", strerror(errno));
		return -1;
	}
	host[sizeof(host) - 1] = '\0';
	dot = strchr(host, '.');
	if (dot)
		*dot = '\0';
	for (c = host; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_') {
			snprintf(why, whylen, "odd host name");
			return -1;
		}
	snprintf(path, sizeof(path), "%s/node/%s", state_dir, host);
	read_small(path, record, sizeof(record));
	if (!record[0]) {
		snprintf(why, whylen, "node %s has not registered its identity", host);
		return -1;
	}
	field(record, "phase", phase, sizeof(phase));
	field(record, "boot_id", boot, sizeof(boot));
	read_small("/proc/sys/kernel/random/boot_id", now, sizeof(now));
	now[strcspn(now, "\n")] = '\0';
	if (strcmp(phase, "ready") != 0) {
		snprintf(why, whylen, "node %s identity is %s", host,
			 phase[0] ? phase : "unknown");
		return -1;
	}
	if (strcmp(boot, now) != 0) {
		snprintf(why, whylen, "node %s identity is from an earlier boot", host);
		return -1;
	}
	return 0;
}
