/* hooks.c: the power hooks slurmctld runs as SlurmUser.
 *
 * Slurm passes only the hostlist, an environment built from scratch
 * (SLURM_CONF, SLURM_RESUME_FILE), discards our output and kills us past
 * its timeouts. So: identity.conf beside slurm.conf, everything logged,
 * the batch journaled in one write and the chained cloud program started
 * at once, and the network work (preparing, removing) left to the
 * detached worker, so Slurm never waits for the directory.
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

#include "backends/backend.h"
#include "common/aws/clock.h"
#include "common/journal.h"
#include "common/log.h"
#include "common/metrics.h"
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
		"Usage: %s [-c FILE] HOSTLIST\n"
		"Run by slurmctld (slurm.conf ResumeProgram, SuspendProgram,\n"
		"ResumeFailProgram, or a PowerAction Program with -c before the\n"
		"node list); reads FILE, else identity.conf beside slurm.conf.\n"
		"See slurm-identity(8).\n",
		name);
}

/* One run of a hook: what it was asked, and how it went. */
struct hook_run {
	enum hook_kind kind;
	const char *what;	/* "resume", "suspend", "resume-fail" */
	const char *hostlist;	/* as Slurm passed it */
	const char *chain;	/* the cloud's program, NULL for none */
	struct program prog;
	struct node_list nodes;
	struct controller ctl;
	double start, deadline;
	bool trouble;		/* identity work refused or failed */
	bool queued;		/* the batch is in the worker's queue */
};

/* [-c FILE] [--] HOSTLIST: Slurm 26.05's PowerAction puts its configured
 * arguments first and the node list last. Returns 0 to go on, 2 for a
 * bad command line, -1 for --help (usage printed: exit 0). */
static int parse_args(int argc, char **argv, const char *name,
		      const char **conf_path, const char **hostlist)
{
	int i = 1;

	*conf_path = NULL;
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(name);
		return -1;
	}
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc &&
		    argv[i + 1][0] == '/') {
			*conf_path = argv[i + 1];
			i += 2;
			continue;
		}
		fprintf(stderr, "%s: %s: %s\n", name, argv[i],
			strcmp(argv[i], "-c") == 0 ?
			"needs an absolute path to identity.conf" :
			"unknown option");
		usage(name);
		return 2;
	}
	if (argc - i != 1 || !argv[i][0]) {
		usage(name);
		return 2;
	}
	*hostlist = argv[i];
	return 0;
}

/* The time a removal the hook must do itself may take (StateDir refused
 * the batch): SuspendBudget, else SuspendTimeout less a margin. Asked
 * after the chain started: an unreachable slurmctld costs seconds. A
 * resume does no network work of its own. */
static double work_deadline(const struct hook_run *h)
{
	int budget;

	if (h->kind == HOOK_RESUME)
		return h->start;
	budget = h->prog.conf.suspend_budget;
	if (!budget) {
		budget = slurm_suspend_timeout() - 2;
		if (budget < 5)
			budget = 5;
	}
	return h->start + budget;
}

/* StateDir would not take the batch: say so, fail, and still remove what
 * can be removed in our own time (removal is idempotent). */
static void deregister_now(struct hook_run *h, const char *why)
{
	struct node_list pending = { NULL, 0 };
	struct aws_client *aws;
	char err[1024];

	log_error("deregister: StateDir: cannot journal the batch: %s; deregistering now, without a journal",
		  why);
	metrics_count("slurm_identity_statedir_errors_total", "", 1);
	h->trouble = true;
	aws = program_aws(&h->prog, err, sizeof(err));
	if (!aws)
		log_error("aws: %s", err);
	controller_free(&h->ctl);
	controller_init(&h->ctl, &h->prog.conf, aws, h->deadline);
	if (controller_deregister(&h->ctl, &h->nodes, &pending))
		log_error("deregister: %zu node(s) not done: reconcile has them once StateDir works",
			  pending.count);
	node_list_free(&pending);
}

/* The whole batch in one durable write, and the network work left to the
 * worker: a resume's nodes prepared (AD accounts, join secrets) while they
 * boot, a suspend's or resume-fail's identities removed. Slurm waits for
 * nothing but the chain. */
static void queue_work(struct hook_run *h)
{
	enum queue_kind kind = h->kind == HOOK_RESUME ? QUEUE_PREPARE
						      : QUEUE_REMOVE;
	char err[1024];

	controller_init(&h->ctl, &h->prog.conf, NULL, h->deadline);
	if (kind == QUEUE_PREPARE) {
		/* Refused (its mode, its owner): said once, and not exit 0. */
		if (journal_init(h->prog.conf.state_dir, CONTROLLER_ROLE, err,
				 sizeof(err)) < 0) {
			log_error("resume: %s", err);
			h->trouble = true;
			return;
		}
		keep_resume_file(&h->prog.conf);
	}
	if (!h->prog.conf.backends || !h->nodes.count)
		return;
	if (queue_put(h->prog.conf.state_dir, kind, &h->nodes, err,
		      sizeof(err)) == 0) {
		h->queued = true;
	} else if (kind == QUEUE_REMOVE) {
		deregister_now(h, err);
	} else {
		log_error("prepare: StateDir: cannot journal the batch: %s; nothing prepared (the nodes' joins will wait and drain)",
			  err);
		metrics_count("slurm_identity_statedir_errors_total", "", 1);
		h->trouble = true;
	}
}

