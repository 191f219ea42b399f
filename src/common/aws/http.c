/* http.c: libcurl multi driver. */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "clock.h"
#include "http.h"

/* No AWS reply we read comes near this; more is an attack or a bug. */
#define HTTP_MAX_RESPONSE (16 * 1024 * 1024)

/* curl tells us which sockets to watch and when its timer is due
 * (curl_multi_socket_action), so a wake-up costs one poll of them all
 * and work on the ready ones only; curl_multi_perform checked every
 * running transfer's socket with a poll of its own each time. */
struct http_client {
	CURLM *multi;
	size_t running;
	char *ca_bundle;
	struct pollfd *fds;		/* the sockets curl watches */
	size_t nfds, fds_cap;
	double timer_at;		/* curl's timeout, monotonic; < 0: none */
};

static ssize_t fd_index(const struct http_client *c, int fd)
{
	size_t i;

	for (i = 0; i < c->nfds; i++)
		if (c->fds[i].fd == fd)
			return (ssize_t)i;
	return -1;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *arg,
		     void *socketp)
{
	struct http_client *c = arg;
	ssize_t i = fd_index(c, s);

	(void)e;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		if (i >= 0)
			c->fds[i] = c->fds[--c->nfds];
		return 0;
	}
	if (i < 0) {
		if (c->nfds == c->fds_cap) {
			c->fds_cap = c->fds_cap ? 2 * c->fds_cap : 16;
			c->fds = xrealloc(c->fds, c->fds_cap * sizeof(*c->fds));
		}
		i = (ssize_t)c->nfds++;
		c->fds[i].fd = s;
	}
	c->fds[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
				   ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	c->fds[i].revents = 0;
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
	struct http_client *c = arg;

	(void)multi;
	c->timer_at = timeout_ms < 0 ? -1
				     : clock_monotonic() + (double)timeout_ms / 1000;
	return 0;
}

const char *http_transport_name(enum http_transport t)
{
	switch (t) {
	case HTTP_OK:
		return "ok";
	case HTTP_TIMEOUT:
		return "timed out";
	case HTTP_CONNECT_ERROR:
		return "cannot connect";
	case HTTP_IO_ERROR:
		return "connection error";
	case HTTP_TOO_LARGE:
		return "response too large";
	case HTTP_TLS_ERROR:
		return "TLS error";
	}
	return "unknown";
}

struct http_client *http_client_new(void)
{
	static int initialized;
	struct http_client *c;
	const char *ca = getenv("AWS_CA_BUNDLE");

	if (!initialized) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		initialized = 1;
	}
	c = xcalloc(1, sizeof(*c));
	c->timer_at = -1;
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	if (ca && *ca)
		c->ca_bundle = xstrdup(ca);
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_multi_cleanup(c->multi);
	free(c->fds);
	free(c->ca_bundle);
	free(c);
}

struct http_request *http_request_new(const char *method, const char *url)
{
	struct http_request *r = xcalloc(1, sizeof(*r));

	r->method = xstrdup(method);
	r->url = xstrdup(url);
	r->timeout_ms = 10000;
	r->connect_timeout_ms = 3000;
	strbuf_init(&r->response);
	return r;
}

void http_request_add_header(struct http_request *r, const char *name,
			     const char *value)
{
	r->headers = xrealloc(r->headers,
			      (r->header_count + 1) * sizeof(*r->headers));
	r->headers[r->header_count++] = xasprintf("%s: %s", name, value);
}

void http_request_clear_headers(struct http_request *r)
{
	size_t i;

	/* Headers carry session tokens and signatures. */
	for (i = 0; i < r->header_count; i++) {
		OPENSSL_cleanse(r->headers[i], strlen(r->headers[i]));
		free(r->headers[i]);
	}
	free(r->headers);
	r->headers = NULL;
	r->header_count = 0;
}

void http_request_set_body(struct http_request *r, const char *body,
			   size_t len)
{
	free(r->body);
	r->body = xstrndup(body, len);
	r->body_len = len;
}

void http_request_reset_response(struct http_request *r)
{
	/* A reply may carry a secret (a decrypted parameter). */
	if (r->response.data)
		OPENSSL_cleanse(r->response.data, r->response.len);
	strbuf_free(&r->response);
	xfree_ptr(&r->date);
	xfree_ptr(&r->request_id);
	r->transport = HTTP_OK;
	r->error[0] = '\0';
	r->status = 0;
	r->seconds = 0;
}

void http_request_free(struct http_request *r)
{
	if (!r)
		return;
	http_request_clear_headers(r);
	http_request_reset_response(r);
	if (r->body) {
		OPENSSL_cleanse(r->body, r->body_len);
		free(r->body);
	}
	free(r->method);
	free(r->url);
	free(r);
}

struct transfer {
	struct http_request *request;
	struct curl_slist *headers;
	bool too_large;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;

	if (t->request->response.len + n > HTTP_MAX_RESPONSE) {
		t->too_large = true;
		return 0;
	}
	strbuf_append(&t->request->response, data, n);
	return n;
}

/* Keep one header value, trimmed; value is not NUL-terminated. */
static char *header_value(const char *line, size_t len, size_t name_len)
{
	const char *v = line + name_len, *end = line + len;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
			   end[-1] == ' '))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;
	struct http_request *r = t->request;

	/* A new status line (redirect, 100-continue) starts afresh. */
	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		xfree_ptr(&r->date);
		xfree_ptr(&r->request_id);
	} else if (n > 5 && strncasecmp(line, "Date:", 5) == 0) {
		free(r->date);
		r->date = header_value(line, n, 5);
	} else if (n > 17 && strncasecmp(line, "x-amzn-RequestId:", 17) == 0) {
		free(r->request_id);
		r->request_id = header_value(line, n, 17);
	} else if (n > 17 && strncasecmp(line, "x-amz-request-id:", 17) == 0 &&
		   !r->request_id) {
		r->request_id = header_value(line, n, 17);
	}
	return n;
}

