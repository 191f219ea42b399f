/* ratelimit.c: token bucket and the adaptive client rate. */
#include "config.h"

#include <math.h>

#include "ratelimit.h"

void rate_limiter_init(struct rate_limiter *rl, double rate, double burst,
		       double now)
{
	rl->rate = rate;
	rl->burst = burst < 1.0 ? 1.0 : burst;
	rl->tokens = rl->burst;
	rl->last = now;
}

bool rate_limiter_take(struct rate_limiter *rl, double now, double *wait)
{
	*wait = 0;
	if (rl->rate <= 0)
		return true;
	if (now > rl->last) {
		rl->tokens += (now - rl->last) * rl->rate;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last = now;
	}
	if (rl->tokens >= 1.0) {
		rl->tokens -= 1.0;
		return true;
	}
	*wait = (1.0 - rl->tokens) / rl->rate;
	return false;
}

/* The constants of the SDKs' adaptive retry mode. */
#define ADAPTIVE_BETA 0.7	/* cut to this share of the rate at a throttle */
#define ADAPTIVE_SCALE 0.4	/* cubic growth scale */
#define ADAPTIVE_SMOOTH 0.8	/* weight of the newest measured rate */
#define ADAPTIVE_MIN_RATE 0.5	/* never slower than this */

void adaptive_rate_init(struct adaptive_rate *ar, double now)
{
	ar->measured = 0;
	ar->bucket_start = floor(now * 2) / 2;
	ar->bucket_count = 0;
	ar->last_max = 0;
	ar->last_throttle = now;
	ar->calculated = 0;
	ar->peak = 0;
	ar->enabled = false;
	ar->throttled = false;
}

void adaptive_rate_seed(struct adaptive_rate *ar, struct rate_limiter *rl,
			double rate, double now)
{
	if (rate < ADAPTIVE_MIN_RATE)
		rate = ADAPTIVE_MIN_RATE;
	ar->last_max = rate;
	ar->last_throttle = now;
	ar->calculated = rate * ADAPTIVE_BETA;
	/* As if sent at that rate: the "twice what is sent" cap starts there. */
	ar->measured = ar->calculated;
	ar->enabled = true;
	rl->rate = ar->calculated;
	rl->burst = 1.0;
	rl->tokens = 1.0;
	rl->last = now;
}

/* The sending rate, measured per half second and smoothed. */
static void measure(struct adaptive_rate *ar, double now)
{
	double bucket = floor(now * 2) / 2;

	ar->bucket_count++;
	if (bucket > ar->bucket_start) {
		double rate = ar->bucket_count / (bucket - ar->bucket_start);

		ar->measured = rate * ADAPTIVE_SMOOTH +
			       ar->measured * (1 - ADAPTIVE_SMOOTH);
		if (rate > ar->peak)
			ar->peak = rate;
		ar->bucket_count = 0;
		ar->bucket_start = bucket;
	}
}

void adaptive_rate_update(struct adaptive_rate *ar, struct rate_limiter *rl,
			  bool throttled, double now)
{
	double window, rate;

	measure(ar, now);
	if (throttled) {
		/* Throttled at what we were allowed, or at what we sent (in
		 * the first half second, what the current one has seen). */
		rate = ar->measured;
		if (rate <= 0 && now > ar->bucket_start)
			rate = ar->bucket_count / fmax(now - ar->bucket_start, 0.1);
		if (ar->enabled)
			rate = fmin(rate, rl->rate);
		if (rate < ADAPTIVE_MIN_RATE)
			rate = ADAPTIVE_MIN_RATE;
		ar->last_max = rate;
		ar->last_throttle = now;
		ar->calculated = rate * ADAPTIVE_BETA;
		ar->enabled = true;
		ar->throttled = true;
	} else if (ar->enabled) {
		window = cbrt(ar->last_max * (1 - ADAPTIVE_BETA) / ADAPTIVE_SCALE);
		ar->calculated = ADAPTIVE_SCALE *
					 pow(now - ar->last_throttle - window, 3) +
				 ar->last_max;
	}
	if (!ar->enabled)
		return;
	/* Never more than twice what is really sent: the rate follows use. */
	rate = fmin(ar->calculated, 2 * ar->measured);
	if (rate < ADAPTIVE_MIN_RATE)
		rate = ADAPTIVE_MIN_RATE;
	if (rl->tokens > 1.0)
		rl->tokens = 1.0;	/* no saved-up burst at a new rate */
	rl->rate = rate;
	rl->burst = 1.0;
}
