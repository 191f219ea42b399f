/* batch_plan.c: the worker's order of work in one pass (batch_plan.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "batch_plan.h"
#include "common/xmalloc.h"

#define IN_REMOVAL 1	/* named in a suspend or resume-fail batch */
#define LAST_PREPARE 2	/* its last batch so far is a resume */

void batch_plan_init(struct batch_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	name_set_init(&plan->index);
}

void batch_plan_add(struct batch_plan *plan, enum queue_kind kind,
		    const struct node_list *nodes, double when)
{
	size_t i, slot;

	for (i = 0; i < nodes->count; i++) {
		if (!name_set_find(&plan->index, nodes->names[i], &slot)) {
			if (plan->count == plan->cap) {
				plan->cap = plan->cap ? 2 * plan->cap : 64;
				plan->names = xrealloc(plan->names,
						       plan->cap * sizeof(*plan->names));
				plan->state = xrealloc(plan->state,
						       plan->cap * sizeof(*plan->state));
				plan->queued = xrealloc(plan->queued,
							plan->cap * sizeof(*plan->queued));
			}
			slot = plan->count++;
			plan->names[slot] = xstrdup(nodes->names[i]);
			plan->state[slot] = 0;
			plan->queued[slot] = 0;
			name_set_add(&plan->index, plan->names[slot], slot);
		}
		if (kind == QUEUE_PREPARE) {
			plan->state[slot] |= LAST_PREPARE;
			plan->queued[slot] = when;
		} else {
			plan->state[slot] |= IN_REMOVAL;
			plan->state[slot] &= (unsigned char)~LAST_PREPARE;
		}
	}
}

void batch_plan_finish(struct batch_plan *plan)
{
	size_t i;

	plan->first_since = xcalloc(plan->count + 1, sizeof(double));
	plan->after_since = xcalloc(plan->count + 1, sizeof(double));
	for (i = 0; i < plan->count; i++) {
		unsigned char s = plan->state[i];

		if (s & IN_REMOVAL)
			node_list_add(&plan->remove, plan->names[i]);
		if ((s & LAST_PREPARE) && (s & IN_REMOVAL)) {
			plan->after_since[plan->prepare_after.count] = plan->queued[i];
			node_list_add(&plan->prepare_after, plan->names[i]);
		} else if (s & LAST_PREPARE) {
			plan->first_since[plan->prepare_first.count] = plan->queued[i];
			node_list_add(&plan->prepare_first, plan->names[i]);
		}
	}
}

int batch_plan_last(const struct batch_plan *plan, const char *node,
		    enum queue_kind *kind)
{
	size_t slot;

	if (!name_set_find(&plan->index, node, &slot))
		return 0;
	*kind = (plan->state[slot] & LAST_PREPARE) ? QUEUE_PREPARE : QUEUE_REMOVE;
	return 1;
}

void batch_plan_free(struct batch_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->count; i++)
		free(plan->names[i]);
	free(plan->names);
	free(plan->state);
	free(plan->queued);
	free(plan->first_since);
	free(plan->after_since);
	name_set_free(&plan->index);
	node_list_free(&plan->prepare_first);
	node_list_free(&plan->remove);
	node_list_free(&plan->prepare_after);
	batch_plan_init(plan);
}
