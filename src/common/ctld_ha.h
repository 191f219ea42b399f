/* ctld_ha.h: is the slurmctld of this host the one in control? On a
 * cluster with a backup controller (slurm.conf lists SlurmctldHost more
 * than once), by Slurm's own word: the heartbeat file the controller in
 * control writes into StateSaveLocation every SlurmctldTimeout/4 s (at
 * most 30), holding the time and that controller's index. A backup takes
 * over only once the heartbeat is SlurmctldTimeout old; the controller's
 * processes of a host whose heartbeat is SlurmctldTimeout/2 old stop
 * acting, so the two never act at once. */
#ifndef SLURM_IDENTITY_CTLD_HA_H
#define SLURM_IDENTITY_CTLD_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define CTLD_HA_MAX_HOSTS 8
#define CTLD_HA_HOST_MAX 128

struct ctld_ha {
	int count;		/* SlurmctldHost entries */
	int self;		/* this host's among them; -1: none */
	int timeout;		/* SlurmctldTimeout, seconds */
	char hosts[CTLD_HA_MAX_HOSTS][CTLD_HA_HOST_MAX];
	char heartbeat[4096];	/* StateSaveLocation/heartbeat */
};

enum ctld_ha_verdict {
	CTLD_HA_ONE,		/* one controller, or this host is none of
				 * them: no failover to follow */
	CTLD_HA_IN_CONTROL,	/* this host's slurmctld is in control */
	CTLD_HA_NOT_IN_CONTROL,	/* another is, or none beats from here */
	CTLD_HA_CANNOT_TELL	/* no heartbeat to read (why says) */
};

/* Slurm's configuration as this host reads it (slurm.conf through
 * libslurm) and this host's name; -1 with err if it cannot be had. */
int ctld_ha_load(struct ctld_ha *ha, char *err, size_t errlen);

/* The same from parts (tests, and ctld_ha_load): hosts[count], this
 * host's short and full names, SlurmctldTimeout, StateSaveLocation. */
void ctld_ha_set(struct ctld_ha *ha, const char *const *hosts, int count,
		 const char *short_name, const char *full_name, int timeout,
		 const char *state_save);

/* The heartbeat file: 16 bytes, the time and the index, both 64-bit big
 * endian. 0, or -1 with err (errno kept). */
int ctld_ha_read_heartbeat(const char *path, time_t *beat, int *index,
			   char *err, size_t errlen);

/* What a heartbeat of index at beat means for this host at now; why says
 * it for people (always filled). */
enum ctld_ha_verdict ctld_ha_judge(const struct ctld_ha *ha, time_t beat,
				   int index, time_t now, char *why,
				   size_t whylen);

/* Read and judge, now. */
enum ctld_ha_verdict ctld_ha_verdict(const struct ctld_ha *ha, char *why,
				     size_t whylen);

#endif
