/* retry.c: standard retry mode, as the AWS SDKs specify it. */
#include "config.h"

#include <string.h>

#include "retry.h"

static const char *throttle_codes[] = {
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestThrottledException",
	"TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException",
	"RequestLimitExceeded",
	"BandwidthLimitExceeded",
	"LimitExceededException",
	"RequestThrottled",
	"SlowDown",
	"PriorRequestNotComplete",
	"EC2ThrottledException",
	NULL,
};

static const char *transient_codes[] = {
	"RequestTimeout",
	"RequestTimeoutException",
	"InternalError",
	"InternalFailure",
	"ServiceUnavailable",
	NULL,
};

static const char *skew_codes[] = {
	"RequestTimeTooSkewed",
	"RequestExpired",
	"InvalidSignatureException",
	"SignatureDoesNotMatch",
	"AuthFailure",
	"RequestInTheFuture",
	NULL,
};

static bool in_list(const char *code, const char **list)
{
	size_t i;

	if (!code)
		return false;
	for (i = 0; list[i]; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

bool retry_is_throttle_code(const char *code)
{
	return in_list(code, throttle_codes);
}

bool retry_is_clock_skew_code(const char *code)
{
	return in_list(code, skew_codes);
}

enum retry_class retry_classify(long http_status, bool transport_failed,
				bool timed_out, const char *code)
{
	if (timed_out)
		return RETRY_TIMEOUT;
	if (transport_failed)
		return RETRY_TRANSIENT;
	if (http_status >= 200 && http_status < 300)
		return RETRY_NO;
	if (retry_is_throttle_code(code) || http_status == 429)
		return RETRY_THROTTLED;
	if (in_list(code, transient_codes))
		return RETRY_TRANSIENT;
	if (http_status == 500 || http_status == 502 || http_status == 503 ||
	    http_status == 504)
		return RETRY_TRANSIENT;
	if (retry_is_clock_skew_code(code))
		return RETRY_CLOCK_SKEW;
	return RETRY_NO;
}

double retry_backoff(int attempt, double random01)
{
	double ceiling = 1.0;
	int i;

	for (i = 1; i < attempt && ceiling < RETRY_MAX_BACKOFF; i++)
		ceiling *= 2.0;
	if (ceiling > RETRY_MAX_BACKOFF)
		ceiling = RETRY_MAX_BACKOFF;
	return random01 * ceiling;
}

void retry_quota_init(struct retry_quota *q)
{
	q->available = RETRY_QUOTA_CAPACITY;
}

bool retry_quota_acquire(struct retry_quota *q, enum retry_class cls,
			 int *cost)
{
	int c = cls == RETRY_TIMEOUT ? RETRY_TIMEOUT_COST : RETRY_COST;

	if (q->available < c) {
		*cost = 0;
		return false;
	}
	q->available -= c;
	*cost = c;
	return true;
}

void retry_quota_success(struct retry_quota *q, int taken)
{
	q->available += taken > 0 ? taken : RETRY_SUCCESS_REFILL;
	if (q->available > RETRY_QUOTA_CAPACITY)
		q->available = RETRY_QUOTA_CAPACITY;
}
