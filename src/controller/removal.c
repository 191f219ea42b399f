/* removal.c: the removal engine (removal.h): lock, ask Slurm under the
 * lock, remove, settle.
 *
 * The prepare and settle steps touch only their chunks, the journal and
 * Slurm; the calls, the listings and the AWS client stay in the calling
 * thread.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/aws/clock.h"
#include "common/journal.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/nameset.h"
#include "common/slurm_node.h"
#include "common/xmalloc.h"
#include "fence.h"
#include "pipeline.h"
#include "removal.h"

struct task {
	const struct removal *req;
	int lock_fd;
	struct journal_entry journal;
	bool *target_ok;	/* per target: the rule lets it go */
	bool pending;		/* some backend could not finish */
	bool skip;		/* busy, or up in Slurm: left alone here */
};

/* Held while one of the two large views of a pass is being read: Slurm's
 * whole node table (a chunk's check, in the helper thread) and a backend's
 * listing of the cluster (in the calling thread). Each is some 10 MB for a
 * moment at 10,000 nodes; one at a time keeps the worker's peak memory to
 * one of them. */
static pthread_mutex_t large_views = PTHREAD_MUTEX_INITIALIZER;

/* A backend's listing of this cluster, taken once for a whole pass: a pass
 * over 10,000 nodes does not list the cluster once per chunk. Every node of
 * a pass was queued before its listing was taken, and a node queued again
 * comes in a later pass, with a listing of its own. What the listing found
 * stands for the pass (removal is idempotent and only ever asks for what
 * was listed for that node). A node the listing did not find, or a listing
 * that failed, is looked up again once the listing is LISTING_MAX_AGE old:
 * a registration made late is not missed for the length of a long pass,
 * and a pass whose nodes were all found lists once. */
#define LISTING_MAX_AGE 30.0

struct listing {
	struct registration *regs;
	size_t count;
	double taken;		/* clock_monotonic(), 0: not taken yet */
	int rc;			/* what list() returned */
	char err[512];
};

static void listing_free(struct listing *l)
{
	free(l->regs);
	memset(l, 0, sizeof(*l));
}

/* Does the listing have every node of the set (whose values are indexes
 * below n)? */
static bool listing_covers(const struct listing *l,
			   const struct name_set *nodes, size_t n)
{
	bool *seen = xcalloc(n + 1, sizeof(*seen));
	size_t found = 0, i, j;

	for (j = 0; j < l->count; j++) {
		if (name_set_find(nodes, l->regs[j].node, &i) && i < n &&
		    !seen[i]) {
			seen[i] = true;
			found++;
		}
	}
	free(seen);
	return found == nodes->count;
}

/* The pass's listing for the nodes of the set: taken if it was not, and
 * taken again if it is LISTING_MAX_AGE old and failed or misses one. */
static const struct listing *listing_get(struct controller *c,
					 const struct backend *b,
					 struct listing *l,
					 const struct name_set *nodes, size_t n)
{
	if (l->taken && (clock_monotonic() - l->taken < LISTING_MAX_AGE ||
			 (l->rc >= 0 && listing_covers(l, nodes, n))))
		return l;
	if (l->taken)
		log_verbose("%s: listing taken again (%.0f s old, %s)", b->name,
			    clock_monotonic() - l->taken,
			    l->rc < 0 ? "it failed" : "a node is not in it");
	listing_free(l);
	pthread_mutex_lock(&large_views);
	l->rc = b->list(&c->ctx, &l->regs, &l->count, l->err, sizeof(l->err));
	pthread_mutex_unlock(&large_views);
	l->taken = clock_monotonic();
	return l;
}

/* The calls of one backend for a chunk: copies of the registrations, the
 * task each is for, and for a caller's target, where to report back. */
struct calls {
	struct registration *regs;
	size_t *task;
	struct registration **target;	/* NULL: ours to journal */
	size_t count, cap;
};

static void calls_add(struct calls *k, const struct registration *r,
		      size_t task, struct registration *target)
{
	if (k->count == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 64;
		k->regs = xrealloc(k->regs, k->cap * sizeof(*k->regs));
		k->task = xrealloc(k->task, k->cap * sizeof(*k->task));
		k->target = xrealloc(k->target, k->cap * sizeof(*k->target));
	}
	k->regs[k->count] = *r;
	k->task[k->count] = task;
	k->target[k->count++] = target;
}

static void calls_free(struct calls *k)
{
	free(k->regs);
	free(k->task);
	free(k->target);
	memset(k, 0, sizeof(*k));
}

