/* client.c: scheduling, signing, retrying and logging AWS calls. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "client.h"
#include "clock.h"
#include "profile.h"
#include "ratelimit.h"
#include "retry.h"
#include "sigv4.h"

/* Only a skew larger than this is corrected; smaller is not our clock. */
#define CLOCK_SKEW_THRESHOLD 240

struct service_state {
	const struct aws_service *service;
	char *endpoint;		/* scheme://authority[/path] */
	char *host;		/* authority as sent in Host */
	char *path;		/* request path, "/" usually */
	struct rate_limiter limiter;
	struct adaptive_rate adaptive;	/* when MaxRequestRate is unset */
	size_t in_flight;
};

struct aws_client {
	struct aws_client_options opts;
	char *region;
	struct http_client *http;
	struct imds imds;
	struct aws_credentials creds;
	bool have_creds;
	struct retry_quota quota;
	long long skew;		/* server time minus ours, seconds */
	struct service_state *services;
	size_t service_count;
	aws_gate_fn gate;
};

/* The region, from the first source that names one, or NULL with err. */
static char *find_region(const struct aws_client_options *opts,
			 struct imds *imds, const char **source, char *err,
			 size_t errlen)
{
	const char *v = opts->region;
	char *path, *name, *found = NULL;
	struct profile p;
	struct strbuf body;
	long status;

	*source = "identity.conf";
	if (!v || !*v) {
		v = getenv("AWS_REGION");
		*source = "AWS_REGION";
	}
	if (!v || !*v) {
		v = getenv("AWS_DEFAULT_REGION");
		*source = "AWS_DEFAULT_REGION";
	}
	if (v && *v)
		return xstrdup(v);
	path = profile_config_path();
	name = profile_name();
	*source = "the AWS config file";
	if (profile_load(path, name, 1, &p, err, errlen) == 0) {
		const char *r = profile_get(&p, "region");

		if (r && *r)
			found = xstrdup(r);
		profile_free(&p);
	} else {
		/* A file that is there but cannot be read is a mistake to
		 * name (SlurmUser not allowed to read it), not a reason to
		 * ask IMDS instead. */
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "cannot read the AWS config file %s", why);
		free(path);
		free(name);
		return NULL;
	}
	free(path);
	free(name);
	if (found)
		return found;
	*source = "IMDS";
	strbuf_init(&body);
	{
		char why[512];

		if (imds_get(imds, "/latest/meta-data/placement/region", &body,
			     &status, why, sizeof(why)) == 0 && body.len > 0 &&
		    body.len < 64)
			found = xstrdup(body.data);
		else
			snprintf(err, errlen,
				 "no AWS region: set Region= in identity.conf or AWS_REGION (%s)",
				 body.len ? "bad region from IMDS" : why);
	}
	strbuf_free(&body);
	return found;
}

/* The region becomes part of every endpoint's host name: whatever its
 * source (IMDS answers anyone who can bind its address), only AWS's
 * region syntax is taken. */
static char *resolve_region(const struct aws_client_options *opts,
			    struct imds *imds, char *err, size_t errlen)
{
	const char *source;
	char *region = find_region(opts, imds, &source, err, errlen);

	if (region && !aws_region_valid(region)) {
		snprintf(err, errlen, "invalid AWS region \"%.64s\" from %s",
			 region, source);
		free(region);
		return NULL;
	}
	return region;
}

struct aws_client *aws_client_new(const struct aws_client_options *opts,
				  char *err, size_t errlen)
{
	struct aws_client *c = xcalloc(1, sizeof(*c));

	c->opts = *opts;
	if (c->opts.max_concurrency < 1)
		c->opts.max_concurrency = 1;
	if (c->opts.max_attempts < 1)
		c->opts.max_attempts = 1;
	if (c->opts.request_timeout < 1)
		c->opts.request_timeout = 10;
	c->http = http_client_new();
	if (!c->http) {
		snprintf(err, errlen, "cannot initialise libcurl");
		free(c);
		return NULL;
	}
	imds_init(&c->imds, c->http);
	retry_quota_init(&c->quota);
	c->region = resolve_region(opts, &c->imds, err, errlen);
	if (!c->region) {
		aws_client_free(c);
		return NULL;
	}
	return c;
}

void aws_client_free(struct aws_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->service_count; i++) {
		free(c->services[i].endpoint);
		free(c->services[i].host);
		free(c->services[i].path);
	}
	free(c->services);
	aws_credentials_clear(&c->creds);
	imds_free(&c->imds);
	http_client_free(c->http);
	free(c->region);
	free(c);
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region;
}

