/* removal_rule.h: the one rule for when a node's identity may be removed.
 *
 * Every removal on the controller (the worker's batches, reconcile's
 * leaks, and whatever else comes to drive the engine) asks this, under the
 * node's lock, with Slurm's word on the node taken after the lock: a node
 * that is up or coming up never loses its identity, whatever a batch, a
 * listing or EC2 said a moment earlier.
 */
#ifndef SLURM_IDENTITY_REMOVAL_RULE_H
#define SLURM_IDENTITY_REMOVAL_RULE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/slurm_node.h"

/* Why the caller wants a node's identity gone. */
enum removal_cause {
	/* We journaled it: a suspend or resume-fail batch, or a record left
	 * pending by one. */
	REMOVAL_JOURNALED,
	/* A backend lists it while Slurm has the node powered down. */
	REMOVAL_POWERED_DOWN,
	/* EC2 says the node's instance is terminated, or has not known it
	 * for Ec2NotFoundGrace. */
	REMOVAL_INSTANCE_GONE,
};

/* "journaled", "powered down", "instance gone". */
const char *removal_cause_name(enum removal_cause cause);

/* May the identity go, given Slurm's state of the node now (NULL: Slurm
 * has no such node)? why says what decided, either way.
 *  - powering up, or up (idle, allocated, mixed, drained ...): never;
 *  - powering down or powered down: yes;
 *  - down (not responding) and not powered down: only when EC2 vouches
 *    that its instance is gone;
 *  - unknown to Slurm: only what we journaled ourselves (a node taken out
 *    of slurm.conf); a listing's find for a name Slurm does not know is
 *    not this cluster's to judge. */
bool identity_may_go(const struct slurm_node *now, enum removal_cause cause,
		     char *why, size_t whylen);

#endif
