/* ad_accounts.c: computer accounts in Active Directory. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ad_accounts.h"
#include "ad_delegation.h"
#include "ldap_conn.h"
#include "common/aws/clock.h"
#include "common/aws/services.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/xmalloc.h"

#ifndef LDAPMODIFY_PATH
#define LDAPMODIFY_PATH "/usr/bin/ldapmodify"
#endif

/* Seconds for a helper program, and for each step on the connection. */
#define HELPER_TIMEOUT 30
/* What ldapmodify may say: a line or two for each of AD_BATCH accounts. */
#define LDAP_OUTPUT_MAX (1024 * 1024)

static bool netbios_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

int ad_computer_name(const char *cluster, const char *prefix,
		     const char *node, char *out, size_t len)
{
	char full[160], hash_in[256];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i, n = 0;
	bool valid = true, digits = true;

	if (!node || !*node || strlen(node) > 64 || len <= AD_COMPUTER_NAME_MAX)
		return -1;
	snprintf(full, sizeof(full), "%s%s", prefix ? prefix : "", node);
	for (i = 0; full[i]; i++) {
		full[i] = (char)toupper((unsigned char)full[i]);
		valid &= netbios_char(full[i]);
		digits &= isdigit((unsigned char)full[i]) != 0;
	}
	if (valid && !digits && full[0] != '-' && i <= AD_COMPUTER_NAME_MAX) {
		snprintf(out, len, "%s", full);
		return 0;
	}
	/* Too long or not a NetBIOS name: a short stem and a hash that keeps
	 * nodes (and clusters sharing a domain) apart. */
	snprintf(hash_in, sizeof(hash_in), "%s/%s", cluster ? cluster : "", node);
	if (!EVP_Digest(hash_in, strlen(hash_in), md, &mdlen, EVP_sha256(), NULL))
		return -1;
	for (i = 0; full[i] && n < 8; i++)
		if (netbios_char(full[i]) && !(n == 0 && full[i] == '-'))
			out[n++] = full[i];
	if (n == 0)
		n = (size_t)snprintf(out, len, "SLURM");
	snprintf(out + n, len - n, "-%02X%02X%02X", md[0], md[1], md[2]);
	return 0;
}

