/* client.h: AWS calls, signed, rate-limited, retried and run in parallel.
 *
 * A caller builds calls with the protocol helpers (json.c, query.c), hands
 * a batch to aws_perform(), and reads each call's result. Every call is
 * logged once with its service, action, request id, attempts and latency.
 */
#ifndef SLURM_IDENTITY_CLIENT_H
#define SLURM_IDENTITY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "credentials.h"
#include "http.h"
#include "imds.h"
#include "service.h"
#include "xml.h"

struct json_each;
struct xml_each;

struct aws_client_options {
	const char *region;	/* NULL: AWS_REGION, config file, IMDS */
	int max_concurrency;	/* calls in flight per service */
	double max_request_rate;	/* calls per second per service; 0 none */
	int max_attempts;	/* including the first */
	int request_timeout;	/* seconds per attempt */
};

enum aws_call_status {
	AWS_CALL_PENDING = 0,
	AWS_CALL_OK,
	AWS_CALL_SERVICE_ERROR,	/* the service answered with an error */
	AWS_CALL_TRANSPORT_ERROR,	/* no answer (after retries) */
	AWS_CALL_BAD_REPLY,	/* an answer we cannot parse */
	AWS_CALL_NO_CREDENTIALS,
	AWS_CALL_DEADLINE,	/* the caller's deadline came first */
	AWS_CALL_HELD,		/* not sent: the client's gate is shut */
};

/* Asked before each attempt is sent: false keeps it unsent (why says it,
 * in the call's message). The controller's processes shut it when their
 * host's slurmctld is no longer in control. */
typedef bool (*aws_gate_fn)(char *why, size_t whylen);

struct aws_call {
	const struct aws_service *service;
	char *action;
	struct strbuf body;
	void *user;

	enum aws_call_status status;
	long http_status;
	char code[128];		/* AWS error code, e.g. AccessDeniedException */
	char message[512];
	char request_id[128];
	int attempts;
	double seconds;		/* first send to final answer */
	json_t *json;		/* JSON protocol reply */
	/* Set by the caller to read one large array of a JSON reply an
	 * element at a time (it is then not in json). */
	struct json_each *each;
	struct xml_node *xml;	/* Query protocol reply (root element) */
	/* Set by the caller to read one large list of a Query reply an item
	 * at a time (its items are then not in xml). */
	struct xml_each *xml_each;

	/* Private to client.c. */
	double not_before;
	double started;
	double sent;		/* this attempt's send */
	int quota_taken;
	bool skew_retried;
	long long signed_skew;	/* the clock offset its attempt was signed with */
	struct http_request *http;
};

struct aws_client;

struct aws_client *aws_client_new(const struct aws_client_options *opts,
				  char *err, size_t errlen);
void aws_client_free(struct aws_client *c);
const char *aws_client_region(const struct aws_client *c);
struct imds *aws_client_imds(struct aws_client *c);
/* Resolve credentials now (they are otherwise resolved on first use). */
int aws_client_load_credentials(struct aws_client *c, char *err,
				size_t errlen);
const char *aws_client_credentials_source(const struct aws_client *c);
/* What the adaptive rate (MaxRequestRate unset) learned of a service, for
 * the next client to start from. */
struct aws_rate_hint {
	const struct aws_service *service;
	double throttled_at;	/* rate of this run's last throttle; 0: none */
	double peak;		/* highest rate this run sent */
};
size_t aws_client_rate_hints(const struct aws_client *c,
			     struct aws_rate_hint *out, size_t max);
/* Start service's adaptive rate from what an earlier run learned. */
void aws_client_seed_rate(struct aws_client *c, const struct aws_service *s,
			  double rate);
/* Retry quota left (tests, status output). */
int aws_client_retry_quota(const struct aws_client *c);
/* Every attempt from now on asks gate first (NULL: none). */
void aws_client_set_gate(struct aws_client *c, aws_gate_fn gate);

/* Run calls; deadline is a clock_monotonic() time or 0 for none. Returns
 * how many did not end AWS_CALL_OK. */
size_t aws_perform(struct aws_client *c, struct aws_call **calls, size_t n,
		   double deadline);
/* Convenience for one call. */
int aws_perform_one(struct aws_client *c, struct aws_call *call);

void aws_call_free(struct aws_call *call);
/* "ssm GetParameter: AccessDeniedException: ... (request 1234)" */
void aws_call_error(const struct aws_call *call, char *buf, size_t len);

/* Protocol helpers (json.c, query.c). */
struct aws_call *aws_call_json(const struct aws_service *s,
			       const char *action, json_t *input);
/* A JSON body built by the caller (one holding a secret, which the caller
 * wipes; the call wipes its copy when freed). */
struct aws_call *aws_call_json_text(const struct aws_service *s,
				    const char *action, const char *text,
				    size_t len);
struct aws_call *aws_call_query(const struct aws_service *s,
				const char *action);
void aws_call_param(struct aws_call *call, const char *key, const char *value);
/* Parse a reply into call (status, code, message, json/xml). */
void aws_parse_reply(struct aws_call *call, long http_status,
		     const char *body, size_t len);

#endif
