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
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ad.h"
#include "aws/services.h"
#include "backend.h"
#include "hostlist.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

#define OTP_LENGTH 32

static int domain(struct backend_context *ctx, char *err, size_t errlen)
{
	struct ad_domain *d;

	if (ctx->ad)
		return 0;
	d = xcalloc(1, sizeof(*d));
	if (ad_domain_load(ctx->conf, ctx->aws, d, err, errlen) < 0) {
		free(d);
		return -1;
	}
	ctx->ad = d;
	return 0;
}

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
	    ad_find_computers(ctx->conf, ctx->ad, NULL, 0, &found, &n, err,
			      errlen) < 0)
		return -1;
	*regs = xcalloc(n + 1, sizeof(**regs));
	for (i = 0; i < n; i++) {
		struct registration *r = &(*regs)[*count];

		if (!found[i].ours || !node_name_valid(found[i].node))
			continue;
		snprintf(r->node, sizeof(r->node), "%s", found[i].node);
		snprintf(r->id, sizeof(r->id), "%s", found[i].name);
		snprintf(r->detail, sizeof(r->detail), "%.120s", found[i].dn);
		(*count)++;
	}
	free(found);
	return 0;
}

static const struct ad_computer *find(const struct ad_computer *list,
				      size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

static void ad_remove(struct backend_context *ctx, struct registration *regs,
		      size_t count)
{
	struct ad_computer *found = NULL, *left = NULL;
	const char **names = xcalloc(count + 1, sizeof(*names));
	const char **dns = xcalloc(count + 1, sizeof(*dns));
	char **secrets = xcalloc(count + 1, sizeof(*secrets));
	char (*serr)[256] = xcalloc(count + 1, sizeof(*serr));
	size_t nfound = 0, nleft = 0, ndns = 0, i;
	char err[512];

	for (i = 0; i < count; i++) {
		names[i] = regs[i].id;
		secrets[i] = secret_name(ctx->conf, regs[i].node);
	}
	if (domain(ctx, err, sizeof(err)) < 0 ||
	    ad_find_computers(ctx->conf, ctx->ad, names, count, &found, &nfound,
			      err, sizeof(err)) < 0) {
		for (i = 0; i < count; i++)
			snprintf(regs[i].error, sizeof(regs[i].error), "%.200s", err);
		log_error("ad: cannot look up computer accounts: %s", err);
		goto out;
	}
	/* Only accounts marked as this cluster's, for this very node. */
	for (i = 0; i < count; i++) {
		const struct ad_computer *c = find(found, nfound, regs[i].id);

		if (c && c->ours && strcmp(c->node, regs[i].node) == 0)
			dns[ndns++] = c->dn;
		else if (c)
			log_info("%s: ad: computer %s is not ours (%s); left alone",
				 regs[i].node, regs[i].id, c->dn);
	}
	if (ndns && ad_delete_computers(ctx->conf, ctx->ad, dns, ndns, err,
					sizeof(err)) < 0)
		log_error("ad: delete: %s", err);
	/* What is still there failed, whatever the tool said. */
	if (ndns && ad_find_computers(ctx->conf, ctx->ad, names, count, &left,
				      &nleft, err, sizeof(err)) < 0) {
		for (i = 0; i < count; i++)
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "cannot verify the deletion: %.200s", err);
		goto out;
	}
	sm_delete_secrets(ctx->aws, (const char *const *)secrets, count, serr,
			  ctx->deadline);
	for (i = 0; i < count; i++) {
		const struct ad_computer *c = find(left, nleft, regs[i].id);

		if (serr[i][0])
			log_error("%s: ad: join secret: %s", regs[i].node, serr[i]);
		if (c && c->ours && strcmp(c->node, regs[i].node) == 0) {
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "computer %s still exists after delete%s%.200s",
				 regs[i].id, err[0] ? ": " : "", err);
			metrics_count("slurm_identity_failures_total",
				      "backend=\"ad\",op=\"deregister\"", 1);
			log_error("%s: ad: %s", regs[i].node, regs[i].error);
			continue;
		}
		regs[i].removed = true;
		metrics_count("slurm_identity_deregistrations_total",
			      "backend=\"ad\"", 1);
		log_info("%s: ad: computer %s deleted%s", regs[i].node, regs[i].id,
			 find(found, nfound, regs[i].id) ? "" : " (already gone)");
	}
out:
	for (i = 0; i < count; i++)
		free(secrets[i]);
	free(secrets);
	free(serr);
	free(names);
	free(dns);
	free(found);
	free(left);
}

