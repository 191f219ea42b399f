/* rates.h: the API rates the worker learned from throttling answers, kept
 * in StateDir/queue/.rates, so that the next worker starts near the
 * account's limit instead of bursting into it (MaxRequestRate unset). */
#ifndef SLURM_IDENTITY_RATES_H
#define SLURM_IDENTITY_RATES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/aws/client.h"

/* Services with a learned rate, at most. */
#define RATES_MAX_SERVICES 8

/* A learned rate is trusted this long; then the start is cold again. */
#define RATES_MAX_AGE (6 * 3600)

struct rate_entry {
	const struct aws_service *service;
	double rate;		/* calls per second at the last throttle */
	time_t when;		/* seconds since the epoch */
};

/* Entries of StateDir/queue/.rates not older than RATES_MAX_AGE at now;
 * a missing file is none. Damaged lines are skipped and reported in err
 * with 0 returned. Returns the count, or -1. */
int rates_load(const char *state_dir, struct rate_entry *out, size_t max,
	       time_t now, char *err, size_t errlen);
/* Start aws's services from what was learned. */
void rates_seed(struct aws_client *aws, const struct rate_entry *e, size_t n);
/* Merge hints into e[0..n) (room for max): a throttle sets the rate; a
 * run that sent faster than the rate without one drops it. Returns the
 * new count; *changed tells whether anything did. */
size_t rates_merge(struct rate_entry *e, size_t n, size_t max,
		   const struct aws_rate_hint *h, size_t nh, time_t now,
		   bool *changed);
/* Merge what aws learned in this run into the file. */
int rates_save(const char *state_dir, const struct aws_client *aws,
	       time_t now, char *err, size_t errlen);

#endif