/* Backend b's calls for the tasks: each target the rule lets go; for a
 * node with none, the id we journaled, or what the backend's listing of
 * this cluster finds for a node whose id we do not know. */
static void collect_calls(struct controller *c, size_t b, struct listing *cache,
			  struct task *tasks, size_t n, struct calls *out)
{
	const struct backend *be = c->backends[b];
	const struct registration *listed = NULL;
	size_t nlisted = 0, i, j;
	struct name_set unknown, ids;

	name_set_init(&unknown);
	name_set_init(&ids);
	for (i = 0; i < n; i++) {
		const struct removal *req = tasks[i].req;
		struct registration r;
		const char *id;

		if (tasks[i].skip)
			continue;
		for (j = 0; j < req->ntargets; j++)
			if (req->targets[j].backend == b && tasks[i].target_ok[j])
				calls_add(out, req->targets[j].reg, i,
					  req->targets[j].reg);
		if (req->ntargets)
			continue;
		id = journal_get(&tasks[i].journal, be->id_key);
		if (!id || !*id) {
			name_set_add(&unknown, req->node, i);
			continue;
		}
		memset(&r, 0, sizeof(r));
		snprintf(r.node, sizeof(r.node), "%s", req->node);
		snprintf(r.id, sizeof(r.id), "%s", id);
		name_set_add(&ids, id, i);
		calls_add(out, &r, i, NULL);
	}
	if (unknown.count) {
		const struct listing *l = listing_get(c, be, cache, &unknown, n);

		listed = l->regs;
		nlisted = l->count;
		if (l->rc < 0) {
			log_error("%s: cannot list registrations: %s", be->name,
				  l->err);
			for (i = 0; i < n; i++) {
				if (!tasks[i].skip &&
				    name_set_find(&unknown, tasks[i].req->node, NULL)) {
					tasks[i].pending = true;
					journal_setf(&tasks[i].journal, "error",
						     "%s: cannot list: %.200s",
						     be->name, l->err);
				}
			}
		}
	}
	/* What the listing has for the nodes whose id we do not know, each
	 * id once. */
	for (j = 0; j < nlisted; j++) {
		if (!name_set_find(&unknown, listed[j].node, &i) ||
		    !name_set_add(&ids, listed[j].id, i))
			continue;
		calls_add(out, &listed[j], i, NULL);
	}
	name_set_free(&unknown);
	name_set_free(&ids);
}

struct chunk {
	struct task *tasks;
	size_t n;
	struct node_list pending;	/* busy, not checked, or failed */
	double prepare_ms, remove_ms, settle_ms;
};

/* What a pass shares with its chunks. */
struct pass {
	struct controller *c;
	const char *label;
	int lock_wait_ms;
	FILE *out;
	struct removal_report *rep;
	struct listing listings[CONTROLLER_MAX_BACKENDS];
	const struct removal *list;
	size_t n;
	struct chunk slots[PIPELINE_SLOTS];
	struct node_list *pending_out;
	/* Slurm's node table, brought up to date by each chunk's prepare
	 * (under its locks): unchanged, slurmctld sends nothing. */
	struct slurm_node_set slurm;
	/* Nodes whose Extra is still to clear, and when it last was. */
	struct node_list extra_due;
	double extra_cleared;
	bool fence_logged;	/* "left to the controller in control" said */
};

