/* removal_rule.c: when a node's identity may be removed (removal_rule.h). */
#include "config.h"

#include <stdio.h>

#include "removal_rule.h"

const char *removal_cause_name(enum removal_cause cause)
{
	switch (cause) {
	case REMOVAL_JOURNALED:
		return "journaled";
	case REMOVAL_POWERED_DOWN:
		return "powered down";
	case REMOVAL_INSTANCE_GONE:
		return "instance gone";
	}
	return "unknown";
}

bool identity_may_go(const struct slurm_node *now, enum removal_cause cause,
		     char *why, size_t whylen)
{
	if (!now) {
		if (cause == REMOVAL_JOURNALED) {
			snprintf(why, whylen, "not a Slurm node any more");
			return true;
		}
		snprintf(why, whylen, "not a Slurm node");
		return false;
	}
	if (now->powering_up) {
		snprintf(why, whylen, "node is %s now", now->state);
		return false;
	}
	if (now->powered_down || now->powering_down) {
		snprintf(why, whylen, "node is %s", now->state);
		return true;
	}
	if (now->down && cause == REMOVAL_INSTANCE_GONE) {
		snprintf(why, whylen, "node is %s and its instance is gone",
			 now->state);
		return true;
	}
	snprintf(why, whylen, "node is %s now", now->state);
	return false;
}
