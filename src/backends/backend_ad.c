/* backend_ad.c: Active Directory computer accounts.
 *
 * Resume (controller): each node gets a computer account created ahead of
 * time with a fresh random one-time password, and that password is handed
 * to the node alone as a short-lived Secrets Manager secret,
 * slurm-identity/<cluster>/join/<node>. The domain admin password is read
 * from SSM Parameter Store on the controller and never leaves it.
 *
 * First job (node): read the secret with the instance role, adcli join
 * with the one-time password on stdin, adcli testjoin, delete the secret.
 *
 * Suspend and reconcile (controller): delete accounts that carry our mark
 * for that node, and the node's join secret.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ad_accounts.h"
#include "ad_delegation.h"
#include "backend.h"
#include "common/aws/clock.h"
#include "common/aws/services.h"
#include "common/hostlist.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/xmalloc.h"
#include "common/json_field.h"

#define OTP_LENGTH 32

/* The domain, read once per context (ctx's slot for this backend). */
static struct ad_domain *domain_of(struct backend_context *ctx)
{
	return *backend_state(ctx, &ad_backend);
}

static void free_domain(void *state)
{
	ad_domain_clear(state);
	free(state);
}

static int domain(struct backend_context *ctx, char *err, size_t errlen)
{
	struct ad_domain *d;

	if (domain_of(ctx))
		return 0;
	if (!ctx->conf->cluster_name) {
		snprintf(err, errlen, "no ClusterName to mark computer accounts with");
		return -1;
	}
	d = xcalloc(1, sizeof(*d));
	if (ad_domain_load(ctx->conf, ctx->aws, d, err, errlen) < 0) {
		free(d);
		return -1;
	}
	*backend_state(ctx, &ad_backend) = d;
	return 0;
}

/* The tag of a join secret naming the instance it is for. */
#define AD_INSTANCE_TAG "slurm-identity:instance"

static char *secret_name(const struct identity_conf *conf, const char *node)
{
	return xasprintf("slurm-identity/%s/join/%s", conf->cluster_name, node);
}

static int ad_list(struct backend_context *ctx, struct registration **regs,
		   size_t *count, char *err, size_t errlen)
{
	struct ad_computer *found = NULL;
	size_t n = 0, i;

	*regs = NULL;
	*count = 0;
	if (domain(ctx, err, errlen) < 0 ||
	    ad_find_computers(ctx->conf, domain_of(ctx), NULL, 0, &found, &n, err,
			      errlen) < 0)
		return -1;
	*regs = xcalloc(n + 1, sizeof(**regs));
	for (i = 0; i < n; i++) {
		struct registration *r = &(*regs)[*count];

		if (found[i].node[0] && !found[i].ours)
			log_info("ad: %s carries our mark for %s but is not an account we make; left alone",
				 found[i].dn, found[i].node);
		if (!found[i].ours || !node_name_valid(found[i].node))
			continue;
		snprintf(r->node, sizeof(r->node), "%s", found[i].node);
		ad_id_format(r->id, sizeof(r->id), found[i].name, found[i].life);
		snprintf(r->detail, sizeof(r->detail), "%.120s", found[i].dn);
		(*count)++;
	}
	free(found);
	return 0;
}

/* Is c the account of this registration: ours, its node, and (when the id
 * names one) the same life? */
static bool same_life(const struct ad_computer *c, const struct registration *r,
		      const char *life)
{
	return c && c->ours && strcmp(c->node, r->node) == 0 &&
	       (!life[0] || strcmp(c->life, life) == 0);
}