struct imds *aws_client_imds(struct aws_client *c)
{
	return &c->imds;
}

int aws_client_retry_quota(const struct aws_client *c)
{
	return c->quota.available;
}

const char *aws_client_credentials_source(const struct aws_client *c)
{
	return c->have_creds ? c->creds.source : "none";
}

void aws_client_set_gate(struct aws_client *c, aws_gate_fn gate)
{
	c->gate = gate;
}

int aws_client_load_credentials(struct aws_client *c, char *err,
				size_t errlen)
{
	if (c->have_creds &&
	    (c->creds.expiration == 0 ||
	     c->creds.expiration - (long long)clock_wall() >
		     AWS_CREDENTIALS_REFRESH_MARGIN))
		return 0;
	if (aws_credentials_resolve(&c->imds, &c->creds, err, errlen) < 0) {
		c->have_creds = false;
		return -1;
	}
	c->have_creds = true;
	log_debug("aws: credentials from %s", c->creds.source);
	return 0;
}

/* Split "http://host:port/base" into the Host header and path. */
static void split_endpoint(const char *url, char **host, char **path)
{
	const char *p = strstr(url, "://");
	const char *slash;

	p = p ? p + 3 : url;
	slash = strchr(p, '/');
	if (slash) {
		*host = xstrndup(p, (size_t)(slash - p));
		*path = xasprintf("%s/", slash);
		/* "/base/" stays, "//" collapses to "/". */
		if (strcmp(*path, "//") == 0) {
			free(*path);
			*path = xstrdup("/");
		}
	} else {
		*host = xstrdup(p);
		*path = xstrdup("/");
	}
}

static struct service_state *service_state(struct aws_client *c,
					   const struct aws_service *s)
{
	struct service_state *st;
	size_t i;
	double burst;

	for (i = 0; i < c->service_count; i++)
		if (c->services[i].service == s)
			return &c->services[i];
	c->services = xrealloc(c->services,
			       (c->service_count + 1) * sizeof(*c->services));
	st = &c->services[c->service_count++];
	memset(st, 0, sizeof(*st));
	st->service = s;
	st->endpoint = aws_service_endpoint(s, c->region);
	split_endpoint(st->endpoint, &st->host, &st->path);
	burst = c->opts.max_request_rate < 1 ? 1 : c->opts.max_request_rate;
	rate_limiter_init(&st->limiter, c->opts.max_request_rate, burst,
			  clock_monotonic());
	if (c->opts.max_request_rate <= 0)
		adaptive_rate_init(&st->adaptive, &st->limiter,
				   clock_monotonic());
	return st;
}

size_t aws_client_rate_hints(const struct aws_client *c,
			     struct aws_rate_hint *out, size_t max)
{
	size_t i, n = 0;

	if (c->opts.max_request_rate > 0)
		return 0;	/* a fixed rate learns nothing */
	for (i = 0; i < c->service_count && n < max; i++) {
		const struct adaptive_rate *ar = &c->services[i].adaptive;

		out[n].service = c->services[i].service;
		out[n].throttled_at = ar->throttled ? ar->last_max : 0;
		out[n].peak = ar->peak;
		n++;
	}
	return n;
}

void aws_client_seed_rate(struct aws_client *c, const struct aws_service *s,
			  double rate)
{
	struct service_state *st;

	if (c->opts.max_request_rate > 0 || rate <= 0)
		return;
	st = service_state(c, s);
	adaptive_rate_seed(&st->adaptive, &st->limiter, rate, clock_monotonic());
}

static double random01(void)
{
	unsigned int r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return 0.5;
	return (double)r / 4294967296.0;
}

/* Build, sign and start one attempt of call. */
static int start_attempt(struct aws_client *c, struct service_state *st,
			 struct aws_call *call)
{
	struct sigv4_header headers[5];
	struct sigv4_request sr;
	struct strbuf auth, target;
	struct http_request *r;
	char amz_date[17], *url;
	size_t n = 0;
	const char *content_type;

