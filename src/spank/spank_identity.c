/* spank_identity.c: the SPANK plugin's entry points.
 *
 * In the job's remote context (slurmstepd, as root): create the job user's
 * home directory when it is missing (directory users reach batch nodes
 * without PAM), and refuse to start tasks on a node whose identity is not
 * ready, waiting up to wait= seconds, or for a user who does not resolve
 * on the node. Only the
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
		return -1;
	}
	return ESPANK_SUCCESS;
}

/* Why this step must not start: decided as root in init_post_opt (the
 * state directory is root's), enforced in task_init, whose failure makes
 * the forked task exit before exec. Failures are returned as -1: slurmstepd
 * logs a positive ESPANK_* code as a failure but only stops on a negative
 * one (seen in tests/integration/0400-spank.sh). */
static char step_refusal[1280];

static void wait_for_identity(void)
{
	char why[512];
	int waited = 0;

	while (gate_check(args.state_dir, why, sizeof(why)) < 0) {
		if (waited >= args.wait_seconds) {
			snprintf(step_refusal, sizeof(step_refusal),
				 "identity: %s: tasks not started on this node "
				 "(the node will be drained or power-cycled; resubmit or wait)",
				 why);
			return;
		}
		sleep(1);
		waited++;
	}
	step_refusal[0] = '\0';
}

/* The job's user, as this node resolves it. One that does not resolve is
 * the job's fault, not the node's: its tasks are refused (task_init), the
 * node stays in service. The prolog leaves this to us for that reason: a
 * failed Prolog drains the node. */
static int job_user(spank_t sp, struct passwd *pw, char *buf, size_t len,
		    uid_t *uid, gid_t *gid)
{
	struct passwd *res = NULL;

	if (spank_get_item(sp, S_JOB_UID, uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_GID, gid) != ESPANK_SUCCESS) {
		slurm_error("spank_identity: cannot get the job's uid/gid");
		return -1;
	}
	if (getpwuid_r(*uid, pw, buf, len, &res) != 0 || !res) {
		snprintf(step_refusal, sizeof(step_refusal),
			 "identity: your user (uid %u) does not resolve on this node",
			 (unsigned)*uid);
		return -1;
	}
	return 0;
}

static int ensure_home(const struct passwd *pw, uid_t uid, gid_t gid)
{
	char err[1024];
	bool created;

	if (!pw->pw_dir || !args_home_managed(&args, pw->pw_dir))
		return 0;	/* not a home we manage */
	if (home_ensure(&args, pw->pw_dir, uid, gid, &created, err,
			sizeof(err)) < 0) {
		snprintf(step_refusal, sizeof(step_refusal),
			 "identity: home directory: %s", err);
		return -1;
	}
	if (created)
		slurm_info("spank_identity: created %s for %s", pw->pw_dir,
			   pw->pw_name);
	return 0;
}

/* Once per step, as root, before any task: the gate, the user and the
 * home. A refusal is carried out in task_init, so the job fails cleanly;
 * failing here would make slurmstepd abort and take the node out. */
int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	struct passwd pw;
	char buf[4096];
	uid_t uid;
	gid_t gid;

	if (!spank_remote(sp))
		return ESPANK_SUCCESS;
	wait_for_identity();
	if (step_refusal[0] ||
	    job_user(sp, &pw, buf, sizeof(buf), &uid, &gid) < 0)
		return ESPANK_SUCCESS;
	if (args.create_home)
		ensure_home(&pw, uid, gid);
	return ESPANK_SUCCESS;
}

/* In each task, before exec: the task's stderr is the user's. */
int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	if (!step_refusal[0])
		return ESPANK_SUCCESS;
	fprintf(stderr, "%s\n", step_refusal);
	slurm_error("spank_identity: %s", step_refusal);
	return -1;
}
