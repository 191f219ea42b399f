/* hooks.c: the power hooks slurmctld runs as SlurmUser.
 *
 * Slurm passes only the hostlist, an environment built from scratch
 * (SLURM_CONF, SLURM_RESUME_FILE), discards our output and kills us past
 * its timeouts. So: identity.conf beside slurm.conf, everything logged,
 * the chained cloud program started first-thing for suspend, and every
 * network step bounded by a deadline under SuspendTimeout.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/aws/clock.h"
#include "common/journal.h"
#include "common/log.h"
#include "common/metrics.h"
#include "backends/backend.h"
#include "common/program.h"
#include "common/secret.h"
#include "common/slurm_node.h"
#include "common/xmalloc.h"
#include "chain.h"
#include "controller/controller.h"
#include "hooks.h"
#include "controller/queue.h"
#include "resume_file.h"
#include "controller/worker.h"

/* Slurm's own default SuspendTimeout, when slurmctld cannot say. */
#define DEFAULT_SUSPEND_TIMEOUT 30
/* How long the resume hook gives its identity work (seconds). */
#define RESUME_BUDGET 60

/* Copies of SLURM_RESUME_FILE are kept this long for post-mortems. */
#define RESUME_COPY_DAYS 7

static const char *hook_name(enum hook_kind kind)
{
	switch (kind) {
	case HOOK_RESUME:
		return "slurm-identity-resume";
	case HOOK_SUSPEND:
		return "slurm-identity-suspend";
	case HOOK_RESUME_FAIL:
		return "slurm-identity-resume-fail";
	}
	return "slurm-identity";
}

static const char *chain_program(const struct identity_conf *conf,
				 enum hook_kind kind)
{
	switch (kind) {
	case HOOK_RESUME:
		return conf->chain_resume_program;
	case HOOK_SUSPEND:
		return conf->chain_suspend_program;
	case HOOK_RESUME_FAIL:
		return conf->chain_resume_fail_program;
	}
	return NULL;
}

/* SuspendTimeout as slurmctld has it (Include files and all), or Slurm's
 * default of 30 s if it cannot be asked. */
static int slurm_suspend_timeout(void)
{
	char err[256];
	int timeout = ctld_suspend_timeout(err, sizeof(err));

	if (timeout <= 0) {
		log_error("cannot read SuspendTimeout from Slurm (%s); assuming %d s",
			  err, DEFAULT_SUSPEND_TIMEOUT);
		timeout = DEFAULT_SUSPEND_TIMEOUT;
	}
	return timeout;
}

/* Remove copies older than RESUME_COPY_DAYS from the open directory. */
static void prune_resume_copies(int dirfd)
{
	time_t cutoff = time(NULL) - RESUME_COPY_DAYS * 86400;
	int fd = dup(dirfd);
	struct dirent *de;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && st.st_mtime < cutoff)
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

/* SLURM_RESUME_FILE vanishes with slurmctld: copy it (0600) at once, and
 * log which jobs asked for the nodes. */
static void keep_resume_file(const struct identity_conf *conf)
{
	const char *src = getenv("SLURM_RESUME_FILE");
	char *dst = NULL, err[512];
	struct resume_request req;
	struct strbuf data;
	int out = -1, dirfd;

	strbuf_init(&data);
	memset(&req, 0, sizeof(req));
	if (!src || !*src)
		return;
	if (resume_file_read(src, &data, err, sizeof(err)) < 0) {
		log_error("resume: SLURM_RESUME_FILE: %s", err);
		goto out;
	}
	/* Checked once and held open: the copies and the pruning happen in
	 * that directory, whatever its path points to later. */
	dirfd = journal_dir_fd(conf->state_dir, "resume", err, sizeof(err));
	if (dirfd < 0) {
		log_error("resume: %s", err);
		goto out;
	}
	prune_resume_copies(dirfd);
	dst = xasprintf("%lld-%ld.json", (long long)time(NULL), (long)getpid());
	out = openat(dirfd, dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     0600);
	if (out < 0 || write(out, data.data ? data.data : "", data.len) !=
			       (ssize_t)data.len) {
		log_error("resume: cannot copy SLURM_RESUME_FILE to %s/resume/%s: %s",
			  conf->state_dir, dst, strerror(errno));
		goto out;
	}
	if (resume_file_parse(data.data ? data.data : "", data.len, &req, err,
			      sizeof(err)) < 0) {
		log_error("resume: SLURM_RESUME_FILE: %s (kept in %s/resume/%s)",
			  err, conf->state_dir, dst);
		goto out;
	}
	log_info("resume: nodes %s for jobs %s (copy in %s/resume/%s)",
		 req.all_nodes ? req.all_nodes : "?",
		 req.jobs[0] ? req.jobs : "none", conf->state_dir, dst);
out:
	if (out >= 0)
		close(out);
	resume_request_free(&req);
	strbuf_free(&data);
	free(dst);
}

static void usage(const char *name)
{
	fprintf(stderr,
		"Usage: %s HOSTLIST\n"
		"Run by slurmctld (slurm.conf ResumeProgram, SuspendProgram,\n"
		"ResumeFailProgram); reads identity.conf beside slurm.conf.\n"
		"See slurm-identity(8).\n",
		name);
}