	strbuf_init(&auth);
	strbuf_init(&target);
	call->signed_skew = c->skew;
	sigv4_format_date((long long)time(NULL) + c->skew, amz_date);
	content_type = call->service->protocol == AWS_PROTOCOL_JSON
			       ? "application/x-amz-json-1.1"
			       : "application/x-www-form-urlencoded; charset=utf-8";
	headers[n++] = (struct sigv4_header){ "Host", st->host };
	headers[n++] = (struct sigv4_header){ "Content-Type", content_type };
	headers[n++] = (struct sigv4_header){ "X-Amz-Date", amz_date };
	if (call->service->protocol == AWS_PROTOCOL_JSON) {
		strbuf_printf(&target, "%s.%s", call->service->target_prefix,
			      call->action);
		headers[n++] = (struct sigv4_header){ "X-Amz-Target",
						      target.data };
	}
	if (c->creds.session_token)
		headers[n++] = (struct sigv4_header){
			"X-Amz-Security-Token",
			(const char *)secret_bytes(c->creds.session_token)
		};
	memset(&sr, 0, sizeof(sr));
	sr.method = "POST";
	sr.path = st->path;
	sr.headers = headers;
	sr.header_count = n;
	sr.payload = call->body.data ? call->body.data : "";
	sr.payload_len = call->body.len;
	sr.region = c->region;
	sr.service = call->service->signing_name;
	sr.amz_date = amz_date;
	sr.normalize_path = true;
	sigv4_authorization(&sr, c->creds.access_key_id,
			    c->creds.secret_access_key, &auth);

	url = xasprintf("%s%s", strstr(st->endpoint, "://") ? "" : "https://",
			st->endpoint);
	http_request_free(call->http);
	r = http_request_new("POST", url);
	free(url);
	/* The endpoint may carry a base path: send to exactly what we signed. */
	{
		const char *scheme_end = strstr(r->url, "://");
		const char *slash = strchr(scheme_end + 3, '/');

		if (slash) {
			char *full = xstrndup(r->url, (size_t)(slash - r->url));

			free(r->url);
			r->url = xasprintf("%s%s", full, st->path);
			free(full);
		} else {
			char *full = xasprintf("%s%s", r->url, st->path);

			free(r->url);
			r->url = full;
		}
	}
	for (size_t i = 0; i < n; i++)
		http_request_add_header(r, headers[i].name, headers[i].value);
	http_request_add_header(r, "Authorization", auth.data);
	http_request_set_body(r, call->body.data ? call->body.data : "",
			      call->body.len);
	r->timeout_ms = (long)c->opts.request_timeout * 1000;
	r->user = call;
	call->http = r;
	call->attempts++;
	strbuf_free(&auth);
	strbuf_free(&target);
	if (http_client_start(c->http, r) < 0) {
		call->status = AWS_CALL_TRANSPORT_ERROR;
		snprintf(call->message, sizeof(call->message), "%s", r->error);
		return -1;
	}
	st->in_flight++;
	return 0;
}

static void log_call(const struct aws_call *call)
{
	char msg[1024];

	if (call->status == AWS_CALL_OK) {
		log_verbose("aws: %s %s ok request=%s attempts=%d latency=%.0fms",
			    call->service->signing_name, call->action,
			    call->request_id[0] ? call->request_id : "-",
			    call->attempts, call->seconds * 1000);
		return;
	}
	aws_call_error(call, msg, sizeof(msg));
	log_verbose("aws: %s attempts=%d latency=%.0fms", msg, call->attempts,
		    call->seconds * 1000);
}

/* A call is final: refund or refill the retry quota and log it. */
static void finish_call(struct aws_client *c, struct aws_call *call,
			double now)
{
	call->seconds = now - call->started;
	if (call->status == AWS_CALL_OK)
		retry_quota_success(&c->quota, call->quota_taken);
	log_call(call);
}

