/* deregister.c: removing the registrations of nodes being powered down.
 *
 * A batch is worked on CONTROLLER_CHUNK nodes at a time, each chunk in
 * three steps:
 *   prepare  take each node's lock (resume takes it too), read what we
 *            recorded of it, then ask Slurm about it now;
 *   remove   each backend's calls, all nodes of the chunk in parallel;
 *   settle   journal what failed, forget the rest, clear Extra, unlock.
 * The calls are what takes the time: the pipeline (pipeline.c) settles
 * the chunk before and prepares the one after while a chunk's calls are
 * in flight, so the API is kept busy from the first chunk to the last.
 * Those two steps touch only their chunks, the journal and Slurm; the
 * calls, the listings and the AWS client stay in the calling thread.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
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
#include "controller.h"
#include "pipeline.h"

struct task {
	const char *node;
	int lock_fd;
	struct journal_entry journal;
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

/* Registrations of one backend for the tasks: the ids we journaled, plus
 * what the backend's listing of this cluster finds for nodes whose id we do
 * not know. */
static size_t collect_registrations(struct controller *c,
				    const struct backend *b, struct listing *cache,
				    struct task *tasks, size_t n,
				    struct registration **out)
{
	struct registration *regs = xcalloc(n + 1, sizeof(*regs));
	const struct registration *listed = NULL;
	size_t count = 0, cap = n + 1, nlisted = 0, i, j;
	struct name_set unknown, ids;

	name_set_init(&unknown);
	name_set_init(&ids);
	for (i = 0; i < n; i++) {
		const char *id;

		if (tasks[i].skip)
			continue;
		id = journal_get(&tasks[i].journal, b->id_key);
		if (id && *id) {
			snprintf(regs[count].node, sizeof(regs[count].node), "%s",
				 tasks[i].node);
			snprintf(regs[count].id, sizeof(regs[count].id), "%s", id);
			count++;
		} else {
			name_set_add(&unknown, tasks[i].node, i);
		}
	}
	for (i = 0; i < count; i++)
		name_set_add(&ids, regs[i].id, i);
	if (unknown.count) {
		const struct listing *l = listing_get(c, b, cache, &unknown, n);

		listed = l->regs;
		nlisted = l->count;
		if (l->rc < 0) {
			log_error("%s: cannot list registrations: %s", b->name, l->err);
			for (i = 0; i < n; i++) {
				if (!tasks[i].skip &&
				    name_set_find(&unknown, tasks[i].node, NULL)) {
					tasks[i].pending = true;
					journal_setf(&tasks[i].journal, "error",
						     "%s: cannot list: %.200s", b->name,
						     l->err);
				}
			}
		}
	}
	/* What the listing has for the nodes whose id we do not know. */
	for (j = 0; j < nlisted; j++) {
		if (!name_set_find(&unknown, listed[j].node, NULL))
			continue;
		if (count + 1 >= cap) {
			cap *= 2;
			regs = xrealloc(regs, cap * sizeof(*regs));
		}
		regs[count] = listed[j];
		if (!name_set_add(&ids, regs[count].id, count))
			continue;	/* listed twice */
		count++;
	}
	name_set_free(&unknown);
	name_set_free(&ids);
	*out = regs;
	return count;
}

/* Is the node, as Slurm has it right now, one whose identity may go? A
 * node that is up or coming up is never deregistered, whatever the batch
 * that named it said when it was written. */
static bool may_remove(const struct slurm_node *sn)
{
	return !sn || (!sn->powering_up && (sn->powered_down || sn->powering_down));
}

struct chunk {
	struct task *tasks;
	size_t n;
	struct node_list pending;	/* busy, not checked, or failed */
	double prepare_ms, remove_ms, settle_ms;
};

static void chunk_init(struct chunk *k, const char *const *names, size_t n)
{
	size_t i;

	memset(k, 0, sizeof(*k));
	k->tasks = xcalloc(n + 1, sizeof(*k->tasks));
	k->n = n;
	for (i = 0; i < n; i++) {
		k->tasks[i].node = names[i];
		k->tasks[i].lock_fd = -1;
	}
}

/* Left for later: a lock another of our processes holds, or no word from
 * Slurm. */
static void chunk_defer(struct chunk *k, struct task *t)
{
	t->skip = true;
	node_list_add(&k->pending, t->node);
}

/* 1. Each node's lock and what we recorded of it (the batch file is the
 * journaled intention: nothing is written per node yet); then Slurm's
 * word, under the locks. */
