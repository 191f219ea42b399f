/* ad_accounts.h: Active Directory computer accounts, through adcli, ldapmodify and
 * the OpenLDAP library.
 *
 * The controller searches and deletes over one LDAPS connection, bound
 * once (ldap_conn.h). Passwords reach the tools only through pipes (adcli
 * --stdin-password, ldapmodify -y /dev/fd/3, LDIF on stdin), never argv or
 * environment. The controller creates each account over LDAPS with its
 * one-time password set in the same operation (adcli preset-computer would
 * need that password on its command line) and marks it ours in its
 * description:
 *
 *     slurm-identity:<ClusterName> node=<slurm node> life=<token>
 *
 * Nothing is ever deleted unless that mark names our cluster and node. The
 * life token is new each time the account is made or reset for a new
 * instance, so a registration id ("N1:3fa2c901") names one life of the
 * account: removing a past life never touches the current one.
 */
#ifndef SLURM_IDENTITY_AD_ACCOUNTS_H
#define SLURM_IDENTITY_AD_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/aws/client.h"
#include "common/conf.h"
#include "common/secret.h"

#define AD_COMPUTER_NAME_MAX 15

struct ldap_conn;

struct ad_domain {
	char *name;		/* test.domain */
	char *realm;		/* TEST.DOMAIN */
	char *base_dn;		/* DC=test,DC=domain */
	char *ou;		/* where our accounts live */
	char *controller;	/* NULL: discovered */
	char *user;		/* DomainUser */
	struct secret *password;	/* controller only */
	struct ldap_conn *conn;	/* controller: opened on first use */
};

struct ad_computer {
	char name[AD_COMPUTER_NAME_MAX + 1];	/* without the trailing $ */
	char node[65];		/* from our mark; "" if not ours */
	char life[17];		/* from our mark; "" if none */
	char dn[512];
	bool created_by_user;	/* has mS-DS-CreatorSID: made through the
				 * machine account quota by some user */
	bool ours;		/* ad_computer_owned(): marked for this cluster
				 * and node, and exactly the account we make */
};

/* Deterministic computer name for a node: ComputerNamePrefix + node in
 * capitals when that is a valid NetBIOS name of at most 15 characters,
 * else its first 8 valid characters, '-' and 6 hex digits of
 * SHA-256("<cluster>/<node>"). Returns 0, or -1 for an invalid node. */
int ad_computer_name(const char *cluster, const char *prefix,
		     const char *node, char *out, size_t len);

/* Controller: domain settings and the admin password, with one SSM
 * GetParameters call when parameters are configured. */
int ad_domain_load(const struct identity_conf *conf, struct aws_client *aws,
		   struct ad_domain *d, char *err, size_t errlen);
/* Domain settings without the password (check, node side). */
void ad_domain_from_names(const struct identity_conf *conf, const char *name,
			  struct ad_domain *d);
void ad_domain_clear(struct ad_domain *d);

/* Names per search of ad_find_computers: a filter of 1,000 names is some
 * 25 KB (63 KB at most), below Samba's 256,000 bytes for one request; a
 * chunk of the worker (512 nodes) is one search. */
#define AD_FIND_PER_SEARCH 1000
/* Controller: computer accounts, sorted by name (ad_computer_find). names
 * NULL: all accounts marked with our cluster in the OU; else those with
 * these names in the OU (ours or not), one search per AD_FIND_PER_SEARCH
 * names, on the domain's connection (bound on first use). */
int ad_find_computers(const struct identity_conf *conf, struct ad_domain *d,
		      const char *const *names, size_t n,
		      struct ad_computer **out, size_t *count, char *err,
		      size_t errlen);
/* Sort accounts by name, ignoring case (as AD compares them). */
void ad_computers_sort(struct ad_computer *list, size_t n);
/* The account named name (case ignored) in a sorted list, or NULL. */
const struct ad_computer *ad_computer_find(const struct ad_computer *list,
					   size_t n, const char *name);
