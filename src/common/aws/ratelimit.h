/* ratelimit.h: a token bucket bounding calls per second to one API. */
#ifndef SLURM_IDENTITY_RATELIMIT_H
#define SLURM_IDENTITY_RATELIMIT_H

#include <stdbool.h>

struct rate_limiter {
	double rate;		/* tokens per second; 0 means unlimited */
	double burst;		/* bucket size */
	double tokens;
	double last;		/* time of the last refill, seconds */
};

void rate_limiter_init(struct rate_limiter *rl, double rate, double burst,
		       double now);
/* Take a token if one is there; else false and *wait seconds until one
 * will be. */
bool rate_limiter_take(struct rate_limiter *rl, double now, double *wait);

#endif
