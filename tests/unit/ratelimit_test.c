/* ratelimit_test.c: the token bucket, with a fake clock. */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/aws/ratelimit.h"
#include "tap.h"

/* A service that lets limit calls through in any one second (a sliding
 * window over the calls it accepted; limit 0: no limit). The last limit
 * acceptances are kept: a call is throttled when the oldest of them is
 * less than a second old. */
#define SERVICE_MAX_LIMIT 256

struct service {
	size_t limit, count;
	double accepted[SERVICE_MAX_LIMIT];	/* a ring of the last limit */
};

static bool service_throttles(struct service *s, double t)
{
	size_t oldest;

	if (s->limit == 0)
		return false;
	oldest = s->count % s->limit;
	if (s->count >= s->limit && s->accepted[oldest] > t - 1.0)
		return true;
	s->accepted[oldest] = t;
	s->count++;
	return false;
}

/* A client that sends whenever its bucket lets it, answered at once:
 * the adaptive rate must find the limit, with few throttles. */
static size_t early_throttles;	/* in the first 5 s of the last run */

static void adaptive_against(double limit, double seconds, double seed,
			     double *rate, double *throttled_share)
{
	struct service svc = { .limit = (size_t)limit };
	struct rate_limiter rl;
	struct adaptive_rate ar;
	double t, wait;
	size_t late = 0;

	adaptive_rate_init(&ar, &rl, 0.0);
	if (seed > 0)
		adaptive_rate_seed(&ar, &rl, seed, 0.0);
	early_throttles = 0;
	for (t = 0; t < seconds; t += 0.001) {
		/* Up to 16 calls per millisecond when nothing holds us back. */
		int burst;

		for (burst = 0; burst < 16 && rate_limiter_take(&rl, t, &wait); burst++) {
			bool throttle = service_throttles(&svc, t);

			if (t < 5)
				early_throttles += throttle;
			/* Judge the steady state: the last half of the run. */
			if (t >= seconds / 2) {
				late++;
				if (!throttle)
					(*rate)++;
				else
					(*throttled_share)++;
			}
			adaptive_rate_update(&ar, &rl, throttle, t, t);
		}
	}
	*rate /= seconds / 2;
	*throttled_share = late ? *throttled_share / (double)late : 1;
}

/* A batch of calls as the worker makes them: each answered latency
 * seconds after it is sent, at most 16 in flight, a throttled one sent
 * again (no backoff, the worst case). Returns the time the last one is
 * accepted; *throttles counts throttled answers. */
static double batch_against(size_t calls, size_t limit, double latency,
			    size_t *throttles)
{
	struct service svc = { .limit = limit };
	struct rate_limiter rl;
	struct adaptive_rate ar;
	double sent[16], t, wait, done = 0;
	size_t left = calls, inflight = 0, i;
	bool verdict[16];

	adaptive_rate_init(&ar, &rl, 0.0);
	*throttles = 0;
	for (t = 0; (left > 0 || inflight > 0) && t < 3600; t += 0.0005) {
		/* Answers due now. */
		for (i = 0; i < inflight;) {
			if (sent[i] + latency > t) {
				i++;
				continue;
			}
			adaptive_rate_update(&ar, &rl, verdict[i], sent[i], t);
			if (verdict[i]) {
				(*throttles)++;
				left++;
			} else {
				done = t;
			}
			sent[i] = sent[inflight - 1];
			verdict[i] = verdict[inflight - 1];
			inflight--;
		}
		while (left > 0 && inflight < 16 && rate_limiter_take(&rl, t, &wait)) {
			verdict[inflight] = service_throttles(&svc, t);
			sent[inflight++] = t;
			left--;
		}
	}
	return done;
}