static void ad_remove(struct backend_context *ctx, struct registration *regs,
		      size_t count)
{
	struct ad_computer *found = NULL, *left = NULL;
	char (*names)[AD_COMPUTER_NAME_MAX + 1] = xcalloc(count + 1, sizeof(*names));
	char (*lives)[17] = xcalloc(count + 1, sizeof(*lives));
	const char **name_list = xcalloc(count + 1, sizeof(*name_list));
	const char **dns = xcalloc(count + 1, sizeof(*dns));
	char **secrets = xcalloc(count + 1, sizeof(*secrets));
	char (*serr)[256] = xcalloc(count + 1, sizeof(*serr));
	size_t *secret_of = xcalloc(count + 1, sizeof(*secret_of));
	size_t *secret_failed = xcalloc(count + 1, sizeof(*secret_failed));
	size_t nfound = 0, nleft = 0, ndns = 0, nsecrets = 0, i;
	char err[512] = "";

	for (i = 0; i < count; i++) {
		ad_id_split(regs[i].id, names[i], sizeof(names[i]), lives[i],
			    sizeof(lives[i]));
		name_list[i] = names[i];
	}
	if (domain(ctx, err, sizeof(err)) < 0 ||
	    ad_find_computers(ctx->conf, domain_of(ctx), name_list, count, &found,
			      &nfound, err, sizeof(err)) < 0) {
		for (i = 0; i < count; i++)
			snprintf(regs[i].error, sizeof(regs[i].error), "%.200s", err);
		log_error("ad: cannot look up computer accounts: %s", err);
		goto out;
	}
	/* Only accounts marked as this cluster's, for this node and life. An
	 * account made again for a later life is that life's: its removal
	 * here is done, and its join secret is left alone. */
	for (i = 0; i < count; i++) {
		const struct ad_computer *c =
			ad_computer_find(found, nfound, names[i]);

		if (same_life(c, &regs[i], lives[i]))
			dns[ndns++] = c->dn;
		else if (c && c->ours && strcmp(c->node, regs[i].node) == 0)
			log_info("%s: ad: %s is now life %s; nothing of life %s to remove",
				 regs[i].node, names[i], c->life, lives[i]);
		else if (c)
			log_info("%s: ad: computer %s is not ours (%s); left alone",
				 regs[i].node, names[i], c->dn);
		if (!c || same_life(c, &regs[i], lives[i])) {
			secret_of[nsecrets] = i;
			secrets[nsecrets++] = secret_name(ctx->conf, regs[i].node);
		}
	}
	if (ndns && ad_delete_computers(ctx->conf, domain_of(ctx), dns, ndns,
					ctx->gate, err, sizeof(err)) < 0)
		log_error("ad: delete: %s", err);
	/* What is still there failed, whatever the tool said. */
	if (ndns && ad_find_computers(ctx->conf, domain_of(ctx), name_list,
				      count, &left, &nleft, err,
				      sizeof(err)) < 0) {
		for (i = 0; i < count; i++)
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "cannot verify the deletion: %.200s", err);
		goto out;
	}
	if (nsecrets)
		sm_delete_secrets(ctx->aws, (const char *const *)secrets, nsecrets,
				  serr, ctx->deadline);
	for (i = 0; i < nsecrets; i++)
		if (serr[i][0])
			secret_failed[secret_of[i]] = i + 1;
	for (i = 0; i < count; i++) {
		const struct ad_computer *was =
			ad_computer_find(found, nfound, names[i]);
		const struct ad_computer *now =
			ad_computer_find(left, nleft, names[i]);

		/* The account gone and its join secret not: the node stays
		 * pending, and the next try finds the account gone and
		 * deletes the secret again. */
		if (secret_failed[i] && !same_life(now, &regs[i], lives[i])) {
			size_t k = secret_failed[i] - 1;

			snprintf(regs[i].error, sizeof(regs[i].error),
				 "account deleted, join secret %.80s not: %.120s",
				 secrets[k], serr[k]);
			metrics_count("slurm_identity_failures_total",
				      "backend=\"ad\",op=\"deregister\"", 1);
			continue;
		}
		if (same_life(now, &regs[i], lives[i])) {
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "computer %s still exists after delete%s%.200s",
				 names[i], err[0] ? ": " : "", err);
			metrics_count("slurm_identity_failures_total",
				      "backend=\"ad\",op=\"deregister\"", 1);
			continue;
		}
		regs[i].removed = true;
		metrics_count("slurm_identity_deregistrations_total",
			      "backend=\"ad\"", 1);
		if (same_life(was, &regs[i], lives[i]))
			log_info("%s: ad: computer %s deleted", regs[i].node,
				 regs[i].id);
		else if (!was)
			log_info("%s: ad: computer %s already gone", regs[i].node,
				 regs[i].id);
	}
out:
	for (i = 0; i < nsecrets; i++)
		free(secrets[i]);
	free(secrets);
	free(serr);
	free(secret_of);
	free(secret_failed);
	free(names);
	free(lives);
	free(name_list);
	free(dns);
	free(found);
	free(left);
}

