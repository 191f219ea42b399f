/* watch.c: the watcher's life (watch.h): the lock, the looks at Slurm, the
 * sweeps, and what it tells people. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "common/aws/clock.h"
#include "common/journal.h"
#include "common/log.h"
#include "common/nameset.h"
#include "common/slurm_node.h"
#include "common/xmalloc.h"
#include "batch_plan.h"
#include "controller.h"
#include "fence.h"
#include "queue.h"
#include "watch.h"
#include "watch_diff.h"
#include "worker.h"

#define LOCK_NAME ".lock"
#define STATUS_NAME "status"
/* While slurmctld does not answer, say so again this often (seconds). */
#define ERROR_REPEAT 300
/* The status file is written on every change, else this often. */
#define STATUS_REFRESH 15
/* Batches left without a worker: one started at most this often (s). */
#define WORKER_RESTART_PAUSE 60

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

struct watcher {
	struct program *prog;
	const char *state_dir;
	struct slurm_node_set slurm;
	struct watch_seen seen;
	bool can_prepare;	/* a backend prepares nodes (AD) */
	bool full_loads;	/* slurmctld does not mark power changes */
	time_t active_since;
	time_t last_look;	/* Slurm last answered */
	time_t error_since;	/* 0: no trouble */
	time_t error_logged;
	char error[512];
	time_t last_sweep;
	char sweep[256];
	time_t status_written;
	size_t queued, prepared;	/* nodes, since start */
	time_t worker_restarted;	/* for batches left without one */
	char restart_batch[128];	/* the oldest batch queued then */
};

/* Signals stop the watcher, also out of a wait for the lock. */
static void catch_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: waits end */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int open_lock(const char *state_dir, int flags)
{
	char err[512];
	int dirfd = journal_dir_fd(state_dir, WATCH_ROLE, err, sizeof(err));
	int fd;

	if (dirfd < 0) {
		log_error("%s", err);
		return -1;
	}
	fd = openat(dirfd, LOCK_NAME, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno != ENOENT)
		log_error("cannot open %s/%s/%s: %s", state_dir, WATCH_ROLE,
			  LOCK_NAME, strerror(errno));
	return fd;
}

static pid_t lock_holder(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid;
}

pid_t watch_active_pid(const char *state_dir)
{
	int fd = open_lock(state_dir, O_RDONLY);
	pid_t pid;

	if (fd < 0)
		return 0;
	pid = lock_holder(fd);
	close(fd);
	return pid;
}

/* The lock, waited for while another watcher holds it. -1: stopped while
 * waiting, or the lock does not work here (logged). */
static int take_lock(const char *state_dir)
{
	struct flock fl;
	int fd = open_lock(state_dir, O_RDWR | O_CREAT);

	if (fd < 0)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return fd;
	if (errno != EACCES && errno != EAGAIN) {
		log_error("cannot lock %s/%s/%s: %s", state_dir, WATCH_ROLE,
			  LOCK_NAME, strerror(errno));
		close(fd);
		return -1;
	}
	log_info("another watcher (pid %ld) is active; standing by to take over",
		 (long)lock_holder(fd));
	while (fcntl(fd, F_SETLKW, &fl) < 0) {
		if (errno != EINTR) {
			log_error("cannot lock %s/%s/%s: %s", state_dir,
				  WATCH_ROLE, LOCK_NAME, strerror(errno));
			close(fd);
			return -1;
		}
		if (stopping) {
			close(fd);
			return -1;
		}
	}
	log_info("the active watcher is gone; taking over");
	return fd;
}

static void write_status(struct watcher *w, bool force)
{
	time_t now = time(NULL);
	struct strbuf b;
	char err[512], host[256];

	if (!force && now - w->status_written < STATUS_REFRESH)
		return;
	strbuf_init(&b);
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "-");
	host[sizeof(host) - 1] = '\0';
	strbuf_printf(&b, "pid=%ld\nhost=%s\nactive_since=%lld\nlast_look=%lld\n",
		      (long)getpid(), host, (long long)w->active_since,
		      (long long)w->last_look);
	strbuf_printf(&b, "error_since=%lld\nerror=%s\n",
		      (long long)w->error_since, w->error);
	strbuf_printf(&b, "last_sweep=%lld\nsweep=%s\nqueued=%zu\nprepared=%zu\n",
		      (long long)w->last_sweep, w->sweep, w->queued,
		      w->prepared);
	if (journal_file_write(w->state_dir, WATCH_ROLE, STATUS_NAME, b.data,
			       b.len, err, sizeof(err)) < 0)
		log_error("%s", err);
	else
		w->status_written = now;
	strbuf_free(&b);
}