int http_client_start(struct http_client *c, struct http_request *r)
{
	struct transfer *t = xcalloc(1, sizeof(*t));
	CURL *e = curl_easy_init();
	size_t i;

	if (!e) {
		free(t);
		snprintf(r->error, sizeof(r->error), "curl_easy_init failed");
		return -1;
	}
	http_request_reset_response(r);
	t->request = r;
	for (i = 0; i < r->header_count; i++)
		t->headers = curl_slist_append(t->headers, r->headers[i]);
	/* libcurl would add "Expect: 100-continue" for large bodies. */
	t->headers = curl_slist_append(t->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_bundle)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_bundle);
	if (r->no_proxy)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	r->handle = e;
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		curl_slist_free_all(t->headers);
		curl_easy_cleanup(e);
		free(t);
		r->handle = NULL;
		snprintf(r->error, sizeof(r->error),
			 "curl_multi_add_handle failed");
		return -1;
	}
	c->running++;
	return 0;
}

static enum http_transport classify(CURLcode rc, bool too_large)
{
	if (too_large)
		return HTTP_TOO_LARGE;
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HTTP_CONNECT_ERROR;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return HTTP_TLS_ERROR;
	default:
		return HTTP_IO_ERROR;
	}
}

static void finish(struct http_client *c, CURL *e, CURLcode rc)
{
	struct transfer *t = NULL;
	struct http_request *r;
	double secs = 0;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
	r = t->request;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &secs);
	r->seconds = secs;
	r->transport = classify(rc, t->too_large);
	if (r->transport != HTTP_OK)
		snprintf(r->error, sizeof(r->error), "%s",
			 t->too_large ? "response too large"
				      : curl_easy_strerror(rc));
	curl_multi_remove_handle(c->multi, e);
	curl_easy_cleanup(e);
	curl_slist_free_all(t->headers);
	free(t);
	r->handle = NULL;
	c->running--;
}

/* A transfer curl has finished, taken off its queue, or NULL. */
static struct http_request *take_done(struct http_client *c)
{
	CURLMsg *msg;
	int queued;

	while ((msg = curl_multi_info_read(c->multi, &queued))) {
		if (msg->msg == CURLMSG_DONE) {
			struct transfer *t = NULL;
			struct http_request *r;

			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&t);
			r = t->request;
			finish(c, msg->easy_handle, msg->data.result);
			return r;
		}
	}
	return NULL;
}

/* Wait up to ms for curl's sockets or its timer, then hand curl what is
 * ready. */
static void drive(struct http_client *c, long ms)
{
	struct { int fd; int ev; } ready[64];
	size_t nready = 0, i;
	int still, n;

	if (c->timer_at >= 0) {
		/* Rounded up: a timer 0.4 ms away is not a zero wait to
		 * repeat until it is due. */
		long due = (long)((c->timer_at - clock_monotonic()) * 1000 + 0.999);

		if (due < ms)
			ms = due < 0 ? 0 : due;
	}
	/* Callers pump with ms 0 between other work; with no socket to
	 * watch that is no system call at all. */
	n = c->nfds || ms ? poll(c->fds, (nfds_t)c->nfds, (int)ms) : 0;
	if (n < 0)
		n = 0;
	/* What curl does with one socket may add or drop others: take the
	 * ready ones first. */
	for (i = 0; n > 0 && i < c->nfds && nready < 64; i++) {
		short r = c->fds[i].revents;

		if (!r)
			continue;
		ready[nready].fd = c->fds[i].fd;
		ready[nready++].ev =
			((r & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) |
			((r & POLLOUT) ? CURL_CSELECT_OUT : 0) |
			((r & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
	}
	for (i = 0; i < nready; i++)
		curl_multi_socket_action(c->multi, ready[i].fd, ready[i].ev,
					 &still);
	if (c->timer_at >= 0 && clock_monotonic() >= c->timer_at) {
		c->timer_at = -1;
		curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &still);
	}
}

struct http_request *http_client_next_done(struct http_client *c,
					   long wait_ms)
{
	double until = clock_monotonic() + (double)(wait_ms > 0 ? wait_ms : 0) / 1000;

	for (;;) {
		struct http_request *r = take_done(c);
		long left;

		if (r)
			return r;
		/* Sleeps the whole time even with nothing in flight: a caller
		 * waiting for a rate token or a backoff does not spin. The
		 * wait is rounded up, as the timer's in drive(): a truncated
		 * remainder would be zero-timeout polls until the last
		 * fraction of a millisecond has passed. */
		left = (long)((until - clock_monotonic()) * 1000 + 0.999);
		drive(c, left > 0 ? left : 0);
		r = take_done(c);
		if (r)
			return r;
		if (clock_monotonic() >= until)
			return NULL;
	}
}

void http_client_cancel(struct http_client *c, struct http_request *r)
{
	if (!r->handle)
		return;
	finish(c, r->handle, CURLE_OPERATION_TIMEDOUT);
	snprintf(r->error, sizeof(r->error), "abandoned at the deadline");
}

size_t http_client_running(const struct http_client *c)
{
	return c->running;
}

void http_client_perform(struct http_client *c, struct http_request *r)
{
	if (http_client_start(c, r) < 0) {
		r->transport = HTTP_IO_ERROR;
		return;
	}
	while (http_client_next_done(c, 1000) != r)
		;
}
