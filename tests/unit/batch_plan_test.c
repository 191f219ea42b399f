/* batch_plan_test.c: the order in which one worker pass does the batches
 * it took: nodes coming up first, a node's own batches in their order. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "controller/batch_plan.h"
#include "tap.h"

/* Batches from "p:n[1-2] r:n3" words (p: resume, r: suspend), in order;
 * the plan as "first=... remove=... after=...". */
static const char *plan_of(const char *words)
{
	static char out[512];
	struct batch_plan plan;
	char *copy = xstrdup(words), *save = NULL, *w, err[256];
	char *a, *b, *c;
	int when = 0;

	batch_plan_init(&plan);
	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		struct node_list nodes = { NULL, 0 };

		if (node_list_expand(w + 2, &nodes, err, sizeof(err)) < 0)
			tap_ok(0, "bad list %s: %s", w, err);
		batch_plan_add(&plan, w[0] == 'p' ? QUEUE_PREPARE : QUEUE_REMOVE,
			       &nodes, (double)++when);
		node_list_free(&nodes);
	}
	batch_plan_finish(&plan);
	a = node_list_compress(&plan.prepare_first);
	b = node_list_compress(&plan.remove);
	c = node_list_compress(&plan.prepare_after);
	snprintf(out, sizeof(out), "first=%s remove=%s after=%s", a, b, c);
	free(a);
	free(b);
	free(c);
	batch_plan_free(&plan);
	free(copy);
	return out;
}

int main(void)
{
	tap_is_str(plan_of(""), "first= remove= after=", "no batch: nothing to do");
	tap_is_str(plan_of("r:n[1-3] p:n[4-5]"), "first=n[4-5] remove=n[1-3] after=",
		   "nodes coming up are prepared before removals of other nodes");
	tap_is_str(plan_of("p:n[1-2] r:n2"), "first=n1 remove=n2 after=",
		   "resumed, then suspended: only the removal");
	tap_is_str(plan_of("r:n2 p:n[1-2]"), "first=n1 remove=n2 after=n2",
		   "suspended, then resumed: removed (the engine asks Slurm), then prepared");
	tap_is_str(plan_of("p:n1 r:n1 p:n1"), "first= remove=n1 after=n1",
		   "up, down, up: the last word is a resume after a removal");
	tap_is_str(plan_of("p:n[1-3] p:n[2-4]"), "first=n[1-4] remove= after=",
		   "two resume batches: each node once");
	tap_is_str(plan_of("r:n1 r:n1"), "first= remove=n1 after=",
		   "two suspend batches: each node once");
	{
		struct batch_plan plan;
		struct node_list a = { NULL, 0 }, b = { NULL, 0 };
		enum queue_kind k = QUEUE_REMOVE;
		char err[256];

		node_list_expand("n[1-2]", &a, err, sizeof(err));
		node_list_expand("n2", &b, err, sizeof(err));
		batch_plan_init(&plan);
		batch_plan_add(&plan, QUEUE_PREPARE, &a, 10.5);
		batch_plan_add(&plan, QUEUE_REMOVE, &b, 11.0);
		batch_plan_add(&plan, QUEUE_PREPARE, &b, 12.25);
		tap_ok(batch_plan_last(&plan, "n1", &k) && k == QUEUE_PREPARE,
		       "n1's last batch is a resume");
		tap_ok(!batch_plan_last(&plan, "n3", &k), "n3 is in no batch");
		batch_plan_finish(&plan);
		tap_ok(plan.prepare_first.count == 1 && plan.first_since[0] == 10.5,
		       "a prepare carries when its batch was queued (n1: 10.5)");
		tap_ok(plan.prepare_after.count == 1 && plan.after_since[0] == 12.25,
		       "the last resume batch's time (n2: 12.25)");
		batch_plan_free(&plan);
		node_list_free(&a);
		node_list_free(&b);
	}
	return tap_done();
}
