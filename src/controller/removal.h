/* removal.h: the removal engine: every identity the controller removes
 * goes through it, whoever asks (the worker for a batch, reconcile for
 * the leaks it found).
 *
 * Nodes are worked on CONTROLLER_CHUNK at a time, each chunk in three steps:
 *   prepare  take each node's lock (resume takes it too), read what we
 *            recorded of it, then ask Slurm about it, and keep only what
 *            identity_may_go() lets go (removal_rule.h);
 *   remove   each backend's calls, all nodes of the chunk in parallel;
 *   settle   journal what failed, forget the rest, clear Extra, unlock.
 * While one chunk's calls are in flight the one before is settled and the
 * one after prepared (pipeline.h), so the API is kept busy.
 */
#ifndef SLURM_IDENTITY_REMOVAL_H
#define SLURM_IDENTITY_REMOVAL_H

#include <stdio.h>

#include "common/hostlist.h"
#include "controller.h"
#include "removal_rule.h"

/* One registration a caller found and wants gone (reconcile's leaks):
 * reg->removed and reg->error are set in place. */
struct removal_target {
	size_t backend;			/* index in controller.backends */
	enum removal_cause cause;
	struct registration *reg;
};

/* One node to remove. With no targets, everything recorded of it goes:
 * the ids we journaled, else what each backend's listing holds for it;
 * the journal follows (failures pending, the rest forgotten). With
 * targets, those registrations only, and the journal is not touched (the
 * caller settles it). */
struct removal {
	const char *node;
	enum removal_cause cause;	/* with no targets */
	struct removal_target *targets;
	size_t ntargets;
};

struct removal_report {
	size_t removed;		/* registrations removed (or found gone) */
	size_t failed;		/* registrations that could not be */
	size_t busy;		/* left: another of our processes holds it */
	size_t kept;		/* left: the rule says the identity stays */
	int errors;		/* Slurm or StateDir could not be asked */
};

/* Runs the removals; label prefixes the log lines ("deregister",
 * "reconcile"); lock_wait_ms is how long a busy node's lock is waited
 * for; lines for people go to out (may be NULL). Nodes that are left to
 * do (busy, Slurm silent, or a call failed) are appended to pending_out
 * (may be NULL). busy and kept count a node, or its targets. */
void removal_run(struct controller *c, const struct removal *list, size_t n,
		 const char *label, int lock_wait_ms, FILE *out,
		 struct removal_report *rep, struct node_list *pending_out);

/* A line for people (reconcile's report) on out; nothing if out is NULL. */
void removal_print(FILE *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