/* The node's join secret: where to join, as what, and the password. */
static struct secret *join_secret(const struct ad_domain *d, const char *node,
				  const char *computer, const char *id,
				  const struct secret *otp)
{
	struct strbuf b;
	struct secret *s;

	/* Every value is a validated name or the one-time password, whose
	 * alphabet needs no JSON escaping. */
	strbuf_init(&b);
	strbuf_printf(&b, "{\"node\":\"%s\",\"computer\":\"%s\",\"id\":\"%s\",\"domain\":\"%s\",\"realm\":\"%s\"",
		      node, computer, id, d->name, d->realm);
	if (d->controller)
		strbuf_printf(&b, ",\"controller\":\"%s\"", d->controller);
	strbuf_puts(&b, ",\"otp\":\"");
	strbuf_append(&b, (const char *)secret_bytes(otp), secret_len(otp));
	strbuf_puts(&b, "\"}");
	s = secret_new(b.data, b.len);
	OPENSSL_cleanse(b.data, b.len);
	strbuf_free(&b);
	return s;
}

/* A fresh token naming this life of an account. */
static int new_life(char *out, size_t len)
{
	unsigned char r[4];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	snprintf(out, len, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
	return 0;
}

static void ad_prepare(struct backend_context *ctx, struct registration *regs,
		       size_t count)
{
	struct ad_computer *found = NULL, *made = NULL;
	char (*names)[AD_COMPUTER_NAME_MAX + 1] = xcalloc(count + 1, sizeof(*names));
	char (*lives)[17] = xcalloc(count + 1, sizeof(*lives));
	const char **name_list = xcalloc(count + 1, sizeof(*name_list));
	struct ad_new *accounts = xcalloc(count + 1, sizeof(*accounts));
	struct secret **otps = xcalloc(count + 1, sizeof(*otps));
	struct sm_put *puts = xcalloc(count + 1, sizeof(*puts));
	struct secret **values = xcalloc(count + 1, sizeof(*values));
	char **snames = xcalloc(count + 1, sizeof(*snames));
	size_t *index = xcalloc(count + 1, sizeof(*index));
	size_t nfound = 0, nmade = 0, nacc = 0, nput = 0, i;
	char err[512], why[512] = "";

	for (i = 0; i < count; i++) {
		if (ad_computer_name(ctx->conf->cluster_name,
				     ctx->conf->computer_name_prefix,
				     regs[i].node, names[i], sizeof(names[i])) < 0)
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "no computer name for node %s", regs[i].node);
		name_list[i] = names[i];
	}
	if (domain(ctx, err, sizeof(err)) < 0 ||
	    ad_find_computers(ctx->conf, domain_of(ctx), name_list, count, &found,
			      &nfound, err, sizeof(err)) < 0) {
		for (i = 0; i < count; i++)
			snprintf(regs[i].error, sizeof(regs[i].error), "%.200s", err);
		goto out;
	}
	/* Every account in one batch: one LDAP bind, not one per node. */
	for (i = 0; i < count; i++) {
		const struct ad_computer *c =
			ad_computer_find(found, nfound, names[i]);

		if (regs[i].error[0])
			continue;
		if (c && !(c->ours && strcmp(c->node, regs[i].node) == 0)) {
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "computer name %s is taken by %.150s, which is not this node's",
				 names[i], c->dn);
			continue;
		}
		otps[i] = secret_random_password(OTP_LENGTH);
		if (!otps[i] || new_life(lives[i], sizeof(lives[i])) < 0) {
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "no randomness for a one-time password");
			continue;
		}
		accounts[nacc].name = names[i];
		accounts[nacc].node = regs[i].node;
		accounts[nacc].life = lives[i];
		accounts[nacc].existing = c != NULL;
		accounts[nacc++].otp = otps[i];
	}
	if (nacc == 0)
		goto out;
	/* Its exit status cannot say which entries failed: what the
	 * directory holds afterwards does. */
	ad_create_computers(ctx->conf, domain_of(ctx), accounts, nacc, ctx->gate,
			    why, sizeof(why));
	if (ad_find_computers(ctx->conf, domain_of(ctx), name_list, count, &made,
			      &nmade, err, sizeof(err)) < 0) {
		for (i = 0; i < count; i++)
			if (otps[i])
				snprintf(regs[i].error, sizeof(regs[i].error),
					 "cannot verify the new accounts: %.200s", err);
		goto out;
	}
	/* An account carrying the new life token is made, password and all. */
	for (i = 0; i < count; i++) {
		const struct ad_computer *c =
			ad_computer_find(made, nmade, names[i]);

		if (!otps[i] || regs[i].error[0])
			continue;
		if (!(c && c->ours && strcmp(c->node, regs[i].node) == 0 &&
		      strcmp(c->life, lives[i]) == 0)) {
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "account %s not made%s%.200s", names[i],
				 why[0] ? ": " : "", why);
			continue;
		}
		ad_id_format(regs[i].id, sizeof(regs[i].id), names[i], lives[i]);
		log_info("%s: ad: computer %s %s", regs[i].node, regs[i].id,
			 ad_computer_find(found, nfound, names[i]) ?
				 "reset for a new instance" : "created");
		values[nput] = join_secret(domain_of(ctx), regs[i].node, names[i],
					   regs[i].id, otps[i]);
		snames[nput] = secret_name(ctx->conf, regs[i].node);
		puts[nput].name = snames[nput];
		puts[nput].value = values[nput];
		puts[nput].description = "slurm-identity one-time domain join";
		index[nput++] = i;
	}
	if (nput)
		sm_put_secrets(ctx->aws, puts, nput,
			       ctx->conf->join_secret_kms_key,
			       ctx->conf->cluster_name,
			       strcmp(ctx->conf->join_secret_binding, "none") != 0
				       ? AD_INSTANCE_TAG : NULL,
			       ctx->deadline);
	for (i = 0; i < nput; i++) {
		if (!puts[i].ok)
			snprintf(regs[index[i]].error, sizeof(regs[index[i]].error),
				 "join secret: %.200s", puts[i].error);
		secret_free(values[i]);
		free(snames[i]);
	}