/* The node's join secret: where to join, as what, and the password. */
static struct secret *join_secret(const struct ad_domain *d, const char *node,
				  const char *computer, const struct secret *otp)
{
	struct strbuf b;
	struct secret *s;

	/* Every value is a validated name or the one-time password, whose
	 * alphabet needs no JSON escaping. */
	strbuf_init(&b);
	strbuf_printf(&b, "{\"node\":\"%s\",\"computer\":\"%s\",\"domain\":\"%s\",\"realm\":\"%s\"",
		      node, computer, d->name, d->realm);
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

static void ad_prepare(struct backend_context *ctx, struct registration *regs,
		       size_t count)
{
	struct ad_computer *found = NULL;
	const char **names = xcalloc(count + 1, sizeof(*names));
	struct sm_put *puts = xcalloc(count + 1, sizeof(*puts));
	struct secret **values = xcalloc(count + 1, sizeof(*values));
	char **snames = xcalloc(count + 1, sizeof(*snames));
	size_t *index = xcalloc(count + 1, sizeof(*index));
	size_t nfound = 0, nput = 0, i;
	char err[512];

	for (i = 0; i < count; i++) {
		if (ad_computer_name(ctx->conf->cluster_name,
				     ctx->conf->computer_name_prefix,
				     regs[i].node, regs[i].id,
				     AD_COMPUTER_NAME_MAX + 1) < 0)
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "no computer name for node %s", regs[i].node);
		names[i] = regs[i].id;
	}
	if (domain(ctx, err, sizeof(err)) < 0 ||
	    ad_find_computers(ctx->conf, ctx->ad, names, count, &found, &nfound,
			      err, sizeof(err)) < 0) {
		for (i = 0; i < count; i++)
			snprintf(regs[i].error, sizeof(regs[i].error), "%.200s", err);
		goto out;
	}
	for (i = 0; i < count; i++) {
		const struct ad_computer *c = find(found, nfound, regs[i].id);
		struct secret *otp;

		if (regs[i].error[0])
			continue;
		if (c && !(c->ours && strcmp(c->node, regs[i].node) == 0)) {
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "computer name %s is taken by %.150s, which is not this node's",
				 regs[i].id, c->dn);
			continue;
		}
		otp = secret_random_password(OTP_LENGTH);
		if (!otp) {
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "no randomness for a one-time password");
			continue;
		}
		if (ad_create_computer(ctx->conf, ctx->ad, regs[i].id,
				       regs[i].node, c ? c->dn : NULL, otp, err,
				       sizeof(err)) < 0) {
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "create computer %s: %.200s", regs[i].id, err);
			secret_free(otp);
			continue;
		}
		log_info("%s: ad: computer %s %s", regs[i].node, regs[i].id,
			 c ? "reset for a new instance" : "created");
		values[nput] = join_secret(ctx->ad, regs[i].node, regs[i].id, otp);
		secret_free(otp);
		snames[nput] = secret_name(ctx->conf, regs[i].node);
		puts[nput].name = snames[nput];
		puts[nput].value = values[nput];
		puts[nput].description = "slurm-identity one-time domain join";
		index[nput++] = i;
	}
	if (nput)
		sm_put_secrets(ctx->aws, puts, nput,
			       ctx->conf->join_secret_kms_key,
			       ctx->conf->cluster_name, ctx->deadline);
	for (i = 0; i < nput; i++) {
		if (!puts[i].ok)
			snprintf(regs[index[i]].error, sizeof(regs[index[i]].error),
				 "join secret: %.200s", puts[i].error);
		secret_free(values[i]);
		free(snames[i]);
	}
out:
	for (i = 0; i < count; i++) {
		if (regs[i].error[0]) {
			metrics_count("slurm_identity_failures_total",
				      "backend=\"ad\",op=\"prepare\"", 1);
			log_error("%s: ad: prepare: %s", regs[i].node, regs[i].error);
		}
	}
	free(found);
	free(names);
	free(puts);
	free(values);
	free(snames);
	free(index);
}

static const char *field(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && *v ? v : NULL;
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
	got = sm_get_secret(ctx->aws, name, &value, err, sizeof(err));
	if (got == 1) {
		snprintf(why, whylen, "no join secret %s (was the node resumed through slurm-identity-resume?)",
			 name);
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
	journal_set(state, "ad.id", computer);
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

const struct backend ad_backend = {
	.name = "ad",
	.bit = BACKEND_AD,
	.id_key = "ad.id",
	.list = ad_list,
	.prepare = ad_prepare,
	.remove = ad_remove,
	.register_node = ad_register,
};
