/* ldap_conn.c: one bound LDAP connection to a domain controller. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lber.h>
#include <ldap.h>
#if LDAP_VENDOR_VERSION < 20600
#include <openldap.h>	/* ldap_init_fd */
#endif

#include "ldap_conn.h"
#include "common/aws/clock.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* Entries a page: Samba answers no more than 1,000 to one search. */
#define PAGE_SIZE 500
/* ldap_conn_values is for a few entries (one account, one OU). */
#define VALUES_MAX_ENTRIES 10
/* Microsoft's Tree Delete control: an account and what is below it. */
#define TREE_DELETE_OID "1.2.840.113556.1.4.805"

struct ldap_conn {
	LDAP *ld;			/* NULL until bound, or once dropped */
	struct ldap_conn_opts opts;	/* the strings are our copies */
	pthread_mutex_t lock;		/* one operation at a time */
};

/* Writing to a connection the DC has closed raises SIGPIPE, which would
 * end the program. It is held blocked in this thread while the library
 * works, and one that came is taken before the thread's mask returns. */
static void sigpipe_hold(sigset_t *old)
{
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, old);
}

static void sigpipe_release(const sigset_t *old)
{
	struct timespec now = { 0, 0 };
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!sigismember(old, SIGPIPE))
		while (sigtimedwait(&pipe, NULL, &now) == SIGPIPE)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int reqcert_value(const char *name)
{
	if (name && strcmp(name, "never") == 0)
		return LDAP_OPT_X_TLS_NEVER;
	if (name && strcmp(name, "allow") == 0)
		return LDAP_OPT_X_TLS_ALLOW;
	if (name && strcmp(name, "try") == 0)
		return LDAP_OPT_X_TLS_TRY;
	if (name && strcmp(name, "hard") == 0)
		return LDAP_OPT_X_TLS_HARD;
	return LDAP_OPT_X_TLS_DEMAND;
}

/* Does the connection check the DC's certificate? Only then are the CAs
 * read: the system's bundle costs 3.7 MiB of memory parsed. */
static bool verifies(int reqcert)
{
	return reqcert != LDAP_OPT_X_TLS_NEVER &&
	       reqcert != LDAP_OPT_X_TLS_ALLOW;
}

/* "what: the library's message (the server's own words)" */
static void conn_error(LDAP *ld, int rc, const char *what, char *err,
		       size_t errlen)
{
	char *diag = NULL;

	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (diag && diag[0])
		snprintf(err, errlen, "%s: %s (%s)", what, ldap_err2string(rc),
			 diag);
	else
		snprintf(err, errlen, "%s: %s", what, ldap_err2string(rc));
	ldap_memfree(diag);
}

static void conn_drop(struct ldap_conn *c)
{
	if (c->ld)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
}

/* The connection lost: worth one more try on a new one. */
static bool dropped(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR;
}

#if LDAP_VENDOR_VERSION < 20600
/* OpenLDAP 2.5 (Debian 12, Ubuntu 22.04), under a network timeout, does
 * not wait on the socket while it shakes hands for TLS: it calls the TLS
 * library again at once, until the DC answers, and without end if it
 * never does (a DC that accepted and stayed silent held a worker at full
 * CPU; a prompt one still cost 50 ms of CPU per bind). Its asynchronous
 * mode does wait, with the timeout. So here we make the TCP connection
 * ourselves, under the timeout, and let the library shake hands on it in
 * that mode; 2.6 waits properly in either. */
static int wait_connected(int fd, double deadline)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	socklen_t len = sizeof(int);
	int n, soerr = 0;

	for (;;) {
		int left = (int)((deadline - clock_monotonic()) * 1000);

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, left);
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR)
			return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	errno = soerr;
	return soerr ? -1 : 0;
}

