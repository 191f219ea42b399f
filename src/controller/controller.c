/* controller.c: resume and reconcile on the head node.
 *
 * Resume journals each node before the backends prepare it. Reconcile
 * finds what escaped the hooks: a registration whose node is powered
 * down, whose instance EC2 says is gone, or that a suspend left pending;
 * "could not look" (an API error) is never "gone". What it finds goes to
 * the removal engine (removal.h), which asks the one rule
 * (removal_rule.h) under each node's lock.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/aws/clock.h"
#include "common/aws/services.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/nameset.h"
#include "common/slurm_node.h"
#include "common/xmalloc.h"
#include "controller.h"
#include "ec2_missing.h"
#include "fence.h"
#include "queue.h"
#include "removal.h"
#include "worker.h"

void controller_init(struct controller *c, const struct identity_conf *conf,
		     struct aws_client *aws, double deadline)
{
	memset(c, 0, sizeof(*c));
	c->conf = conf;
	c->ctx.conf = conf;
	c->ctx.aws = aws;
	c->ctx.deadline = deadline;
	/* No call leaves a process whose host lost control (fence.h). */
	c->ctx.gate = fence_gate;
	if (aws)
		aws_client_set_gate(aws, fence_gate);
	c->backend_count = backends_enabled(conf, c->backends,
					    CONTROLLER_MAX_BACKENDS);
}

void controller_free(struct controller *c)
{
	backend_context_clear(&c->ctx);
}

/* Backends that prepare nodes before they boot (AD accounts): their ids
 * and errors go into each node's journal record. */
static void prepare_nodes(struct controller *c, const struct node_list *nodes,
			  struct journal_entry *records, const bool *ok)
{
	size_t b, i;

	for (b = 0; b < c->backend_count; b++) {
		const struct backend *be = c->backends[b];
		struct registration *regs;
		size_t *which, n = 0;

		if (!be->prepare)
			continue;
		if (!c->ctx.aws) {
			/* Said in each record, not skipped in silence. */
			for (i = 0; i < nodes->count; i++)
				if (ok[i])
					journal_setf(&records[i], "error",
						     "%s: prepare: no AWS client",
						     be->name);
			continue;
		}
		regs = xcalloc(nodes->count + 1, sizeof(*regs));
		which = xcalloc(nodes->count + 1, sizeof(*which));
		for (i = 0; i < nodes->count; i++) {
			if (!ok[i])
				continue;
			snprintf(regs[n].node, sizeof(regs[n].node), "%s",
				 nodes->names[i]);
			which[n++] = i;
		}
		if (n)
			be->prepare(&c->ctx, regs, n);
		for (i = 0; i < n; i++) {
			struct journal_entry *e = &records[which[i]];

			/* A pending record keeps the ids of the previous
			 * life to remove; ids name one life, so removing
			 * them never touches what is prepared now. An id is
			 * kept even when a later step failed (the account
			 * was made, its join secret was not): what exists
			 * must be found again by its life when it goes. */
			if (regs[i].error[0])
				journal_setf(e, "error", "%s: prepare: %.200s",
					     be->name, regs[i].error);
			if (regs[i].id[0] &&
			    journal_phase(e) != JOURNAL_PHASE_PENDING)
				journal_set(e, be->id_key, regs[i].id);
		}
		free(regs);
		free(which);
	}
}

/* Prepared since the batch was queued (journal "prepared", written once
 * the backends are done without an error)? */
static bool prepared_since(const struct journal_entry *e, double since)
{
	const char *t = journal_get(e, "prepared");

	return since > 0 && t && strtod(t, NULL) >= since &&
	       !journal_get(e, "error");
}

