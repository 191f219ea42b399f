/* prolog.c: slurm-identity-prolog, slurm.conf's Prolog, every job's path.
 *
 * When this node's identity is ready for this boot and the job's user
 * resolves, it reads identity.conf and one small record and exits 0, with
 * nothing but the C library loaded: no libslurm, no libcurl, no slurm.conf.
 * Everything else (the first job of a boot, a failure to report to Slurm)
 * belongs to slurm-identity-prolog-register beside it, which it executes
 * with the same arguments and environment.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/journal.h"
#include "common/nodename.h"
#include "common/secret.h"
#include "record.h"

#define SLOW_PATH "slurm-identity-prolog-register"

/* The registration program: beside this one, wherever it is installed. */
static int slow_path(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return snprintf(out, len, "%s/%s", self, SLOW_PATH) < (int)len ? 0 : -1;
}

/* 0: ready (or nothing to do); 1: the slow path must look. */
static int fast_path(void)
{
	struct identity_conf conf;
	struct journal_entry e;
	char *path = config_default_path(), node[NODE_NAME_MAX + 1];
	char err[1024], why[256];
	int rc = 1;

	config_init(&conf);
	journal_entry_init(&e, "");
	if (config_load(&conf, path, err, sizeof(err)) < 0)
		goto out;	/* the slow path reports it */
	if (!conf.backends) {
		rc = 0;
		goto out;
	}
	if (node_own_name(node, sizeof(node), err, sizeof(err)) < 0)
		goto out;
	if (journal_read(conf.state_dir, NODE_ROLE, node, &e, err, sizeof(err)) == 0 &&
	    node_record_ready(&e) && node_job_user_resolves(why, sizeof(why)))
		rc = 0;
out:
	journal_entry_clear(&e);
	journal_close_all();
	config_free(&conf);
	free(path);
	return rc;
}

int main(int argc, char **argv)
{
	char slow[PATH_MAX + 64];

	secret_protect_process();
	if (argc == 1 && fast_path() == 0)
		return 0;
	if (slow_path(slow, sizeof(slow)) < 0) {
		syslog(LOG_ERR, "slurm-identity-prolog: cannot find %s", SLOW_PATH);
		return 1;
	}
	argv[0] = slow;
	execv(slow, argv);
	syslog(LOG_ERR, "slurm-identity-prolog: cannot run %s: %m", slow);
	return 1;
}