/* A connected, non-blocking socket to the URI's host and port, or -1. */
static int tcp_connect(const char *uri, int timeout, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	double deadline = clock_monotonic() + timeout;
	LDAPURLDesc *lud = NULL;
	char port[16], why[128] = "no address";
	int fd = -1, one = 1, rc;

	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS || !lud->lud_host ||
	    !lud->lud_host[0]) {
		snprintf(err, errlen, "%s: not an LDAP URL with a host", uri);
		ldap_free_urldesc(lud);
		return -1;
	}
	snprintf(port, sizeof(port), "%d",
		 lud->lud_port ? lud->lud_port : LDAPS_PORT);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(lud->lud_host, port, &hints, &res);
	if (rc != 0)
		snprintf(why, sizeof(why), "%s", gai_strerror(rc));
	for (ai = rc == 0 ? res : NULL; ai && fd < 0; ai = ai->ai_next) {
		int s = socket(ai->ai_family,
			       ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       ai->ai_protocol);

		if (s < 0) {
			snprintf(why, sizeof(why), "%s", strerror(errno));
			continue;
		}
		/* As the library sets its own: a request goes out at once,
		 * not held for the last reply's acknowledgement, and a dead
		 * peer is found in time on a connection kept for a run. */
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_connected(s, deadline) == 0)) {
			fd = s;
			break;
		}
		snprintf(why, sizeof(why), "%s", strerror(errno));
		close(s);
	}
	if (fd < 0)
		snprintf(err, errlen, "ldap connect: %s (%s:%s: %s)",
			 ldap_err2string(LDAP_SERVER_DOWN), lud->lud_host, port,
			 why);
	if (res)
		freeaddrinfo(res);
	ldap_free_urldesc(lud);
	return fd;
}
#endif

/* One session option, or err naming it (ldap_set_option says only that
 * it failed). */
static int set_option(struct ldap_conn *c, int option, const char *name,
		      const void *value, char *err, size_t errlen)
{
	if (ldap_set_option(c->ld, option, value) == LDAP_OPT_SUCCESS)
		return 0;
	snprintf(err, errlen, "%s: cannot set the LDAP option %s", c->opts.uri,
		 name);
	return -1;
}

/* What is left of the connection's timeout since start, as the library
 * wants it (at least a second: 0 would mean no limit to it). */
static struct timeval time_left(const struct ldap_conn *c, double start)
{
	double left = c->opts.timeout - (clock_monotonic() - start);
	struct timeval tv;

	if (left < 1)
		left = 1;
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	return tv;
}

/* The time the library waits for a request and for the network. */
static int set_timeouts(struct ldap_conn *c, const struct timeval *tv,
			char *err, size_t errlen)
{
	if (set_option(c, LDAP_OPT_TIMEOUT, "LDAP_OPT_TIMEOUT", tv, err,
		       errlen) < 0)
		return -1;
	return set_option(c, LDAP_OPT_NETWORK_TIMEOUT,
			  "LDAP_OPT_NETWORK_TIMEOUT", tv, err, errlen);
}

/* The session's options: LDAPv3, no referrals, what is left of the
 * timeout since start (the library gives TCP, TLS and each request the
 * whole of it, each), and our TLS settings. 0, or -1 with err naming the
 * option. */
static int set_options(struct ldap_conn *c, double start, char *err,
		       size_t errlen)
{
	const struct ldap_conn_opts *o = &c->opts;
	struct timeval tv = time_left(c, start);
	int version = LDAP_VERSION3, reqcert = reqcert_value(o->reqcert);
	int server = 0;
	bool ca = verifies(reqcert) && o->ca_file && o->ca_file[0];
	const struct {
		int option;
		const char *name;
		const void *value;
		bool wanted;
	} options[] = {
		{ LDAP_OPT_PROTOCOL_VERSION, "LDAP_OPT_PROTOCOL_VERSION",
		  &version, true },
		{ LDAP_OPT_REFERRALS, "LDAP_OPT_REFERRALS", LDAP_OPT_OFF, true },
		{ LDAP_OPT_NETWORK_TIMEOUT, "LDAP_OPT_NETWORK_TIMEOUT", &tv,
		  true },
		{ LDAP_OPT_TIMEOUT, "LDAP_OPT_TIMEOUT", &tv, true },
		{ LDAP_OPT_X_TLS_CACERTFILE,
		  "LDAP_OPT_X_TLS_CACERTFILE (LdapCaFile)", o->ca_file, ca },
		{ LDAP_OPT_X_TLS_REQUIRE_CERT,
		  "LDAP_OPT_X_TLS_REQUIRE_CERT (LdapTlsReqCert)", &reqcert, true },
		{ LDAP_OPT_X_TLS_NEWCTX,
		  "LDAP_OPT_X_TLS_NEWCTX (the TLS context: can LdapCaFile be read?)",
		  &server, true },
	};
	size_t i;

	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (options[i].wanted &&
		    set_option(c, options[i].option, options[i].name,
			       options[i].value, err, errlen) < 0)
			return -1;
	return 0;
}

/* A new session to the URI, with the connection's options set; start is
 * when the connection's time began. */