int controller_resume(struct controller *c, const struct node_list *nodes,
		      const double *since, struct node_list *failed)
{
	struct journal_entry *records;
	bool *ok;
	int *fds;
	char err[512];
	size_t i;
	int rc = 0;

	if (journal_init(c->conf->state_dir, CONTROLLER_ROLE, err,
			 sizeof(err)) < 0) {
		log_error("resume: %s", err);
		for (i = 0; i < nodes->count; i++)
			node_list_add(failed, nodes->names[i]);
		return -1;
	}
	records = xcalloc(nodes->count + 1, sizeof(*records));
	ok = xcalloc(nodes->count + 1, sizeof(*ok));
	fds = xcalloc(nodes->count + 1, sizeof(*fds));
	for (i = 0; i < nodes->count; i++) {
		struct journal_entry *e = &records[i];

		fds[i] = journal_lock(c->conf->state_dir, CONTROLLER_ROLE,
				      nodes->names[i], CONTROLLER_LOCK_WAIT_MS);
		if (fds[i] < 0) {
			log_error("%s: resume: cannot lock: %s", nodes->names[i],
				  strerror(errno));
			node_list_add(failed, nodes->names[i]);
			rc = -1;
			continue;
		}
		if (journal_read(c->conf->state_dir, CONTROLLER_ROLE,
				 nodes->names[i], e, err, sizeof(err)) < 0) {
			log_error("%s: resume: %s", nodes->names[i], err);
			node_list_add(failed, nodes->names[i]);
			rc = -1;
			continue;
		}
		if (since && prepared_since(e, since[i])) {
			log_verbose("%s: resume: prepared since its batch was queued; left as it is",
				    nodes->names[i]);
			continue;
		}
		/* A node with deregistrations still pending keeps them: the
		 * ids recorded are of its previous life. */
		if (journal_phase(e) == JOURNAL_PHASE_PENDING) {
			journal_set_phase(e, JOURNAL_PHASE_PENDING);
			log_info("%s: resume: deregistration of a previous instance still pending",
				 nodes->names[i]);
			journal_set(e, "resumed", "yes");
		} else {
			journal_set_phase(e, JOURNAL_PHASE_RESUMING);
		}
		ok[i] = true;
		journal_unset(e, "error");
		journal_unset(e, "prepared");
		journal_setf(e, "resume_time", "%lld", (long long)clock_wall());
		/* Journaled before anything is created, so a crash leaves a
		 * record that reconcile follows up. */
		if (journal_write(c->conf->state_dir, CONTROLLER_ROLE, e, err,
				  sizeof(err)) < 0) {
			log_error("%s: resume: %s", nodes->names[i], err);
			node_list_add(failed, nodes->names[i]);
			ok[i] = false;
			rc = -1;
		}
	}
	/* Nothing made unless this host's slurmctld is (still) in control;
	 * the records say resuming, the controller in control prepares. */
	if (!fence_holds()) {
		log_info("%zu node(s): resume: %s: left to the controller in control",
			 nodes->count, fence_why());
		for (i = 0; i < nodes->count; i++) {
			if (!ok[i])
				continue;
			ok[i] = false;
			node_list_add(failed, nodes->names[i]);
			rc = -1;
		}
	}
	prepare_nodes(c, nodes, records, ok);
	for (i = 0; i < nodes->count; i++) {
		if (ok[i] && journal_get(&records[i], "error")) {
			node_list_add(failed, nodes->names[i]);
			rc = -1;
		} else if (ok[i]) {
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			journal_setf(&records[i], "prepared", "%lld.%09ld",
				     (long long)now.tv_sec, now.tv_nsec);
		}
		if (ok[i] && journal_write(c->conf->state_dir, CONTROLLER_ROLE,
					   &records[i], err, sizeof(err)) < 0) {
			log_error("%s: resume: %s", nodes->names[i], err);
			rc = -1;
		}
		journal_entry_clear(&records[i]);
		if (fds[i] >= 0)
			journal_unlock(fds[i]);
	}
	free(records);
	free(ok);
	free(fds);
	return rc;
}

size_t controller_count_pending(const struct identity_conf *conf)
{
	char **nodes = NULL, err[256];
	size_t n = 0, i, pending = 0;

	if (journal_list(conf->state_dir, CONTROLLER_ROLE, &nodes, &n, err,
			 sizeof(err)) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		struct journal_entry e;

		if (journal_read(conf->state_dir, CONTROLLER_ROLE, nodes[i], &e,
				 err, sizeof(err)) != 0)
			continue;
		if (journal_phase(&e) == JOURNAL_PHASE_PENDING)
			pending++;
		journal_entry_clear(&e);
	}
	journal_list_free(nodes, n);
	return pending;
}

