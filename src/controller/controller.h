/* controller.h: identity work on the head node, shared by the power hooks
 * and the reconcile command. */
#ifndef SLURM_IDENTITY_CONTROLLER_H
#define SLURM_IDENTITY_CONTROLLER_H

#include <stdbool.h>
#include <stdio.h>

#include "backends/backend.h"
#include "common/hostlist.h"

#define CONTROLLER_ROLE "controller"
#define CONTROLLER_MAX_BACKENDS 8

/* How long resume and deregistration wait for a node's lock. */
#define CONTROLLER_LOCK_WAIT_MS 5000

/* Nodes are worked on in chunks: each node's lock is held while its state
 * is checked and its registrations removed, and this many descriptors at a
 * time stay well within the open-file limit. */
#define CONTROLLER_CHUNK 512

struct controller {
	const struct identity_conf *conf;
	struct backend_context ctx;
	const struct backend *backends[CONTROLLER_MAX_BACKENDS];
	size_t backend_count;
};

void controller_init(struct controller *c, const struct identity_conf *conf,
		     struct aws_client *aws, double deadline);

/* Free what the backends cached (wipes the domain password). */
void controller_free(struct controller *c);

/* Resume: journal each node as resuming, then let backends prepare them
 * (AD accounts and one-time passwords). since[i] is when the batch that
 * asked for nodes->names[i] was queued: a node prepared since then (a
 * batch done again after a crash) is left as it is, so a node that joined
 * keeps its account's password. Nodes whose preparation failed (a backend
 * error, no lock, no AWS client) go into failed, their error in the
 * record; -1 if any did. */
int controller_resume(struct controller *c, const struct node_list *nodes,
		      const double *since, struct node_list *failed);

/* Remove every registration of nodes (the worker, for queued batches: the
 * batch file is the journaled intention). Each node's lock is taken and
 * Slurm's current state checked first: a node that is up or powering up
 * keeps its identity. What cannot finish is journaled as pending and
 * appended to pending_out. Returns how many nodes are left pending. */
size_t controller_deregister(struct controller *c, const struct node_list *nodes,
			     struct node_list *pending_out);

/* Nodes whose journal record still holds work. */
size_t controller_count_pending(const struct identity_conf *conf);

struct reconcile_report {
	size_t registrations;	/* seen in all backends */
	size_t leaks;		/* found to need removal */
	size_t removed;
	size_t failed;
	size_t journal_cleaned;	/* pending records settled */
	size_t skipped_busy;	/* a hook held the node's lock */
	size_t foreign;		/* not a node of this cluster */
	int errors;		/* listing or Slurm errors */
};

/* Compare what is registered with Slurm and EC2; remove leaks (unless
 * dry_run), settle pending journal records. Lines for people go to out
 * (may be NULL). Returns 0, or -1 if it could not look. */
int controller_reconcile(struct controller *c, bool dry_run, FILE *out,
			 struct reconcile_report *report);

#endif