out:
	for (i = 0; i < count; i++) {
		secret_free(otps[i]);
		if (regs[i].error[0]) {
			metrics_count("slurm_identity_failures_total",
				      "backend=\"ad\",op=\"prepare\"", 1);
			log_error("%s: ad: prepare: %s", regs[i].node, regs[i].error);
		}
	}
	free(found);
	free(made);
	free(names);
	free(lives);
	free(name_list);
	free(accounts);
	free(otps);
	free(puts);
	free(values);
	free(snames);
	free(index);
}

/* Each node's join secret tagged with the instance it is for (its ARN
 * in detail): the node role reads only a secret tagged with the instance
 * its credentials come from. A secret gone meanwhile (the node joined)
 * has nothing left to bind. */
static void ad_bind(struct backend_context *ctx, struct registration *regs,
		    size_t count)
{
	char **names = xcalloc(count + 1, sizeof(*names));
	const char **values = xcalloc(count + 1, sizeof(*values));
	char (*errs)[256] = xcalloc(count + 1, sizeof(*errs));
	bool *gone = xcalloc(count + 1, sizeof(*gone));
	size_t i;

	for (i = 0; i < count; i++) {
		names[i] = secret_name(ctx->conf, regs[i].node);
		values[i] = regs[i].detail;
	}
	sm_tag_secrets(ctx->aws, (const char *const *)names, AD_INSTANCE_TAG,
		       values, count, errs, gone, ctx->deadline);
	for (i = 0; i < count; i++) {
		if (errs[i][0])
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "join secret %.80s not bound: %.150s", names[i],
				 errs[i]);
		else if (gone[i])
			log_verbose("%s: ad: join secret %s already gone: nothing to bind",
				    regs[i].node, names[i]);
		else
			log_info("%s: ad: join secret bound to %s", regs[i].node,
				 regs[i].instance_id);
		free(names[i]);
	}
	free(names);
	free(values);
	free(errs);
	free(gone);
}

static const char *field(json_t *o, const char *key)
{
	const char *v = json_field(o, key);

	return v && *v ? v : NULL;
}

/* The join secret, waited for up to JoinSecretWait seconds: where the
 * controller prepares nodes while they boot (the watcher, a resume that
 * returns at once), a node may ask before it is there. 1: none; 2: not
 * readable by this instance (not bound to it yet, JoinSecretBinding). */