/* EC2's answer, indexed by instance id. */
struct ec2_view {
	struct ec2_instance_set set;
	struct name_set found;		/* id -> index in set.items */
	struct name_set missing;	/* ids EC2 does not know */
};

static void ec2_view_index(struct ec2_view *v)
{
	size_t i;

	for (i = 0; i < v->set.count; i++)
		name_set_add(&v->found, v->set.items[i].id, i);
	for (i = 0; i < v->set.missing_count; i++)
		name_set_add(&v->missing, v->set.missing[i], i);
}

static void ec2_view_free(struct ec2_view *v)
{
	name_set_free(&v->found);
	name_set_free(&v->missing);
	ec2_instance_set_free(&v->set);
}

/* Gone: terminated, or not found for Ec2NotFoundGrace seconds (EC2 is
 * eventually consistent: a new instance can be "not found" for a while). */
static bool instance_gone(const struct ec2_view *v, struct missing_set *m,
			  int grace, const struct registration *r, FILE *out,
			  char *why, size_t whylen)
{
	const char *id = r->instance_id;
	size_t i;

	if (name_set_find(&v->missing, id, NULL)) {
		time_t now = time(NULL), since = missing_mark(m, id, now);

		if (now - since >= grace) {
			snprintf(why, whylen, "instance not found for %jd s",
				 (intmax_t)(now - since));
			return true;
		}
		removal_print(out, "waiting: %s %s: instance %s not found for %jd s; gone after %d s (Ec2NotFoundGrace)",
			    r->node, r->id, id, (intmax_t)(now - since), grace);
		return false;
	}
	if (name_set_find(&v->found, id, &i) &&
	    (strcmp(v->set.items[i].state, "terminated") == 0 ||
	     strcmp(v->set.items[i].state, "shutting-down") == 0)) {
		snprintf(why, whylen, "instance terminated");
		return true;
	}
	return false;
}

struct record_set {
	struct journal_entry *entries;
	size_t count;
	struct name_set by_node;	/* node -> index in entries */
};

static void load_records(struct controller *c, struct record_set *rs,
			 struct reconcile_report *rep)
{
	char **nodes = NULL, err[512];
	size_t n = 0, i;

	rs->entries = NULL;
	rs->count = 0;
	name_set_init(&rs->by_node);
	if (journal_list(c->conf->state_dir, CONTROLLER_ROLE, &nodes, &n, err,
			 sizeof(err)) < 0) {
		log_error("reconcile: %s", err);
		rep->errors++;
		return;
	}
	rs->entries = xcalloc(n + 1, sizeof(*rs->entries));
	for (i = 0; i < n; i++)
		if (journal_read(c->conf->state_dir, CONTROLLER_ROLE, nodes[i],
				 &rs->entries[rs->count], err, sizeof(err)) == 0)
			rs->count++;
	for (i = 0; i < rs->count; i++)
		name_set_add(&rs->by_node, rs->entries[i].node, i);
	journal_list_free(nodes, n);
}

static void free_records(struct record_set *rs)
{
	size_t i;

	for (i = 0; i < rs->count; i++)
		journal_entry_clear(&rs->entries[i]);
	free(rs->entries);
	name_set_free(&rs->by_node);
}

/* Did a suspend journal this exact registration for removal? */
static bool journaled_for_removal(const struct record_set *rs,
				  const struct backend *b,
				  const struct registration *r)
{
	const char *id;
	size_t i;

	if (!name_set_find(&rs->by_node, r->node, &i) ||
	    journal_phase(&rs->entries[i]) != JOURNAL_PHASE_PENDING)
		return false;
	id = journal_get(&rs->entries[i], b->id_key);
	return id && strcmp(id, r->id) == 0;
}

