/* retry_test.c: standard retry mode classification, backoff and quota. */
#include "config.h"

#include "common/aws/retry.h"
#include "tap.h"

int main(void)
{
	struct retry_quota q;
	int cost, i, n;

	tap_is_int(retry_classify(200, false, false, NULL), RETRY_NO, "2xx final");
	tap_is_int(retry_classify(400, false, false, "ValidationException"),
		   RETRY_NO, "client error final");
	tap_is_int(retry_classify(403, false, false, "AccessDenied"), RETRY_NO,
		   "access denied final");
	tap_is_int(retry_classify(400, false, false, "ThrottlingException"),
		   RETRY_THROTTLED, "ThrottlingException throttles");
	tap_is_int(retry_classify(503, false, false, "RequestLimitExceeded"),
		   RETRY_THROTTLED, "EC2 RequestLimitExceeded throttles");
	tap_is_int(retry_classify(400, false, false, "Throttling"),
		   RETRY_THROTTLED, "STS Throttling throttles");
	tap_is_int(retry_classify(429, false, false, "HTTP429"), RETRY_THROTTLED,
		   "HTTP 429 throttles");
	tap_is_int(retry_classify(500, false, false, "InternalFailure"),
		   RETRY_TRANSIENT, "500 transient");
	tap_is_int(retry_classify(502, false, false, "HTTP502"), RETRY_TRANSIENT,
		   "502 transient");
	tap_is_int(retry_classify(0, true, false, NULL), RETRY_TRANSIENT,
		   "connection reset transient");
	tap_is_int(retry_classify(0, true, true, NULL), RETRY_TIMEOUT,
		   "timeout");
	tap_is_int(retry_classify(403, false, false, "SignatureDoesNotMatch"),
		   RETRY_CLOCK_SKEW, "signature mismatch may be skew");
	tap_is_int(retry_classify(400, false, false, "InvalidSignatureException"),
		   RETRY_CLOCK_SKEW, "JSON signature error may be skew");

	tap_ok(retry_backoff(1, 1.0) == 1.0, "first retry waits at most 1s");
	tap_ok(retry_backoff(2, 1.0) == 2.0, "second at most 2s");
	tap_ok(retry_backoff(3, 0.5) == 2.0, "jitter scales the ceiling");
	tap_ok(retry_backoff(10, 1.0) == 20.0, "capped at 20s");
	tap_ok(retry_backoff(60, 1.0) == 20.0, "no overflow for large attempts");
	tap_ok(retry_backoff(4, 0.0) == 0.0, "full jitter reaches zero");

	retry_quota_init(&q);
	tap_is_int(q.available, 500, "quota starts at 500");
	tap_ok(retry_quota_acquire(&q, RETRY_TRANSIENT, &cost) && cost == 5,
	       "retry costs 5");
	tap_ok(retry_quota_acquire(&q, RETRY_TIMEOUT, &cost) && cost == 10,
	       "timeout retry costs 10");
	tap_is_int(q.available, 485, "quota after two retries");
	retry_quota_success(&q, 15);
	tap_is_int(q.available, 500, "success refunds what its retries took");
	retry_quota_success(&q, 0);
	tap_is_int(q.available, 500, "refill capped at capacity");
	for (n = 0, i = 0; i < 200; i++)
		if (retry_quota_acquire(&q, RETRY_TRANSIENT, &cost))
			n++;
	tap_is_int(n, 100, "quota allows exactly 100 retries from full");
	tap_ok(!retry_quota_acquire(&q, RETRY_TRANSIENT, &cost) && cost == 0,
	       "exhausted quota refuses and takes nothing");
	retry_quota_success(&q, 0);
	tap_is_int(q.available, 1, "a first-try success refills one");
	return tap_done();
}