static int wait_join_secret(struct backend_context *ctx, const char *name,
			    struct secret **value, char *err, size_t errlen)
{
	double start = clock_monotonic();
	double deadline = start + ctx->conf->join_secret_wait, pause = 1;
	bool bound = strcmp(ctx->conf->join_secret_binding, "none") != 0;
	int got;

	if (ctx->deadline > 0 && ctx->deadline < deadline)
		deadline = ctx->deadline;
	for (;;) {
		got = sm_get_secret(ctx->aws, name, value, err, errlen);
		/* Bound: until the controller tags it for this instance, the
		 * node role may not read it. */
		if (got < 0 && bound && strstr(err, "AccessDeniedException"))
			got = 2;
		if (got < 0 || got == 0 || clock_monotonic() + pause > deadline)
			break;
		if (pause == 1)
			log_info("ad: join secret %s %s; waiting up to %d s (JoinSecretWait)",
				 name, got == 2 ? "not bound to this instance yet" : "not there yet",
				 ctx->conf->join_secret_wait);
		clock_sleep(pause);
		pause = pause * 2 > 5 ? 5 : pause * 2;
	}
	if (got == 0 && clock_monotonic() - start >= 1)
		log_info("ad: join secret %s there after %.0f s", name,
			 clock_monotonic() - start);
	return got;
}

static int ad_register(struct backend_context *ctx,
		       const struct node_identity *me,
		       struct journal_entry *state, char *why, size_t whylen)
{
	char *name = secret_name(ctx->conf, me->node), *keytab = NULL, *fqdn = NULL;
	char err[512];
	const char *node, *computer, *dom, *realm, *controller;
	struct secret *value = NULL, *otp = NULL;
	struct ad_domain d;
	json_t *j = NULL;
	json_error_t jerr;
	int rc = -1, got;

