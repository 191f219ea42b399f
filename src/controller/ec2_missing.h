/* ec2_missing.h: instances EC2 says do not exist, and since when.
 *
 * EC2 is eventually consistent: an instance that was just launched can be
 * "not found" for a while. Reconcile takes "not found" as gone only once
 * it has been so for Ec2NotFoundGrace seconds, across runs: the first
 * sighting of each id is kept in StateDir/controller/.ec2-missing.
 */
#ifndef SLURM_IDENTITY_EC2_MISSING_H
#define SLURM_IDENTITY_EC2_MISSING_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/nameset.h"

struct missing_set {
	struct name_set index;	/* id -> slot */
	char (*ids)[32];
	time_t *since;
	bool *seen;		/* marked in this run: kept when saved */
	size_t count, cap;
};

/* Read what earlier runs recorded (none yet is not an error; damaged
 * lines are skipped and reported in err, with 0 returned). */
int missing_load(const char *state_dir, struct missing_set *m, char *err,
		 size_t errlen);
/* id is missing now: when it was first seen missing (now if never). */
time_t missing_mark(struct missing_set *m, const char *id, time_t now);
/* id's registrations were removed: not kept when saved. */
void missing_forget(struct missing_set *m, const char *id);
/* Keep the ids marked in this run, and nothing else. */
int missing_save(const char *state_dir, const struct missing_set *m,
		 char *err, size_t errlen);
void missing_free(struct missing_set *m);

#endif
