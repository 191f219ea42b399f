/* ldap_conn.h: one LDAP connection to a domain controller, bound once and
 * used for every search and delete of a run.
 *
 * A run of the worker finds, deletes and checks thousands of computer
 * accounts; with a helper program per step that was three binds per 512
 * nodes. Here the bind is made when the connection opens and made again
 * only if the controller drops the connection. The password is read from
 * its secret when binding, once the connection (TLS included) is up, and
 * what the library frees while it binds is overwritten.
 */
#ifndef SLURM_IDENTITY_LDAP_CONN_H
#define SLURM_IDENTITY_LDAP_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/secret.h"

struct ldap_conn;

struct ldap_conn_opts {
	const char *uri;		/* ldaps://dc */
	const char *ca_file;		/* NULL or "": the library's default */
	const char *reqcert;		/* never, allow, try, demand or hard */
	const char *bind_dn;
	const struct secret *password;	/* must outlive the connection */
	int timeout;			/* seconds for connecting and each step */
};

/* What these return besides 0 and -1: the search's base does not exist;
 * no connection could be had, or it was lost or timed out (the next call
 * binds again). */
#define LDAP_CONN_NO_SUCH_OBJECT 32
#define LDAP_CONN_DOWN (-2)
/* The DC refused: the bound account lacks the right. */
#define LDAP_CONN_DENIED (-3)

/* Connect and bind; NULL with err on failure. */
struct ldap_conn *ldap_conn_open(const struct ldap_conn_opts *opts, char *err,
				 size_t errlen);

/* For each entry: its DN and, for each of the search's attributes, its
 * first value as a string (NULL when it has none). */
typedef void (*ldap_entry_fn)(void *arg, const char *dn,
			      const char *const *values);

/* A one-level search below base, paged, calling fn for every entry.
 * 0, or -1 with err, or LDAP_CONN_NO_SUCH_OBJECT when base does not
 * exist. */
int ldap_conn_search(struct ldap_conn *c, const char *base, const char *filter,
		     const char *const *attrs, ldap_entry_fn fn, void *arg,
		     char *err, size_t errlen);

/* For each value of each of attrs of each entry: its DN, the attribute
 * and the value (all of them, where ldap_conn_search gives the first). */
typedef void (*ldap_value_fn)(void *arg, const char *dn, const char *attr,
			      const char *value);

/* A search of base itself, or (subtree) of everything below it, for a
 * few entries (at most 10 are given: a lookup, not a listing). 0, or -1
 * with err, or LDAP_CONN_NO_SUCH_OBJECT when base does not exist. */
int ldap_conn_values(struct ldap_conn *c, const char *base, bool subtree,
		     const char *filter, const char *const *attrs,
		     ldap_value_fn fn, void *arg, char *err, size_t errlen);

/* Delete dn and anything below it (Tree Delete control); an entry that is
 * already gone counts as deleted. 0, or -1, LDAP_CONN_DOWN or
 * LDAP_CONN_DENIED with err. */
int ldap_conn_delete(struct ldap_conn *c, const char *dn, char *err,
		     size_t errlen);

void ldap_conn_close(struct ldap_conn *c);

#endif