	memset(&d, 0, sizeof(d));
	got = wait_join_secret(ctx, name, &value, err, sizeof(err));
	if (got == 2) {
		snprintf(why, whylen, "join secret %s not bound to this instance after %d s (JoinSecretWait=, JoinSecretBinding=%s): does EC2 show this instance as the node's?",
			 name, ctx->conf->join_secret_wait,
			 ctx->conf->join_secret_binding);
		goto out;
	} else if (got == 1) {
		snprintf(why, whylen, "no join secret %s after %d s (JoinSecretWait): is slurm-identity-resume ResumeProgram, or slurm-identity watch running?",
			 name, ctx->conf->join_secret_wait);
		goto out;
	} else if (got < 0) {
		snprintf(why, whylen, "join secret: %.300s", err);
		goto out;
	}
	j = json_loadb((const char *)secret_bytes(value), secret_len(value), 0,
		       &jerr);
	node = field(j, "node");
	computer = field(j, "computer");
	dom = field(j, "domain");
	realm = field(j, "realm");
	controller = field(j, "controller");
	if (!node || !computer || !dom || !realm || !field(j, "otp")) {
		snprintf(why, whylen, "join secret %s is malformed", name);
		goto out;
	}
	if (strcmp(node, me->node) != 0) {
		snprintf(why, whylen, "join secret %s names node %.64s", name, node);
		goto out;
	}
	otp = secret_new(field(j, "otp"), strlen(field(j, "otp")));
	ad_domain_from_names(ctx->conf, dom, &d);
	free(d.realm);
	d.realm = xstrdup(realm);
	free(d.controller);
	d.controller = controller ? xstrdup(controller) : NULL;
	keytab = config_expand_node(ctx->conf->host_keytab, me->node);
	fqdn = xasprintf("%s.%s", me->node, d.name);
	for (char *p = fqdn; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (ad_join(ctx->conf, &d, computer, fqdn, keytab, otp, err,
		    sizeof(err)) < 0) {
		snprintf(why, whylen, "join %s: %.300s%s", computer, err,
			 strstr(err, "Preauthentication failed")
				 ? " (one-time password rejected)" : "");
		metrics_count("slurm_identity_failures_total",
			      "backend=\"ad\",op=\"register\"", 1);
		goto out;
	}
	/* testjoin looks the account up by the host name, which on a cloud
	 * instance is rarely the node name: run it under the computer's. */
	if (ad_testjoin(ctx->conf, &d, keytab, geteuid() == 0 ? computer : NULL,
			err, sizeof(err)) < 0) {
		snprintf(why, whylen, "testjoin %s: %.300s", computer, err);
		goto out;
	}
	/* Used: the password is spent, the secret goes. */
	if (sm_delete_secrets(ctx->aws, (const char *const *)&name, 1, NULL,
			      ctx->deadline) != 0)
		log_error("ad: could not delete join secret %s; the controller removes it at suspend",
			  name);
	/* The id names this life of the account (older controllers sent
	 * none: the computer name alone still works). */
	journal_set(state, "ad.id", field(j, "id") ? field(j, "id") : computer);
	journal_set(state, "ad.keytab", keytab);
	metrics_count("slurm_identity_registrations_total", "backend=\"ad\"", 1);
	log_info("ad: joined %s as %s", d.name, computer);
	rc = 0;
out:
	if (j) {
		json_t *v = json_object_get(j, "otp");

		if (json_is_string(v))
			OPENSSL_cleanse((char *)json_string_value(v),
					json_string_length(v));
		json_decref(j);
	}
	secret_free(value);
	secret_free(otp);
	ad_domain_clear(&d);
	free(keytab);
	free(fqdn);
	free(name);
	return rc;
}

/* The distributions' bundles of every public CA (the first is
 * LdapCaFile's default). */
static const char *const system_ca_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The domain password goes over this TLS connection: say plainly what
 * the settings let through. */
static void ad_check_settings(const struct identity_conf *conf,
			      const struct check_report *r)
{
	size_t i;

	if (strcmp(conf->ldap_tls_reqcert, "never") == 0 ||
	    strcmp(conf->ldap_tls_reqcert, "allow") == 0)
		r->warn("LdapTlsReqCert=%s: TLS verification is off: the domain controller's certificate is not checked, and whoever answers on its address gets DomainUser's password; use demand with LdapCaFile= the domain's CA",
		     conf->ldap_tls_reqcert);
	for (i = 0; i < ARRAY_SIZE(system_ca_bundles); i++)
		if (strcmp(conf->ldap_ca_file, system_ca_bundles[i]) == 0)
			r->warn("LdapCaFile=%s is the whole system CA bundle: any public CA can vouch for the domain controller; set LdapCaFile= to the domain's own CA",
			     conf->ldap_ca_file);
	if (strcmp(conf->join_secret_binding, "none") == 0)
		r->warn("JoinSecretBinding=none: every node of the cluster may read a sibling's join secret while it exists; JoinSecretBinding=nodeaddr (NodeAddr is the instance's private IP, as ParallelCluster sets it) or tag:KEY binds each to its instance");
	else
		r->pass("ad: join secrets bound to their instances (JoinSecretBinding=%s)",
			conf->join_secret_binding);
}

static void check_parameters(struct aws_client *c,
			     const struct identity_conf *conf,
			     const struct check_report *r)
{
	const char *names[2];
	struct ssm_parameter params[2];
	size_t n = 0, i;
	char err[1024];

	if (conf->domain_name_parameter)
		names[n++] = conf->domain_name_parameter;
	if (conf->domain_password_parameter)
		names[n++] = conf->domain_password_parameter;
	if (n == 0) {
		r->pass("ad: domain settings are in identity.conf");
		return;
	}
	if (ssm_get_parameters(c, names, n, true, params, err, sizeof(err)) < 0) {
		r->fail("ad: %s", err);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!params[i].found)
			r->fail("ad: parameter %s does not exist", names[i]);
		else if (names[i] == conf->domain_password_parameter &&
			 strcmp(params[i].type, "SecureString") != 0)
			r->fail("ad: parameter %s is a %s; store the password as a SecureString",
			     names[i], params[i].type);
		else
			r->pass("ad: parameter %s readable (%s)", names[i],
			     params[i].type);
		ssm_parameter_clear(&params[i]);
	}
}

/* DomainUser's rights, as the DC computes them for it: nothing written.
 * Delete and Reset Password are not among what the DC computes; a removal
 * or reset that is refused names them (ad_right_for). */
