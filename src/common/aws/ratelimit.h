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

/* Adaptive rate. Until the first throttle, a slow start: 16 calls per
 * second at first, then at most twice what the service let through in the
 * last second, so the burst that finds an unknown limit (below 40 calls a
 * second) costs a few throttled calls rather than MaxConcurrency of them;
 * once 40 a second get through, no limit until a throttle. From the first
 * throttle on, the SDKs' cubic curve. */
#define ADAPTIVE_SECOND_SLOTS 10	/* accepted answers, per tenth of a second */

enum adaptive_phase {
	ADAPTIVE_SLOW_START,	/* no throttle yet: growth follows answers */
	ADAPTIVE_UNLIMITED,	/* the slow start ended without a throttle */
	ADAPTIVE_CUBIC,		/* throttled, or seeded: the cubic curve */
};

struct adaptive_rate {
	double measured;	/* smoothed sending rate, calls per second */
	double bucket_start;	/* start of the current measuring half second */
	double bucket_count;	/* calls in it */
	double last_max;	/* rate at the last throttle */
	double last_throttle;	/* time of the last throttle */
	double calculated;	/* what the cubic curve allows now */
	double peak;		/* highest measured sending rate */
	double start;		/* the slow start's first answer; < 0 before */
	unsigned accepted[ADAPTIVE_SECOND_SLOTS];
	long long accepted_slot;	/* the tenth of a second last counted */
	enum adaptive_phase phase;
	bool throttled;		/* a throttle has been seen (not only a seed) */
};

/* Starts the cold start: rl is set to its first rate. */
void adaptive_rate_init(struct adaptive_rate *ar, struct rate_limiter *rl,
			double now);
/* One answer came back at now to an attempt sent at sent; throttled: the
 * service asked us to slow down. Sets rl's rate (and burst) for what
 * follows. Throttles of attempts sent before the last cut are the same
 * episode and cut nothing more. */
void adaptive_rate_update(struct adaptive_rate *ar, struct rate_limiter *rl,
			  bool throttled, double sent, double now);
/* Start as if throttled at rate just now (what an earlier run learned):
 * 70% of it, growing back along the cubic curve. */
void adaptive_rate_seed(struct adaptive_rate *ar, struct rate_limiter *rl,
			double rate, double now);

#endif