static int conn_new(struct ldap_conn *c, double start, int *fd, char *err,
		    size_t errlen)
{
	const struct ldap_conn_opts *o = &c->opts;
	int rc;

	*fd = -1;
#if LDAP_VENDOR_VERSION < 20600
	*fd = tcp_connect(o->uri, o->timeout, err, errlen);
	if (*fd < 0)
		return -1;
	rc = ldap_init_fd(*fd, LDAP_PROTO_TCP, o->uri, &c->ld);
	if (rc != LDAP_SUCCESS)
		close(*fd);
#else
	rc = ldap_initialize(&c->ld, o->uri);
#endif
	if (rc != LDAP_SUCCESS) {
		c->ld = NULL;
		conn_error(NULL, rc, o->uri, err, errlen);
		return -1;
	}
	if (set_options(c, start, err, errlen) < 0) {
		conn_drop(c);
		return -1;
	}
	return 0;
}

/* Connected, TCP and TLS. */
static int conn_connect(struct ldap_conn *c, int fd, char *err, size_t errlen)
{
	int rc;

#if LDAP_VENDOR_VERSION < 20600
	if (set_option(c, LDAP_OPT_CONNECT_ASYNC, "LDAP_OPT_CONNECT_ASYNC",
		       LDAP_OPT_ON, err, errlen) < 0)
		return -1;
	rc = ldap_install_tls(c->ld);
	/* From here on as in any other connection: blocking, the library
	 * waiting on the socket itself. */
	if (set_option(c, LDAP_OPT_CONNECT_ASYNC, "LDAP_OPT_CONNECT_ASYNC",
		       LDAP_OPT_OFF, err, errlen) < 0)
		return -1;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		snprintf(err, errlen, "%s: cannot make the socket blocking: %s",
			 c->opts.uri, strerror(errno));
		return -1;
	}
	if (rc != LDAP_SUCCESS)
		conn_error(c->ld, rc, "ldap connect", err, errlen);
#else
	(void)fd;
	rc = ldap_connect(c->ld);
	if (rc != LDAP_SUCCESS)
		conn_error(c->ld, rc, "ldap connect", err, errlen);
#endif
	return rc == LDAP_SUCCESS ? 0 : -1;
}

static int conn_bind(struct ldap_conn *c, char *err, size_t errlen)
{
	const struct ldap_conn_opts *o = &c->opts;
	struct berval cred = { 0, (char *)"" };
	double t0 = clock_monotonic();
	struct timeval tv;
	int fd, rc;

	if (conn_new(c, t0, &fd, err, errlen) < 0)
		return -1;
	/* Connected (TCP and TLS) before the password is copied anywhere:
	 * a DC that does not answer holds no bind request of ours. */
	if (conn_connect(c, fd, err, errlen) < 0) {
		conn_drop(c);
		return -1;
	}
	/* The bind gets what connect and TLS left. */
	tv = time_left(c, t0);
	if (set_timeouts(c, &tv, err, errlen) < 0) {
		conn_drop(c);
		return -1;
	}
	if (o->password) {
		cred.bv_val = (char *)secret_bytes(o->password);
		cred.bv_len = secret_len(o->password);
	}
	/* The library copies the password into its bind request and frees
	 * it unwiped; while it binds, the C library overwrites what is freed
	 * (M_PERTURB; glibc does not for its smallest blocks, and the
	 * request is larger). */
	mallopt(M_PERTURB, 0x5a);
	rc = ldap_sasl_bind_s(c->ld, o->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL,
			      NULL, NULL);
	mallopt(M_PERTURB, 0);
	if (rc != LDAP_SUCCESS) {
		conn_error(c->ld, rc, "ldap bind", err, errlen);
		conn_drop(c);
		return -1;
	}
	/* Every later request has the whole timeout again. */
	tv.tv_sec = o->timeout;
	tv.tv_usec = 0;
	if (set_timeouts(c, &tv, err, errlen) < 0) {
		conn_drop(c);
		return -1;
	}
	/* One line a bind: the count says how the DC is used. */
	log_verbose("ad: bound to %s as %s in %.0f ms", o->uri, o->bind_dn,
		    (clock_monotonic() - t0) * 1000);
	return 0;
}

struct ldap_conn *ldap_conn_open(const struct ldap_conn_opts *opts, char *err,
				 size_t errlen)
{
	struct ldap_conn *c;
	sigset_t mask;
	int rc;

	c = xcalloc(1, sizeof(*c));
	c->opts = *opts;
	c->opts.uri = xstrdup(opts->uri);
	c->opts.ca_file = opts->ca_file ? xstrdup(opts->ca_file) : NULL;
	c->opts.reqcert = opts->reqcert ? xstrdup(opts->reqcert) : NULL;
	c->opts.bind_dn = xstrdup(opts->bind_dn);
	pthread_mutex_init(&c->lock, NULL);
	sigpipe_hold(&mask);
	rc = conn_bind(c, err, errlen);
	sigpipe_release(&mask);
	if (rc < 0) {
		ldap_conn_close(c);
		return NULL;
	}
	return c;
}

