/* watch_diff.h: what the watcher makes of a change in Slurm's node table.
 *
 * Between two looks, a node that began to power up, or that is up and was
 * down (its power-up fell between two looks), is to be prepared (AD
 * accounts, join secrets: what resume does), and a node that went
 * down (powering down or powered down), or that is down and whose Extra
 * holds a new claim (a life too short for two looks), is to lose its
 * identity. Pure: no Slurm, no disk; the
 * watcher then asks the journal and the engine, which decide.
 */
#ifndef SLURM_IDENTITY_WATCH_DIFF_H
#define SLURM_IDENTITY_WATCH_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/nameset.h"
#include "common/slurm_node.h"

enum watch_action {
	WATCH_NOTHING,
	WATCH_PREPARE,	/* began to power up */
	WATCH_REMOVE,	/* went down, or down with a new claim */
};

/* What the last look saw of each node. */
struct watch_seen {
	char **names;
	char **extra;
	bool *down;		/* powering down or powered down */
	bool *up;		/* powering up */
	time_t *down_at;	/* last look that saw it down, 0: none */
	size_t count;
	struct name_set index;
};

void watch_seen_init(struct watch_seen *seen);
void watch_seen_free(struct watch_seen *seen);

/* Compare set with what was seen and remember set, looked at now.
 * actions[i] is set for set->nodes[i]; down_at[i] is when the node was
 * last seen down before this look (0: never by this watcher), so that a
 * resume journaled since then is known to be this power-up's. A node not
 * seen before (the first look, a node new to slurm.conf) is prepared if
 * it is powering up, and otherwise left to the sweep. */
void watch_diff(struct watch_seen *seen, const struct slurm_node_set *set,
		time_t now, enum watch_action *actions, time_t *down_at);

#endif
