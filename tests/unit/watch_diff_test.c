/* watch_diff_test.c: what the watcher makes of changes in Slurm's node
 * table: one look after another, as the watcher takes them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "controller/watch_diff.h"
#include "tap.h"

/* A node table from "name:state[:extra]" words; state is one of idle,
 * down~ (powered down), up# (powering up), down% (powering down). */
static void table(struct slurm_node_set *set, const char *words)
{
	char *copy = xstrdup(words), *save = NULL, *w;

	memset(set, 0, sizeof(*set));
	name_set_init(&set->index);
	set->nodes = xcalloc(16, sizeof(*set->nodes));
	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		struct slurm_node *n = &set->nodes[set->count];
		char *state = strchr(w, ':'), *extra;

		*state++ = '\0';
		extra = strchr(state, ':');
		if (extra)
			*extra++ = '\0';
		snprintf(n->name, sizeof(n->name), "%s", w);
		n->powered_down = strcmp(state, "down~") == 0;
		n->powering_up = strcmp(state, "up#") == 0;
		n->powering_down = strcmp(state, "down%") == 0;
		n->extra = xstrdup(extra ? extra : "");
		n->reason = xstrdup("");
		n->comment = xstrdup("");
		name_set_add(&set->index, n->name, set->count);
		set->count++;
	}
	free(copy);
}

/* One look at words at time now: "name=action@down_at" for each node
 * with an action, in table order. */
static const char *look(struct watch_seen *seen, const char *words, time_t now)
{
	static char out[512];
	enum watch_action actions[16];
	time_t down_at[16];
	struct slurm_node_set set;
	size_t i, len = 0;

	table(&set, words);
	watch_diff(seen, &set, now, actions, down_at);
	out[0] = '\0';
	for (i = 0; i < set.count; i++) {
		if (actions[i] == WATCH_NOTHING)
			continue;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s=%s@%lld",
					len ? " " : "", set.nodes[i].name,
					actions[i] == WATCH_PREPARE ? "prepare" : "remove",
					(long long)down_at[i]);
	}
	nodes_free(&set);
	return out;
}

int main(void)
{
	struct watch_seen seen;

	watch_seen_init(&seen);
	tap_is_str(look(&seen, "n1:idle n2:down~:opsworks=abc n3:up# n4:down%", 100),
		   "n3=prepare@0",
		   "first look: only a node powering up is acted on (the sweep has the rest)");
	tap_is_str(look(&seen, "n1:down% n2:down~:opsworks=abc n3:up# n4:down~", 105),
		   "n1=remove@0",
		   "a node that went down is to lose its identity; still powering up or still down: nothing");
	tap_is_str(look(&seen, "n1:down~ n2:down~:opsworks=def n3:idle n4:down~", 110),
		   "n2=remove@105",
		   "a down node whose Extra changed between looks (a short life) is looked at again");
	tap_is_str(look(&seen, "n1:up# n2:down~:opsworks=def n3:idle n4:down~", 115),
		   "n1=prepare@110",
		   "a node powering up after being down: prepared, with when it was last seen down");
	tap_is_str(look(&seen, "n1:idle n2:down~:opsworks=def n3:down% n4:down~ n5:down~:opsworks=x", 120),
		   "n3=remove@0",
		   "a node new to the table while down is left to the sweep; one that was never seen down has no down time");
	tap_is_str(look(&seen, "n1:idle n2:down~ n3:down% n4:down~ n5:down~:opsworks=x", 122), "",
		   "Extra cleared while down (the engine's own clearing) is nothing");
	tap_is_str(look(&seen, "n1:idle n2:idle:opsworks=def n3:down% n4:down~", 123), "n2=prepare@122",
		   "a node up that was down at the last look (its power-up fell between looks) is prepared");
	tap_is_str(look(&seen, "n1:idle", 125), "",
		   "nodes leaving the table are forgotten");
	tap_is_str(look(&seen, "n1:idle n2:up#", 130), "n2=prepare@0",
		   "and a forgotten node is new again");
	tap_ok(seen.count == 2, "what was seen is the last table (%zu nodes)",
	       seen.count);
	watch_seen_free(&seen);
	return tap_done();
}