/* Hand each entry of res to fn; returns how many there were. */
static size_t deliver(LDAP *ld, LDAPMessage *res, const char *const *attrs,
		      size_t nattrs, ldap_entry_fn fn, void *arg)
{
	char **values = xcalloc(nattrs + 1, sizeof(*values));
	LDAPMessage *e;
	size_t n = 0, i;

	for (e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e)) {
		char *dn = ldap_get_dn(ld, e);

		for (i = 0; i < nattrs; i++) {
			struct berval **v = ldap_get_values_len(ld, e, attrs[i]);

			values[i] = v && v[0] ? xstrndup(v[0]->bv_val,
							 v[0]->bv_len) : NULL;
			ldap_value_free_len(v);
		}
		if (dn)
			fn(arg, dn, (const char *const *)values);
		for (i = 0; i < nattrs; i++)
			xfree_ptr(&values[i]);
		ldap_memfree(dn);
		n++;
	}
	free(values);
	return n;
}

/* The cookie for the next page, or none when this was the last. */
static int next_page(LDAP *ld, LDAPMessage *res, struct berval *cookie)
{
	LDAPControl **ctrls = NULL, *page;
	ber_int_t estimate;
	int code = 0, rc;

	ber_memfree(cookie->bv_val);
	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	rc = ldap_parse_result(ld, res, &code, NULL, NULL, NULL, &ctrls, 0);
	if (rc != LDAP_SUCCESS)
		return rc;
	page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	if (page)
		rc = ldap_parse_pageresponse_control(ld, page, &estimate, cookie);
	ldap_controls_free(ctrls);
	return rc;
}

int ldap_conn_search(struct ldap_conn *c, const char *base, const char *filter,
		     const char *const *attrs, ldap_entry_fn fn, void *arg,
		     char *err, size_t errlen)
{
	struct berval cookie = { 0, NULL };
	size_t nattrs = 0, entries = 0, pages = 0;
	double t0 = clock_monotonic();
	bool retried = false;
	sigset_t mask;
	int rc = 0;

	while (attrs[nattrs])
		nattrs++;
	pthread_mutex_lock(&c->lock);
	sigpipe_hold(&mask);
	for (;;) {
		struct timeval tv = { c->opts.timeout, 0 };
		LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
		LDAPMessage *res = NULL;

		if (!c->ld && conn_bind(c, err, errlen) < 0) {
			rc = -1;
			break;
		}
		rc = ldap_create_page_control(c->ld, PAGE_SIZE,
					      cookie.bv_val ? &cookie : NULL, 0,
					      &page);
		if (rc == LDAP_SUCCESS) {
			ctrls[0] = page;
			rc = ldap_search_ext_s(c->ld, base, LDAP_SCOPE_ONELEVEL,
					       filter, (char **)attrs, 0, ctrls,
					       NULL, &tv, LDAP_NO_LIMIT, &res);
			ldap_control_free(page);
		}
		if (rc == LDAP_SUCCESS) {
			entries += deliver(c->ld, res, attrs, nattrs, fn, arg);
			pages++;
			rc = next_page(c->ld, res, &cookie);
		}
		ldap_msgfree(res);
		/* A dropped connection is tried again only before any entry
		 * was handed on: a new one cannot go on with this one's
		 * pages. */
		if (dropped(rc) && pages == 0 && !retried) {
			log_info("ad: connection to %s lost; binding again",
				 c->opts.uri);
			conn_drop(c);
			retried = true;
			continue;
		}
		if (rc != LDAP_SUCCESS) {
			conn_error(c->ld, rc, "ldap search", err, errlen);
			if (dropped(rc) || rc == LDAP_TIMEOUT)
				conn_drop(c);
			rc = rc == LDAP_NO_SUCH_OBJECT ?
				LDAP_CONN_NO_SUCH_OBJECT : -1;
			break;
		}
		if (!cookie.bv_val || cookie.bv_len == 0)
			break;
	}
	sigpipe_release(&mask);
	pthread_mutex_unlock(&c->lock);
	ber_memfree(cookie.bv_val);
	if (rc == 0)
		log_verbose("ad: ldap search: %zu entries in %zu page(s), %.0f ms",
			    entries, pages, (clock_monotonic() - t0) * 1000);
	return rc;
}

