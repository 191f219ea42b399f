/* slurm_node.h: what we read from and write to Slurm's node records.
 *
 * Power state for reconcile, DRAIN with "identity: ..." reasons that
 * sinfo -R shows, and the Extra field that mirrors a node's identity
 * ("identity=ready opsworks=...") so scontrol show node can see it, and
 * on 23.11+ the native InstanceId/InstanceType fields. libslurm only: not for the SPANK plugin.
 */
#ifndef SLURM_IDENTITY_SLURM_NODE_H
#define SLURM_IDENTITY_SLURM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "nameset.h"

struct slurm_node {
	char name[65];
	bool powered_down;	/* POWERED_DOWN and not powering up */
	bool powering_up;
	bool powering_down;
	bool drained;		/* DRAIN flag set */
	bool down;		/* base state DOWN (e.g. not responding) */
	char state[64];		/* Slurm's own name for the state */
	char instance_id[32];	/* InstanceId (23.11+), "" if none */
	char instance_type[32];	/* InstanceType (23.11+), "" if none */
	char addr[64];		/* NodeAddr, as slurmctld has it */
	char *extra;
	char *reason;
	char *comment;		/* "identity: ..." after a failure of ours */
};

struct slurm_node_set {
	struct slurm_node *nodes;
	size_t count;
	struct name_set index;	/* name -> position in nodes */
	time_t last_update;	/* slurmctld's time of the listing, 0: none */
};

/* Is there a slurm.conf here for libslurm to read (SLURM_CONF, else the
 * default): a readable regular file? libslurm ends the process on one it
 * cannot read or parse (SLURM_CONF=/dev/null, as tests and nodes set it);
 * path (may be NULL) gets the file looked at. */
bool libslurm_conf_here(char *path, size_t pathlen);
/* slurm_init() once per process, with SLURM_CONF from the environment. */
void libslurm_open(void);
void libslurm_close(void);

int nodes_load(struct slurm_node_set *set, char *err, size_t errlen);
/* Bring a loaded set (or an all-zero one) up to date: slurmctld sends
 * nothing when no node changed since the set's listing, so a refresh of
 * an unchanged table is one small RPC. On failure the set is as it was. */
int nodes_refresh(struct slurm_node_set *set, char *err, size_t errlen);
const struct slurm_node *nodes_find(const struct slurm_node_set *set,
				    const char *name);
void nodes_free(struct slurm_node_set *set);

/* Drain nodes (a hostlist) with reason; the reason is also kept in the
 * node's Comment, which survives power-down, until the next good
 * registration (nodes_set_identity) clears it. */
int nodes_drain(const char *nodes, const char *reason, char *err,
		size_t errlen);
/* Set the Extra field of nodes ("" clears it). */
int nodes_set_extra(const char *nodes, const char *extra, char *err,
		    size_t errlen);
/* Record a node's identity in one update: Extra, and on releases that
 * have them (23.11+) InstanceId/InstanceType, which Slurm clears itself
 * when the node powers down (instance_type NULL: leave it). *native tells
 * whether those were set. */
int nodes_set_identity(const char *node, const char *extra,
		       const char *instance_id, const char *instance_type,
		       bool *native, char *err, size_t errlen);
/* True where node records have InstanceId/InstanceType (23.11+). */
bool nodes_have_instance_fields(void);
/* Ask Slurm to power nodes down now (a failed node gets a fresh try). */
int nodes_power_down(const char *nodes, const char *reason, char *err,
		     size_t errlen);

/* slurmctld's ClusterName (a new string), or NULL with err. */
char *ctld_cluster_name(char *err, size_t errlen);
/* slurmctld's SlurmUser: its uid, and its name in name. -1 with err. */
int ctld_slurm_user(unsigned *uid, char *name, size_t namelen, char *err,
		    size_t errlen);
/* slurmctld's SuspendTimeout in seconds (it knows Include files and
 * defaults), or -1 with err. */
int ctld_suspend_timeout(char *err, size_t errlen);

/* slurmctld's ResumeProgram and SuspendProgram as it has them ("" for
 * none; on 26.05 either may be a PowerAction's name). -1 with err. */
int ctld_power_programs(char *resume, size_t resumelen, char *suspend,
			size_t suspendlen, char *err, size_t errlen);
/* slurmctld's release as a number (22.05.8: 2205), or -1 with err. */
int ctld_release(char *err, size_t errlen);

/* Read key from an Extra string "k1=v1 k2=v2" into out; false if absent. */
bool node_extra_get(const char *extra, const char *key, char *out,
		    size_t outlen);

#endif
