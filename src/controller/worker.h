/* worker.h: the background worker that drains the queue: it prepares the
 * nodes of resume batches and removes the identities of suspend and
 * resume-fail batches (in the order batch_plan.h gives).
 *
 * Hooks journal their batch (queue.c) and call worker_ensure(): if no
 * worker of this cluster runs, one is started, detached from the hook
 * (its own session, signals unblocked, no inherited streams), so that it
 * survives the hook's exit and Slurm's kill of the hook. One worker at a
 * time holds StateDir/queue/.worker.lock; it works at the API's rate, past
 * SuspendTimeout if it must, retries what failed with a growing pause, and
 * exits when the queue is empty.
 */
#ifndef SLURM_IDENTITY_WORKER_H
#define SLURM_IDENTITY_WORKER_H

#include <stdbool.h>

#include "common/program.h"

/* Start the worker unless one runs. 0: started, or one runs and will see
 * the batch queued before this call; -1: could not (logged). */
int worker_ensure(struct program *prog);

/* Drain the queue in this process if no worker runs (reconcile): one pass,
 * no retries. *drained: nodes taken from the queue. Returns the nodes left
 * pending, or 0 if a worker runs. The lock file holds the running worker's
 * pid. */
size_t worker_drain_once(struct program *prog, size_t *drained);

/* Does a worker hold the queue's lock now? The probe takes the lock
 * shared for an instant, without waiting; a hook's worker_ensure() in
 * that instant finds it held and leaves its batch queued for the next
 * hook, worker or reconcile. */
bool worker_running(const char *state_dir);

#endif
