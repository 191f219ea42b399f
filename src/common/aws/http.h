/* http.h: HTTP requests over one libcurl multi handle.
 *
 * Many requests run at once on one thread; connections are kept and reused
 * across requests. Nothing above this file includes curl.h.
 */
#ifndef SLURM_IDENTITY_HTTP_H
#define SLURM_IDENTITY_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/xmalloc.h"

enum http_transport {
	HTTP_OK = 0,		/* a response arrived (any status) */
	HTTP_TIMEOUT,		/* no complete response in time */
	HTTP_CONNECT_ERROR,	/* could not connect / resolve */
	HTTP_IO_ERROR,		/* connection reset, bad framing, ... */
	HTTP_TOO_LARGE,		/* response over the size limit */
	HTTP_TLS_ERROR,		/* certificate or handshake failure */
};

struct http_request {
	/* Set by the caller. */
	char *method;
	char *url;
	char **headers;		/* "Name: value"; wiped on free */
	size_t header_count;
	char *body;
	size_t body_len;
	long timeout_ms;
	long connect_timeout_ms;
	bool no_proxy;		/* IMDS must never go through a proxy */
	void *user;

	/* Filled in when done. */
	enum http_transport transport;
	char error[256];
	long status;
	struct strbuf response;
	char *date;		/* Date header */
	char *request_id;	/* x-amzn-RequestId or x-amz-request-id */
	double seconds;

	void *handle;		/* private */
};

struct http_client;

struct http_client *http_client_new(void);
void http_client_free(struct http_client *c);

struct http_request *http_request_new(const char *method, const char *url);
void http_request_add_header(struct http_request *r, const char *name,
			     const char *value);
void http_request_set_body(struct http_request *r, const char *body,
			   size_t len);
/* Forget the response so the request can be sent again. */
void http_request_reset_response(struct http_request *r);
void http_request_clear_headers(struct http_request *r);
void http_request_free(struct http_request *r);

/* Start r; it finishes later through http_client_next_done(). */
int http_client_start(struct http_client *c, struct http_request *r);
/* Wait up to wait_ms for a request to finish and return it, else NULL. */
struct http_request *http_client_next_done(struct http_client *c,
					   long wait_ms);
size_t http_client_running(const struct http_client *c);
/* Abandon a started request (its connection is closed). */
void http_client_cancel(struct http_client *c, struct http_request *r);
/* Run one request to completion (synchronous helper). */
void http_client_perform(struct http_client *c, struct http_request *r);

const char *http_transport_name(enum http_transport t);

#endif
