/* ad.h: Active Directory computer accounts, through adcli and the OpenLDAP
 * tools.
 *
 * Passwords reach the tools only through pipes (adcli --stdin-password,
 * ldapmodify -y /dev/fd/3, LDIF on stdin), never argv or environment. The
 * controller creates each account over LDAPS with its one-time password
 * set in the same operation (adcli preset-computer would need that
 * password on its command line) and marks it ours in its description:
 *
 *     slurm-identity:<ClusterName> node=<slurm node>
 *
 * Nothing is ever deleted unless that mark names our cluster and node.
 */
#ifndef SLURM_IDENTITY_AD_H
#define SLURM_IDENTITY_AD_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/client.h"
#include "conf.h"
#include "secret.h"

#define AD_COMPUTER_NAME_MAX 15

struct ad_domain {
	char *name;		/* test.domain */
	char *realm;		/* TEST.DOMAIN */
	char *base_dn;		/* DC=test,DC=domain */
	char *ou;		/* where our accounts live */
	char *controller;	/* NULL: discovered */
	char *user;		/* DomainUser */
	struct secret *password;	/* controller only */
};

struct ad_computer {
	char name[AD_COMPUTER_NAME_MAX + 1];	/* without the trailing $ */
	char node[65];		/* from our mark; "" if not ours */
	char dn[512];
	bool ours;		/* marked with this cluster */
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

/* Controller: computer accounts. names NULL: all accounts marked with our
 * cluster in the OU; else those with these names anywhere in the domain
 * (ours or not). */
int ad_find_computers(const struct identity_conf *conf,
		      const struct ad_domain *d, const char *const *names,
		      size_t n, struct ad_computer **out, size_t *count,
		      char *err, size_t errlen);
/* Create (or, if dn is given, reset) an account with password otp. */
int ad_create_computer(const struct identity_conf *conf,
		       const struct ad_domain *d, const char *name,
		       const char *node, const char *existing_dn,
		       const struct secret *otp, char *err, size_t errlen);
/* Delete accounts (and anything below them) by DN, with one LDAP bind;
 * the caller checks what is left with ad_find_computers. */
int ad_delete_computers(const struct identity_conf *conf,
			const struct ad_domain *d, const char *const *dns,
			size_t n, char *err, size_t errlen);

/* Node: join with the one-time password, then validate the keytab. */
int ad_join(const struct identity_conf *conf, const struct ad_domain *d,
	    const char *name, const char *fqdn, const char *keytab,
	    const struct secret *otp, char *err, size_t errlen);
/* adcli testjoin finds the account by the host name: hostname (the
 * computer's short name; needs root) runs it under that name. */
int ad_testjoin(const struct identity_conf *conf, const struct ad_domain *d,
		const char *keytab, const char *hostname, char *err,
		size_t errlen);

/* Computers in "ldapsearch -LLL -o ldif-wrap=no" output (sAMAccountName,
 * description; base64 values decoded); appended to *out. */
void ad_parse_search(const char *text, const char *cluster,
		     struct ad_computer **out, size_t *count);

/* LDAP servers for ldap tools: "ldaps://dc" (check's probe uses it). */
char *ad_ldap_uri(const struct ad_domain *d);

#endif
