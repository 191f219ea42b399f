/* worker.c: a detached process that does the queued batches: prepares the
 * nodes a resume queued, removes the registrations of those a suspend
 * queued, at the API's rate, for as long as it takes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/aws/clock.h"
#include "common/journal.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/slurm_node.h"
#include "common/xmalloc.h"
#include "batch_plan.h"
#include "bind.h"
#include "controller.h"
#include "fence.h"
#include "queue.h"
#include "rates.h"
#include "worker.h"

/* Failed removals are tried again after 5, 10, 20, ... s (at most 60 s
 * apart) for about half an hour; then reconcile has them. */
#define RETRY_FIRST 5.0
#define RETRY_MAX_PAUSE 60.0
#define RETRY_ROUNDS 35
/* Join secrets are bound as their instances show up in EC2: a look every
 * BIND_PAUSE s, for BIND_ROUNDS looks after the last node came. */
#define BIND_PAUSE 2.0
#define BIND_ROUNDS 300

#define LOCK_NAME ".worker.lock"

static int open_lock(const char *state_dir)
{
	char err[512];
	int dirfd = journal_dir_fd(state_dir, QUEUE_ROLE, err, sizeof(err));
	int fd;

	if (dirfd < 0) {
		log_error("worker: %s", err);
		return -1;
	}
	fd = openat(dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		log_error("worker: cannot open %s/%s/.worker.lock: %s", state_dir,
			  QUEUE_ROLE, strerror(errno));
	return fd;
}

/* The queue's lock, exclusive, without waiting on a worker: 0 when taken,
 * 1 when a worker holds it, -1 on error (errno). worker_running()'s probe
 * holds it shared for an instant: that is told apart (a shared lock can be
 * had beside it, not beside a worker's) and waited out. */
static int lock_queue(int fd)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return -1;
		if (flock(fd, LOCK_SH | LOCK_NB) < 0)
			return errno == EWOULDBLOCK ? 1 : -1;
		/* Only probes hold it: let go and take it when they have. */
		flock(fd, LOCK_UN);
		clock_sleep(0.001);
	}
	return 1;
}

/* Add every batch waiting to plan, in queue order; the names of those
 * read into *names (an empty batch too: it is done as soon as it is
 * read). A batch that cannot be read is set aside, so that it is neither
 * deleted with the others nor taken again. -1 if one could not even be
 * set aside (it would be taken again at once): the caller stops. */
