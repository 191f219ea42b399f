/* imds.c: IMDSv2 client. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "imds.h"
#include "profile.h"

#define IMDS_TOKEN_TTL 21600
/* A token is renewed this many seconds before it expires. */
#define IMDS_TOKEN_RENEW_EARLY 60
#define IMDS_TIMEOUT_MS 2000
#define IMDS_ATTEMPTS 2

static char *config_file_endpoint(void)
{
	char *path = profile_config_path(), *name = profile_name();
	struct profile p;
	char err[256], *v = NULL;

	if (profile_load(path, name, 1, &p, err, sizeof(err)) == 0) {
		const char *e = profile_get(&p, "ec2_metadata_service_endpoint");

		if (e && *e)
			v = xstrdup(e);
		profile_free(&p);
	}
	free(path);
	free(name);
	return v;
}

void imds_init(struct imds *m, struct http_client *http)
{
	const char *env = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *off = getenv("AWS_EC2_METADATA_DISABLED");
	char *ep = NULL;
	size_t len;

	memset(m, 0, sizeof(*m));
	m->http = http;
	m->disabled = off && strcasecmp(off, "true") == 0;
	if (env && *env)
		ep = xstrdup(env);
	else
		ep = config_file_endpoint();
	if (!ep)
		ep = xstrdup("http://169.254.169.254");
	len = strlen(ep);
	while (len > 0 && ep[len - 1] == '/')
		ep[--len] = '\0';
	m->endpoint = ep;
}

void imds_free(struct imds *m)
{
	if (m->token) {
		OPENSSL_cleanse(m->token, strlen(m->token));
		free(m->token);
	}
	free(m->endpoint);
	memset(m, 0, sizeof(*m));
}

static struct http_request *imds_request(struct imds *m, const char *method,
					 const char *path)
{
	char *url = xasprintf("%s%s", m->endpoint, path);
	struct http_request *r = http_request_new(method, url);

	free(url);
	r->timeout_ms = IMDS_TIMEOUT_MS;
	r->connect_timeout_ms = IMDS_TIMEOUT_MS;
	r->no_proxy = true;
	return r;
}

static int fetch_token(struct imds *m, char *err, size_t errlen)
{
	struct http_request *r;
	char ttl[16];
	int attempt, rc = -1;

	snprintf(ttl, sizeof(ttl), "%d", IMDS_TOKEN_TTL);
	for (attempt = 0; attempt < IMDS_ATTEMPTS && rc < 0; attempt++) {
		r = imds_request(m, "PUT", "/latest/api/token");
		http_request_add_header(r, "X-aws-ec2-metadata-token-ttl-seconds",
					ttl);
		http_request_set_body(r, "", 0);
		http_client_perform(m->http, r);
		if (r->transport != HTTP_OK) {
			snprintf(err, errlen, "IMDS %s: token: %s", m->endpoint,
				 r->error);
		} else if (r->status != 200 || r->response.len == 0 ||
			   r->response.len > 512) {
			snprintf(err, errlen, "IMDS %s: token: HTTP %ld",
				 m->endpoint, r->status);
		} else {
			free(m->token);
			m->token = xstrdup(r->response.data);
			m->token_expires = clock_monotonic() + IMDS_TOKEN_TTL -
					   IMDS_TOKEN_RENEW_EARLY;
			rc = 0;
		}
		http_request_free(r);
	}
	return rc;
}

int imds_get(struct imds *m, const char *path, struct strbuf *out,
	     long *status, char *err, size_t errlen)
{
	int attempt;

	*status = 0;
	if (m->disabled) {
		snprintf(err, errlen,
			 "IMDS disabled by AWS_EC2_METADATA_DISABLED");
		return -1;
	}
	for (attempt = 0; attempt < IMDS_ATTEMPTS; attempt++) {
		struct http_request *r;

		if (!m->token || clock_monotonic() >= m->token_expires)
			if (fetch_token(m, err, errlen) < 0)
				return -1;
		r = imds_request(m, "GET", path);
		http_request_add_header(r, "X-aws-ec2-metadata-token",
					m->token);
		http_client_perform(m->http, r);
		if (r->transport != HTTP_OK) {
			snprintf(err, errlen, "IMDS %s%s: %s", m->endpoint,
				 path, r->error);
			http_request_free(r);
			continue;
		}
		*status = r->status;
		if (r->status == 401) {
			/* Token expired or revoked: get a new one. */
			xfree_ptr(&m->token);
			snprintf(err, errlen, "IMDS %s%s: HTTP 401", m->endpoint,
				 path);
			http_request_free(r);
			continue;
		}
		if (r->status != 200) {
			snprintf(err, errlen, "IMDS %s%s: HTTP %ld", m->endpoint,
				 path, r->status);
			http_request_free(r);
			return -1;
		}
		strbuf_reset(out);
		strbuf_append(out, r->response.data ? r->response.data : "",
			      r->response.len);
		http_request_free(r);
		return 0;
	}
	return -1;
}
