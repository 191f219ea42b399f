/* ratelimit_test.c: the token bucket, with a fake clock. */
#include "config.h"

#include <math.h>

#include "common/aws/ratelimit.h"
#include "tap.h"

int main(void)
{
	struct rate_limiter rl;
	double wait, t;
	int taken, i;

	rate_limiter_init(&rl, 2.0, 2.0, 100.0);
	tap_ok(rate_limiter_take(&rl, 100.0, &wait), "burst token 1");
	tap_ok(rate_limiter_take(&rl, 100.0, &wait), "burst token 2");
	tap_ok(!rate_limiter_take(&rl, 100.0, &wait), "bucket empty");
	tap_ok(fabs(wait - 0.5) < 1e-9, "wait is 1/rate");
	tap_ok(!rate_limiter_take(&rl, 100.25, &wait), "half a token is none");
	tap_ok(fabs(wait - 0.25) < 1e-9, "remaining wait shrinks");
	tap_ok(rate_limiter_take(&rl, 100.5, &wait), "token after 0.5s");

	/* Over 10 simulated seconds at most rate*10 + burst calls pass. */
	rate_limiter_init(&rl, 5.0, 5.0, 0.0);
	for (taken = 0, i = 0, t = 0; i < 10000; i++, t += 0.001)
		if (rate_limiter_take(&rl, t, &wait))
			taken++;
	tap_ok(taken >= 54 && taken <= 55, "5/s over 10s allows 5*10+5");

	rate_limiter_init(&rl, 0.0, 1.0, 0.0);
	for (taken = 0, i = 0; i < 1000; i++)
		if (rate_limiter_take(&rl, 0.0, &wait))
			taken++;
	tap_is_int(taken, 1000, "rate 0 is unlimited");

	rate_limiter_init(&rl, 0.5, 0.1, 0.0);
	tap_ok(rate_limiter_take(&rl, 0.0, &wait), "burst below 1 rounds to 1");
	tap_ok(!rate_limiter_take(&rl, 1.0, &wait) && fabs(wait - 1.0) < 1e-9,
	       "slow rate waits 2s per token");
	tap_ok(!rate_limiter_take(&rl, 0.5, &wait), "time going backwards is safe");
	return tap_done();
}