/* Settle records with nothing left to do: a pending record whose journaled
 * registrations are gone (and, for ids never learned, whose node is down
 * with nothing registered), or a resume that ended powered down. */
static void settle_records(struct controller *c, const struct record_set *rs,
			   const struct slurm_node_set *slurm,
			   struct registration **regs, const size_t *nregs,
			   bool all_listed, bool dry_run, FILE *out,
			   struct reconcile_report *rep)
{
	bool *outstanding;
	size_t i, b, j;
	char err[512];

	if (!all_listed)
		return;
	/* One pass over what is registered marks the records it keeps open. */
	outstanding = xcalloc(rs->count + 1, sizeof(*outstanding));
	for (b = 0; b < c->backend_count; b++) {
		for (j = 0; j < nregs[b]; j++) {
			const struct registration *r = &regs[b][j];
			const struct journal_entry *e;
			const struct slurm_node *sn;
			const char *id;

			if (r->removed || !name_set_find(&rs->by_node, r->node, &i))
				continue;
			e = &rs->entries[i];
			id = journal_get(e, c->backends[b]->id_key);
			sn = nodes_find(slurm, e->node);
			if (id && *id ? strcmp(r->id, id) == 0 : !sn || sn->powered_down)
				outstanding[i] = true;
		}
	}
	for (i = 0; i < rs->count; i++) {
		const struct journal_entry *e = &rs->entries[i];
		const struct slurm_node *sn = nodes_find(slurm, e->node);
		bool down = !sn || sn->powered_down;
		int fd;

		if (outstanding[i])
			continue;
		if (journal_phase(e) == JOURNAL_PHASE_RESUMING && !down)
			continue;
		fd = journal_lock(c->conf->state_dir, CONTROLLER_ROLE, e->node, 0);
		if (fd < 0) {
			if (errno == EWOULDBLOCK)
				rep->skipped_busy++;
			else
				rep->errors++;
			continue;
		}
		removal_print(out, "%s %s: journal record (%s) settled",
			    dry_run ? "would settle" : "settled", e->node,
			    journal_phase(e) == JOURNAL_PHASE_NONE
				    ? "?" : journal_phase_name(journal_phase(e)));
		if (!dry_run && journal_remove(c->conf->state_dir, CONTROLLER_ROLE,
					       e->node, err, sizeof(err)) == 0)
			rep->journal_cleaned++;
		journal_unlock(fd);
	}
	free(outstanding);
}

/* A registration reconcile found to remove: regs[backend][index]. */
struct leak {
	size_t backend, index;
	enum removal_cause cause;
};

/* The leaks as the engine takes them: one removal per node, its leaks
 * (of every backend) as its targets. */
static size_t group_leaks(struct registration **regs, const struct leak *leaks,
			  size_t n, struct removal **list_out,
			  struct removal_target **targets_out)
{
	struct removal *list = xcalloc(n + 1, sizeof(*list));
	struct removal_target *targets = xcalloc(n + 1, sizeof(*targets));
	size_t *of = xcalloc(n + 1, sizeof(*of)), count = 0, at = 0, i, r;
	struct name_set by_node;

	name_set_init(&by_node);
	for (i = 0; i < n; i++) {
		const char *node = regs[leaks[i].backend][leaks[i].index].node;

		if (!name_set_find(&by_node, node, &r)) {
			r = count++;
			list[r].node = node;
			name_set_add(&by_node, node, r);
		}
		of[i] = r;
		list[r].ntargets++;
	}
	for (r = 0; r < count; r++) {
		list[r].targets = targets + at;
		at += list[r].ntargets;
		list[r].ntargets = 0;
	}
	for (i = 0; i < n; i++) {
		struct removal *rm = &list[of[i]];
		struct removal_target *t = &rm->targets[rm->ntargets++];

		t->backend = leaks[i].backend;
		t->cause = leaks[i].cause;
		t->reg = &regs[leaks[i].backend][leaks[i].index];
	}
	name_set_free(&by_node);
	free(of);
	*list_out = list;
	*targets_out = targets;
	return count;
}

