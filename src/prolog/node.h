/* node.h: identity work on a compute node, shared by prolog and epilog.
 *
 * The node's record lives in StateDir/node/<name>: "phase=ready" with the
 * boot id it was made in, so the prolog's fast path is one small file read
 * and no network. A new boot (a new instance) starts from nothing.
 */
#ifndef SLURM_IDENTITY_NODE_H
#define SLURM_IDENTITY_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/journal.h"
#include "common/program.h"

#include "common/nodename.h"
#include "record.h"

/* Register with every enabled backend (caller holds the node lock).
 * On failure returns -1 with "backend: why" in reason. */
int node_register(struct program *prog, const char *node,
		  struct journal_entry *e, char *reason, size_t reasonlen);
/* Drain with "identity: <reason>" and log it. */
void node_drain(const char *node, const char *reason);
/* Drain, and have Slurm power the node down once idle: the next power-up
 * is a fresh instance and a fresh try, so the node recovers by itself. */
void node_drain_and_recycle(const char *node, const char *reason);

#endif
