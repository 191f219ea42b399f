/* record.c: what the prolog's fast path needs: this boot's id, whether the
 * node's record is ready for it, whether the job's user resolves. Only the
 * C library and the journal: the fast path loads nothing else. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/journal.h"
#include "record.h"

/* The kernel's boot id: a new instance is a new boot. */
void node_boot_id(char *out, size_t len)
{
	char buf[64] = "";
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(out, len, "%s", buf);
}

bool node_record_ready(const struct journal_entry *e)
{
	const char *phase = journal_get(e, "phase");
	const char *boot = journal_get(e, "boot_id");
	char now[64];

	if (!phase || strcmp(phase, "ready") != 0 || !boot)
		return false;
	node_boot_id(now, sizeof(now));
	return strcmp(boot, now) == 0;
}

/* getpwuid(3): 0, ENOENT, ESRCH, EBADF and EPERM all mean "no such user"
 * (NSS modules differ in which they leave); anything else is an error
 * worth naming. */
static bool not_found(int err)
{
	return err == 0 || err == ENOENT || err == ESRCH || err == EBADF ||
	       err == EPERM;
}

bool node_job_user_resolves(char *why, size_t whylen)
{
	const char *uid = getenv("SLURM_JOB_UID");
	const char *user = getenv("SLURM_JOB_USER");
	struct passwd *pw = NULL;
	char *end;

	if (uid && *uid) {
		unsigned long u = strtoul(uid, &end, 10);

		if (*end) {
			snprintf(why, whylen, "bad SLURM_JOB_UID");
			return false;
		}
		errno = 0;
		pw = getpwuid((uid_t)u);
		if (!pw && not_found(errno))
			snprintf(why, whylen, "user: uid %lu does not resolve", u);
		else if (!pw)
			snprintf(why, whylen, "user: uid %lu does not resolve: %s",
				 u, strerror(errno));
	} else if (user && *user) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw)
			snprintf(why, whylen, "user: %.64s does not resolve", user);
	} else {
		return true;
	}
	return pw != NULL;
}

