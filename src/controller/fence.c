/* fence.c: the controller's processes act only while their host's
 * slurmctld is in control (fence.h). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/aws/clock.h"
#include "common/ctld_ha.h"
#include "common/log.h"
#include "common/slurm_node.h"
#include "fence.h"

/* Slurm's heartbeat is read at most this often (seconds). */
#define FENCE_READ_PERIOD 1.0

static pthread_mutex_t fence_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct ctld_ha ha;
static bool fenced;		/* fence_init() found two or more controllers */
static bool lost;
static double read_at;		/* clock_monotonic() of the last read */
static enum ctld_ha_verdict last = CTLD_HA_ONE;
static char said[512] = "one SlurmctldHost";

void fence_init(void)
{
	char conf[4096], err[512];

	if (!libslurm_conf_here(conf, sizeof(conf))) {
		log_verbose("no %s to read: acting as the one controller", conf);
		return;
	}
	if (ctld_ha_load(&ha, err, sizeof(err)) < 0) {
		log_error("%s: acting as the one controller", err);
		return;
	}
	fenced = ha.count >= 2 && ha.self >= 0;
	read_at = 0;
}

/* Under fence_mutex. */
static enum ctld_ha_verdict look(void)
{
	enum ctld_ha_verdict v;
	char now_why[sizeof(said)];

	if (!fenced)
		return CTLD_HA_ONE;
	if (read_at && clock_monotonic() - read_at < FENCE_READ_PERIOD)
		return last;
	v = ctld_ha_verdict(&ha, now_why, sizeof(now_why));
	read_at = clock_monotonic();
	if (v != last && v != CTLD_HA_IN_CONTROL && v != CTLD_HA_ONE)
		log_info("not acting: %s", now_why);
	last = v;
	memcpy(said, now_why, sizeof(said));
	if (v != CTLD_HA_IN_CONTROL)
		lost = true;
	return v;
}

bool fence_holds(void)
{
	bool holds;

	pthread_mutex_lock(&fence_mutex);
	look();
	holds = !lost;
	pthread_mutex_unlock(&fence_mutex);
	return holds;
}

bool fence_gate(char *why, size_t whylen)
{
	if (fence_holds())
		return true;
	snprintf(why, whylen, "%s", fence_why());
	return false;
}

bool fence_lost(void)
{
	bool l;

	pthread_mutex_lock(&fence_mutex);
	l = lost;
	pthread_mutex_unlock(&fence_mutex);
	return l;
}

const char *fence_why(void)
{
	static _Thread_local char copy[sizeof(said)];

	pthread_mutex_lock(&fence_mutex);
	memcpy(copy, said, sizeof(copy));
	pthread_mutex_unlock(&fence_mutex);
	return copy;
}

bool fence_wait(double seconds, const volatile sig_atomic_t *stop)
{
	double until = clock_monotonic() + seconds;

	for (;;) {
		enum ctld_ha_verdict v;

		pthread_mutex_lock(&fence_mutex);
		read_at = 0;	/* a fresh read each time */
		v = look();
		if (v == CTLD_HA_IN_CONTROL || v == CTLD_HA_ONE)
			lost = false;
		pthread_mutex_unlock(&fence_mutex);
		if (v == CTLD_HA_IN_CONTROL || v == CTLD_HA_ONE)
			return true;
		if ((stop && *stop) ||
		    (seconds >= 0 && clock_monotonic() >= until))
			return false;
		clock_sleep(FENCE_READ_PERIOD);
	}
}