/* An account to make for a new life of a node. */
struct ad_new {
	const char *name;		/* computer name */
	const char *node;
	const char *life;		/* fresh token for the mark */
	bool existing;			/* ours already: reset it; else add */
	const struct secret *otp;
};
/* Accounts per ldapmodify run (its LDIF fits a pipe buffer). */
#define AD_BATCH 100
/* Create or reset accounts, one ldapmodify -c run per AD_BATCH, each with
 * its one-time password. The tool's exit status cannot say which entries
 * failed: the caller verifies with ad_find_computers (the new life token
 * in the mark proves the whole operation, password included, applied).
 * -1 with the tool's first complaint in err if any run failed. */
int ad_create_computers(const struct identity_conf *conf,
			const struct ad_domain *d, const struct ad_new *accounts,
			size_t n, aws_gate_fn gate, char *err, size_t errlen);
/* Registration ids: "<computer name>:<life>" (":<life>" absent if none). */
void ad_id_format(char *out, size_t len, const char *name, const char *life);
void ad_id_split(const char *id, char *name, size_t namelen, char *life,
		 size_t lifelen);
/* Delete accounts (and anything below them) by DN, on the domain's
 * connection; the caller checks what is left with ad_find_computers. -1
 * with the first failure in err if any delete failed. gate (NULL: none)
 * is asked before each run or delete: shut, the rest is not done. */
int ad_delete_computers(const struct identity_conf *conf, struct ad_domain *d,
			const char *const *dns, size_t n, aws_gate_fn gate,
			char *err, size_t errlen);

/* Node: join with the one-time password, then validate the keytab. */
int ad_join(const struct identity_conf *conf, const struct ad_domain *d,
	    const char *name, const char *fqdn, const char *keytab,
	    const struct secret *otp, char *err, size_t errlen);
/* adcli testjoin finds the account by the host name: hostname (the
 * computer's short name; needs root) runs it under that name. */
int ad_testjoin(const struct identity_conf *conf, const struct ad_domain *d,
		const char *keytab, const char *hostname, char *err,
		size_t errlen);

/* A computer account from one search entry: its DN, sAMAccountName,
 * description, and whether it has an mS-DS-CreatorSID. false when the
 * entry is not one (no name, a name too long, a DN too long). */
bool ad_computer_from_entry(struct ad_computer *c, const char *dn,
			    const char *sam, const char *description,
			    bool creator, const char *cluster);

/* RFC 4514 escape of one DN attribute value; caller frees. */
char *ad_dn_escape(const char *value);
/* "CN=<name>,<ComputerOU>", the only DN an account of ours has. */
char *ad_account_dn(const struct ad_domain *d, const char *name);
/* Is c ours: marked for this cluster, its name the one we derive from the
 * marked node, at exactly ad_account_dn, and not made through the machine
 * account quota by some user? The mark alone is a claim. */
bool ad_computer_owned(const struct ad_computer *c, const struct ad_domain *d,
		       const char *cluster, const char *prefix);

/* What the DC says DomainUser may do, without writing anything: whether
 * it may create computer objects in the OU (the OU's
 * allowedChildClassesEffective) and, on the account at computer_dn (one of
 * ours; NULL for none), which of the attributes the controller writes it
 * may not (allowedAttributesEffective), comma-separated into missing ("" for
 * none). 0, or -1 with err. */
int ad_effective_rights(const struct identity_conf *conf, struct ad_domain *d,
			const char *computer_dn, bool *may_create,
			char *missing, size_t missinglen, char *err,
			size_t errlen);
/* Is DomainUser a domain admin (adminCount=1, or a member of Domain
 * Admins, Enterprise Admins or Administrators)? why names what said so. */
int ad_user_is_admin(const struct identity_conf *conf, struct ad_domain *d,
		     bool *admin, char *why, size_t whylen, char *err,
		     size_t errlen);

/* LDAP servers for ldap tools: "ldaps://dc" (check's probe uses it). */
char *ad_ldap_uri(const struct ad_domain *d);

#endif
