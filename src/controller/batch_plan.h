/* batch_plan.h: the order in which the worker does the batches it took.
 *
 * One pass of the worker takes every batch queued, oldest first: resume
 * batches (nodes to prepare) and suspend or resume-fail batches (nodes
 * whose identity is to go). The nodes come up while the worker works, so
 * what they wait for goes first; a node's batches keep their order:
 *  - prepared first: nodes named only in resume batches;
 *  - then removed: nodes named in a suspend or resume-fail batch (the
 *    engine asks Slurm under each node's lock, so a node that is coming up
 *    again keeps its identity);
 *  - then prepared: nodes whose last batch is a resume after such a batch
 *    (suspended, then resumed before the worker came to them).
 * A resume followed by a suspend is only the removal: the node is going.
 * Pure: no disk, no Slurm.
 */
#ifndef SLURM_IDENTITY_BATCH_PLAN_H
#define SLURM_IDENTITY_BATCH_PLAN_H

#include <stddef.h>

#include "common/hostlist.h"
#include "common/nameset.h"
#include "queue.h"

struct batch_plan {
	struct name_set index;	/* node -> slot */
	char **names;
	unsigned char *state;
	double *queued;		/* when its last resume batch was queued */
	size_t count, cap;
	/* Filled by batch_plan_finish, each in the order nodes came; the
	 * prepare lists with when each node's resume batch was queued. */
	struct node_list prepare_first, remove, prepare_after;
	double *first_since, *after_since;
};

void batch_plan_init(struct batch_plan *plan);
/* The next batch, in queue order, queued at when (seconds; 0: unknown). */
void batch_plan_add(struct batch_plan *plan, enum queue_kind kind,
		    const struct node_list *nodes, double when);
void batch_plan_finish(struct batch_plan *plan);
/* The kind of the last batch that names node: 1 and *kind, or 0 if none
 * does (valid before and after batch_plan_finish). */
int batch_plan_last(const struct batch_plan *plan, const char *node,
		    enum queue_kind *kind);
void batch_plan_free(struct batch_plan *plan);

#endif
