/* watch_diff.c: node table changes to actions (watch_diff.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "watch_diff.h"

void watch_seen_init(struct watch_seen *seen)
{
	memset(seen, 0, sizeof(*seen));
	name_set_init(&seen->index);
}

void watch_seen_free(struct watch_seen *seen)
{
	size_t i;

	for (i = 0; i < seen->count; i++) {
		free(seen->names[i]);
		free(seen->extra[i]);
	}
	free(seen->names);
	free(seen->extra);
	free(seen->down);
	free(seen->up);
	free(seen->down_at);
	name_set_free(&seen->index);
	watch_seen_init(seen);
}

static enum watch_action decide(const struct watch_seen *was, bool known,
				size_t p, const struct slurm_node *n)
{
	bool down = n->powered_down || n->powering_down;

	if (n->powering_up)
		return known && was->up[p] ? WATCH_NOTHING : WATCH_PREPARE;
	if (!known)
		return WATCH_NOTHING;
	/* Up, and down at the last look: its power-up fell between two
	 * looks (or while Slurm did not answer). Its first prolog may be
	 * waiting for what it needs. */
	if (!down)
		return was->down[p] ? WATCH_PREPARE : WATCH_NOTHING;
	if (!was->down[p])
		return WATCH_REMOVE;
	/* A new claim while down: a life too short for two looks. Extra
	 * cleared (the engine's own doing, or an operator's) is nothing. */
	if (n->extra && n->extra[0] && strcmp(was->extra[p], n->extra) != 0)
		return WATCH_REMOVE;
	return WATCH_NOTHING;
}

void watch_diff(struct watch_seen *seen, const struct slurm_node_set *set,
		time_t now, enum watch_action *actions, time_t *down_at)
{
	struct watch_seen next;
	size_t i, p;

	watch_seen_init(&next);
	next.names = xcalloc(set->count + 1, sizeof(*next.names));
	next.extra = xcalloc(set->count + 1, sizeof(*next.extra));
	next.down = xcalloc(set->count + 1, sizeof(*next.down));
	next.up = xcalloc(set->count + 1, sizeof(*next.up));
	next.down_at = xcalloc(set->count + 1, sizeof(*next.down_at));
	for (i = 0; i < set->count; i++) {
		const struct slurm_node *n = &set->nodes[i];
		bool known = name_set_find(&seen->index, n->name, &p);
		bool down = n->powered_down || n->powering_down;

		actions[i] = decide(seen, known, p, n);
		down_at[i] = known ? seen->down_at[p] : 0;
		next.names[next.count] = xstrdup(n->name);
		next.extra[next.count] = xstrdup(n->extra ? n->extra : "");
		next.down[next.count] = down;
		next.up[next.count] = n->powering_up;
		next.down_at[next.count] = down ? now : down_at[i];
		if (name_set_add(&next.index, next.names[next.count], next.count))
			next.count++;
		else {
			free(next.names[next.count]);
			free(next.extra[next.count]);
		}
	}
	watch_seen_free(seen);
	*seen = next;
}
