/* nodename.c: what a Slurm node name may be, and this node's own. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nodename.h"

bool node_name_valid(const char *name)
{
	size_t len = strlen(name), digits = 0;
	const char *p;

	if (len == 0 || len > NODE_NAME_MAX || name[0] == '-' || name[0] == '.')
		return false;
	for (p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
		digits = isdigit((unsigned char)*p) ? digits + 1 : 0;
		if (digits > NAME_DIGITS_MAX)
			return false;
	}
	return true;
}

int node_own_name(char *out, size_t len, char *err, size_t errlen)
{
	const char *env = getenv("SLURMD_NODENAME");
	char host[256];

	if (env && *env) {
		/* Never a shortened name: it would be another node's. */
		if (snprintf(out, len, "%s", env) >= (int)len ||
		    !node_name_valid(env)) {
			snprintf(err, errlen, "invalid node name \"%.64s%s\"", env,
				 strlen(env) > 64 ? "..." : "");
			return -1;
		}
	} else {
		char *dot;

		if (gethostname(host, sizeof(host)) < 0) {
			snprintf(err, errlen, "gethostname: %s", strerror(errno));
			return -1;
		}
		host[sizeof(host) - 1] = '\0';
		dot = strchr(host, '.');
		if (dot)
			*dot = '\0';
		if (snprintf(out, len, "%s", host) >= (int)len) {
			snprintf(err, errlen, "invalid node name \"%.64s...\"", host);
			return -1;
		}
	}
	if (!node_name_valid(out)) {
		snprintf(err, errlen, "invalid node name \"%.64s\"", out);
		return -1;
	}
	return 0;
}