void removal_print(FILE *out, const char *fmt, ...)
{
	va_list ap;

	if (!out)
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

/* How a task counts in busy and kept: its targets, or the node. */
static size_t units(const struct task *t)
{
	return t->req->ntargets ? t->req->ntargets : 1;
}

static void chunk_init(struct chunk *k, const struct removal *list, size_t n)
{
	size_t i;

	memset(k, 0, sizeof(*k));
	k->tasks = xcalloc(n + 1, sizeof(*k->tasks));
	k->n = n;
	for (i = 0; i < n; i++) {
		k->tasks[i].req = &list[i];
		k->tasks[i].lock_fd = -1;
		k->tasks[i].target_ok = xcalloc(list[i].ntargets + 1,
						sizeof(bool));
	}
}

/* Left for later: a lock another of our processes holds, or no word from
 * Slurm. */
static void chunk_defer(struct chunk *k, struct task *t)
{
	t->skip = true;
	node_list_add(&k->pending, t->req->node);
}

/* The rule, for the node and each of its targets; true if anything of
 * the task may go. */
static bool task_may_go(struct pass *p, struct task *t,
			const struct slurm_node *sn)
{
	const struct removal *req = t->req;
	char why[128];
	size_t j, ok = 0;

	if (!req->ntargets) {
		if (identity_may_go(sn, req->cause, why, sizeof(why)))
			return true;
		log_info("%s: %s: %s; its identity stays", req->node, p->label,
			 why);
		p->rep->kept++;
		return false;
	}
	for (j = 0; j < req->ntargets; j++) {
		t->target_ok[j] = identity_may_go(sn, req->targets[j].cause, why,
						  sizeof(why));
		if (t->target_ok[j]) {
			ok++;
			continue;
		}
		log_info("%s: %s: %s; %s %s stays", req->node, p->label, why,
			 p->c->backends[req->targets[j].backend]->name,
			 req->targets[j].reg->id);
		p->rep->kept++;
	}
	return ok > 0;
}

/* 1. Each node's lock and what we recorded of it (a batch file or the
 * caller's finds are the journaled intention: nothing is written per
 * node yet); then Slurm's word, under the locks. */
static void chunk_prepare(struct pass *p, struct chunk *k)
{
	struct controller *c = p->c;
	double t0 = clock_monotonic();
	bool have_slurm, fenced;
	char err[512];
	size_t i;

	for (i = 0; i < k->n; i++) {
		struct task *t = &k->tasks[i];
		const char *node = t->req->node;

		t->lock_fd = journal_lock(c->conf->state_dir, CONTROLLER_ROLE,
					  node, p->lock_wait_ms);
		if (t->lock_fd < 0 && errno == EWOULDBLOCK) {
			log_info("%s: %s: busy; tried again later", node, p->label);
			p->rep->busy += units(t);
			chunk_defer(k, t);
			continue;
		}
		if (t->lock_fd < 0 ||
		    (!t->req->ntargets &&
		     journal_read(c->conf->state_dir, CONTROLLER_ROLE, node,
				  &t->journal, err, sizeof(err)) < 0)) {
			/* StateDir trouble is loud, never silent: removal is
			 * idempotent, so it is still tried. */
			log_error("%s: %s: StateDir: cannot lock or read the journal (%s); removing anyway",
				  node, p->label,
				  t->lock_fd < 0 ? strerror(errno) : err);
			metrics_count("slurm_identity_statedir_errors_total", "", 1);
			p->rep->errors++;
			journal_entry_clear(&t->journal);
			journal_entry_init(&t->journal, node);
		}
	}
	pthread_mutex_lock(&large_views);
	have_slurm = nodes_refresh(&p->slurm, err, sizeof(err)) == 0;
	if (!have_slurm) {
		log_error("%s: %s; nothing removed", p->label, err);
		p->rep->errors++;
	}
	/* Slurm's word is the word of the controller in control: is it this
	 * host's (a backup may have taken over)? Checked under the locks,
	 * just before the calls. */
	fenced = !fence_holds();
	if (fenced && !p->fence_logged) {
		log_info("%s: %s: left to the controller in control", p->label,
			 fence_why());
		p->fence_logged = true;
	}
	for (i = 0; i < k->n; i++) {
		struct task *t = &k->tasks[i];

		if (t->skip)
			continue;
		if (!have_slurm || fenced) {
			chunk_defer(k, t);
			continue;
		}
		if (!task_may_go(p, t, nodes_find(&p->slurm, t->req->node))) {
			t->skip = true;
			continue;
		}
		journal_unset(&t->journal, "error");
	}
	pthread_mutex_unlock(&large_views);
	k->prepare_ms = (clock_monotonic() - t0) * 1000;
}

/* What came of one call: a caller's target learns it in place and the
 * report says it; our own registrations go into the node's journal. */
static void call_done(struct pass *p, const struct backend *be,
		      struct task *t, const struct registration *r,
		      struct registration *target)
{
	/* The backend fills the result; its one report is here. */
	if (r->removed) {
		p->rep->removed++;
	} else if (fence_lost()) {
		/* Not sent: the controller in control has it (said once). */
		p->rep->failed++;
		log_verbose("%s: %s: deregister %s: %s",
			    r->node[0] ? r->node : "-", be->name, r->id, r->error);
	} else {
		p->rep->failed++;
		log_error("%s: %s: deregister %s failed: %s",
			  r->node[0] ? r->node : "-", be->name, r->id, r->error);
	}
	if (target) {
		target->removed = r->removed;
		snprintf(target->error, sizeof(target->error), "%s", r->error);
		if (r->removed)
			removal_print(p->out, "deregistered %s %s %s: %s", be->name,
				    r->node, r->id, target->detail);
		else
			removal_print(p->out, "failed %s %s %s: %s", be->name,
				    r->node, r->id, r->error);
		return;
	}
	if (r->removed)
		return;
	t->pending = true;
	journal_set(&t->journal, be->id_key, r->id);
	journal_setf(&t->journal, "error", "%s: %.200s", be->name, r->error);
}

/* 2. Each backend removes what it has, all nodes of the chunk in
 * parallel. */
static void chunk_remove(struct pass *p, struct chunk *k)
{
	struct controller *c = p->c;
	struct task *tasks = k->tasks;
	double t0 = clock_monotonic();
	size_t i, b, j;

	for (b = 0; b < c->backend_count; b++) {
		const struct backend *be = c->backends[b];
		struct calls calls = { 0 };

		collect_calls(c, b, &p->listings[b], tasks, k->n, &calls);
		if (calls.count)
			be->remove(&c->ctx, calls.regs, calls.count);
		for (j = 0; j < calls.count; j++)
			call_done(p, be, &tasks[calls.task[j]], &calls.regs[j],
				  calls.target[j]);
		for (i = 0; i < k->n; i++)
			if (!tasks[i].skip && !tasks[i].pending &&
			    !tasks[i].req->ntargets)
				journal_unset(&tasks[i].journal, be->id_key);
		calls_free(&calls);
	}
	k->remove_ms = (clock_monotonic() - t0) * 1000;
}

/* Extra describes one life of a node and Slurm keeps it across
 * power-down: it is cleared, so nothing of this life is shown as the next
 * one's (what is still to remove is in the journal). Once a pass and
 * every EXTRA_CLEAR_PERIOD seconds, not per chunk: each update is a change
 * of the node table, which the next chunk would then load whole. */
#define EXTRA_CLEAR_PERIOD 30.0

static void clear_extra(struct pass *p)
{
	char err[512], *hl;

	p->extra_cleared = clock_monotonic();
	if (!p->extra_due.count)
		return;
	/* Not from a host whose slurmctld lost control: no word to Slurm,
	 * whose controller in control may be minutes from answering us; its
	 * own pass clears what is left. */
	if (fence_lost()) {
		node_list_free(&p->extra_due);
		return;
	}
	hl = node_list_compress(&p->extra_due);
	if (nodes_set_extra(hl, "", err, sizeof(err)) < 0)
		log_verbose("%s: %s", p->label, err);
	free(hl);
	node_list_free(&p->extra_due);
}

/* 3. Of the nodes we journaled, what failed is journaled as pending (one
 * record each, failures only) and the rest forgotten, with one sync at
 * the end; then the locks go. A caller's targets leave the journal to
 * the caller. */
static void chunk_settle(struct pass *p, struct chunk *k)
{
	struct controller *c = p->c;
	struct node_list clean = { NULL, 0 }, done = { NULL, 0 };
	struct node_list left = { NULL, 0 };
	double t0 = clock_monotonic();
	char err[512];
	size_t i;

	for (i = 0; i < k->n; i++) {
		struct task *t = &k->tasks[i];
		const char *node = t->req->node;

		if (t->skip || t->req->ntargets)
			continue;
		node_list_add(&done, node);
		if (t->pending) {
			node_list_add(&k->pending, node);
			node_list_add(&left, node);
			journal_set_phase(&t->journal, JOURNAL_PHASE_PENDING);
			if (journal_write(c->conf->state_dir, CONTROLLER_ROLE,
					  &t->journal, err, sizeof(err)) < 0)
				log_error("%s: %s", node, err);
		} else {
			if (journal_forget(c->conf->state_dir, CONTROLLER_ROLE,
					   node, err, sizeof(err)) < 0)
				log_error("%s: %s", node, err);
			node_list_add(&clean, node);
		}
	}
	if (done.count)
		journal_sync(c->conf->state_dir, CONTROLLER_ROLE);
	for (i = 0; i < done.count; i++)
		node_list_add(&p->extra_due, done.names[i]);
	if (clock_monotonic() - p->extra_cleared >= EXTRA_CLEAR_PERIOD)
		clear_extra(p);
	if (clean.count) {
		char *hl = node_list_compress(&clean);

		log_info("%s: identity removed", hl);
		free(hl);
	}
	/* Each failure was reported with its call; this says what is left. */
	if (left.count) {
		char *hl = node_list_compress(&left);

		log_info("%s: deregistration pending (journaled)", hl);
		free(hl);
	}
	for (i = 0; i < k->n; i++) {
		journal_entry_clear(&k->tasks[i].journal);
		free(k->tasks[i].target_ok);
		k->tasks[i].target_ok = NULL;
		if (k->tasks[i].lock_fd >= 0)
			journal_unlock(k->tasks[i].lock_fd);
		k->tasks[i].lock_fd = -1;
	}
	node_list_free(&clean);
	node_list_free(&done);
	node_list_free(&left);
	k->settle_ms = (clock_monotonic() - t0) * 1000;
}

/* The settled chunk's pending nodes to the caller. */
static void chunk_finish(struct pass *p, struct chunk *k)
{
	char heap[64] = "";
	size_t i;

#ifdef HAVE_MALLINFO2
	/* mallinfo2 walks the free lists: only when the line is logged. */
	if (log_get_level() >= LOG_LEVEL_VERBOSE) {
		struct mallinfo2 mi = mallinfo2();

		snprintf(heap, sizeof(heap), "; heap %.1f MiB in use, %.1f MiB held",
			 (double)(mi.uordblks + mi.hblkhd) / 1048576.0,
			 (double)(mi.arena + mi.hblkhd) / 1048576.0);
	}
#endif
	log_verbose("%s: %zu node(s): locks and Slurm %.0f ms, calls %.0f ms, settled in %.0f ms%s",
		    p->label, k->n, k->prepare_ms, k->remove_ms, k->settle_ms,
		    heap);
	for (i = 0; p->pending_out && i < k->pending.count; i++)
		node_list_add(p->pending_out, k->pending.names[i]);
	node_list_free(&k->pending);
	free(k->tasks);
	k->tasks = NULL;
}

static void pass_prepare(void *arg, size_t k)
{
	struct pass *p = arg;
	size_t first = k * CONTROLLER_CHUNK, n = p->n - first;

	chunk_init(&p->slots[k % PIPELINE_SLOTS], p->list + first,
		   n < CONTROLLER_CHUNK ? n : CONTROLLER_CHUNK);
	chunk_prepare(p, &p->slots[k % PIPELINE_SLOTS]);
}

static void pass_remove(void *arg, size_t k)
{
	struct pass *p = arg;

	chunk_remove(p, &p->slots[k % PIPELINE_SLOTS]);
}

static void pass_settle(void *arg, size_t k)
{
	struct pass *p = arg;

	chunk_settle(p, &p->slots[k % PIPELINE_SLOTS]);
	chunk_finish(p, &p->slots[k % PIPELINE_SLOTS]);
}

void removal_run(struct controller *c, const struct removal *list, size_t n,
		 const char *label, int lock_wait_ms, FILE *out,
		 struct removal_report *rep, struct node_list *pending_out)
{
	struct pass *p;
	struct pipeline_steps steps = { pass_prepare, pass_remove, pass_settle,
					NULL };
	size_t b;
	char err[512];

	if (n == 0)
		return;
	p = xcalloc(1, sizeof(*p));
	p->c = c;
	p->label = label;
	p->lock_wait_ms = lock_wait_ms;
	p->out = out;
	p->rep = rep;
	p->list = list;
	p->n = n;
	p->pending_out = pending_out;
	p->extra_cleared = clock_monotonic();
	steps.arg = p;
	/* Without a usable StateDir the removals are still tried (each
	 * node says so); only what fails is left, for reconcile. */
	if (journal_init(c->conf->state_dir, CONTROLLER_ROLE, err,
			 sizeof(err)) < 0) {
		log_error("%s: StateDir: %s", label, err);
		rep->errors++;
	}
	pipeline_run(&steps, (n + CONTROLLER_CHUNK - 1) / CONTROLLER_CHUNK,
		     CONTROLLER_CHUNK);
	clear_extra(p);
	nodes_free(&p->slurm);
	for (b = 0; b < c->backend_count; b++)
		listing_free(&p->listings[b]);
	free(p);
}

size_t controller_deregister(struct controller *c, const struct node_list *nodes,
			     struct node_list *pending_out)
{
	struct removal *list = xcalloc(nodes->count + 1, sizeof(*list));
	struct removal_report rep = { 0 };
	size_t i, before = pending_out->count;

	for (i = 0; i < nodes->count; i++) {
		list[i].node = nodes->names[i];
		list[i].cause = REMOVAL_JOURNALED;
	}
	removal_run(c, list, nodes->count, "deregister", CONTROLLER_LOCK_WAIT_MS,
		    NULL, &rep, pending_out);
	free(list);
	return pending_out->count - before;
}
