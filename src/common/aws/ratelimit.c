/* ratelimit.c: token bucket and the adaptive client rate. */
#include "config.h"

#include <math.h>
#include <string.h>

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
/* The cold start (ours; the SDKs start unlimited). */
#define ADAPTIVE_START_RATE 16.0	/* calls per second at first */
#define ADAPTIVE_START_LAG 0.3		/* seconds */
#define ADAPTIVE_START_END 40		/* calls a second that end it */

void adaptive_rate_init(struct adaptive_rate *ar, struct rate_limiter *rl,
			double now)
{
	ar->measured = 0;
	ar->bucket_start = floor(now * 2) / 2;
	ar->bucket_count = 0;
	ar->last_max = 0;
	ar->last_throttle = now;
	ar->calculated = 0;
	ar->peak = 0;
	ar->start = -1;
	memset(ar->accepted, 0, sizeof(ar->accepted));
	ar->accepted_slot = (long long)floor(now * ADAPTIVE_SECOND_SLOTS);
	ar->phase = ADAPTIVE_SLOW_START;
	ar->throttled = false;
	rl->rate = ADAPTIVE_START_RATE;
	rl->burst = 1.0;
	rl->tokens = 1.0;
	rl->last = now;
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
	ar->phase = ADAPTIVE_CUBIC;
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

/* Move the accepted-answer window up to now: tenths of a second that
 * fell out of the last second count nothing. */
static void accepted_advance(struct adaptive_rate *ar, double now)
{
	long long slot = (long long)floor(now * ADAPTIVE_SECOND_SLOTS);

	if (slot - ar->accepted_slot >= ADAPTIVE_SECOND_SLOTS)
		memset(ar->accepted, 0, sizeof(ar->accepted));
	else
		while (ar->accepted_slot < slot)
			ar->accepted[++ar->accepted_slot %
				     ADAPTIVE_SECOND_SLOTS] = 0;
	if (slot > ar->accepted_slot)
		ar->accepted_slot = slot;
}

/* Answers accepted within the last second: what the service has shown
 * it lets through. */
static unsigned accepted_last_second(struct adaptive_rate *ar, double now)
{
	unsigned sum = 0;
	int i;

	accepted_advance(ar, now);
	for (i = 0; i < ADAPTIVE_SECOND_SLOTS; i++)
		sum += ar->accepted[i];
	return sum;
}

/* The rate to cut from at a throttle: what got through in the last
 * second; before anything did, what was being sent, but no more than
 * the rate we allowed ourselves. */
static double throttled_at(struct adaptive_rate *ar,
			   const struct rate_limiter *rl, double now)
{
	double rate = accepted_last_second(ar, now);

	if (rate < 1) {
		rate = ar->measured;
		if (rate <= 0 && now > ar->bucket_start)
			rate = ar->bucket_count / fmax(now - ar->bucket_start, 0.1);
		if (rl->rate > 0)
			rate = fmin(rate, rl->rate);
	}
	return rate < ADAPTIVE_MIN_RATE ? ADAPTIVE_MIN_RATE : rate;
}

/* Before the first throttle: twice the rate that got through over the
 * last second, and at least the start rate; as TCP's slow start follows
 * ACKs, growth follows the answers, so the burst that finds a limit is
 * small. While younger than a second, the count is over the time since
 * the first answer plus ADAPTIVE_START_LAG (answers still on their way).
 * Once ADAPTIVE_START_END calls a second get through unthrottled, the
 * limit (if any) is past what a slow start protects cheaply, and the
 * rate is left to MaxConcurrency until a throttle. */
static void slow_start_rate(struct adaptive_rate *ar, struct rate_limiter *rl,
			    double now)
{
	unsigned accepted = accepted_last_second(ar, now);

	if (ar->start < 0)
		ar->start = now;
	if (accepted >= ADAPTIVE_START_END) {
		ar->phase = ADAPTIVE_UNLIMITED;
		rl->rate = 0;
		return;
	}
	rl->rate = fmax(ADAPTIVE_START_RATE,
			2.0 * accepted /
				fmin(1.0, now - ar->start + ADAPTIVE_START_LAG));
	rl->burst = 1.0;
}

void adaptive_rate_update(struct adaptive_rate *ar, struct rate_limiter *rl,
			  bool throttled, double sent, double now)
{
	double window, rate;

	measure(ar, now);
	if (!throttled) {
		accepted_advance(ar, now);
		ar->accepted[ar->accepted_slot % ADAPTIVE_SECOND_SLOTS]++;
	} else if (sent < ar->last_throttle) {
		return;	/* sent before the last cut: already answered for */
	}
	if (throttled) {
		rate = throttled_at(ar, rl, now);
		ar->last_max = rate;
		ar->last_throttle = now;
		ar->calculated = rate * ADAPTIVE_BETA;
		ar->phase = ADAPTIVE_CUBIC;
		ar->throttled = true;
	} else if (ar->phase == ADAPTIVE_SLOW_START) {
		slow_start_rate(ar, rl, now);
		return;
	} else if (ar->phase == ADAPTIVE_UNLIMITED) {
		return;
	} else {
		window = cbrt(ar->last_max * (1 - ADAPTIVE_BETA) / ADAPTIVE_SCALE);
		ar->calculated = ADAPTIVE_SCALE *
					 pow(now - ar->last_throttle - window, 3) +
				 ar->last_max;
	}
	/* Never more than twice what is really sent: the rate follows use. */
	rate = fmin(ar->calculated, 2 * ar->measured);
	if (rate < ADAPTIVE_MIN_RATE)
		rate = ADAPTIVE_MIN_RATE;
	if (rl->tokens > 1.0)
		rl->tokens = 1.0;	/* no saved-up burst at a new rate */
	rl->rate = rate;
	rl->burst = 1.0;
}