int hook_main(enum hook_kind kind, int argc, char **argv)
{
	const char *name = hook_name(kind), *chain;
	struct program prog;
	struct node_list nodes = { NULL, 0 };
	struct controller ctl;
	struct aws_client *aws = NULL;
	char err[1024];
	double start = clock_monotonic(), deadline;
	const char *what = kind == HOOK_RESUME	  ? "resume"
			   : kind == HOOK_SUSPEND ? "suspend"
						  : "resume-fail";
	bool trouble = false;	/* identity work refused or failed */
	pid_t pid = -1;
	int rc = 0, chain_rc = 0;

	secret_protect_process();
	if (argc != 2 || argv[1][0] == '-') {
		usage(name);
		return (argc == 2 && strcmp(argv[1], "--help") == 0) ? 0 : 2;
	}
	if (backends_program_start(&prog, name, NULL, isatty(2), err, sizeof(err)) < 0) {
		program_end(&prog);
		return 1;
	}
	log_set_context(argv[1]);
	chain = chain_program(&prog.conf, kind);
	if (kind != HOOK_RESUME && chain) {
		/* Terminating the instances is what Slurm is waiting for:
		 * start it before anything that may wait on slurmctld (an
		 * unreachable one costs seconds per call), and deregister
		 * while it runs. */
		pid = chain_start(chain, argv[1]);
		if (pid < 0)
			chain_rc = 1;
	}
	if (prog.conf.backends &&
	    program_need_cluster_name(&prog, err, sizeof(err)) < 0) {
		log_error("%s", err);
		trouble = true;
	}
	if (kind == HOOK_RESUME) {
		deadline = start + RESUME_BUDGET;
		keep_resume_file(&prog.conf);
	} else {
		int budget = prog.conf.suspend_budget;

		if (!budget) {
			budget = slurm_suspend_timeout() - 2;
			if (budget < 5)
				budget = 5;
		}
		deadline = start + budget;
	}
	if (node_list_expand(argv[1], &nodes, err, sizeof(err)) < 0) {
		log_error("%s; no identity work done", err);
		rc = 1;
	} else if (prog.conf.backends && kind == HOOK_RESUME) {
		aws = program_aws(&prog, err, sizeof(err));
		if (!aws) {
			log_error("aws: %s", err);
			trouble = true;
		}
	}
	controller_init(&ctl, &prog.conf, aws, deadline);
	if (rc == 0 && kind == HOOK_RESUME) {
		/* Refusals (StateDir, locks) are logged where they happen. */
		if (controller_resume(&ctl, &nodes) < 0)
			trouble = true;
		if (chain) {
			pid = chain_start(chain, argv[1]);
			chain_rc = pid < 0 ? 1 : chain_wait(pid, 0);
		}
	} else if (rc == 0 && prog.conf.backends && nodes.count) {
		/* The whole batch in one durable write, then the network work
		 * to the worker: Slurm waits for nothing but the chain. */
		if (queue_put(prog.conf.state_dir, &nodes, err, sizeof(err)) < 0) {
			struct node_list pending = { NULL, 0 };

			/* StateDir trouble is never silence: say so, fail, and
			 * still remove what can be removed in our own time
			 * (removal is idempotent). */
			log_error("deregister: StateDir: cannot journal the batch: %s; deregistering now, without a journal",
				  err);
			metrics_count("slurm_identity_statedir_errors_total", "", 1);
			trouble = true;
			aws = program_aws(&prog, err, sizeof(err));
			if (!aws)
				log_error("aws: %s", err);
			controller_free(&ctl);
			controller_init(&ctl, &prog.conf, aws, deadline);
			if (controller_deregister(&ctl, &nodes, &pending))
				log_error("deregister: %zu node(s) not done: reconcile has them once StateDir works",
					  pending.count);
			node_list_free(&pending);
		} else if (worker_ensure(&prog) < 0) {
			log_error("deregister: no worker started; the batch waits for the next hook or reconcile");
			trouble = true;
		} else {
			log_info("deregister: %zu node(s) queued", nodes.count);
		}
	}
	if (pid > 0 && kind != HOOK_RESUME) {
		chain_rc = chain_wait(pid, deadline);
		if (chain_rc < 0)
			log_error("chain: %s still running at the deadline", chain);
	}
	if (chain && chain_rc != 0)
		log_error("chain: %s exited with %d", chain, chain_rc);
	/* The chain's failure first, its status passed on as it is (it is
	 * what Slurm asked for); else 1 for any identity trouble: identity
	 * trouble is never an exit 0, even when the chain succeeded. */
	if (chain && chain_rc != 0) {
		rc = chain_rc < 0 ? 1 : chain_rc;
	} else if (rc || trouble) {
		log_error("%s: identity work failed; exit 1", what);
		rc = 1;
	}
	log_info("%s done in %.0f ms (exit %d)", what,
		 (clock_monotonic() - start) * 1000, rc);
	node_list_free(&nodes);
	controller_free(&ctl);
	program_end(&prog);
	libslurm_close();
	return rc;
}