static void check_rights(const struct identity_conf *conf, struct ad_domain *d,
			 const char *computer_dn, const struct check_report *r)
{
	char err[1024], missing[256], why[256];
	bool may_create, admin;
	const char *p;

	if (ad_effective_rights(conf, d, computer_dn, &may_create, missing,
				sizeof(missing), err, sizeof(err)) < 0) {
		r->fail("ad: cannot read %s's effective rights: %s", d->user, err);
		return;
	}
	if (!may_create)
		r->fail("ad: %s may not create computer objects in %s (the DC's allowedChildClassesEffective lacks computer): delegate what `slurm-identity policy --role directory` prints",
			d->user, d->ou);
	else
		r->pass("ad: %s may create computer objects in %s", d->user, d->ou);
	for (p = missing; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0)) {
		char attr[64];

		snprintf(attr, sizeof(attr), "%.*s", (int)strcspn(p, ","), p);
		r->fail("ad: %s may not write %s on %s: it needs to %s (slurm-identity policy --role directory)",
			d->user, attr, computer_dn, ad_right_for(attr));
	}
	if (computer_dn && !missing[0])
		r->pass("ad: %s may write what the controller writes on its accounts (description, userAccountControl)",
			d->user);
	if (ad_user_is_admin(conf, d, &admin, why, sizeof(why), err,
			     sizeof(err)) < 0)
		r->warn("ad: cannot tell whether %s is a domain admin: %s", d->user,
			err);
	else if (admin)
		r->warn("ad: DomainUser %s is a domain admin (%s): the controller needs only the rights `slurm-identity policy --role directory` prints over %s; bind as an account holding just those",
			d->user, why, d->ou);
}

/* Bind to the DC as DomainUser and list this cluster's accounts. */
static void check_domain(struct aws_client *c,
			 const struct identity_conf *conf,
			 const struct check_report *r)
{
	struct ad_domain d;
	struct ad_computer *found = NULL;
	size_t n = 0;
	char err[1024], *uri;

	if (ad_domain_load(conf, c, &d, err, sizeof(err)) < 0)
		return;	/* check_parameters said why */
	uri = ad_ldap_uri(&d);
	if (ad_find_computers(conf, &d, NULL, 0, &found, &n, err,
			      sizeof(err)) < 0)
		r->fail("ad: %s: %s", uri, err);
	else {
		r->pass("ad: %s bound as %s; %zu computer account(s) of cluster %s in %s",
		     uri, d.user, n, conf->cluster_name, d.ou);
		check_rights(conf, &d, n ? found[0].dn : NULL, r);
	}
	free(found);
	free(uri);
	ad_domain_clear(&d);
}

/* `slurm-identity check`: the parameters, then a bind to the DC. */
static void ad_check(struct backend_context *ctx, const struct check_report *r)
{
	check_parameters(ctx->aws, ctx->conf, r);
	if (!ctx->conf->domain_user) {
		r->fail("ad: DomainUser= is not set: name the account the controller binds as, holding only the rights `slurm-identity policy --role directory` prints (there is no default)");
		return;
	}
	check_domain(ctx->aws, ctx->conf, r);
}

/* With ssm too, the node's core permissions include reading parameters:
 * an explicit Deny keeps the domain password out of the node's reach, even
 * if AmazonSSMManagedInstanceCore is attached too. */
static void deny_password(const struct identity_conf *conf, const char *region,
			  const char *account, json_t *statements)
{
	static const char *const reads[] = { "ssm:GetParameter", "ssm:GetParameters",
					     "ssm:GetParameterHistory",
					     "ssm:GetParametersByPath", NULL };
	json_t *arns = json_array();
	const char *name = conf->domain_password_parameter;
	char *arn = iam_parameter_arn(region, account, name);
	char *path = xasprintf("%s%s", name[0] == '/' ? "" : "/", name), *slash;

	json_array_append_new(arns, json_string(arn));
	free(arn);
	/* GetParametersByPath is authorized on the path it is given, which
	 * may end in a slash: each enclosing path both ways, up to "/"
	 * itself (its ARN ends in "parameter/"). */
	while ((slash = strrchr(path, '/'))) {
		if (slash != path) {
			*slash = '\0';
			arn = iam_parameter_arn(region, account, path);
			json_array_append_new(arns, json_string(arn));
			free(arn);
		}
		slash[0] = '/';
		slash[1] = '\0';
		arn = iam_parameter_arn(region, account, path);
		json_array_append_new(arns, json_string(arn));
		free(arn);
		if (slash == path)
			break;
		*slash = '\0';
	}
	free(path);
	iam_statement(statements, "SlurmIdentityDenyDomainPassword", reads, arns);
	iam_deny_last(statements);
}