static void cold_start(void)
{
	size_t throttles;
	double done;

	done = batch_against(100, 20, 0.05, &throttles);
	tap_ok(throttles <= 5,
	       "cold start, 100 calls against 20/s, 50 ms answers: %zu throttled in %.1f s",
	       throttles, done);
	tap_ok(done <= 100 / 20.0 * 1.2 + 2,
	       "and done within 1.2x 5 s + 2 s (%.1f s)", done);
	done = batch_against(1000, 20, 0.05, &throttles);
	tap_ok(throttles <= 50 && done <= 1000 / 20.0 * 1.2 + 2,
	       "1000 calls against 20/s: %zu throttled, %.1f s", throttles, done);
	done = batch_against(100, 0, 0.05, &throttles);
	tap_ok(throttles == 0 && done <= 100 * 0.05 / 16 * 1.2 + 2,
	       "100 calls with no limit: done in %.2f s (bound 0.31 s)", done);
	done = batch_against(1000, 0, 0.05, &throttles);
	tap_ok(done <= 1000 * 0.05 / 16 * 1.2 + 2,
	       "1000 calls with no limit: done in %.2f s (bound 3.1 s)", done);
	done = batch_against(10000, 0, 0.05, &throttles);
	tap_ok(done <= 10000 * 0.05 / 16 * 1.2 + 2,
	       "10000 calls with no limit: done in %.2f s (bound 31.2 s)", done);
}

/* Throttles of calls sent before a cut are that cut's: one episode of
 * throttling cuts once, not once per call that was in flight. */
static void one_cut_per_episode(void)
{
	struct rate_limiter rl;
	struct adaptive_rate ar;
	double t, first;
	int i;

	adaptive_rate_init(&ar, &rl, 0.0);
	for (i = 0, t = 0.05; i < 20; i++, t += 0.03)
		adaptive_rate_update(&ar, &rl, false, t - 0.05, t);
	adaptive_rate_update(&ar, &rl, true, t - 0.05, t);
	first = rl.rate;
	tap_ok(fabs(first - 20 * 0.7) < 1e-9,
	       "a throttle cuts to 70%% of what got through in the last second (%.1f/s)",
	       first);
	adaptive_rate_update(&ar, &rl, true, t - 0.04, t + 0.01);
	adaptive_rate_update(&ar, &rl, true, t - 0.01, t + 0.04);
	tap_ok(rl.rate == first && ar.last_throttle == t,
	       "calls in flight at the cut do not cut again (%.1f/s)", rl.rate);
	adaptive_rate_update(&ar, &rl, true, t + 0.1, t + 0.15);
	tap_ok(ar.last_throttle == t + 0.15,
	       "a call sent after the cut and throttled is a new cut (%.1f/s)", rl.rate);
}

static void adaptive(void)
{
	double rate = 0, share = 0;

	size_t cold;

	adaptive_against(20, 120, 0, &rate, &share);
	tap_ok(rate >= 15 && rate <= 20.5,
	       "adaptive rate finds a 20/s limit (%.1f/s accepted)", rate);
	tap_ok(share < 0.10, "with few throttled calls (%.1f%%)", share * 100);
	cold = early_throttles;
	rate = share = 0;
	/* Seeded with the rate an earlier run was throttled at. */
	adaptive_against(20, 120, 20, &rate, &share);
	tap_ok(rate >= 15 && rate <= 20.5 && early_throttles <= 2 && early_throttles < cold,
	       "seeded with a learned 20/s: %zu throttles in the first 5 s (cold: %zu), %.1f/s",
	       early_throttles, cold, rate);
	rate = share = 0;
	/* Seeded far below a limit that went up: it grows past the seed. */
	adaptive_against(200, 120, 20, &rate, &share);
	tap_ok(rate >= 150 && rate <= 205,
	       "a low seed under a 200/s limit still grows to it (%.1f/s)", rate);
	rate = share = 0;
	adaptive_against(200, 120, 0, &rate, &share);
	tap_ok(rate >= 150 && rate <= 205,
	       "and a 200/s limit (%.1f/s accepted, %.1f%% throttled)", rate,
	       share * 100);
}

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
	adaptive();
	cold_start();
	one_cut_per_episode();
	return tap_done();
}
