/* controller.c: deregistration and reconcile on the head node.
 *
 * Safety rules: an intended deregistration is journaled before it is tried;
 * a registration is removed only when its node is being suspended, its node
 * is powered down, or EC2 says its instance is gone; "could not look" (an
 * API error) never removes anything.
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
#include "missing.h"
#include "pipeline.h"

void controller_init(struct controller *c, const struct identity_conf *conf,
		     struct aws_client *aws, double deadline)
{
	memset(c, 0, sizeof(*c));
	c->conf = conf;
	c->ctx.conf = conf;
	c->ctx.aws = aws;
	c->ctx.deadline = deadline;
	c->backend_count = backends_enabled(conf, c->backends,
					    CONTROLLER_MAX_BACKENDS);
}

static bool phase_is(const struct journal_entry *e, const char *phase);

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

		if (!be->prepare || !c->ctx.aws)
			continue;
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
			 * them never touches what is prepared now. */
			if (regs[i].error[0])
				journal_setf(e, "error", "%s: prepare: %.200s",
					     be->name, regs[i].error);
			else if (regs[i].id[0] && !phase_is(e, "pending"))
				journal_set(e, be->id_key, regs[i].id);
		}
		free(regs);
		free(which);
	}
}

int controller_resume(struct controller *c, const struct node_list *nodes)
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
		return -1;
	}
	records = xcalloc(nodes->count + 1, sizeof(*records));
	ok = xcalloc(nodes->count + 1, sizeof(*ok));
	fds = xcalloc(nodes->count + 1, sizeof(*fds));
	for (i = 0; i < nodes->count; i++) {
		struct journal_entry *e = &records[i];
		const char *phase;

		fds[i] = journal_lock(c->conf->state_dir, CONTROLLER_ROLE,
				      nodes->names[i], CONTROLLER_LOCK_WAIT_MS);
		if (fds[i] < 0) {
			log_error("%s: resume: cannot lock: %s", nodes->names[i],
				  strerror(errno));
			rc = -1;
			continue;
		}
		if (journal_read(c->conf->state_dir, CONTROLLER_ROLE,
				 nodes->names[i], e, err, sizeof(err)) < 0) {
			log_error("%s: resume: %s", nodes->names[i], err);
			rc = -1;
			continue;
		}
		/* A node with deregistrations still pending keeps them: the
		 * ids recorded are of its previous life. */
		phase = journal_get(e, "phase");
		if (phase && (strcmp(phase, "pending") == 0 ||
			      strcmp(phase, "deregistering") == 0)) {
			journal_set(e, "phase", "pending");
			log_info("%s: resume: deregistration of a previous instance still pending",
				 nodes->names[i]);
			journal_set(e, "resumed", "yes");
		} else {
			journal_set(e, "phase", "resuming");
		}
		ok[i] = true;
		journal_unset(e, "error");
		journal_setf(e, "resume_time", "%lld", (long long)clock_wall());
		/* Journaled before anything is created, so a crash leaves a
		 * record that reconcile follows up. */
		if (journal_write(c->conf->state_dir, CONTROLLER_ROLE, e, err,
				  sizeof(err)) < 0) {
			log_error("%s: resume: %s", nodes->names[i], err);
			ok[i] = false;
			rc = -1;
		}
	}
	prepare_nodes(c, nodes, records, ok);
	for (i = 0; i < nodes->count; i++) {
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
		const char *phase;

		if (journal_read(conf->state_dir, CONTROLLER_ROLE, nodes[i], &e,
				 err, sizeof(err)) != 0)
			continue;
		phase = journal_get(&e, "phase");
		if (phase && (strcmp(phase, "pending") == 0 ||
			      strcmp(phase, "deregistering") == 0))
			pending++;
		journal_entry_clear(&e);
	}
	journal_list_free(nodes, n);
	return pending;
}