/* The AD backend: the controller reads the domain settings and writes
 * each node's join secret; a node reads and deletes its own. */
static void ad_policy(const struct identity_conf *conf, enum policy_role role,
		      const char *region, const char *account,
		      json_t *statements)
{
	static const char *const get_parameters[] = { "ssm:GetParameters", NULL };
	static const char *const decrypt[] = { "kms:Decrypt", NULL };
	static const char *const encrypt[] = { "kms:GenerateDataKey",
					       "kms:Decrypt", NULL };
	static const char *const controller_secrets[] = {
		"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue",
		"secretsmanager:TagResource", "secretsmanager:DeleteSecret", NULL
	};
	static const char *const node_secrets[] = {
		"secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret",
		NULL
	};
	char *secrets = xasprintf("arn:aws:secretsmanager:%s:%s:secret:slurm-identity/%s/join/*",
				  region, account, conf->cluster_name);
	char *arn;

	if (role == POLICY_CONTROLLER) {
		json_t *params = json_array();

		if (!conf->domain_name && conf->domain_name_parameter) {
			arn = iam_parameter_arn(region, account,
					    conf->domain_name_parameter);
			json_array_append_new(params, json_string(arn));
			free(arn);
		}
		if (!conf->domain_password && conf->domain_password_parameter) {
			arn = iam_parameter_arn(region, account,
					    conf->domain_password_parameter);
			json_array_append_new(params, json_string(arn));
			free(arn);
		}
		if (json_array_size(params))
			iam_statement(statements, "SlurmIdentityDomainParameters",
				      get_parameters, params);
		else
			json_decref(params);
		if (conf->domain_password_kms_key)
			iam_key_statement(statements, "SlurmIdentityDomainPasswordKey",
					  decrypt, region, account,
					  conf->domain_password_kms_key, "ssm");
		iam_statement(statements, "SlurmIdentityJoinSecretsWrite",
			      controller_secrets, iam_one(secrets));
		if (conf->join_secret_kms_key)
			iam_key_statement(statements, "SlurmIdentityJoinSecretsKey",
					  encrypt, region, account,
					  conf->join_secret_kms_key, "secretsmanager");
	} else {
		iam_statement(statements, "SlurmIdentityJoinSecretRead",
			      node_secrets, iam_one(secrets));
		/* Bound: only the instance the controller tagged the secret
		 * for (JoinSecretBinding), by the instance its credentials
		 * came from, as AWS says it. */
		if (strcmp(conf->join_secret_binding, "none") != 0)
			iam_condition(statements, "StringEquals",
				      "aws:ResourceTag/" AD_INSTANCE_TAG,
				      json_string("${ec2:SourceInstanceARN}"));
		if (conf->join_secret_kms_key)
			iam_key_statement(statements, "SlurmIdentityJoinSecretKey",
					  decrypt, region, account,
					  conf->join_secret_kms_key, "secretsmanager");
	}
	free(secrets);
	if (role == POLICY_NODE && backend_enabled(conf, &ssm_backend) &&
	    conf->domain_password_parameter)
		deny_password(conf, region, account, statements);
}

static int ad_validate(const struct identity_conf *conf, char *why,
		       size_t whylen)
{
	if (!conf->domain_name && !conf->domain_name_parameter) {
		snprintf(why, whylen,
			 "neither DomainName nor DomainNameParameter is set");
		return -1;
	}
	if (!conf->domain_password && !conf->domain_password_parameter) {
		snprintf(why, whylen, "DomainPasswordParameter is not set");
		return -1;
	}
	return 0;
}

const struct backend ad_backend = {
	.name = "ad",
	.id_key = "ad.id",
	.list = ad_list,
	.prepare = ad_prepare,
	.bind = ad_bind,
	.remove = ad_remove,
	.register_node = ad_register,
	.validate = ad_validate,
	.free_state = free_domain,
	.check_settings = ad_check_settings,
	.check = ad_check,
	.policy = ad_policy,
};
