/* queue.h: the worker's queue, one durable file per batch of nodes.
 *
 * A hook (or the watcher) records its whole batch of nodes with one write
 * (write, fsync, rename, fsync the directory: a group commit, not one per
 * node) in StateDir/queue and returns; the worker (worker.c) does the
 * batch's work and then removes the file. Two kinds: a suspend or
 * resume-fail batch is of nodes whose identity is to go; a resume batch is
 * of nodes to prepare (AD accounts, join secrets) while they boot. A crash
 * anywhere leaves the file, and the next worker does it again (removing a
 * registration twice, or preparing a node twice, is harmless).
 */
#ifndef SLURM_IDENTITY_QUEUE_H
#define SLURM_IDENTITY_QUEUE_H

#include <stddef.h>

#include "common/hostlist.h"

#define QUEUE_ROLE "queue"

enum queue_kind {
	QUEUE_REMOVE,	/* "nodes=" (what every release wrote) */
	QUEUE_PREPARE,	/* "prepare=" */
};

/* Record nodes as one batch of that kind. */
int queue_put(const char *state_dir, enum queue_kind kind,
	      const struct node_list *nodes, char *err, size_t errlen);
/* The batches waiting, oldest first (caller frees with queue_names_free). */
int queue_list(const char *state_dir, char ***names, size_t *count, char *err,
	       size_t errlen);
void queue_names_free(char **names, size_t count);
/* The nodes of one batch, appended to out without duplicates; its kind in
 * *kind. */
int queue_read(const char *state_dir, const char *name, enum queue_kind *kind,
	       struct node_list *out, char *err, size_t errlen);
/* The nodes of every batch of that kind waiting (unreadable ones skipped,
 * said at verbose level). */
int queue_nodes(const char *state_dir, enum queue_kind kind,
		struct node_list *out, char *err, size_t errlen);
/* When the batch was queued (from its name), in seconds; 0 if unknown. */
double queue_batch_time(const char *name);
/* A batch that cannot be read is renamed NAME.damaged (into aside), which
 * queue_list does not list: kept for people to look at, never taken again
 * nor deleted with the batches that were done. 0, 1 if it is gone, or -1. */
#define QUEUE_ASIDE_SUFFIX ".damaged"
int queue_set_aside(const char *state_dir, const char *name, char *aside,
		    size_t asidelen, char *err, size_t errlen);
/* A batch is done. */
int queue_remove(const char *state_dir, const char *name, char *err,
		 size_t errlen);

#endif
