/* retry.h: the AWS SDKs' "standard" retry mode.
 *
 * Which failures are worth another attempt, how long to wait (capped
 * exponential backoff with full jitter), and the retry quota that stops a
 * client from hammering a service that is down.
 */
#ifndef SLURM_IDENTITY_RETRY_H
#define SLURM_IDENTITY_RETRY_H

#include <stdbool.h>

#define RETRY_MAX_BACKOFF 20.0
#define RETRY_QUOTA_CAPACITY 500
#define RETRY_COST 5
#define RETRY_TIMEOUT_COST 10
#define RETRY_SUCCESS_REFILL 1

enum retry_class {
	RETRY_NO,		/* final: success or a client error */
	RETRY_TRANSIENT,	/* 5xx, connection reset, ... */
	RETRY_THROTTLED,	/* the service asked us to slow down */
	RETRY_TIMEOUT,		/* no response in time */
	RETRY_CLOCK_SKEW,	/* signature rejected for our clock */
};

/* transport_failed/timed_out describe the HTTP outcome; code is the AWS
 * error code (may be NULL). */
enum retry_class retry_classify(long http_status, bool transport_failed,
				bool timed_out, const char *code);
bool retry_is_throttle_code(const char *code);
bool retry_is_clock_skew_code(const char *code);

/* Delay before the attempt after failed attempt number attempt (1-based):
 * random01 * min(2^(attempt-1), RETRY_MAX_BACKOFF). */
double retry_backoff(int attempt, double random01);

struct retry_quota {
	int available;
};

void retry_quota_init(struct retry_quota *q);
/* Take the cost of one retry; false (and nothing taken) when the quota is
 * exhausted. *cost receives what was taken. */
bool retry_quota_acquire(struct retry_quota *q, enum retry_class cls,
			 int *cost);
/* A call succeeded: give back what its retries took, or refill one. */
void retry_quota_success(struct retry_quota *q, int taken);

#endif