/* An attempt came back: parse it and decide whether to try again. */
static void attempt_done(struct aws_client *c, struct aws_call *call,
			 double now)
{
	struct http_request *r = call->http;
	enum retry_class cls;
	int cost;

	if (r->request_id)
		snprintf(call->request_id, sizeof(call->request_id), "%s",
			 r->request_id);
	if (r->transport == HTTP_OK) {
		aws_parse_reply(call, r->status, r->response.data,
				r->response.len);
	} else {
		call->status = AWS_CALL_TRANSPORT_ERROR;
		call->http_status = 0;
		snprintf(call->message, sizeof(call->message), "%s: %s",
			 http_transport_name(r->transport), r->error);
	}
	cls = retry_classify(call->http_status,
			     r->transport != HTTP_OK && r->transport != HTTP_TIMEOUT,
			     r->transport == HTTP_TIMEOUT,
			     call->status == AWS_CALL_SERVICE_ERROR ? call->code
								    : NULL);
	/* Without a configured MaxRequestRate, the rate follows the
	 * service's answers (the SDKs' adaptive mode). */
	if (c->opts.max_request_rate <= 0) {
		struct service_state *st = service_state(c, call->service);

		adaptive_rate_update(&st->adaptive, &st->limiter,
				     cls == RETRY_THROTTLED, call->sent, now);
	}
	if (call->status == AWS_CALL_BAD_REPLY || cls == RETRY_NO) {
		finish_call(c, call, now);
		return;
	}
	if (cls == RETRY_CLOCK_SKEW) {
		long long server = clock_parse_http_date(r->date);
		long long skew = server - (long long)time(NULL);

		if (server < 0 || call->skew_retried) {
			finish_call(c, call, now);
			return;
		}
		/* The first call of a batch to be rejected corrects the
		 * offset; every call signed with the old one is retried
		 * with the new, not failed because it is already fixed. */
		if (llabs(skew - c->skew) >= CLOCK_SKEW_THRESHOLD) {
			log_info("aws: clock differs from %s by %llds, correcting",
				 call->service->signing_name, skew);
			c->skew = skew;
		}
		if (llabs(call->signed_skew - c->skew) < CLOCK_SKEW_THRESHOLD) {
			finish_call(c, call, now);
			return;
		}
		call->skew_retried = true;
		call->status = AWS_CALL_PENDING;
		call->not_before = now;
		return;
	}
	if (call->attempts >= c->opts.max_attempts) {
		finish_call(c, call, now);
		return;
	}
	if (!retry_quota_acquire(&c->quota, cls, &cost)) {
		log_debug("aws: retry quota exhausted, not retrying %s %s",
			  call->service->signing_name, call->action);
		finish_call(c, call, now);
		return;
	}
	call->quota_taken += cost;
	call->not_before = now + retry_backoff(call->attempts, random01());
	log_debug("aws: %s %s attempt %d failed (%s), retrying in %.2fs",
		  call->service->signing_name, call->action, call->attempts,
		  call->code[0] ? call->code : call->message,
		  call->not_before - now);
	call->status = AWS_CALL_PENDING;
}

size_t aws_perform(struct aws_client *c, struct aws_call **calls, size_t n,
		   double deadline)
{
	double now = clock_monotonic();
	size_t i, failed = 0;
	char err[512];

	for (i = 0; i < n; i++) {
		calls[i]->status = AWS_CALL_PENDING;
		calls[i]->attempts = 0;
		calls[i]->not_before = now;
		calls[i]->started = now;
		calls[i]->quota_taken = 0;
		calls[i]->skew_retried = false;
	}
	for (;;) {
		double wake = now + 0.1;
		bool pending = false;

		for (i = 0; i < n; i++) {
			struct aws_call *call = calls[i];
			struct service_state *st;
			double wait;

			if (call->status != AWS_CALL_PENDING ||
			    (call->http && call->http->handle))
				continue;
			pending = true;
			if (call->not_before > now) {
				if (call->not_before < wake)
					wake = call->not_before;
				continue;
			}
			st = service_state(c, call->service);
			if (st->in_flight >= (size_t)c->opts.max_concurrency)
				continue;
			if (!rate_limiter_take(&st->limiter, now, &wait)) {
				if (now + wait < wake)
					wake = now + wait;
				continue;
			}
			if (aws_client_load_credentials(c, err, sizeof(err)) < 0) {
				call->status = AWS_CALL_NO_CREDENTIALS;
				snprintf(call->message, sizeof(call->message),
					 "%s", err);
				finish_call(c, call, now);
				continue;
			}
			if (c->gate && !c->gate(call->message,
						sizeof(call->message))) {
				call->status = AWS_CALL_HELD;
				finish_call(c, call, now);
				continue;
			}
			call->sent = now;
			if (start_attempt(c, st, call) < 0)
				finish_call(c, call, now);
		}
		if (!pending && http_client_running(c->http) == 0)
			break;
		if (deadline > 0 && now >= deadline)
			break;
		{
			double until = wake;
			struct http_request *r;

			if (deadline > 0 && deadline < until)
				until = deadline;
			r = http_client_next_done(
				c->http, (long)((until - now) * 1000) + 1);
			now = clock_monotonic();
			while (r) {
				struct aws_call *call = r->user;

				service_state(c, call->service)->in_flight--;
				attempt_done(c, call, now);
				r = http_client_next_done(c->http, 0);
			}
		}
	}
	for (i = 0; i < n; i++) {
		struct aws_call *call = calls[i];

		if (call->status == AWS_CALL_PENDING) {
			if (call->http && call->http->handle) {
				http_client_cancel(c->http, call->http);
				service_state(c, call->service)->in_flight--;
			}
			call->status = AWS_CALL_DEADLINE;
			finish_call(c, call, now);
		}
		if (call->status != AWS_CALL_OK)
			failed++;
	}
	return failed;
}

int aws_perform_one(struct aws_client *c, struct aws_call *call)
{
	return aws_perform(c, &call, 1, 0) == 0 ? 0 : -1;
}
