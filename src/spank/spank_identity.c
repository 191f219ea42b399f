/* spank_identity.c: the SPANK plugin's entry points.
 *
 * In the job's remote context (slurmstepd, as root, before tasks start):
 * refuse to start tasks on a node whose identity is not ready (waiting up
 * to wait= seconds), and create the job user's home directory when it is
 * missing, since directory users reach batch nodes without PAM. Only the
 * SPANK API is used here, no libslurm.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/spank.h>

#include "args.h"
#include "gate.h"
#include "home.h"

SPANK_PLUGIN(identity, 1);

static struct spank_identity_args args;

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	char err[512];

	if (args_parse(ac, av, &args, err, sizeof(err)) < 0) {
		slurm_error("spank_identity: plugstack.conf: %s", err);
		return ESPANK_BAD_ARG;
	}
	return ESPANK_SUCCESS;
}

static int wait_for_identity(void)
{
	char why[512];
	int waited = 0;

	while (gate_check(args.state_dir, why, sizeof(why)) < 0) {
		if (waited >= args.wait_seconds) {
			slurm_error("spank_identity: identity not ready: %s", why);
			slurm_spank_log("identity: %s: tasks not started on this node "
					"(the node will be drained or power-cycled; resubmit or wait)",
					why);
			return -1;
		}
		sleep(1);
		waited++;
	}
	return 0;
}

static int ensure_home(spank_t sp)
{
	char err[1024], buf[4096];
	struct passwd pw, *res = NULL;
	uid_t uid;
	gid_t gid;
	bool created;

	if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_GID, &gid) != ESPANK_SUCCESS) {
		slurm_error("spank_identity: cannot get the job's uid/gid");
		return -1;
	}
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res) {
		slurm_error("spank_identity: uid %u does not resolve", (unsigned)uid);
		slurm_spank_log("identity: your user (uid %u) does not resolve on this node",
				(unsigned)uid);
		return -1;
	}
	if (!pw.pw_dir || strncmp(pw.pw_dir, args.home_base,
				  strlen(args.home_base)) != 0)
		return 0;	/* not a home we manage */
	if (home_ensure(&args, pw.pw_dir, uid, gid, &created, err,
			sizeof(err)) < 0) {
		slurm_error("spank_identity: home: %s", err);
		slurm_spank_log("identity: home directory: %s", err);
		return -1;
	}
	if (created)
		slurm_info("spank_identity: created %s for %s", pw.pw_dir,
			   pw.pw_name);
	return 0;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	if (!spank_remote(sp))
		return ESPANK_SUCCESS;
	if (wait_for_identity() < 0)
		return ESPANK_ERROR;
	if (args.create_home && ensure_home(sp) < 0)
		return ESPANK_ERROR;
	return ESPANK_SUCCESS;
}