static int take_batches(const char *state_dir, struct batch_plan *plan,
			char ***names, size_t *count)
{
	char err[512], why[512], aside[128];
	size_t i, kept = 0;
	int rc = 0;

	if (queue_list(state_dir, names, count, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	for (i = 0; i < *count; i++) {
		struct node_list nodes = { NULL, 0 };
		enum queue_kind kind;
		char *name = (*names)[i];

		if (queue_read(state_dir, name, &kind, &nodes, err,
			       sizeof(err)) == 0) {
			batch_plan_add(plan, kind, &nodes, queue_batch_time(name));
			node_list_free(&nodes);
			(*names)[kept++] = name;
			continue;
		}
		node_list_free(&nodes);
		switch (queue_set_aside(state_dir, name, aside, sizeof(aside),
					why, sizeof(why))) {
		case 0:
			log_error("queue: %s; kept aside as %s", err, aside);
			break;
		case 1:
			break;	/* gone meanwhile: nothing to keep */
		default:
			log_error("queue: %s; and %s", err, why);
			rc = -1;
			break;
		}
		free(name);
	}
	*count = kept;
	return rc;
}

/* The client starts from the rates earlier workers learned, once. */
static void seed_rates(struct program *prog, struct aws_client *aws)
{
	static bool seeded;
	struct rate_entry e[RATES_MAX_SERVICES];
	char err[512];
	int n;

	if (seeded || !aws)
		return;
	seeded = true;
	n = rates_load(prog->conf.state_dir, e, RATES_MAX_SERVICES, time(NULL), err,
		       sizeof(err));
	if (n < 0 || err[0])
		log_error("%s", err);
	if (n > 0)
		rates_seed(aws, e, (size_t)n);
	while (n-- > 0)
		log_verbose("%s starts at 70%% of %.1f calls/s, the rate throttled %ld s ago",
			    e[n].service->signing_name, e[n].rate,
			    (long)(time(NULL) - e[n].when));
}

/* One pass over nodes; what failed goes into pending. */
static void deregister(struct program *prog, struct node_list *nodes,
		       struct node_list *pending)
{
	struct controller ctl;
	struct aws_client *aws;
	char err[1024];
	double t0 = clock_monotonic();

	aws = program_aws(prog, err, sizeof(err));
	if (!aws)
		log_error("aws: %s", err);
	seed_rates(prog, aws);
	controller_init(&ctl, &prog->conf, aws, 0);
	controller_deregister(&ctl, nodes, pending);
	controller_free(&ctl);
	if (aws && rates_save(prog->conf.state_dir, aws, time(NULL), err,
			      sizeof(err)) < 0)
		log_error("%s", err);
	log_info("%zu node(s) done in %.1f s, %zu pending", nodes->count,
		 clock_monotonic() - t0, pending->count);
}

/* Nodes a resume (or the watcher) queued: journaled as resuming, and what
 * the backends need made while they boot (AD accounts, join secrets);
 * since[i]: when node i's batch was queued (0: a retry). What fails is in
 * each node's record and the log, and goes into failed: tried again while
 * the node is still coming up; its join waits JoinSecretWait for it. */
static void prepare(struct program *prog, const struct node_list *nodes,
		    const double *since, struct node_list *failed,
		    struct node_list *bind)
{
	struct controller ctl;
	struct aws_client *aws = NULL;
	char err[1024];
	double t0 = clock_monotonic();
	size_t before = failed->count;

	if (prog->conf.backends) {
		aws = program_aws(prog, err, sizeof(err));
		if (!aws)
			log_error("aws: %s", err);
	}
	seed_rates(prog, aws);
	controller_init(&ctl, &prog->conf, aws, 0);
	controller_resume(&ctl, nodes, since, failed);
	/* Prepared: their join secrets wait to be bound to their instances
	 * (JoinSecretBinding), which are booting now. */
	if (bind && controller_binds(&ctl)) {
		struct name_set bad;
		size_t i, k;

		name_set_init(&bad);
		for (i = before; i < failed->count; i++)
			name_set_add(&bad, failed->names[i], 0);
		for (i = 0; i < nodes->count; i++)
			if (!name_set_find(&bad, nodes->names[i], &k))
				node_list_add(bind, nodes->names[i]);
		name_set_free(&bad);
	}
	controller_free(&ctl);
	if (failed->count > before)
		log_info("%zu node(s) prepared in %.1f s, %zu failed (see above; tried again while they come up)",
			 nodes->count - (failed->count - before),
			 clock_monotonic() - t0, failed->count - before);
	else
		log_info("%zu node(s) prepared in %.1f s", nodes->count,
			 clock_monotonic() - t0);
}

/* Of nodes whose preparation failed, those Slurm still has coming up
 * (the others have nothing to wait for it). None when Slurm cannot say:
 * the watcher queues a node again when it sees it come up, a resume
 * does. */
static void still_coming_up(struct node_list *nodes)
{
	struct slurm_node_set slurm = { 0 };
	struct node_list keep = { NULL, 0 };
	char conf[4096], err[512];
	size_t i;

	if (!nodes->count)
		return;
	if (!libslurm_conf_here(conf, sizeof(conf))) {
		log_error("%zu preparation(s) not tried again: no %s to ask Slurm whether the nodes still come up",
			  nodes->count, conf);
		node_list_free(nodes);
		return;
	}
	if (nodes_load(&slurm, err, sizeof(err)) < 0) {
		log_error("%s; %zu preparation(s) not tried again", err,
			  nodes->count);
		nodes_free(&slurm);
		node_list_free(nodes);
		return;
	}
	for (i = 0; i < nodes->count; i++) {
		const struct slurm_node *n = nodes_find(&slurm, nodes->names[i]);

		if (n && n->powering_up)
			node_list_add(&keep, nodes->names[i]);
		else
			log_info("%s: no longer coming up in Slurm: its preparation is not tried again",
				 nodes->names[i]);
	}
	nodes_free(&slurm);
	node_list_free(nodes);
	*nodes = keep;
}

/* One pass: what nodes coming up wait for first, then the removals, then
 * nodes resumed after their removal was queued (batch_plan.h). Removals
 * left pending go into pending, failed preparations into failed. */
static void do_pass(struct program *prog, struct batch_plan *plan,
		    struct node_list *pending, struct node_list *failed,
		    struct node_list *bind)
{
	if (plan->prepare_first.count)
		prepare(prog, &plan->prepare_first, plan->first_since, failed,
			bind);
	if (plan->remove.count)
		deregister(prog, &plan->remove, pending);
	if (plan->prepare_after.count)
		prepare(prog, &plan->prepare_after, plan->after_since, failed,
			bind);
}

/* One round of binding join secrets to their instances; what is left
 * stays in bind. */
static void bind_round(struct program *prog, struct node_list *bind)
{
	struct controller ctl;
	struct node_list left = { NULL, 0 };
	struct aws_client *aws;
	char err[1024];

	aws = program_aws(prog, err, sizeof(err));
	if (!aws)
		log_error("aws: %s", err);
	controller_init(&ctl, &prog->conf, aws, 0);
	controller_bind(&ctl, bind, &left);
	controller_free(&ctl);
	node_list_free(bind);
	*bind = left;
}

/* The batches read are done; -1 if one could not be removed. */
static int finish_batches(const char *state_dir, char **names, size_t count)
{
	char err[512];
	size_t i;
	int rc = 0;

	for (i = 0; i < count; i++) {
		if (queue_remove(state_dir, names[i], err, sizeof(err)) < 0) {
			log_error("%s", err);
			rc = -1;
		}
	}
	return rc;
}

/* The worker's life: batches as they come, failed nodes again after a
 * pause, until nothing is left; the lock is given up only with nothing
 * queued, and taken again if a batch came in meanwhile. */
static int worker_run(struct program *prog, int lock_fd)
{
	const char *state_dir = prog->conf.state_dir;
	struct node_list retry = { NULL, 0 }, retry_prep = { NULL, 0 };
	struct node_list bind = { NULL, 0 };
	double retry_at = 0, bind_at = 0;
	int rounds = 0, bind_rounds = 0;
	bool stuck = false;

	/* Every line of the worker says so once, whatever it logs. */
	log_set_context("worker");
	log_verbose("running (pid %ld)", (long)getpid());
	/* The lock file says who holds it, for people and tests. */
	if (ftruncate(lock_fd, 0) == 0)
		dprintf(lock_fd, "%ld\n", (long)getpid());
	/* With a backup controller: only while this host's slurmctld is in
	 * control. Not now: the batches stay queued, and the watcher of the
	 * host in control starts its own worker at its next look. */
	fence_init();
	if (!fence_wait(0, NULL)) {
		log_info("%s: exiting; the batches stay queued for the controller in control",
			 fence_why());
		return 0;
	}
	for (;;) {
		struct node_list pending = { NULL, 0 }, failed = { NULL, 0 };
		struct batch_plan plan;
		char **names = NULL;
		size_t count = 0;

		batch_plan_init(&plan);
		/* What is tried again comes before the batches queued since,
		 * so that a node's later batch decides (batch_plan.h). */
		if ((retry.count || retry_prep.count) &&
		    clock_monotonic() >= retry_at) {
			still_coming_up(&retry_prep);
			batch_plan_add(&plan, QUEUE_REMOVE, &retry, 0);
			batch_plan_add(&plan, QUEUE_PREPARE, &retry_prep, 0);
			node_list_free(&retry);
			node_list_free(&retry_prep);
		}
		if (take_batches(state_dir, &plan, &names, &count) < 0)
			stuck = true;
		batch_plan_finish(&plan);
		{
			size_t had = bind.count;

			do_pass(prog, &plan, &pending, &failed, &bind);
			if (bind.count > had)
				bind_rounds = 0;
		}
		if (fence_lost()) {
			/* This host's slurmctld lost control during the pass:
			 * its batches stay whole, for the controller in
			 * control to do again from the journal (what was
			 * removed is recorded: it is not removed twice). */
			log_info("%s: stopping; %zu batch(es) stay queued for the controller in control",
				 fence_why(), count);
			queue_names_free(names, count);
			batch_plan_free(&plan);
			node_list_free(&pending);
			node_list_free(&failed);
			node_list_free(&retry);
			node_list_free(&retry_prep);
			node_list_free(&bind);
			break;
		}
		/* Removed only once their nodes are done (or journaled as
		 * pending): an empty batch at once. */
		if (finish_batches(state_dir, names, count) < 0)
			stuck = true;
		queue_names_free(names, count);
		batch_plan_free(&plan);
		if (stuck) {
			/* A batch that stays listed would be taken again at
			 * once, and again: stop rather than spin. */
			log_error("stopping: the queue cannot be cleared; what is left waits for the next hook, the watcher or reconcile");
			node_list_free(&pending);
			node_list_free(&failed);
			node_list_free(&retry);
			node_list_free(&retry_prep);
			break;
		}
		if (pending.count || failed.count) {
			double pause = RETRY_FIRST * (double)(1 << (rounds < 4 ? rounds : 4));

			if (++rounds > RETRY_ROUNDS) {
				log_error("%zu node(s) still pending, %zu not prepared, after %d rounds; left for reconcile",
					  pending.count, failed.count, RETRY_ROUNDS);
				node_list_free(&pending);
				node_list_free(&failed);
			} else {
				retry = pending;
				retry_prep = failed;
				retry_at = clock_monotonic() +
					   (pause > RETRY_MAX_PAUSE ? RETRY_MAX_PAUSE : pause);
			}
		} else if (retry.count == 0 && retry_prep.count == 0) {
			rounds = 0;
		}
		if (bind.count && clock_monotonic() >= bind_at && fence_holds()) {
			bind_round(prog, &bind);
			bind_at = clock_monotonic() + BIND_PAUSE;
			if (bind.count && ++bind_rounds > BIND_ROUNDS) {
				char *hl = node_list_compress(&bind);

				log_error("%s: no instance to bind the join secret to after %d rounds; left unbound (their joins drain)",
					  hl, BIND_ROUNDS);
				free(hl);
				node_list_free(&bind);
			}
		}
		if (retry.count || retry_prep.count || bind.count) {
			double wake = retry.count || retry_prep.count ? retry_at : bind_at;

			/* Wake now and then to take new batches as they come. */
			clock_sleep(wake - clock_monotonic() > 1 ? 1
								 : wake - clock_monotonic());
			if (!fence_holds()) {
				log_info("%s: stopping; what is left is the controller in control's",
					 fence_why());
				node_list_free(&retry);
				node_list_free(&retry_prep);
				node_list_free(&bind);
				break;
			}
			continue;
		}
		if (count)
			continue;
		/* Nothing queued: let go, then look once more, so a batch
		 * queued while we held the lock is never left behind. */
		flock(lock_fd, LOCK_UN);
		if (queue_list(state_dir, &names, &count, NULL, 0) == 0 && count &&
		    lock_queue(lock_fd) == 0) {
			queue_names_free(names, count);
			continue;
		}
		queue_names_free(names, count);
		break;
	}
	metrics_gauge("slurm_identity_pending_nodes", "",
		      (double)controller_count_pending(&prog->conf));
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		log_info("%s, exiting (cpu %.2f s user, %.2f s system, max rss %ld kB)",
			 stuck ? "queue stuck" :
			 fence_lost() ? "not in control" : "queue empty",
			 (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
			 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
			 ru.ru_maxrss);
	}
	return 0;
}

bool worker_running(const char *state_dir)
{
	char err[512];
	int dirfd = journal_dir_fd(state_dir, QUEUE_ROLE, err, sizeof(err));
	int fd;
	bool held;

	if (dirfd < 0)
		return false;
	fd = openat(dirfd, LOCK_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;	/* no worker ever ran here */
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

int worker_ensure(struct program *prog)
{
	pid_t pid, grandchild;
	int fd, status;

	/* A watcher whose host lost control starts none (fence.h); the
	 * hooks, which only the slurmctld in control runs, always hold. */
	if (!fence_holds())
		return 0;
	fd = open_lock(prog->conf.state_dir);
	if (fd < 0)
		return -1;
	switch (lock_queue(fd)) {
	case 0:
		break;
	case 1:
		close(fd);
		return 0;	/* a worker runs and will see our batch */
	default:
		log_error("worker: cannot lock: %s", strerror(errno));
		close(fd);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_error("worker: fork: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		int null;

		/* A session of its own: Slurm's kill of the hook's process
		 * group does not reach it, nor does a terminal. */
		setsid();
		grandchild = fork();
		if (grandchild != 0)
			_exit(grandchild < 0 ? 1 : 0);
		/* slurmctld's programs start with SIGTERM blocked: unblock,
		 * so the worker can be stopped. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
		if (chdir("/") < 0)
			_exit(1);
		status = worker_run(prog, fd);
		program_end(prog);
		libslurm_close();
		_exit(status);
	}
	/* The worker holds the lock now (a shared open file description). */
	close(fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	log_verbose("worker started");
	return 0;
}

size_t worker_drain_once(struct program *prog, size_t *drained)
{
	struct node_list pending = { NULL, 0 }, failed = { NULL, 0 };
	struct batch_plan plan;
	char **names = NULL;
	size_t count = 0, left;

	*drained = 0;
	int fd = open_lock(prog->conf.state_dir);

	if (fd < 0)
		return 0;
	if (lock_queue(fd) != 0) {
		close(fd);
		return 0;
	}
	batch_plan_init(&plan);
	take_batches(prog->conf.state_dir, &plan, &names, &count);
	batch_plan_finish(&plan);
	if (plan.count) {
		log_info("reconcile: %zu node(s) queued and no worker: doing their batches now",
			 plan.count);
		/* The worker's work, in this process: its lines say so. */
		log_set_context("worker");
		do_pass(prog, &plan, &pending, &failed, NULL);
		log_set_context(NULL);
		*drained = plan.count;
	}
	finish_batches(prog->conf.state_dir, names, count);
	left = pending.count + failed.count;
	queue_names_free(names, count);
	batch_plan_free(&plan);
	node_list_free(&failed);
	node_list_free(&pending);
	close(fd);
	return left;
}