static void chunk_prepare(struct controller *c, struct chunk *k)
{
	struct slurm_node_set slurm = { 0 };
	double t0 = clock_monotonic();
	bool have_slurm;
	char err[512];
	size_t i;

	for (i = 0; i < k->n; i++) {
		struct task *t = &k->tasks[i];

		t->lock_fd = journal_lock(c->conf->state_dir, CONTROLLER_ROLE,
					  t->node, CONTROLLER_LOCK_WAIT_MS);
		if (t->lock_fd < 0 && errno == EWOULDBLOCK) {
			log_info("%s: deregister: busy; tried again later", t->node);
			chunk_defer(k, t);
			continue;
		}
		if (t->lock_fd < 0 ||
		    journal_read(c->conf->state_dir, CONTROLLER_ROLE, t->node,
				 &t->journal, err, sizeof(err)) < 0) {
			/* StateDir trouble is loud, never silent: removal is
			 * idempotent, so it is still tried. */
			log_error("%s: deregister: StateDir: cannot lock or read the journal (%s); removing anyway",
				  t->node, t->lock_fd < 0 ? strerror(errno) : err);
			metrics_count("slurm_identity_statedir_errors_total", "", 1);
			journal_entry_clear(&t->journal);
			journal_entry_init(&t->journal, t->node);
		}
	}
	pthread_mutex_lock(&large_views);
	have_slurm = slurm_nodes_load(&slurm, err, sizeof(err)) == 0;
	if (!have_slurm)
		log_error("deregister: %s; nothing removed", err);
	for (i = 0; i < k->n; i++) {
		struct task *t = &k->tasks[i];
		const struct slurm_node *sn;

		if (t->skip)
			continue;
		if (!have_slurm) {
			chunk_defer(k, t);
			continue;
		}
		sn = slurm_nodes_find(&slurm, t->node);
		if (!may_remove(sn)) {
			log_info("%s: deregister: node is %s now; its identity stays",
				 t->node, sn->state);
			t->skip = true;
			continue;
		}
		journal_unset(&t->journal, "error");
	}
	slurm_nodes_free(&slurm);
	pthread_mutex_unlock(&large_views);
	k->prepare_ms = (clock_monotonic() - t0) * 1000;
}

/* 2. Each backend removes what it has, all nodes of the chunk in
 * parallel. */
static void chunk_remove(struct controller *c, struct listing *listings,
			 struct chunk *k)
{
	struct task *tasks = k->tasks;
	double t0 = clock_monotonic();
	size_t i, b;

	for (b = 0; b < c->backend_count; b++) {
		const struct backend *be = c->backends[b];
		struct registration *regs;
		struct name_set where;
		size_t nregs = collect_registrations(c, be, &listings[b], tasks,
						     k->n, &regs), j;

		if (nregs)
			be->remove(&c->ctx, regs, nregs);
		name_set_init(&where);
		for (i = 0; i < k->n; i++)
			if (!tasks[i].skip)
				name_set_add(&where, tasks[i].node, i);
		for (j = 0; j < nregs; j++) {
			size_t t;

			if (regs[j].removed || !name_set_find(&where, regs[j].node, &t))
				continue;
			tasks[t].pending = true;
			journal_set(&tasks[t].journal, be->id_key, regs[j].id);
			journal_setf(&tasks[t].journal, "error", "%s: %.200s", be->name,
				     regs[j].error);
		}
		for (i = 0; i < k->n; i++)
			if (!tasks[i].skip && !tasks[i].pending)
				journal_unset(&tasks[i].journal, be->id_key);
		name_set_free(&where);
		free(regs);
	}
	k->remove_ms = (clock_monotonic() - t0) * 1000;
}

/* 3. What failed is journaled as pending (one record each, failures
 * only); the rest is forgotten, with one sync at the end; then the locks
 * go. */