/* Slurm did not answer: nothing is done on what it said before. */
static void look_failed(struct watcher *w, const char *err)
{
	time_t now = time(NULL);
	bool news = !w->error_since || strcmp(w->error, err) != 0;

	if (!w->error_since)
		w->error_since = now;
	snprintf(w->error, sizeof(w->error), "%s", err);
	if (news || now - w->error_logged >= ERROR_REPEAT) {
		log_error("%s (since %lld s); nothing is removed until Slurm answers",
			  err, (long long)(now - w->error_since));
		w->error_logged = now;
	}
	write_status(w, news);
}

static void look_answered(struct watcher *w)
{
	w->last_look = time(NULL);
	if (!w->error_since)
		return;
	log_info("Slurm answers again (after %lld s)",
		 (long long)(w->last_look - w->error_since));
	w->error_since = 0;
	w->error[0] = '\0';
	write_status(w, true);
}

/* The batches waiting for the worker, in their order: each node's last
 * word (batch_plan_last). Unreadable ones are the worker's to set aside. */
static void queued_plan(const char *state_dir, struct batch_plan *plan)
{
	char **names = NULL, err[512];
	size_t count = 0, i;

	batch_plan_init(plan);
	if (queue_list(state_dir, &names, &count, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return;
	}
	for (i = 0; i < count; i++) {
		struct node_list nodes = { NULL, 0 };
		enum queue_kind kind;

		if (queue_read(state_dir, names[i], &kind, &nodes, err,
			       sizeof(err)) == 0)
			batch_plan_add(plan, kind, &nodes,
				       queue_batch_time(names[i]));
		else
			log_verbose("%s", err);
		node_list_free(&nodes);
	}
	queue_names_free(names, count);
}

/* Is node's last queued batch of that kind? */
static bool queued_last(const struct batch_plan *plan, const char *node,
			enum queue_kind kind)
{
	enum queue_kind last;

	return batch_plan_last(plan, node, &last) && last == kind;
}

/* Does the node have an identity to lose: one we journaled, or one its
 * Extra claims (the engine asks the backend what is really there)? */
static bool has_identity(struct watcher *w, struct controller *c,
			 const struct batch_plan *queued,
			 const struct slurm_node *n)
{
	struct journal_entry e;
	enum journal_phase phase;
	char err[512], id[128];
	size_t b;

	/* A preparation queued and not done yet: what it makes goes too. */
	if (queued_last(queued, n->name, QUEUE_PREPARE))
		return true;
	if (journal_read(w->state_dir, CONTROLLER_ROLE, n->name, &e, err,
			 sizeof(err)) < 0) {
		log_error("%s: %s", n->name, err);
		return true;	/* let the engine look */
	}
	phase = journal_phase(&e);
	journal_entry_clear(&e);
	if (phase == JOURNAL_PHASE_RESUMING || phase == JOURNAL_PHASE_PENDING)
		return true;
	for (b = 0; b < c->backend_count; b++)
		if (node_extra_get(n->extra, c->backends[b]->name, id,
				   sizeof(id)) && id[0] && strcmp(id, "-") != 0)
			return true;
	return false;
}

/* Nodes gone down: a batch for the worker, as a suspend queues it, of
 * those with something to remove that no batch holds yet. */
static void queue_removals(struct watcher *w, struct controller *c,
			   const struct node_list *down)
{
	struct node_list want = { NULL, 0 };
	struct batch_plan queued;
	char err[512], *hl;
	size_t i;

	queued_plan(w->state_dir, &queued);
	for (i = 0; i < down->count; i++) {
		const struct slurm_node *n = nodes_find(&w->slurm, down->names[i]);

		/* Its removal queued already, and nothing queued after it. */
		if (!n || queued_last(&queued, n->name, QUEUE_REMOVE))
			continue;
		if (has_identity(w, c, &queued, n))
			node_list_add(&want, n->name);
		else
			log_verbose("%s: down in Slurm, no identity recorded or claimed",
				    n->name);
	}
	batch_plan_free(&queued);
	if (!want.count)
		goto out;
	hl = node_list_compress(&want);
	if (queue_put(w->state_dir, QUEUE_REMOVE, &want, err, sizeof(err)) < 0) {
		log_error("%s: down in Slurm, not queued: %s; the next sweep has them",
			  hl, err);
	} else {
		w->queued += want.count;
		log_info("%s: down in Slurm (%zu node(s)): queued for removal",
			 hl, want.count);
		if (worker_ensure(w->prog) < 0)
			log_error("no worker started; the next look tries again");
	}
	free(hl);
	write_status(w, true);
out:
	node_list_free(&want);
}

/* Nodes begun to power up: a batch for the worker to prepare, as a resume
 * queues it, unless a resume queued or journaled them since the watcher
 * last saw them down (our resume hook did it). The watcher itself never
 * waits for the directory: its next look comes on time. */
static void prepare(struct watcher *w, const struct node_list *up,
		    const time_t *down_at)
{
	struct node_list want = { NULL, 0 };
	struct batch_plan queued;
	char err[512], *hl;
	size_t i;

	queued_plan(w->state_dir, &queued);
	for (i = 0; i < up->count; i++) {
		struct journal_entry e;
		enum journal_phase phase;
		const char *t;
		bool done = false;

		/* Its preparation queued, and no removal after it. */
		if (queued_last(&queued, up->names[i], QUEUE_PREPARE))
			continue;
		if (journal_read(w->state_dir, CONTROLLER_ROLE, up->names[i], &e,
				 err, sizeof(err)) < 0) {
			log_error("%s: %s", up->names[i], err);
			continue;
		}
		phase = journal_phase(&e);
		t = journal_get(&e, "resume_time");
		if ((phase == JOURNAL_PHASE_RESUMING ||
		     (phase == JOURNAL_PHASE_PENDING &&
		      journal_get(&e, "resumed"))) &&
		    t && strtoll(t, NULL, 10) >= (long long)down_at[i])
			done = true;
		journal_entry_clear(&e);
		if (!done)
			node_list_add(&want, up->names[i]);
	}
	batch_plan_free(&queued);
	if (!want.count)
		goto out;
	hl = node_list_compress(&want);
	if (queue_put(w->state_dir, QUEUE_PREPARE, &want, err, sizeof(err)) < 0) {
		log_error("%s: coming up in Slurm, not queued: %s; their joins will wait and drain",
			  hl, err);
	} else {
		w->prepared += want.count;
		log_info("%s: coming up in Slurm (%zu node(s)): queued to prepare",
			 hl, want.count);
		if (worker_ensure(w->prog) < 0)
			log_error("no worker started; the next look or sweep starts one");
	}
	free(hl);
	write_status(w, true);
out:
	node_list_free(&want);
}

/* The engine with an AWS client and the backends' caches (an LDAP
 * connection, the domain password), held only while the watcher works
 * with them (its sweeps): a worker it forks must share none of their
 * connections. */
static int engine_open(struct watcher *w, struct controller *c)
{
	char err[1024];
	struct aws_client *aws = program_aws(w->prog, err, sizeof(err));

	controller_init(c, &w->prog->conf, aws, 0);
	if (!aws) {
		log_error("aws: %s", err);
		return -1;
	}
	return 0;
}

static void engine_close(struct watcher *w, struct controller *c)
{
	controller_free(c);
	program_aws_drop(w->prog);
}

/* Batches queued and no worker (a worker killed, a hook that could not
 * start one): one is started, at the next look rather than the next
 * sweep. A directory read and a lock probe. A batch one worker could not
 * clear is given to another at most once a minute. */
static void worker_for_queue(struct watcher *w)
{
	char **names = NULL;
	size_t count = 0;
	time_t now = time(NULL);

	if (queue_list(w->state_dir, &names, &count, NULL, 0) == 0 && count &&
	    !worker_running(w->state_dir)) {
		/* The same oldest batch as when we last started one: that
		 * worker could not clear it (or died on it). Again once a
		 * minute, not at every look. */
		bool same = strcmp(names[0], w->restart_batch) == 0;

		if (!same || now - w->worker_restarted >= WORKER_RESTART_PAUSE) {
			log_info("%zu batch(es) queued and no worker: starting one",
				 count);
			w->worker_restarted = now;
			snprintf(w->restart_batch, sizeof(w->restart_batch), "%s",
				 names[0]);
			if (worker_ensure(w->prog) < 0)
				log_error("no worker started; the next look tries again");
		}
	}
	queue_names_free(names, count);
}

/* One look at Slurm: what changed since the last one, acted on. */
static void look(struct watcher *w, struct controller *c)
{
	struct node_list up = { NULL, 0 }, down = { NULL, 0 };
	enum watch_action *actions;
	time_t before = w->slurm.last_update, *down_at, *up_down_at;
	char err[512];
	size_t i;

	if (w->full_loads) {
		struct slurm_node_set fresh;

		before = 0;	/* every look is a change */
		if (nodes_load(&fresh, err, sizeof(err)) < 0) {
			nodes_free(&fresh);
			look_failed(w, err);
			return;
		}
		nodes_free(&w->slurm);
		w->slurm = fresh;
	} else if (nodes_refresh(&w->slurm, err, sizeof(err)) < 0) {
		look_failed(w, err);
		return;
	}
	look_answered(w);
	worker_for_queue(w);
	if (w->seen.count && before && w->slurm.last_update == before) {
		write_status(w, false);
		return;
	}
	actions = xcalloc(w->slurm.count + 1, sizeof(*actions));
	down_at = xcalloc(w->slurm.count + 1, sizeof(*down_at));
	up_down_at = xcalloc(w->slurm.count + 1, sizeof(*up_down_at));
	watch_diff(&w->seen, &w->slurm, time(NULL), actions, down_at);
	for (i = 0; i < w->slurm.count; i++) {
		if (actions[i] == WATCH_REMOVE) {
			node_list_add(&down, w->slurm.nodes[i].name);
		} else if (actions[i] == WATCH_PREPARE && w->can_prepare) {
			up_down_at[up.count] = down_at[i];
			node_list_add(&up, w->slurm.nodes[i].name);
		}
	}
	if (down.count)
		queue_removals(w, c, &down);
	if (up.count)
		prepare(w, &up, up_down_at);
	node_list_free(&up);
	node_list_free(&down);
	free(actions);
	free(down_at);
	free(up_down_at);
	write_status(w, false);
}

/* What escaped the looks: reconcile, with batches a dead worker left. */
static void sweep(struct watcher *w)
{
	struct reconcile_report rep;
	struct controller ctl;
	int rc = -1;

	worker_for_queue(w);
	memset(&rep, 0, sizeof(rep));
	if (engine_open(w, &ctl) == 0)
		rc = controller_reconcile(&ctl, false, NULL, &rep);
	engine_close(w, &ctl);
	w->last_sweep = time(NULL);
	snprintf(w->sweep, sizeof(w->sweep),
		 "%zu registrations, %zu leaks, %zu removed, %zu failed, %zu records settled, %zu busy, %zu foreign%s",
		 rep.registrations, rep.leaks, rep.removed, rep.failed,
		 rep.journal_cleaned, rep.skipped_busy, rep.foreign,
		 rc < 0 || rep.errors ? " (could not look at everything)" : "");
	if (rc < 0 || rep.errors || rep.leaks || rep.failed || rep.journal_cleaned)
		log_info("sweep: %s", w->sweep);
	else
		log_verbose("sweep: %s", w->sweep);
	write_status(w, true);
}

/* Active, holding the lock, while this host's slurmctld is in control:
 * the looks and sweeps, until stopped or control is lost. */
static void watch_active(struct watcher *w, bool once)
{
	const struct identity_conf *conf = &w->prog->conf;
	struct controller ctl;
	double next_look, next_sweep;
	char err[1024];
	size_t b;
	int release;

	nodes_free(&w->slurm);
	memset(&w->slurm, 0, sizeof(w->slurm));
	watch_seen_free(&w->seen);
	watch_seen_init(&w->seen);
	w->active_since = time(NULL);
	w->can_prepare = false;
	w->full_loads = false;
	/* The backends, for what a node's Extra may claim; no AWS client
	 * between looks (see engine_open). */
	controller_init(&ctl, conf, NULL, 0);
	for (b = 0; b < ctl.backend_count; b++)
		if (ctl.backends[b]->prepare)
			w->can_prepare = true;
	if (backend_enabled(conf, &ad_backend) && !conf->domain_user)
		log_error("ad: DomainUser= is not set: no account can be made or removed until it is (slurm-identity policy --role directory)");
	log_info("active (pid %ld): looking at Slurm every %d s, sweeping every %d s",
		 (long)getpid(), conf->watch_period, conf->watch_sweep_period);
	release = ctld_release(err, sizeof(err));
	if (release < 0) {
		log_error("cannot ask slurmctld for its release (%s): every look loads the whole node table",
			  err);
		w->full_loads = true;
	} else if (release < 2302) {
		/* Its power saving changes node states without marking the
		 * table changed (SchedMD fixed it in 23.02): an incremental
		 * load would not see a node power down. */
		log_info("Slurm %d.%02d does not mark power-state changes as changes: every look loads the whole node table",
			 release / 100, release % 100);
		w->full_loads = true;
	}
	/* The table as it is now is what later looks compare with; the sweep
	 * takes what happened before the watcher came (or while another
	 * controller was in control). */
	look(w, &ctl);
	sweep(w);
	next_look = clock_monotonic() + conf->watch_period;
	next_sweep = clock_monotonic() + conf->watch_sweep_period;
	while (!stopping && !once) {
		double now = clock_monotonic();

		if (now < next_look) {
			/* One second at a time: a signal may be missed by a
			 * sleep it did not interrupt. */
			clock_sleep(next_look - now < 1 ? next_look - now : 1);
			continue;
		}
		/* A backup controller took over, or this host's slurmctld
		 * stopped beating: stand by, and let the lock go. */
		if (!fence_holds())
			break;
		look(w, &ctl);
		next_look = clock_monotonic() + conf->watch_period;
		if (clock_monotonic() >= next_sweep) {
			sweep(w);
			next_sweep = clock_monotonic() + conf->watch_sweep_period;
		}
	}
	controller_free(&ctl);
}

int watch_run(struct program *prog, bool once)
{
	const struct identity_conf *conf = &prog->conf;
	struct watcher w;
	char err[1024];
	int fd;

	memset(&w, 0, sizeof(w));
	w.prog = prog;
	w.state_dir = conf->state_dir;
	watch_seen_init(&w.seen);
	catch_signals();
	log_set_context("watch");
	if (journal_init(conf->state_dir, CONTROLLER_ROLE, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	/* What would stop every sweep stops the watcher at once. */
	if (!program_aws(prog, err, sizeof(err))) {
		log_error("aws: %s", err);
		return -1;
	}
	program_aws_drop(prog);
	/* With a backup controller, a watcher runs on each controller host;
	 * the one whose slurmctld is in control acts, the others stand by. */
	fence_init();
	while (!stopping) {
		if (!fence_wait(0, NULL)) {
			if (once) {
				log_info("not in control: %s; nothing done",
					 fence_why());
				break;
			}
			log_info("standing by: %s", fence_why());
			if (!fence_wait(-1, &stopping))
				break;
			log_info("this host's slurmctld took control: %s",
				 fence_why());
		}
		fd = take_lock(conf->state_dir);
		if (fd < 0) {
			if (!stopping)
				return -1;
			break;
		}
		/* The lock file says who holds it, for people. */
		if (ftruncate(fd, 0) == 0)
			dprintf(fd, "%ld\n", (long)getpid());
		if (fence_holds())
			watch_active(&w, once);
		close(fd);
		if (once)
			break;
		if (!stopping)
			log_info("not in control: %s; the lock is let go",
				 fence_why());
	}
	log_info("stopping (queued %zu node(s), prepared %zu)", w.queued,
		 w.prepared);
	write_status(&w, true);
	nodes_free(&w.slurm);
	watch_seen_free(&w.seen);
	return 0;
}