int ldap_conn_values(struct ldap_conn *c, const char *base, bool subtree,
		     const char *filter, const char *const *attrs,
		     ldap_value_fn fn, void *arg, char *err, size_t errlen)
{
	struct timeval tv;
	LDAPMessage *res = NULL, *e;
	bool retried = false, unbound = false;
	sigset_t mask;
	size_t i, j;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	sigpipe_hold(&mask);
	for (;;) {
		tv.tv_sec = c->opts.timeout;
		tv.tv_usec = 0;
		if (!c->ld && conn_bind(c, err, errlen) < 0) {
			unbound = true;
			break;
		}
		rc = ldap_search_ext_s(c->ld, base,
				       subtree ? LDAP_SCOPE_SUBTREE : LDAP_SCOPE_BASE,
				       filter, (char **)attrs, 0, NULL, NULL, &tv,
				       VALUES_MAX_ENTRIES, &res);
		if (dropped(rc) && !retried) {
			ldap_msgfree(res);
			res = NULL;
			log_info("ad: connection to %s lost; binding again",
				 c->opts.uri);
			conn_drop(c);
			retried = true;
			continue;
		}
		break;
	}
	if (unbound) {
		rc = -1;
	} else if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED) {
		for (e = ldap_first_entry(c->ld, res); e;
		     e = ldap_next_entry(c->ld, e)) {
			char *dn = ldap_get_dn(c->ld, e);

			for (i = 0; dn && attrs[i]; i++) {
				struct berval **v =
					ldap_get_values_len(c->ld, e, attrs[i]);

				for (j = 0; v && v[j]; j++) {
					char *value = xstrndup(v[j]->bv_val,
							       v[j]->bv_len);

					fn(arg, dn, attrs[i], value);
					free(value);
				}
				ldap_value_free_len(v);
			}
			ldap_memfree(dn);
		}
		rc = 0;
	} else {
		conn_error(c->ld, rc, "ldap search", err, errlen);
		if (dropped(rc) || rc == LDAP_TIMEOUT)
			conn_drop(c);
		rc = rc == LDAP_NO_SUCH_OBJECT ? LDAP_CONN_NO_SUCH_OBJECT : -1;
	}
	ldap_msgfree(res);
	sigpipe_release(&mask);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int ldap_conn_delete(struct ldap_conn *c, const char *dn, char *err,
		     size_t errlen)
{
	LDAPControl *tree = NULL, *ctrls[2] = { NULL, NULL };
	bool retried = false;
	sigset_t mask;
	int rc;

	if (ldap_control_create(TREE_DELETE_OID, 0, NULL, 0, &tree) !=
	    LDAP_SUCCESS) {
		snprintf(err, errlen, "ldap delete: cannot make its control");
		return -1;
	}
	ctrls[0] = tree;
	pthread_mutex_lock(&c->lock);
	sigpipe_hold(&mask);
	for (;;) {
		if (!c->ld && conn_bind(c, err, errlen) < 0) {
			rc = LDAP_CONN_DOWN;
			break;
		}
		rc = ldap_delete_ext_s(c->ld, dn, ctrls, NULL);
		if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT) {
			rc = 0;
			break;
		}
		if (dropped(rc) && !retried) {
			log_info("ad: connection to %s lost; binding again",
				 c->opts.uri);
			conn_drop(c);
			retried = true;
			continue;
		}
		conn_error(c->ld, rc, "ldap delete", err, errlen);
		if (dropped(rc) || rc == LDAP_TIMEOUT) {
			conn_drop(c);
			rc = LDAP_CONN_DOWN;
		} else if (rc == LDAP_INSUFFICIENT_ACCESS) {
			rc = LDAP_CONN_DENIED;
		} else {
			rc = -1;
		}
		break;
	}
	sigpipe_release(&mask);
	pthread_mutex_unlock(&c->lock);
	ldap_control_free(tree);
	return rc;
}

void ldap_conn_close(struct ldap_conn *c)
{
	sigset_t mask;

	if (!c)
		return;
	sigpipe_hold(&mask);
	conn_drop(c);
	sigpipe_release(&mask);
	pthread_mutex_destroy(&c->lock);
	free((char *)c->opts.uri);
	free((char *)c->opts.ca_file);
	free((char *)c->opts.reqcert);
	free((char *)c->opts.bind_dn);
	free(c);
}
