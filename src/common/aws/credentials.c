/* credentials.c: credential provider chain. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "clock.h"
#include "credentials.h"
#include "profile.h"
#include "common/json_field.h"

void aws_credentials_clear(struct aws_credentials *c)
{
	free(c->access_key_id);
	secret_free(c->secret_access_key);
	secret_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

static void set_credentials(struct aws_credentials *c, const char *key_id,
			    const char *secret, const char *token,
			    long long expiration, const char *source)
{
	aws_credentials_clear(c);
	c->access_key_id = xstrdup(key_id);
	c->secret_access_key = secret_from_string(secret);
	c->session_token = token && *token ? secret_from_string(token) : NULL;
	c->expiration = expiration;
	snprintf(c->source, sizeof(c->source), "%s", source);
}

static int from_environment(struct aws_credentials *c)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");

	if (!id || !*id || !secret || !*secret)
		return 1;
	set_credentials(c, id, secret, getenv("AWS_SESSION_TOKEN"), 0,
			"environment");
	return 0;
}

/* 0 found, 1 not there, -1 error. */
static int from_file(struct aws_credentials *c, const char *path,
		     const char *name, int is_config, char *err, size_t errlen)
{
	struct profile p;
	const char *id, *secret;
	char source[64];
	int rc = 1;

	if (profile_load(path, name, is_config, &p, err, errlen) < 0)
		return -1;
	id = profile_get(&p, "aws_access_key_id");
	secret = profile_get(&p, "aws_secret_access_key");
	if (id && *id && secret && *secret) {
		snprintf(source, sizeof(source), "%s profile %s",
			 is_config ? "config" : "credentials", name);
		set_credentials(c, id, secret,
				profile_get(&p, "aws_session_token"), 0, source);
		rc = 0;
	}
	profile_free(&p);
	return rc;
}

static int from_imds(struct imds *imds, struct aws_credentials *c, char *err,
		     size_t errlen)
{
	struct strbuf body;
	json_t *doc = NULL;
	json_error_t jerr;
	char *path = NULL, role[256];
	const char *id, *secret, *token, *code, *exp;
	long status;
	int rc = -1;
	char *nl;

	strbuf_init(&body);
	if (imds_get(imds, "/latest/meta-data/iam/security-credentials/", &body,
		     &status, err, errlen) < 0) {
		if (status == 404)
			snprintf(err, errlen,
				 "no credentials: none in the environment or shared files, and the instance has no IAM role");
		goto out;
	}
	snprintf(role, sizeof(role), "%s", body.data ? body.data : "");
	nl = strchr(role, '\n');
	if (nl)
		*nl = '\0';
	if (!role[0] || strchr(role, '/')) {
		snprintf(err, errlen, "IMDS returned a bad role name");
		goto out;
	}
	path = xasprintf("/latest/meta-data/iam/security-credentials/%s", role);
	if (imds_get(imds, path, &body, &status, err, errlen) < 0)
		goto out;
	doc = json_loadb(body.data, body.len, 0, &jerr);
	if (!doc || !json_is_object(doc)) {
		snprintf(err, errlen, "IMDS credentials for role %s: bad JSON",
			 role);
		goto out;
	}
	code = json_field(doc, "Code");
	id = json_field(doc, "AccessKeyId");
	secret = json_field(doc, "SecretAccessKey");
	token = json_field(doc, "Token");
	exp = json_field(doc, "Expiration");
	if (code && strcmp(code, "Success") != 0) {
		snprintf(err, errlen, "IMDS credentials for role %s: %s", role,
			 code);
		goto out;
	}
	if (!id || !secret || !token || !exp || clock_parse_iso8601(exp) < 0) {
		snprintf(err, errlen,
			 "IMDS credentials for role %s: missing fields", role);
		goto out;
	}
	{
		char source[64];

		snprintf(source, sizeof(source), "instance role %.40s", role);
		set_credentials(c, id, secret, token, clock_parse_iso8601(exp),
				source);
	}
	rc = 0;
out:
	if (doc) {
		/* Wipe the secret inside jansson's copy too. */
		json_t *s = json_object_get(doc, "SecretAccessKey");

		if (json_is_string(s))
			OPENSSL_cleanse((char *)json_string_value(s),
					json_string_length(s));
		json_decref(doc);
	}
	free(path);
	strbuf_free(&body);
	return rc;
}

int aws_credentials_resolve(struct imds *imds, struct aws_credentials *out,
			    char *err, size_t errlen)
{
	char *name = profile_name();
	char *cred_path = profile_credentials_path();
	char *conf_path = profile_config_path();
	int rc;

	rc = from_environment(out);
	if (rc == 1)
		rc = from_file(out, cred_path, name, 0, err, errlen);
	if (rc == 1)
		rc = from_file(out, conf_path, name, 1, err, errlen);
	if (rc == 1) {
		char why[512];

		rc = from_imds(imds, out, why, sizeof(why));
		if (rc < 0)
			snprintf(err, errlen,
				 "none in the environment, %s or %s (profile %s), and the instance role: %s",
				 cred_path, conf_path, name, why);
	}
	free(name);
	free(cred_path);
	free(conf_path);
	return rc == 0 ? 0 : -1;
}