/* The batch queued: a worker for it, unless one runs. */
static void start_worker(struct hook_run *h)
{
	const char *what = h->kind == HOOK_RESUME ? "prepare" : "deregister";

	if (!h->queued)
		return;
	if (worker_ensure(&h->prog) < 0) {
		log_error("%s: no worker started; the batch waits for the next hook, the watcher or reconcile",
			  what);
		h->trouble = true;
	} else {
		log_info("%s: %zu node(s) queued", what, h->nodes.count);
	}
}

/* The chain's failure first, its status passed on as it is (it is what
 * Slurm asked for); else 1 for any identity trouble: identity trouble is
 * never an exit 0, even when the chain succeeded. */
static int exit_code(const struct hook_run *h, int chain_rc)
{
	if (h->chain && chain_rc != 0) {
		log_error("chain: %s exited with %d", h->chain, chain_rc);
		return chain_rc < 0 ? 1 : chain_rc;
	}
	if (h->trouble) {
		log_error("%s: identity work failed; exit 1", h->what);
		return 1;
	}
	return 0;
}

int hook_main(enum hook_kind kind, int argc, char **argv)
{
	struct hook_run h;
	const char *conf_path;
	char err[1024];
	pid_t pid = -1;
	int rc, chain_rc = 0;

	memset(&h, 0, sizeof(h));
	h.kind = kind;
	h.start = clock_monotonic();
	h.what = kind == HOOK_RESUME	? "resume"
		 : kind == HOOK_SUSPEND ? "suspend"
					: "resume-fail";
	secret_protect_process();
	rc = parse_args(argc, argv, hook_name(kind), &conf_path, &h.hostlist);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (backends_program_start(&h.prog, hook_name(kind), conf_path,
				   (isatty(2) ? PROGRAM_INTERACTIVE : 0) |
					   PROGRAM_AS_STATE_OWNER,
				   err, sizeof(err)) < 0) {
		program_end(&h.prog);
		return 1;
	}
	log_set_context(h.hostlist);
	h.chain = chain_program(&h.prog.conf, kind);
	if (kind != HOOK_RESUME && h.chain) {
		/* Terminating the instances is what Slurm is waiting for:
		 * start it before anything that may wait on slurmctld (an
		 * unreachable one costs seconds per call), and deregister
		 * while it runs. */
		pid = chain_start(h.chain, h.hostlist);
		if (pid < 0)
			chain_rc = 1;
	}
	if (h.prog.conf.backends &&
	    program_need_cluster_name(&h.prog, err, sizeof(err)) < 0) {
		log_error("%s", err);
		h.trouble = true;
	}
	/* Said here, not only by the worker that cannot bind: the batch is
	 * still queued, and done once DomainUser is set. */
	if (backend_enabled(&h.prog.conf, &ad_backend) &&
	    !h.prog.conf.domain_user) {
		log_error("ad: DomainUser= is not set: name the account the controller binds as, holding only the rights `slurm-identity policy --role directory` prints");
		h.trouble = true;
	}
	h.deadline = work_deadline(&h);
	if (node_list_expand(h.hostlist, &h.nodes, err, sizeof(err)) < 0) {
		log_error("%s; no identity work done", err);
		h.trouble = true;
		controller_init(&h.ctl, &h.prog.conf, NULL, h.deadline);
	} else {
		queue_work(&h);
	}
	/* A resume's batch is journaled: the instances are asked for now,
	 * and the worker prepares while they boot. */
	if (kind == HOOK_RESUME && h.chain) {
		pid = chain_start(h.chain, h.hostlist);
		if (pid < 0)
			chain_rc = 1;
	}
	start_worker(&h);
	if (kind == HOOK_RESUME && pid > 0) {
		chain_rc = chain_wait(pid, 0);
	} else if (pid > 0) {
		chain_rc = chain_wait(pid, h.deadline);
		if (chain_rc < 0)
			log_error("chain: %s still running at the deadline",
				  h.chain);
	}
	rc = exit_code(&h, chain_rc);
	log_info("%s done in %.0f ms (exit %d)", h.what,
		 (clock_monotonic() - h.start) * 1000, rc);
	node_list_free(&h.nodes);
	controller_free(&h.ctl);
	program_end(&h.prog);
	libslurm_close();
	return rc;
}
