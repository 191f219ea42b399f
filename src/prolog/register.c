/* register.c: slurm-identity-prolog-register, the prolog's slow path on
 * compute nodes, which slurm-identity-prolog (prolog.c) execs when the
 * node's record is not ready for this boot.
 *
 * It checks the record again (another job's prolog may have registered
 * meanwhile), registers once (a concurrent prolog waits on the node lock), and on failure drain the node
 * with "identity: <backend>: <why>" and exit non-zero so Slurm requeues.
 * Only node faults drain: a job user who does not resolve is logged and
 * left to the job's steps to refuse.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/slurm_node.h"
#include "node.h"

/* Concurrent prologs wait this long for the first one's registration. */
#define LOCK_WAIT_MS 90000

/* SLURM_JOB_ID as slurmd gave it, for the log. */
static const char *job_id(void)
{
	const char *id = getenv("SLURM_JOB_ID");

	return id && *id && strspn(id, "0123456789") == strlen(id) ? id : "?";
}

int main(int argc, char **argv)
{
	struct program prog;
	struct journal_entry e;
	char node[65], err[1024], reason[512];
	int fd = -1, rc = 1;

	if (argc > 1) {
		fprintf(stderr, "Usage: slurm-identity-prolog\n"
				"Run by slurmd as Prolog; see slurm-identity(8).\n");
		return strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	secret_protect_process();
	journal_entry_init(&e, "");
	if (backends_program_start(&prog, "slurm-identity-prolog", NULL,
				   isatty(2) ? PROGRAM_INTERACTIVE : 0, err,
				   sizeof(err)) < 0)
		goto out;
	if (node_own_name(node, sizeof(node), err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	log_set_context(node);
	if (!prog.conf.backends) {
		rc = 0;
		goto out;
	}
	if (journal_read(prog.conf.state_dir, NODE_ROLE, node, &e, err,
			 sizeof(err)) >= 0 && node_record_ready(&e))
		goto ready;
	if (journal_init(prog.conf.state_dir, NODE_ROLE, err, sizeof(err)) < 0) {
		snprintf(reason, sizeof(reason), "state: %.400s", err);
		node_drain(node, reason);
		goto out;
	}
	fd = journal_lock(prog.conf.state_dir, NODE_ROLE, node, LOCK_WAIT_MS);
	if (fd < 0) {
		snprintf(reason, sizeof(reason), "state: cannot lock: %s",
			 strerror(errno));
		node_drain(node, reason);
		goto out;
	}
	journal_entry_clear(&e);
	if (journal_read(prog.conf.state_dir, NODE_ROLE, node, &e, err,
			 sizeof(err)) < 0) {
		snprintf(reason, sizeof(reason), "state: %.400s", err);
		node_drain(node, reason);
		goto out;
	}
	/* The slow path: only now is ClusterName needed (marks, tags). */
	if (!node_record_ready(&e) &&
	    program_need_cluster_name(&prog, err, sizeof(err)) < 0) {
		snprintf(reason, sizeof(reason), "config: %.400s", err);
		node_drain(node, reason);
		goto out;
	}
	if (!node_record_ready(&e) &&
	    node_register(&prog, node, &e, reason, sizeof(reason)) < 0) {
		node_drain_and_recycle(node, reason);
		goto out;
	}
ready:
	/* A job user who does not resolve here is the job's fault, not the
	 * node's: a failed Prolog drains the node and requeues the job, to
	 * fail the same way on the next node. So the prolog succeeds, and the
	 * job is refused at its steps by the SPANK plugin (the gate), which
	 * tells the user why and leaves the node in service. Without the
	 * plugin nothing refuses it: slurmstepd runs it under the bare uid
	 * with the name and groups slurmctld sent. */
	if (!node_job_user_resolves(reason, sizeof(reason)))
		log_error("job %s: %s: the job's steps are refused; the node stays in service",
			  job_id(), reason);
	rc = 0;
out:
	journal_unlock(fd);
	journal_entry_clear(&e);
	if (prog.conf_loaded || prog.conf_path)
		program_end(&prog);
	libslurm_close();
	return rc;
}
