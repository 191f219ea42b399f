/* ratelimit.h: a token bucket bounding calls per second to one API, and
 * the AWS SDKs' "adaptive" client rate that sets the bucket's rate from
 * throttling responses (CUBIC: cut to 70% at a throttle, then grow back
 * along a cubic curve towards and past the rate that was throttled). */
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

/* Adaptive rate. Until the first throttle the bucket is off (rate 0,
 * unlimited); from then on its rate follows the answers. */
struct adaptive_rate {
	double measured;	/* smoothed sending rate, calls per second */
	double bucket_start;	/* start of the current measuring half second */
	double bucket_count;	/* calls in it */
	double last_max;	/* rate at the last throttle */
	double last_throttle;	/* time of the last throttle */
	double calculated;	/* what the cubic curve allows now */
	double peak;		/* highest measured sending rate */
	bool enabled;		/* a throttle has been seen (or seeded) */
	bool throttled;		/* a throttle has been seen */
};

void adaptive_rate_init(struct adaptive_rate *ar, double now);
/* One answer came back at now; throttled: the service asked us to slow
 * down. Sets rl's rate (and burst) for what follows. */
void adaptive_rate_update(struct adaptive_rate *ar, struct rate_limiter *rl,
			  bool throttled, double now);
/* Start as if throttled at rate just now (what an earlier run learned):
 * 70% of it, growing back along the cubic curve. */
void adaptive_rate_seed(struct adaptive_rate *ar, struct rate_limiter *rl,
			double rate, double now);

#endif
