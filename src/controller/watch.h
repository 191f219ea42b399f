/* watch.h: slurm-identity watch, identity that follows Slurm's node states.
 *
 * For clusters whose power programs are not ours (AWS PCS, a Slurm 26.05
 * power-down run on the node, a site's own SuspendProgram), and beside our
 * hooks as the net under them. A long-running service that looks at
 * Slurm's node table every WatchPeriod seconds (an incremental load: when
 * no node changed, slurmctld sends nothing) and drives the engine the
 * hooks drive:
 *   - a node that began to power up is prepared as resume prepares it
 *     (AD accounts and join secrets), unless a resume already did;
 *   - a node that went down with an identity we journaled, or one its
 *     Extra claims, is queued for the worker (the same batch a suspend
 *     queues); the engine re-checks Slurm under the node's lock and asks
 *     the backend for what is registered, so a claim is only a hint;
 *   - every WatchSweepPeriod seconds, and at start, a reconcile sweep: what
 *     escaped both (a look missed while the watcher was down, an instance
 *     EC2 says is gone while Slurm still has the node).
 * One watcher per StateDir is active: it holds StateDir/watch/.lock (a
 * POSIX record lock, which a worker forked from it does not inherit and
 * which works on NFS); another one started waits on the lock and takes
 * over when the first dies. StateDir/watch/status says how it is doing
 * (slurm-identity status shows it).
 */
#ifndef SLURM_IDENTITY_WATCH_H
#define SLURM_IDENTITY_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/program.h"

#define WATCH_ROLE "watch"

/* Run until SIGTERM, SIGINT or SIGHUP (once: one look and one sweep, then
 * return). 0 when stopped, -1 if it could not run (logged). */
int watch_run(struct program *prog, bool once);

/* The pid of the active watcher of state_dir, 0 if none is active. */
pid_t watch_active_pid(const char *state_dir);

#endif
