/* queue.h: the deregistration queue, one durable file per hook batch.
 *
 * A suspend or resume-fail hook records its whole batch of nodes with one
 * write (write, fsync, rename, fsync the directory: a group commit, not
 * one per node) in StateDir/queue and returns; the worker (worker.c)
 * removes the registrations and then the file. A crash anywhere leaves
 * the file, and the next worker, hook or reconcile does it again
 * (removing a registration twice is harmless).
 */
#ifndef SLURM_IDENTITY_QUEUE_H
#define SLURM_IDENTITY_QUEUE_H

#include <stddef.h>

#include "common/hostlist.h"

#define QUEUE_ROLE "queue"

/* Record nodes as one batch. */
int queue_put(const char *state_dir, const struct node_list *nodes, char *err,
	      size_t errlen);
/* The batches waiting, oldest first (caller frees with queue_names_free). */
int queue_list(const char *state_dir, char ***names, size_t *count, char *err,
	       size_t errlen);
void queue_names_free(char **names, size_t count);
/* The nodes of one batch, appended to out without duplicates. */
int queue_read(const char *state_dir, const char *name, struct node_list *out,
	       char *err, size_t errlen);
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