static void chunk_settle(struct controller *c, struct chunk *k)
{
	struct node_list clean = { NULL, 0 }, done = { NULL, 0 };
	double t0 = clock_monotonic();
	char err[512];
	size_t i;

	for (i = 0; i < k->n; i++) {
		struct task *t = &k->tasks[i];

		if (t->skip)
			continue;
		node_list_add(&done, t->node);
		if (t->pending) {
			node_list_add(&k->pending, t->node);
			journal_set(&t->journal, "phase", "pending");
			if (journal_write(c->conf->state_dir, CONTROLLER_ROLE,
					  &t->journal, err, sizeof(err)) < 0)
				log_error("%s: %s", t->node, err);
			log_error("%s: deregistration pending: %s", t->node,
				  journal_get(&t->journal, "error")
					  ? journal_get(&t->journal, "error")
					  : "unknown error");
		} else {
			if (journal_forget(c->conf->state_dir, CONTROLLER_ROLE,
					   t->node, err, sizeof(err)) < 0)
				log_error("%s: %s", t->node, err);
			node_list_add(&clean, t->node);
		}
	}
	journal_sync(c->conf->state_dir, CONTROLLER_ROLE);
	/* Extra describes one life of a node and Slurm keeps it across
	 * power-down: clear it, so nothing of this life is shown as the
	 * next one's. What is still to remove is in the journal. */
	if (done.count) {
		char *hl = node_list_compress(&done);

		if (slurm_node_set_extra(hl, "", err, sizeof(err)) < 0)
			log_verbose("deregister: %s", err);
		free(hl);
	}
	if (clean.count) {
		char *hl = node_list_compress(&clean);

		log_info("%s: identity removed", hl);
		free(hl);
	}
	for (i = 0; i < k->n; i++) {
		journal_entry_clear(&k->tasks[i].journal);
		if (k->tasks[i].lock_fd >= 0)
			journal_unlock(k->tasks[i].lock_fd);
		k->tasks[i].lock_fd = -1;
	}
	node_list_free(&clean);
	node_list_free(&done);
	k->settle_ms = (clock_monotonic() - t0) * 1000;
}

/* The settled chunk's pending nodes to the caller; returns how many. */
static size_t chunk_finish(struct chunk *k, struct node_list *pending_out)
{
	size_t i, n = k->pending.count;
	char heap[64] = "";

#ifdef HAVE_MALLINFO2
	/* mallinfo2 walks the free lists: only when the line is logged. */
	if (log_get_level() >= LOG_LEVEL_VERBOSE) {
		struct mallinfo2 mi = mallinfo2();

		snprintf(heap, sizeof(heap), "; heap %.1f MiB in use, %.1f MiB held",
			 (double)(mi.uordblks + mi.hblkhd) / 1048576.0,
			 (double)(mi.arena + mi.hblkhd) / 1048576.0);
	}
#endif
	log_verbose("deregister: %zu node(s): locks and Slurm %.0f ms, calls %.0f ms, settled in %.0f ms%s",
		    k->n, k->prepare_ms, k->remove_ms, k->settle_ms, heap);
	for (i = 0; i < n; i++)
		node_list_add(pending_out, k->pending.names[i]);
	node_list_free(&k->pending);
	free(k->tasks);
	k->tasks = NULL;
	return n;
}

/* One pass: the batch, its chunks in the pipeline's slots, and what is
 * left. */
struct pass {
	struct controller *c;
	struct listing listings[CONTROLLER_MAX_BACKENDS];
	const struct node_list *nodes;
	struct chunk slots[PIPELINE_SLOTS];
	struct node_list *pending_out;
	size_t pending;
};

static void pass_prepare(void *arg, size_t k)
{
	struct pass *p = arg;
	size_t first = k * CONTROLLER_CHUNK, n = p->nodes->count - first;

	chunk_init(&p->slots[k % PIPELINE_SLOTS],
		   (const char *const *)p->nodes->names + first,
		   n < CONTROLLER_CHUNK ? n : CONTROLLER_CHUNK);
	chunk_prepare(p->c, &p->slots[k % PIPELINE_SLOTS]);
}

static void pass_remove(void *arg, size_t k)
{
	struct pass *p = arg;

	chunk_remove(p->c, p->listings, &p->slots[k % PIPELINE_SLOTS]);
}

static void pass_settle(void *arg, size_t k)
{
	struct pass *p = arg;

	chunk_settle(p->c, &p->slots[k % PIPELINE_SLOTS]);
	p->pending += chunk_finish(&p->slots[k % PIPELINE_SLOTS], p->pending_out);
}

size_t controller_deregister(struct controller *c, const struct node_list *nodes,
			     struct node_list *pending_out)
{
	struct pass p;
	struct pipeline_steps steps = { pass_prepare, pass_remove, pass_settle, &p };
	size_t b;
	char err[512];

	if (nodes->count == 0)
		return 0;
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.nodes = nodes;
	p.pending_out = pending_out;
	/* Without a usable StateDir the removals are still tried (each
	 * node says so); only what fails is left, for reconcile. */
	if (journal_init(c->conf->state_dir, CONTROLLER_ROLE, err,
			 sizeof(err)) < 0)
		log_error("deregister: StateDir: %s", err);
	pipeline_run(&steps, (nodes->count + CONTROLLER_CHUNK - 1) / CONTROLLER_CHUNK,
		     CONTROLLER_CHUNK);
	for (b = 0; b < c->backend_count; b++)
		listing_free(&p.listings[b]);
	return p.pending;
}
