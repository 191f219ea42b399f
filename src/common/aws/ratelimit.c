/* ratelimit.c: token bucket. */
#include "config.h"

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
