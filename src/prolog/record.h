/* record.h: the node's own record, and the checks of the prolog's fast
 * path (record.c). The record lives in StateDir/node/<name>: "phase=ready"
 * with the boot id it was made in. */
#ifndef SLURM_IDENTITY_RECORD_H
#define SLURM_IDENTITY_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/journal.h"

#define NODE_ROLE "node"

/* The kernel's boot id: a new instance is a new boot. */
void node_boot_id(char *out, size_t len);
/* Is the record ready and from this boot? */
bool node_record_ready(const struct journal_entry *e);
/* Does the job's user resolve (getpwuid of SLURM_JOB_UID, else
 * getpwnam of SLURM_JOB_USER)? No job variables: true. */
bool node_job_user_resolves(char *why, size_t whylen);

#endif
