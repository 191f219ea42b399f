/* ctld_ha.c: which slurmctld is in control (ctld_ha.h), by the heartbeat
 * file Slurm's controller in control writes (src/slurmctld/heartbeat.c in
 * Slurm: written only when slurm.conf lists two or more controllers). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <slurm/slurm.h>

#include "ctld_ha.h"
#include "slurm_node.h"

/* libslurm's own copy of slurm.conf, which slurm_init() reads; not in
 * its public header, but exported by every release we build for. */
extern slurm_conf_t slurm_conf;

void ctld_ha_set(struct ctld_ha *ha, const char *const *hosts, int count,
		 const char *short_name, const char *full_name, int timeout,
		 const char *state_save)
{
	int i;

	memset(ha, 0, sizeof(*ha));
	ha->self = -1;
	ha->timeout = timeout;
	if (count > CTLD_HA_MAX_HOSTS)
		count = CTLD_HA_MAX_HOSTS;
	for (i = 0; i < count; i++) {
		snprintf(ha->hosts[i], sizeof(ha->hosts[i]), "%s",
			 hosts[i] ? hosts[i] : "");
		/* As slurmctld finds itself among SlurmctldHost. */
		if (ha->self < 0 && hosts[i] &&
		    ((short_name && strcmp(hosts[i], short_name) == 0) ||
		     (full_name && strcmp(hosts[i], full_name) == 0)))
			ha->self = i;
	}
	ha->count = count;
	snprintf(ha->heartbeat, sizeof(ha->heartbeat), "%s/heartbeat",
		 state_save ? state_save : "");
}

int ctld_ha_load(struct ctld_ha *ha, char *err, size_t errlen)
{
	char full[256], shortname[256], *dot;

	libslurm_open();
	if (!slurm_conf.control_machine || slurm_conf.control_cnt == 0) {
		snprintf(err, errlen, "slurm.conf names no SlurmctldHost (or could not be read)");
		return -1;
	}
	if (gethostname(full, sizeof(full)) < 0) {
		snprintf(err, errlen, "gethostname: %s", strerror(errno));
		return -1;
	}
	full[sizeof(full) - 1] = '\0';
	snprintf(shortname, sizeof(shortname), "%s", full);
	dot = strchr(shortname, '.');
	if (dot)
		*dot = '\0';
	ctld_ha_set(ha, (const char *const *)slurm_conf.control_machine,
		    (int)slurm_conf.control_cnt, shortname, full,
		    (int)slurm_conf.slurmctld_timeout,
		    slurm_conf.state_save_location);
	return 0;
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

int ctld_ha_read_heartbeat(const char *path, time_t *beat, int *index,
			   char *err, size_t errlen)
{
	unsigned char buf[16];
	ssize_t n;
	size_t got = 0;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		snprintf(err, errlen, "cannot read Slurm's heartbeat %s: %s",
			 path, strerror(saved));
		errno = saved;
		return -1;
	}
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	saved = errno;
	close(fd);
	if (got < sizeof(buf)) {
		snprintf(err, errlen, "Slurm's heartbeat %s: %zu of 16 bytes",
			 path, got);
		errno = got ? EIO : saved;
		return -1;
	}
	*beat = (time_t)be64(buf);
	*index = (int)be64(buf + 8);
	return 0;
}

enum ctld_ha_verdict ctld_ha_judge(const struct ctld_ha *ha, time_t beat,
				   int index, time_t now, char *why,
				   size_t whylen)
{
	long long age = (long long)(now - beat);
	/* Past half of SlurmctldTimeout (two beats missed) this host stops;
	 * a backup takes over past all of it. */
	long long limit = ha->timeout / 2 > 1 ? ha->timeout / 2 : 1;

	if (ha->count < 2) {
		snprintf(why, whylen, "one SlurmctldHost");
		return CTLD_HA_ONE;
	}
	/* A login node's watcher (AWS PCS: the controllers are AWS's): no
	 * slurmctld here to follow; the StateDir lock keeps it one. */
	if (ha->self < 0) {
		snprintf(why, whylen, "this host is none of the %d SlurmctldHost",
			 ha->count);
		return CTLD_HA_ONE;
	}
	if (index < 0 || index >= ha->count) {
		snprintf(why, whylen, "Slurm's heartbeat names controller #%d of %d",
			 index + 1, ha->count);
		return CTLD_HA_CANNOT_TELL;
	}
	if (index != ha->self) {
		snprintf(why, whylen, "%s is in control (heartbeat %lld s ago)",
			 ha->hosts[index], age);
		return CTLD_HA_NOT_IN_CONTROL;
	}
	if (age > limit) {
		snprintf(why, whylen, "this host's slurmctld (%s) last beat %lld s ago, past half of SlurmctldTimeout=%d",
			 ha->hosts[ha->self], age, ha->timeout);
		return CTLD_HA_NOT_IN_CONTROL;
	}
	snprintf(why, whylen, "%s is in control (heartbeat %lld s ago)",
		 ha->hosts[ha->self], age);
	return CTLD_HA_IN_CONTROL;
}

enum ctld_ha_verdict ctld_ha_verdict(const struct ctld_ha *ha, char *why,
				     size_t whylen)
{
	time_t beat;
	int index;

	if (ha->count < 2 || ha->self < 0)
		return ctld_ha_judge(ha, 0, 0, time(NULL), why, whylen);
	if (ctld_ha_read_heartbeat(ha->heartbeat, &beat, &index, why,
				   whylen) < 0) {
		if (errno == EACCES)
			snprintf(why + strlen(why), whylen - strlen(why),
				 " (run as SlurmUser)");
		else if (errno == ENOENT)
			snprintf(why + strlen(why), whylen - strlen(why),
				 " (no controller in control has written one yet)");
		return CTLD_HA_CANNOT_TELL;
	}
	return ctld_ha_judge(ha, beat, index, time(NULL), why, whylen);
}