static void report_line(FILE *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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
		report_line(out, "waiting: %s %s: instance %s not found for %jd s; gone after %d s (Ec2NotFoundGrace)",
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

static void report_line(FILE *out, const char *fmt, ...)
{
	va_list ap;

	if (!out)
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
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

static bool phase_is(const struct journal_entry *e, const char *phase)
{
	const char *p = journal_get(e, "phase");

	return p && strcmp(p, phase) == 0;
}

/* Did a suspend journal this exact registration for removal? */
static bool journaled_for_removal(const struct record_set *rs,
				  const struct backend *b,
				  const struct registration *r)
{
	const char *id;
	size_t i;

	if (!name_set_find(&rs->by_node, r->node, &i) ||
	    !(phase_is(&rs->entries[i], "pending") ||
	      phase_is(&rs->entries[i], "deregistering")))
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
			sn = slurm_nodes_find(slurm, e->node);
			if (id && *id ? strcmp(r->id, id) == 0 : !sn || sn->powered_down)
				outstanding[i] = true;
		}
	}
	for (i = 0; i < rs->count; i++) {
		const struct journal_entry *e = &rs->entries[i];
		const struct slurm_node *sn = slurm_nodes_find(slurm, e->node);
		bool down = !sn || sn->powered_down;
		int fd;

		if (outstanding[i])
			continue;
		if (phase_is(e, "resuming") && !down)
			continue;
		fd = journal_lock(c->conf->state_dir, CONTROLLER_ROLE, e->node, 0);
		if (fd < 0) {
			if (errno == EWOULDBLOCK)
				rep->skipped_busy++;
			else
				rep->errors++;
			continue;
		}
		report_line(out, "%s %s: journal record (%s) settled",
			    dry_run ? "would settle" : "settled", e->node,
			    journal_get(e, "phase") ? journal_get(e, "phase") : "?");
		if (!dry_run && journal_remove(c->conf->state_dir, CONTROLLER_ROLE,
					       e->node, err, sizeof(err)) == 0)
			rep->journal_cleaned++;
		journal_unlock(fd);
	}
	free(outstanding);
}

/* Keep the leaks whose node Slurm, asked now, still has down; unlock and
 * drop the others. Returns how many are kept. */
static size_t recheck_leaks(struct registration *leaks, int *fds,
			    size_t *where, size_t n, struct reconcile_report *rep)
{
	struct slurm_node_set now = { 0 };
	char err[512];
	size_t i, kept = 0;

	if (slurm_nodes_load(&now, err, sizeof(err)) < 0) {
		log_error("reconcile: %s; nothing removed", err);
		rep->errors++;
		for (i = 0; i < n; i++)
			journal_unlock(fds[i]);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct slurm_node *sn = slurm_nodes_find(&now, leaks[i].node);

		/* Up or coming up: whatever EC2 or a listing said, never. */
		if (sn && (sn->powering_up ||
			   (!sn->powered_down && !sn->powering_down && !sn->down))) {
			log_info("reconcile: %s is %s now; %s left alone", leaks[i].node,
				 sn->state, leaks[i].id);
			rep->leaks--;
			journal_unlock(fds[i]);
			continue;
		}
		leaks[kept] = leaks[i];
		where[kept] = where[i];
		fds[kept++] = fds[i];
	}
	slurm_nodes_free(&now);
	return kept;
}

/* The leaks of one backend, CONTROLLER_CHUNK at a time through the
 * pipeline: each node's lock taken (a hook working on it has the last
 * word) and Slurm asked again, then the calls, then the report; what was
 * removed is marked in regs. While a chunk's calls are in flight, the
 * next is locked and checked and the last reported. */
struct leak_chunk {
	struct registration regs[CONTROLLER_CHUNK];	/* copies, in flight */
	size_t where[CONTROLLER_CHUNK];			/* their index in regs */
	int fds[CONTROLLER_CHUNK];
	size_t kept;
};

struct leak_pass {
	struct controller *c;
	const struct backend *be;
	struct registration *regs;
	const size_t *leak;
	size_t n;
	FILE *out;
	struct reconcile_report *rep;
	struct leak_chunk slots[PIPELINE_SLOTS];
};

static void leaks_prepare(void *arg, size_t k)
{
	struct leak_pass *p = arg;
	struct leak_chunk *ch = &p->slots[k % PIPELINE_SLOTS];
	size_t first = k * CONTROLLER_CHUNK, count = p->n - first, i;

	if (count > CONTROLLER_CHUNK)
		count = CONTROLLER_CHUNK;
	ch->kept = 0;
	for (i = 0; i < count; i++) {
		const struct registration *r = &p->regs[p->leak[first + i]];
		int fd = journal_lock(p->c->conf->state_dir, CONTROLLER_ROLE,
				      r->node, 0);

		if (fd < 0 && errno == EWOULDBLOCK) {
			p->rep->skipped_busy++;	/* a hook of ours has it */
			continue;
		}
		if (fd < 0) {
			/* Not busy: StateDir trouble. Loud, counted as an
			 * error, and the removal still tried. */
			log_error("reconcile: %s: StateDir: cannot lock: %s; removing anyway",
				  r->node, strerror(errno));
			metrics_count("slurm_identity_statedir_errors_total", "", 1);
			p->rep->errors++;
		}
		ch->fds[ch->kept] = fd;
		ch->where[ch->kept] = p->leak[first + i];
		ch->regs[ch->kept++] = *r;
	}
	/* The view the leaks were found in is a snapshot: under the nodes'
	 * locks (which resume takes too), ask Slurm again, and leave alone
	 * every node that came up meanwhile. */
	if (ch->kept)
		ch->kept = recheck_leaks(ch->regs, ch->fds, ch->where, ch->kept,
					 p->rep);
}

static void leaks_remove(void *arg, size_t k)
{
	struct leak_pass *p = arg;
	struct leak_chunk *ch = &p->slots[k % PIPELINE_SLOTS];

	if (ch->kept)
		p->be->remove(&p->c->ctx, ch->regs, ch->kept);
}

static void leaks_settle(void *arg, size_t k)
{
	struct leak_pass *p = arg;
	struct leak_chunk *ch = &p->slots[k % PIPELINE_SLOTS];
	size_t i;

	for (i = 0; i < ch->kept; i++) {
		const struct registration *r = &ch->regs[i];

		p->regs[ch->where[i]].removed = r->removed;
		if (r->removed) {
			p->rep->removed++;
			report_line(p->out, "deregistered %s %s %s: %s", p->be->name,
				    r->node, r->id, r->detail);
		} else {
			p->rep->failed++;
			report_line(p->out, "failed %s %s %s: %s", p->be->name,
				    r->node, r->id, r->error);
		}
		journal_unlock(ch->fds[i]);
	}
	ch->kept = 0;
}

static void remove_leaks(struct controller *c, const struct backend *be,
			 struct registration *regs, const size_t *leak, size_t n,
			 FILE *out, struct reconcile_report *rep)
{
	struct leak_pass *p = xcalloc(1, sizeof(*p));
	struct pipeline_steps steps = { leaks_prepare, leaks_remove, leaks_settle, p };

	p->c = c;
	p->be = be;
	p->regs = regs;
	p->leak = leak;
	p->n = n;
	p->out = out;
	p->rep = rep;
	pipeline_run(&steps, (n + CONTROLLER_CHUNK - 1) / CONTROLLER_CHUNK,
		     CONTROLLER_CHUNK);
	free(p);
}

int controller_reconcile(struct controller *c, bool dry_run, FILE *out,
			 struct reconcile_report *rep)
{
	struct registration *regs[CONTROLLER_MAX_BACKENDS] = { NULL };
	size_t nregs[CONTROLLER_MAX_BACKENDS] = { 0 };
	size_t *leak_of[CONTROLLER_MAX_BACKENDS] = { NULL };
	size_t nleaks_of[CONTROLLER_MAX_BACKENDS] = { 0 };
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
	if (slurm_nodes_load(&slurm, err, sizeof(err)) < 0) {
		log_error("reconcile: %s; nothing done", err);
		report_line(out, "error: %s; nothing done", err);
		rep->errors++;
		return -1;
	}
	load_records(c, &records, rep);
	for (b = 0; b < c->backend_count; b++) {
		if (c->backends[b]->list(&c->ctx, &regs[b], &nregs[b], err,
					 sizeof(err)) < 0) {
			log_error("reconcile: %s: %s", c->backends[b]->name, err);
			report_line(out, "error: %s: cannot list: %s",
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
			report_line(out, "warning: ec2: %s; judging by Slurm states only",
				    err);
			rep->errors++;
		}
	}
	for (b = 0; b < c->backend_count; b++) {
		size_t *leaks = xcalloc(nregs[b] + 1, sizeof(*leaks)), nleaks = 0;

		leak_of[b] = leaks;
		for (j = 0; j < nregs[b]; j++) {
			struct registration *r = &regs[b][j];
			const struct slurm_node *sn = slurm_nodes_find(&slurm, r->node);
			char why[128] = "";

			if (!sn) {
				rep->foreign++;
				continue;
			}
			if (sn->powered_down || sn->powering_down)
				snprintf(why, sizeof(why), "node powered down");
			else if (ec2_ok && r->instance_id[0] &&
				 instance_gone(&ec2, &missing, c->conf->ec2_not_found_grace,
					       r, out, why, sizeof(why)))
				;
			else if (journaled_for_removal(&records, c->backends[b], r))
				snprintf(why, sizeof(why), "left pending by a suspend");
			if (!why[0])
				continue;
			rep->leaks++;
			if (dry_run) {
				report_line(out, "would deregister %s %s %s: %s",
					    c->backends[b]->name, r->node, r->id, why);
				continue;
			}
			/* The listing's detail is for printing: say why. */
			snprintf(r->detail, sizeof(r->detail), "%s", why);
			leaks[nleaks++] = j;
		}
		nleaks_of[b] = nleaks;
	}
	/* The views the leaks were found in are done with: each chunk of
	 * removals asks Slurm again under its nodes' locks, and the records
	 * are settled against Slurm as it is after the removals. */
	ec2_view_free(&ec2);
	slurm_nodes_free(&slurm);
	for (b = 0; b < c->backend_count; b++) {
		if (nleaks_of[b])
			remove_leaks(c, c->backends[b], regs[b], leak_of[b],
				     nleaks_of[b], out, rep);
		for (j = 0; j < nregs[b]; j++)
			if (regs[b][j].removed && regs[b][j].instance_id[0])
				missing_forget(&missing, regs[b][j].instance_id);
		free(leak_of[b]);
	}
	/* Instances not found this time keep their first sighting; the rest
	 * are forgotten. Unknown when EC2 could not be asked: kept as is. */
	if (ec2_ok && !dry_run &&
	    missing_save(c->conf->state_dir, &missing, err, sizeof(err)) < 0) {
		log_error("reconcile: %s", err);
		rep->errors++;
	}
	missing_free(&missing);
	if (slurm_nodes_load(&slurm, err, sizeof(err)) < 0) {
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
	slurm_nodes_free(&slurm);
	return rc;
}