static char *upper_dup(const char *s)
{
	char *r = xstrdup(s);

	for (char *p = r; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return r;
}

static char *base_dn_of(const char *domain)
{
	struct strbuf b;
	const char *p = domain;

	strbuf_init(&b);
	while (*p) {
		size_t n = strcspn(p, ".");

		strbuf_printf(&b, "%sDC=%.*s", b.len ? "," : "", (int)n, p);
		p += n + (p[n] == '.');
	}
	return strbuf_detach(&b);
}

static bool domain_name_valid(const char *s)
{
	size_t i;

	if (!s || !*s || strlen(s) > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

void ad_domain_from_names(const struct identity_conf *conf, const char *name,
			  struct ad_domain *d)
{
	memset(d, 0, sizeof(*d));
	d->name = xstrdup(name);
	d->realm = conf->domain_realm ? xstrdup(conf->domain_realm)
				      : upper_dup(name);
	d->base_dn = base_dn_of(name);
	d->ou = conf->computer_ou ? xstrdup(conf->computer_ou)
				  : xasprintf("CN=Computers,%s", d->base_dn);
	d->controller = conf->domain_controller
				? xstrdup(conf->domain_controller) : NULL;
	d->user = conf->domain_user ? xstrdup(conf->domain_user) : NULL;
}

int ad_domain_load(const struct identity_conf *conf, struct aws_client *aws,
		   struct ad_domain *d, char *err, size_t errlen)
{
	struct ssm_parameter params[2];
	const char *names[2];
	char *domain = NULL;
	size_t n = 0, i;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	memset(params, 0, sizeof(params));
	/* No default: the one every domain has is a domain admin. */
	if (!conf->domain_user) {
		snprintf(err, errlen,
			 "DomainUser= is not set: name the account the controller binds as, holding only the rights `slurm-identity policy --role directory` prints");
		return -1;
	}
	if (!conf->domain_name)
		names[n++] = conf->domain_name_parameter;
	if (!conf->domain_password)
		names[n++] = conf->domain_password_parameter;
	if (n) {
		if (!aws) {
			snprintf(err, errlen, "no AWS client for SSM");
			return -1;
		}
		if (ssm_get_parameters(aws, names, n, true, params, err, errlen) < 0)
			return -1;
		for (i = 0; i < n; i++) {
			if (!params[i].found) {
				snprintf(err, errlen, "ssm parameter %s not found",
					 names[i]);
				goto out;
			}
		}
	}
	i = 0;
	if (conf->domain_name) {
		domain = xstrdup(conf->domain_name);
	} else {
		domain = xstrndup((const char *)secret_bytes(params[0].value),
				  secret_len(params[0].value));
		str_trim(domain);
		i = 1;
	}
	if (!domain_name_valid(domain)) {
		snprintf(err, errlen, "domain name from %s is not a DNS name",
			 conf->domain_name ? "DomainName" : conf->domain_name_parameter);
		goto out;
	}
	ad_domain_from_names(conf, domain, d);
	d->password = conf->domain_password ? secret_dup(conf->domain_password)
					    : secret_dup(params[i].value);
	if (!conf->domain_password && params[i].type &&
	    strcmp(params[i].type, "SecureString") != 0)
		log_info("ad: %s is a %s parameter; a SecureString (KMS) is advised",
			 conf->domain_password_parameter, params[i].type);
	rc = 0;
out:
	free(domain);
	for (i = 0; i < 2; i++)
		ssm_parameter_clear(&params[i]);
	if (rc < 0)
		ad_domain_clear(d);
	return rc;
}

void ad_domain_clear(struct ad_domain *d)
{
	free(d->name);
	free(d->realm);
	free(d->base_dn);
	free(d->ou);
	free(d->controller);
	free(d->user);
	ldap_conn_close(d->conn);
	secret_free(d->password);
	memset(d, 0, sizeof(*d));
}

char *ad_ldap_uri(const struct ad_domain *d)
{
	return xasprintf("ldaps://%s", d->controller ? d->controller : d->name);
}

static char *bind_dn(const struct ad_domain *d)
{
	if (strchr(d->user, '@') || strchr(d->user, '='))
		return xstrdup(d->user);
	return xasprintf("%s@%s", d->user, d->realm);
}

/* Run an OpenLDAP tool bound as DomainUser. */
static int run_ldap(const struct identity_conf *conf, const struct ad_domain *d,
		    const char *path, const char **extra, size_t nextra,
		    const struct secret *input, struct strbuf *out, char *err,
		    size_t errlen)
{
	/* Helpers run with LDAPNOINIT (spawn.c): no ldap.conf, ldaprc,
	 * LDAPCONF/LDAPRC or LDAP* variables steer where the password goes.
	 * The TLS settings we need are given as options instead. */
	char *cacert = xasprintf("TLS_CACERT=%s", conf->ldap_ca_file);
	char *reqcert = xasprintf("TLS_REQCERT=%s", conf->ldap_tls_reqcert);
	char *uri = ad_ldap_uri(d), *dn = bind_dn(d), line[300];
	const char *argv[44];
	struct spawn s;
	size_t n = 0, i;
	double t0;
	int rc;

	argv[n++] = strrchr(path, '/') + 1;
	argv[n++] = "-x";
	argv[n++] = "-H";
	argv[n++] = uri;
	argv[n++] = "-D";
	argv[n++] = dn;
	argv[n++] = "-y";
	argv[n++] = "/dev/fd/3";
	argv[n++] = "-o";
	argv[n++] = "nettimeout=10";
	argv[n++] = "-o";
	argv[n++] = cacert;
	argv[n++] = "-o";
	argv[n++] = reqcert;
	for (i = 0; i < nextra && n < 43; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	memset(&s, 0, sizeof(s));
	s.path = path;
	s.argv = argv;
	s.stdin_secret = input;
	s.fd3_secret = d->password;
	s.timeout = HELPER_TIMEOUT;
	s.output_max = LDAP_OUTPUT_MAX;
	t0 = clock_monotonic();
	rc = spawn_run(&s, out, err, errlen);
	/* One bind per run: the count says how the DC is used. */
	log_verbose("ad: %s bound to %s, exit %d in %.0f ms", argv[0], uri, rc,
		    (clock_monotonic() - t0) * 1000);
	if (rc > 0 && rc != 124 && rc != 126 && rc != 127) {
		spawn_first_line(out->data, line, sizeof(line));
		snprintf(err, errlen, "%s: %s (exit %d)", argv[0],
			 line[0] ? line : "failed", rc);
	}
	free(uri);
	free(dn);
	free(cacert);
	free(reqcert);
	return rc;
}

/* "slurm-identity:<cluster> node=<node> life=<token>": node (and the life
 * token, if any) when ours, else "". */
static void parse_mark(const char *description, const char *cluster,
		       struct ad_computer *c)
{
	char *prefix = xasprintf("slurm-identity:%s node=", cluster);
	size_t plen = strlen(prefix), n;
	const char *p, *life;
	bool match = description && strncmp(description, prefix, plen) == 0;

	free(prefix);
	c->node[0] = c->life[0] = '\0';
	if (!match)
		return;
	p = description + plen;
	n = strcspn(p, " ");
	if (n == 0 || n >= sizeof(c->node))
		return;
	snprintf(c->node, sizeof(c->node), "%.*s", (int)n, p);
	life = strstr(p + n, " life=");
	if (life) {
		life += strlen(" life=");
		n = strcspn(life, " ");
		if (n < sizeof(c->life))
			snprintf(c->life, sizeof(c->life), "%.*s", (int)n, life);
	}
}

void ad_id_format(char *out, size_t len, const char *name, const char *life)
{
	snprintf(out, len, "%s%s%s", name, life[0] ? ":" : "", life);
}

void ad_id_split(const char *id, char *name, size_t namelen, char *life,
		 size_t lifelen)
{
	size_t n = strcspn(id, ":");

	snprintf(name, namelen, "%.*s", (int)n, id);
	snprintf(life, lifelen, "%s", id[n] ? id + n + 1 : "");
}

bool ad_computer_from_entry(struct ad_computer *c, const char *dn,
			    const char *sam, const char *description,
			    bool creator, const char *cluster)
{
	size_t n;

	if (!dn || !sam || strlen(dn) >= sizeof(c->dn))
		return false;
	n = strlen(sam);
	if (n > 0 && sam[n - 1] == '$')
		n--;
	if (n == 0 || n > AD_COMPUTER_NAME_MAX)
		return false;
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%.*s", (int)n, sam);
	snprintf(c->dn, sizeof(c->dn), "%s", dn);
	parse_mark(description, cluster, c);
	c->created_by_user = creator;
	c->ours = c->node[0] != '\0';
	return true;
}

/* RFC 4514: a DN attribute value with its special characters escaped. */
char *ad_dn_escape(const char *value)
{
	struct strbuf b;
	size_t i, n = strlen(value);

	strbuf_init(&b);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)value[i];

		if ((i == 0 && (ch == ' ' || ch == '#')) ||
		    (i == n - 1 && ch == ' ') || strchr(",+\"\\<>;=", ch))
			strbuf_printf(&b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			strbuf_printf(&b, "\\%02x", ch);
		else
			strbuf_putc(&b, (char)ch);
	}
	return b.data ? b.data : xstrdup("");
}

/* RFC 4515: a value inside a search filter, escaped. */
static void put_filter_value(struct strbuf *b, const char *value)
{
	for (; *value; value++) {
		unsigned char ch = (unsigned char)*value;

		if (strchr("*()\\", ch) || ch < 0x20 || ch == 0x7f)
			strbuf_printf(b, "\\%02x", ch);
		else
			strbuf_putc(b, (char)ch);
	}
}

char *ad_account_dn(const struct ad_domain *d, const char *name)
{
	char *cn = ad_dn_escape(name), *dn = xasprintf("CN=%s,%s", cn, d->ou);

	free(cn);
	return dn;
}

bool ad_computer_owned(const struct ad_computer *c, const struct ad_domain *d,
		       const char *cluster, const char *prefix)
{
	char name[AD_COMPUTER_NAME_MAX + 1], *dn;
	bool same;

	/* Our mark is a claim anyone who can write a description can make:
	 * the account must also be exactly where and what we make. */
	if (!c->node[0] || c->created_by_user ||
	    ad_computer_name(cluster, prefix, c->node, name, sizeof(name)) < 0 ||
	    strcasecmp(name, c->name) != 0)
		return false;
	dn = ad_account_dn(d, name);
	same = strcasecmp(dn, c->dn) == 0;
	free(dn);
	return same;
}

static int by_name(const void *a, const void *b)
{
	return strcasecmp(((const struct ad_computer *)a)->name,
			  ((const struct ad_computer *)b)->name);
}

void ad_computers_sort(struct ad_computer *list, size_t n)
{
	if (n > 1)
		qsort(list, n, sizeof(*list), by_name);
}

const struct ad_computer *ad_computer_find(const struct ad_computer *list,
					   size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcasecmp(name, list[mid].name);

		if (cmp == 0)
			return &list[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The domain's connection, bound on first use (and after a failure). */
static struct ldap_conn *domain_conn(const struct identity_conf *conf,
				     struct ad_domain *d, char *err,
				     size_t errlen)
{
	struct ldap_conn_opts o = {
		.ca_file = conf->ldap_ca_file,
		.reqcert = conf->ldap_tls_reqcert,
		.password = d->password,
		/* Connect, TLS and bind together, and then each search or
		 * change: RequestTimeout, as for an AWS call. */
		.timeout = conf->request_timeout,
	};
	char *uri, *dn;

	if (d->conn)
		return d->conn;
	uri = ad_ldap_uri(d);
	dn = bind_dn(d);
	o.uri = uri;
	o.bind_dn = dn;
	d->conn = ldap_conn_open(&o, err, errlen);
	free(uri);
	free(dn);
	return d->conn;
}

struct found {
	const char *cluster;
	struct ad_computer *list;
	size_t count, cap;
};

static void found_entry(void *arg, const char *dn, const char *const *values)
{
	struct found *f = arg;

	if (f->count == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->list = xrealloc(f->list, f->cap * sizeof(*f->list));
	}
	if (ad_computer_from_entry(&f->list[f->count], dn, values[0],
				   values[1], values[2] != NULL, f->cluster))
		f->count++;
}

/* One search in ComputerOU for filter; what it finds is added to f. */
static int search_computers(const struct identity_conf *conf,
			    struct ad_domain *d, const char *filter,
			    struct found *f, char *err, size_t errlen)
{
	static const char *const attrs[] = {
		"sAMAccountName", "description", "mS-DS-CreatorSID", NULL
	};
	struct ldap_conn *c = domain_conn(conf, d, err, errlen);
	int rc;

	if (!c)
		return -1;
	/* Only ComputerOU, one level: an account elsewhere in the domain is
	 * never ours, whatever its description says. */
	rc = ldap_conn_search(c, d->ou, filter, attrs, found_entry, f, err,
			      errlen);
	if (rc == LDAP_CONN_NO_SUCH_OBJECT)
		snprintf(err, errlen, "ComputerOU %s does not exist", d->ou);
	return rc == 0 ? 0 : -1;
}

int ad_find_computers(const struct identity_conf *conf, struct ad_domain *d,
		      const char *const *names, size_t n,
		      struct ad_computer **out, size_t *count, char *err,
		      size_t errlen)
{
	struct found f = { .cluster = conf->cluster_name };
	struct strbuf filter;
	size_t i;
	int rc = 0;

	*out = NULL;
	*count = 0;
	strbuf_init(&filter);
	if (!names) {
		strbuf_puts(&filter, "(&(objectClass=computer)(description=slurm-identity:");
		put_filter_value(&filter, conf->cluster_name);
		strbuf_puts(&filter, " node=*))");
		rc = search_computers(conf, d, filter.data, &f, err, errlen);
	}
	/* AD_FIND_PER_SEARCH names a search: Samba takes a request of
	 * 256,000 bytes at most. */
	for (i = 0; names && i < n && rc == 0; i++) {
		if (i % AD_FIND_PER_SEARCH == 0) {
			strbuf_free(&filter);
			strbuf_init(&filter);
			strbuf_puts(&filter, "(&(objectClass=computer)(|");
		}
		strbuf_puts(&filter, "(sAMAccountName=");
		put_filter_value(&filter, names[i]);
		strbuf_puts(&filter, "$)");
		if (i % AD_FIND_PER_SEARCH == AD_FIND_PER_SEARCH - 1 ||
		    i == n - 1) {
			strbuf_puts(&filter, "))");
			rc = search_computers(conf, d, filter.data, &f, err,
					      errlen);
		}
	}
	strbuf_free(&filter);
	if (rc < 0) {
		free(f.list);
		return -1;
	}
	*out = f.list;
	*count = f.count;
	for (i = 0; i < *count; i++)
		(*out)[i].ours = ad_computer_owned(&(*out)[i], d,
						   conf->cluster_name,
						   conf->computer_name_prefix);
	ad_computers_sort(*out, *count);
	return 0;
}

/* unicodePwd is the password in double quotes, UTF-16LE, base64. */
static void put_unicode_pwd(struct strbuf *b, const struct secret *otp)
{
	size_t len = secret_len(otp), i, n = 0;
	unsigned char *u16 = xmalloc(2 * (len + 2));
	unsigned char *b64 = xmalloc(4 * ((2 * (len + 2) + 2) / 3) + 1);
	const unsigned char *p = secret_bytes(otp);

	u16[n++] = '"';
	u16[n++] = 0;
	for (i = 0; i < len; i++) {
		u16[n++] = p[i];	/* the one-time password is ASCII */
		u16[n++] = 0;
	}
	u16[n++] = '"';
	u16[n++] = 0;
	EVP_EncodeBlock(b64, u16, (int)n);
	strbuf_printf(b, "unicodePwd:: %s\n", (const char *)b64);
	OPENSSL_cleanse(u16, n);
	OPENSSL_cleanse(b64, strlen((char *)b64));
	free(u16);
	free(b64);
}

/* "name:: <base64 of value>" */
static void put_b64_line(struct strbuf *b, const char *name, const char *value)
{
	size_t len = strlen(value);
	unsigned char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock(out, (const unsigned char *)value, (int)len);
	strbuf_printf(b, "%s:: %s\n", name, (const char *)out);
	free(out);
}

/* One account's LDIF: an add, or a modify of an existing account of ours.
 * Either is one LDAP operation, so the password and the mark with the new
 * life change together or not at all. */
static void put_account(struct strbuf *ldif, const struct identity_conf *conf,
			const struct ad_domain *d, const struct ad_new *a)
{
	char lower[65];
	char *dn = ad_account_dn(d, a->name);
	size_t i;

	/* The node's host name in the domain, as its join will say. */
	for (i = 0; i < sizeof(lower) - 1 && a->node[i]; i++)
		lower[i] = (char)tolower((unsigned char)a->node[i]);
	lower[i] = '\0';
	/* Only the DN we build, and base64 (dn::), so no byte of it can be
	 * read as LDIF. An existing account is only ever ours at that DN. */
	put_b64_line(ldif, "dn", dn);
	free(dn);
	if (a->existing) {
		strbuf_puts(ldif, "changetype: modify\n");
		strbuf_printf(ldif, "replace: description\ndescription: slurm-identity:%s node=%s life=%s\n-\n",
			      conf->cluster_name, a->node, a->life);
		strbuf_puts(ldif, "replace: userAccountControl\nuserAccountControl: 4096\n-\n");
		strbuf_puts(ldif, "replace: unicodePwd\n");
		put_unicode_pwd(ldif, a->otp);
		strbuf_puts(ldif, "-\n\n");
	} else {
		strbuf_puts(ldif, "changetype: add\n");
		strbuf_puts(ldif, "objectClass: computer\n");
		strbuf_printf(ldif, "sAMAccountName: %s$\n", a->name);
		strbuf_puts(ldif, "userAccountControl: 4096\n");
		strbuf_printf(ldif, "dNSHostName: %s.%s\n", lower, d->name);
		strbuf_printf(ldif, "description: slurm-identity:%s node=%s life=%s\n",
			      conf->cluster_name, a->node, a->life);
		put_unicode_pwd(ldif, a->otp);
		strbuf_putc(ldif, '\n');
	}
}

int ad_create_computers(const struct identity_conf *conf,
			const struct ad_domain *d, const struct ad_new *accounts,
			size_t n, aws_gate_fn gate, char *err, size_t errlen)
{
	const char *extra[1] = { "-c" };
	size_t first, i;
	int rc = 0;

	err[0] = '\0';
	/* The LDIF goes through a pipe filled before the tool starts. */
	for (first = 0; first < n; first += AD_BATCH) {
		struct strbuf ldif, out;
		struct secret *input;
		char why[512];

		if (gate && !gate(why, sizeof(why))) {
			if (!err[0])
				snprintf(err, errlen, "not sent: %s", why);
			rc = -1;
			break;
		}
		strbuf_init(&ldif);
		strbuf_init(&out);
		for (i = first; i < n && i < first + AD_BATCH; i++)
			put_account(&ldif, conf, d, &accounts[i]);
		input = secret_new(ldif.data, ldif.len);
		OPENSSL_cleanse(ldif.data, ldif.len);
		strbuf_free(&ldif);
		if (run_ldap(conf, d, LDAPMODIFY_PATH, extra, 1, input, &out, why,
			     sizeof(why)) != 0) {
			if (!err[0] && strstr(why, "Insufficient access"))
				snprintf(err, errlen, "%s may not create or reset accounts in %s: %s; %s",
					 d->user, d->ou, ad_right_to_create, why);
			else if (!err[0])
				snprintf(err, errlen, "%s", why);
			rc = -1;
		}
		secret_free(input);
		strbuf_free(&out);
	}
	return rc;
}

/* adcli's common domain options. */
static size_t adcli_domain_args(const struct ad_domain *d, char *dom,
				size_t domlen, char *realm, size_t rlen,
				char *dc, size_t dclen, const char **argv,
				bool with_realm)
{
	size_t n = 0;

	snprintf(dom, domlen, "--domain=%s", d->name);
	argv[n++] = dom;
	if (with_realm) {
		snprintf(realm, rlen, "--domain-realm=%s", d->realm);
		argv[n++] = realm;
	}
	if (d->controller) {
		snprintf(dc, dclen, "--domain-controller=%s", d->controller);
		argv[n++] = dc;
	}
	return n;
}

static int run_adcli(const struct identity_conf *conf, const char **argv,
		     const struct secret *input, const char *hostname,
		     struct strbuf *out, char *err, size_t errlen)
{
	struct spawn s;
	char line[300];
	int rc;

	memset(&s, 0, sizeof(s));
	s.path = conf->adcli_path;
	s.argv = argv;
	s.stdin_secret = input;
	s.uts_hostname = hostname;
	s.timeout = HELPER_TIMEOUT;
	rc = spawn_run(&s, out, err, errlen);
	if (rc > 0 && rc != 124 && rc != 126 && rc != 127) {
		spawn_first_line(out->data, line, sizeof(line));
		snprintf(err, errlen, "adcli %s: %s (exit %d)", argv[1],
			 line[0] ? line : "failed", rc);
	}
	return rc;
}

int ad_delete_computers(const struct identity_conf *conf, struct ad_domain *d,
			const char *const *dns, size_t n, aws_gate_fn gate,
			char *err, size_t errlen)
{
	struct ldap_conn *c;
	size_t i, failed = 0;
	char why[512];

	if (n == 0)
		return 0;
	c = domain_conn(conf, d, err, errlen);
	if (!c)
		return -1;
	for (i = 0; i < n; i++) {
		int rc;

		if (gate && !gate(why, sizeof(why))) {
			if (failed++ == 0)
				snprintf(err, errlen, "not sent: %s", why);
			failed += n - i - 1;
			break;
		}
		rc = ldap_conn_delete(c, dns[i], why, sizeof(why));
		if (rc == 0)
			continue;
		if (failed++ == 0 && rc == LDAP_CONN_DENIED)
			snprintf(err, errlen, "%s may not delete %s: %s; %s",
				 d->user, dns[i], ad_right_to_delete, why);
		else if (failed == 1)
			snprintf(err, errlen, "%s: %s", dns[i], why);
		/* Without a connection the rest would each wait for one. */
		if (rc == LDAP_CONN_DOWN) {
			failed += n - i - 1;
			break;
		}
	}
	if (failed)
		log_verbose("ad: %zu of %zu deletes not done", failed, n);
	return failed ? -1 : 0;
}

int ad_join(const struct identity_conf *conf, const struct ad_domain *d,
	    const char *name, const char *fqdn, const char *keytab_path,
	    const struct secret *otp, char *err, size_t errlen)
{
	char dom[300], realm[300], dc[300], cn[64], host[300], keytab[600];
	const char *argv[16];
	struct strbuf out;
	size_t n = 0;
	int rc;

	argv[n++] = "adcli";
	argv[n++] = "join";
	n += adcli_domain_args(d, dom, sizeof(dom), realm, sizeof(realm), dc,
			       sizeof(dc), argv + n, true);
	argv[n++] = "--login-type=computer";
	argv[n++] = "--stdin-password";
	snprintf(cn, sizeof(cn), "--computer-name=%s", name);
	argv[n++] = cn;
	snprintf(host, sizeof(host), "--host-fqdn=%s", fqdn);
	argv[n++] = host;
	snprintf(keytab, sizeof(keytab), "--host-keytab=%s", keytab_path);
	argv[n++] = keytab;
	argv[n] = NULL;
	strbuf_init(&out);
	rc = run_adcli(conf, argv, otp, NULL, &out, err, errlen);
	strbuf_free(&out);
	return rc == 0 ? 0 : -1;
}

int ad_testjoin(const struct identity_conf *conf, const struct ad_domain *d,
		const char *keytab_path, const char *hostname, char *err,
		size_t errlen)
{
	char dom[300], realm[300], dc[300], keytab[600];
	const char *argv[10];
	struct strbuf out;
	size_t n = 0;
	int rc;

	argv[n++] = "adcli";
	argv[n++] = "testjoin";
	n += adcli_domain_args(d, dom, sizeof(dom), realm, sizeof(realm), dc,
			       sizeof(dc), argv + n, false);
	snprintf(keytab, sizeof(keytab), "--host-keytab=%s", keytab_path);
	argv[n++] = keytab;
	argv[n] = NULL;
	strbuf_init(&out);
	rc = run_adcli(conf, argv, NULL, hostname, &out, err, errlen);
	strbuf_free(&out);
	return rc == 0 ? 0 : -1;
}

/* What ldap_conn_values hands: the values seen, joined. */
struct seen_values {
	struct strbuf all;	/* ",value,value," */
	bool admin_count;
	bool entry;		/* an entry had a value */
};

static void collect_value(void *arg, const char *dn, const char *attr,
			  const char *value)
{
	struct seen_values *v = arg;

	(void)dn;
	v->entry = true;
	if (strcasecmp(attr, "adminCount") == 0) {
		v->admin_count = strcmp(value, "0") != 0;
		return;
	}
	if (!v->all.len)
		strbuf_putc(&v->all, ',');
	strbuf_printf(&v->all, "%s,", value);
}

/* Is value (case ignored) among the ",a,b," values seen? */
static bool seen_has(const struct seen_values *v, const char *value)
{
	const char *p = v->all.data;
	size_t n = strlen(value);

	while (p && (p = strchr(p, ',')) && p[1]) {
		p++;
		if (strncasecmp(p, value, n) == 0 && p[n] == ',')
			return true;
	}
	return false;
}

int ad_effective_rights(const struct identity_conf *conf, struct ad_domain *d,
			const char *computer_dn, bool *may_create,
			char *missing, size_t missinglen, char *err,
			size_t errlen)
{
	static const char *const child[] = { "allowedChildClassesEffective", NULL };
	static const char *const attrs[] = { "allowedAttributesEffective", NULL };
	struct ldap_conn *c = domain_conn(conf, d, err, errlen);
	struct seen_values v;
	size_t i, n = 0;
	int rc;

	*may_create = false;
	missing[0] = '\0';
	if (!c)
		return -1;
	strbuf_init(&v.all);
	v.entry = false;
	v.admin_count = false;
	rc = ldap_conn_values(c, d->ou, false, "(objectClass=*)", child,
			      collect_value, &v, err, errlen);
	if (rc == LDAP_CONN_NO_SUCH_OBJECT)
		snprintf(err, errlen, "%s does not exist", d->ou);
	if (rc != 0) {
		strbuf_free(&v.all);
		return -1;
	}
	*may_create = seen_has(&v, "computer");
	strbuf_free(&v.all);
	if (!computer_dn)
		return 0;
	strbuf_init(&v.all);
	v.entry = false;
	rc = ldap_conn_values(c, computer_dn, false, "(objectClass=*)", attrs,
			      collect_value, &v, err, errlen);
	if (rc != 0) {
		strbuf_free(&v.all);
		return -1;
	}
	for (i = 0; ad_written_attributes[i]; i++)
		if (!seen_has(&v, ad_written_attributes[i]))
			n += (size_t)snprintf(missing + n,
					      n < missinglen ? missinglen - n : 0,
					      "%s%s", n ? "," : "",
					      ad_written_attributes[i]);
	strbuf_free(&v.all);
	return 0;
}

int ad_user_is_admin(const struct identity_conf *conf, struct ad_domain *d,
		     bool *admin, char *why, size_t whylen, char *err,
		     size_t errlen)
{
	static const char *const attrs[] = { "sAMAccountName", "adminCount", "memberOf", NULL };
	static const char *const groups[] = {
		"CN=Domain Admins,", "CN=Enterprise Admins,",
		"CN=Administrators,CN=Builtin,",
	};
	struct ldap_conn *c = domain_conn(conf, d, err, errlen);
	struct seen_values v;
	struct strbuf f;
	char *filter;
	size_t i;
	int rc;

	*admin = false;
	why[0] = '\0';
	if (!c)
		return -1;
	/* A UPN, a DN or a plain account name, as bind_dn() takes it. */
	strbuf_init(&f);
	strbuf_puts(&f, strchr(d->user, '=') ? "(distinguishedName=" :
			strchr(d->user, '@') ? "(&(objectClass=user)(userPrincipalName=" :
					       "(&(objectClass=user)(sAMAccountName=");
	put_filter_value(&f, d->user);
	strbuf_puts(&f, strchr(d->user, '=') ? ")" : "))");
	filter = strbuf_detach(&f);
	strbuf_init(&v.all);
	v.admin_count = false;
	v.entry = false;
	rc = ldap_conn_values(c, d->base_dn, true, filter, attrs, collect_value,
			      &v, err, errlen);
	free(filter);
	if (rc == 0 && !v.entry) {
		snprintf(err, errlen, "no entry for %s under %s",
			 d->user, d->base_dn);
		rc = -1;
	} else if (rc == 0) {
		if (v.admin_count) {
			*admin = true;
			snprintf(why, whylen, "adminCount is set");
		}
		for (i = 0; i < sizeof(groups) / sizeof(groups[0]) && !*admin; i++) {
			const char *g = v.all.data ? strcasestr(v.all.data, groups[i]) : NULL;

			if (g && (g == v.all.data || g[-1] == ',')) {
				*admin = true;
				snprintf(why, whylen, "a member of %.*s",
					 (int)(strchr(g, ',') - g), g);
			}
		}
	}
	strbuf_free(&v.all);
	return rc == 0 ? 0 : -1;
}
