/* removal_rule_test.c: the one rule for removing a node's identity, over
 * the states Slurm reports and every cause a caller can give. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "controller/removal_rule.h"
#include "tap.h"

/* A node as nodes_load() describes it. */
struct state {
	const char *name;	/* as sinfo shows it */
	bool powering_up, powered_down, powering_down, down, drained;
	/* May its identity go, by cause: journaled, powered down, instance
	 * gone. */
	bool journaled, listed_powered_down, instance_gone;
};

static const struct state states[] = {
	/* Up: never, whatever the cause. */
	{ "idle", 0, 0, 0, 0, 0, false, false, false },
	{ "allocated", 0, 0, 0, 0, 0, false, false, false },
	{ "mixed", 0, 0, 0, 0, 0, false, false, false },
	{ "completing", 0, 0, 0, 0, 0, false, false, false },
	{ "idle+drain", 0, 0, 0, 0, 1, false, false, false },
	{ "allocated+drain", 0, 0, 0, 0, 1, false, false, false },
	/* Coming up: never. */
	{ "idle#", 1, 0, 0, 0, 0, false, false, false },
	{ "allocated#", 1, 0, 0, 0, 0, false, false, false },
	{ "down#", 1, 0, 0, 1, 0, false, false, false },
	{ "idle#+drain", 1, 0, 0, 0, 1, false, false, false },
	/* Going or gone: yes. */
	{ "idle%", 0, 0, 1, 0, 0, true, true, true },
	{ "idle~", 0, 1, 0, 0, 0, true, true, true },
	{ "idle~+drain", 0, 1, 0, 0, 1, true, true, true },
	{ "down%", 0, 0, 1, 1, 0, true, true, true },
	{ "down~", 0, 1, 0, 1, 0, true, true, true },
	{ "down~+drain", 0, 1, 0, 1, 1, true, true, true },
	/* Down, not powered down (not responding): it may still run;
	 * only EC2's word that the instance is gone lets it go. */
	{ "down", 0, 0, 0, 1, 0, false, false, true },
	{ "down+drain", 0, 0, 0, 1, 1, false, false, true },
};

static struct slurm_node node_of(const struct state *s)
{
	struct slurm_node n;

	memset(&n, 0, sizeof(n));
	snprintf(n.name, sizeof(n.name), "n1");
	snprintf(n.state, sizeof(n.state), "%s", s->name);
	n.powering_up = s->powering_up;
	n.powered_down = s->powered_down;
	n.powering_down = s->powering_down;
	n.down = s->down;
	n.drained = s->drained;
	return n;
}

int main(void)
{
	const enum removal_cause causes[] = { REMOVAL_JOURNALED,
					      REMOVAL_POWERED_DOWN,
					      REMOVAL_INSTANCE_GONE };
	char why[128];
	size_t i, c;
	unsigned bits;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		const struct state *s = &states[i];
		struct slurm_node n = node_of(s);
		const bool want[] = { s->journaled, s->listed_powered_down,
				      s->instance_gone };

		for (c = 0; c < 3; c++) {
			bool got = identity_may_go(&n, causes[c], why,
						   sizeof(why));

			if (!tap_ok(got == want[c], "%s, %s: %s (%s)", s->name,
				    removal_cause_name(causes[c]),
				    want[c] ? "may go" : "stays", why))
				printf("#   got: %s\n", got ? "may go" : "stays");
			tap_ok(strstr(why, s->name) != NULL,
			       "%s, %s: the reason names the state", s->name,
			       removal_cause_name(causes[c]));
		}
	}

	/* Unknown to Slurm: only what we journaled. */
	tap_ok(identity_may_go(NULL, REMOVAL_JOURNALED, why, sizeof(why)) &&
		       strcmp(why, "not a Slurm node any more") == 0,
	       "a journaled node Slurm no longer has may go (%s)", why);
	tap_ok(!identity_may_go(NULL, REMOVAL_POWERED_DOWN, why, sizeof(why)),
	       "a listed name Slurm does not know stays (%s)", why);
	tap_ok(!identity_may_go(NULL, REMOVAL_INSTANCE_GONE, why, sizeof(why)),
	       "even when EC2 says its instance is gone (%s)", why);

	/* Every combination of the flags: powering up never goes, and an
	 * up node (none of powering, powered down, down) never goes. */
	for (bits = 0; bits < 32; bits++) {
		struct state s = { "x", bits & 1, bits & 2, bits & 4, bits & 8,
				   bits & 16, 0, 0, 0 };
		struct slurm_node n = node_of(&s);
		bool up = !s.powering_up && !s.powered_down &&
			  !s.powering_down && !s.down;

		if (!s.powering_up && !up)
			continue;
		for (c = 0; c < 3; c++)
			tap_ok(!identity_may_go(&n, causes[c], why, sizeof(why)),
			       "flags %02x (%s), %s: stays", bits,
			       s.powering_up ? "powering up" : "up",
			       removal_cause_name(causes[c]));
	}

	/* Cause names, as logs and reports print them. */
	tap_is_str(removal_cause_name(REMOVAL_JOURNALED), "journaled",
		   "cause name: journaled");
	tap_is_str(removal_cause_name(REMOVAL_POWERED_DOWN), "powered down",
		   "cause name: powered down");
	tap_is_str(removal_cause_name(REMOVAL_INSTANCE_GONE), "instance gone",
		   "cause name: instance gone");
	return tap_done();
}
