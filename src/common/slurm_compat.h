/* slurm_compat.h: what differs between the libslurm releases we build on.
 *
 * Supported: 22.05 (Debian 12), 24.11 (Debian 13), 26.05 (Debian sid).
 * configure finds each difference with a feature test (x_ac_slurm.m4), not
 * from version numbers; this file and slurm_compat.c are the only places
 * that look at the results. Hostlists need nothing here: every release
 * returns a "struct hostlist *" from slurm_hostlist_create, whatever its
 * hostlist_t typedef says, so callers hold that.
 */
#ifndef SLURM_IDENTITY_SLURM_COMPAT_H
#define SLURM_IDENTITY_SLURM_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include <slurm/slurm.h>

/* Record the caller as the one who set msg's reason, where the release
 * lets the client say so (26.05 records the caller itself). */
void compat_set_reason_uid(update_node_msg_t *msg);

/* True if node records have InstanceId/InstanceType (23.11+), which Slurm
 * keeps per node and clears when the node powers down. */
bool compat_have_instance_fields(void);

/* Set InstanceId/InstanceType in msg; false (msg untouched) where the
 * release has no such fields. */
bool compat_set_instance(update_node_msg_t *msg, const char *id,
			 const char *type);

/* The node record's InstanceId/InstanceType, "" where absent. */
void compat_node_instance(const node_info_t *ni, char *id, size_t idlen,
			  char *type, size_t typelen);

/* The ranged form ("n[1-4]") of hl in a new string; caller frees. 24.11
 * dropped slurm_hostlist_ranged_string_malloc; the sized call exists
 * everywhere. */
char *compat_hostlist_ranged(struct hostlist *hl);

/* Free what slurm_load_ctl_conf returned (26.05 renamed the call). */
void compat_free_ctl_conf(slurm_conf_t *cf);

#endif