/* Is a worker running (it holds the queue's lock)? Then the nodes of the
 * batches queued go into owned (their names kept in names): they are the
 * worker's. */
static bool worker_nodes(const char *state_dir, struct name_set *owned,
			 struct node_list *names)
{
	char err[512];
	size_t i;

	name_set_init(owned);
	if (!worker_running(state_dir))
		return false;
	if (queue_nodes(state_dir, QUEUE_REMOVE, names, err, sizeof(err)) < 0) {
		log_error("reconcile: %s", err);
		return true;
	}
	for (i = 0; i < names->count; i++)
		name_set_add(owned, names->names[i], i);
	return true;
}

int controller_reconcile(struct controller *c, bool dry_run, FILE *out,
			 struct reconcile_report *rep)
{
	struct registration *regs[CONTROLLER_MAX_BACKENDS] = { NULL };
	size_t nregs[CONTROLLER_MAX_BACKENDS] = { 0 };
	struct leak *leaks = NULL;
	size_t nleaks = 0;
	struct name_set owned;
	struct node_list owned_names = { NULL, 0 };
	bool worker_alive;
	struct slurm_node_set slurm = { 0 };
	struct ec2_view ec2;
	struct missing_set missing;
	struct record_set records;
	const char **ids = NULL;
	size_t nids = 0, b, j;
	bool ec2_ok = false, all_listed = true;
	char err[1024];
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&ec2, 0, sizeof(ec2));
	memset(&missing, 0, sizeof(missing));
	name_set_init(&ec2.found);
	name_set_init(&ec2.missing);
	if (journal_init(c->conf->state_dir, CONTROLLER_ROLE, err,
			 sizeof(err)) < 0) {
		log_error("reconcile: %s", err);
		rep->errors++;
		return -1;
	}
	if (nodes_load(&slurm, err, sizeof(err)) < 0) {
		log_error("reconcile: %s; nothing done", err);
		removal_print(out, "error: %s; nothing done", err);
		rep->errors++;
		return -1;
	}
	load_records(c, &records, rep);
	for (b = 0; b < c->backend_count; b++) {
		if (c->backends[b]->list(&c->ctx, &regs[b], &nregs[b], err,
					 sizeof(err)) < 0) {
			log_error("reconcile: %s: %s", c->backends[b]->name, err);
			removal_print(out, "error: %s: cannot list: %s",
				    c->backends[b]->name, err);
			rep->errors++;
			all_listed = false;
			continue;
		}
		rep->registrations += nregs[b];
		for (j = 0; j < nregs[b]; j++) {
			if (!regs[b][j].instance_id[0])
				continue;
			ids = xrealloc(ids, (nids + 1) * sizeof(*ids));
			ids[nids++] = regs[b][j].instance_id;
		}
	}
	if (nids) {
		if (ec2_describe_instances(c->ctx.aws, ids, nids, &ec2.set, err,
					   sizeof(err)) == 0) {
			ec2_ok = true;
			ec2_view_index(&ec2);
			err[0] = '\0';
			if (missing_load(c->conf->state_dir, &missing, err,
					 sizeof(err)) < 0 || err[0]) {
				log_error("reconcile: %s", err);
				rep->errors++;
			}
		} else {
			/* Could not look is not gone: fall back to Slurm only. */
			log_error("reconcile: ec2: %s; judging by Slurm states only",
				  err);
			removal_print(out, "warning: ec2: %s; judging by Slurm states only",
				    err);
			rep->errors++;
		}
	}
	worker_alive = worker_nodes(c->conf->state_dir, &owned, &owned_names);
	for (b = 0; b < c->backend_count; b++) {
		for (j = 0; j < nregs[b]; j++) {
			struct registration *r = &regs[b][j];
			const struct slurm_node *sn = nodes_find(&slurm, r->node);
			enum removal_cause cause = REMOVAL_JOURNALED;
			char why[128] = "";

			if (!sn) {
				rep->foreign++;
				continue;
			}
			if (sn->powered_down || sn->powering_down) {
				cause = REMOVAL_POWERED_DOWN;
				snprintf(why, sizeof(why), "node powered down");
			} else if (ec2_ok && r->instance_id[0] &&
				   instance_gone(&ec2, &missing,
						 c->conf->ec2_not_found_grace, r,
						 out, why, sizeof(why))) {
				cause = REMOVAL_INSTANCE_GONE;
			} else if (journaled_for_removal(&records, c->backends[b], r)) {
				cause = REMOVAL_JOURNALED;
				snprintf(why, sizeof(why), "left pending by a suspend");
			}
			if (!why[0])
				continue;
			/* A running worker has its queued nodes and the ones
			 * it left pending (it tries them again): one remover
			 * per node, so no call is made twice. */
			if (worker_alive && (cause == REMOVAL_JOURNALED ||
					     name_set_find(&owned, r->node, NULL))) {
				removal_print(out, "busy %s %s %s: %s; the running worker has it",
					      c->backends[b]->name, r->node, r->id,
					      why);
				rep->skipped_busy++;
				continue;
			}
			rep->leaks++;
			if (dry_run) {
				removal_print(out, "would deregister %s %s %s: %s",
					      c->backends[b]->name, r->node, r->id,
					      why);
				continue;
			}
			/* The listing's detail is for printing: say why. */
			snprintf(r->detail, sizeof(r->detail), "%s", why);
			leaks = xrealloc(leaks, (nleaks + 1) * sizeof(*leaks));
			leaks[nleaks].backend = b;
			leaks[nleaks].index = j;
			leaks[nleaks++].cause = cause;
		}
	}
	name_set_free(&owned);
	node_list_free(&owned_names);
	/* The views the leaks were found in are done with: the engine asks
	 * Slurm again under the nodes' locks, and the records are settled
	 * against Slurm as it is after the removals. */
	ec2_view_free(&ec2);
	nodes_free(&slurm);
	if (nleaks) {
		struct removal_report rr = { 0 };
		struct removal_target *targets;
		struct removal *list;
		size_t nlist = group_leaks(regs, leaks, nleaks, &list, &targets);

		removal_run(c, list, nlist, "reconcile", 0, out, &rr, NULL);
		rep->removed += rr.removed;
		rep->failed += rr.failed;
		rep->skipped_busy += rr.busy;
		rep->leaks -= rr.kept;
		rep->errors += rr.errors;
		free(list);
		free(targets);
	}
	free(leaks);
	for (b = 0; b < c->backend_count; b++)
		for (j = 0; j < nregs[b]; j++)
			if (regs[b][j].removed && regs[b][j].instance_id[0])
				missing_forget(&missing, regs[b][j].instance_id);
	/* Instances not found this time keep their first sighting; the rest
	 * are forgotten. Unknown when EC2 could not be asked: kept as is. */
	if (ec2_ok && !dry_run &&
	    missing_save(c->conf->state_dir, &missing, err, sizeof(err)) < 0) {
		log_error("reconcile: %s", err);
		rep->errors++;
	}
	missing_free(&missing);
	if (nodes_load(&slurm, err, sizeof(err)) < 0) {
		log_error("reconcile: %s; journal records not settled", err);
		rep->errors++;
	} else {
		settle_records(c, &records, &slurm, regs, nregs, all_listed,
			       dry_run, out, rep);
	}
	free_records(&records);
	if (!dry_run) {
		metrics_gauge("slurm_identity_pending_nodes", "",
			      (double)controller_count_pending(c->conf));
		metrics_count("slurm_identity_reconcile_removed_total", "",
			      (double)rep->removed);
	}
	rc = rep->errors ? -1 : 0;
	log_info("reconcile: %zu registrations, %zu leaks, %zu removed, %zu failed, %zu records settled, %zu busy%s",
		 rep->registrations, rep->leaks, rep->removed, rep->failed,
		 rep->journal_cleaned, rep->skipped_busy,
		 dry_run ? " (dry run)" : "");
	for (b = 0; b < c->backend_count; b++)
		free(regs[b]);
	free(ids);
	nodes_free(&slurm);
	return rc;
}
