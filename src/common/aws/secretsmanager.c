/* secretsmanager.c: AWS Secrets Manager, for the one-time join secret the
 * controller hands to one node.
 *
 * Request bodies that carry a secret are built here by hand (jansson would
 * keep copies we cannot wipe) and wiped after use; replies are wiped by the
 * client.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "services.h"

/* Append s as a JSON string (with quotes). */
static void put_json_string(struct strbuf *b, const char *s, size_t len)
{
	size_t i;

	strbuf_putc(b, '"');
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			strbuf_putc(b, '\\');
			strbuf_putc(b, (char)ch);
		} else if (ch < 0x20) {
			strbuf_printf(b, "\\u%04x", ch);
		} else {
			strbuf_putc(b, (char)ch);
		}
	}
	strbuf_putc(b, '"');
}

static void wipe_strbuf(struct strbuf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->len);
	strbuf_free(b);
}

static struct aws_call *put_call(const char *action, const struct sm_put *it,
				 const char *kms_key, const char *cluster)
{
	struct strbuf b;
	struct aws_call *call;

	strbuf_init(&b);
	strbuf_puts(&b, "{\"SecretString\":");
	put_json_string(&b, (const char *)secret_bytes(it->value),
			secret_len(it->value));
	strbuf_puts(&b, ",\"");
	strbuf_puts(&b, strcmp(action, "CreateSecret") == 0 ? "Name" : "SecretId");
	strbuf_puts(&b, "\":");
	put_json_string(&b, it->name, strlen(it->name));
	if (strcmp(action, "CreateSecret") == 0) {
		if (it->description) {
			strbuf_puts(&b, ",\"Description\":");
			put_json_string(&b, it->description, strlen(it->description));
		}
		if (kms_key && *kms_key) {
			strbuf_puts(&b, ",\"KmsKeyId\":");
			put_json_string(&b, kms_key, strlen(kms_key));
		}
		if (cluster && *cluster) {
			strbuf_puts(&b, ",\"Tags\":[{\"Key\":\"slurm-identity:cluster\",\"Value\":");
			put_json_string(&b, cluster, strlen(cluster));
			strbuf_puts(&b, "}]");
		}
	}
	strbuf_putc(&b, '}');
	call = aws_call_json_text(&aws_secretsmanager, action, b.data, b.len);
	wipe_strbuf(&b);
	return call;
}

static void record(struct sm_put *it, struct aws_call *call)
{
	it->ok = call->status == AWS_CALL_OK;
	if (it->ok)
		it->error[0] = '\0';
	else
		aws_call_error(call, it->error, sizeof(it->error));
}

size_t sm_put_secrets(struct aws_client *c, struct sm_put *items, size_t n,
		      const char *kms_key, const char *tag_cluster,
		      const char *unbind_tag, double deadline)
{
	struct aws_call **calls = xcalloc(n + 1, sizeof(*calls));
	size_t *which = xcalloc(n + 1, sizeof(*which));
	size_t i, k = 0, failed = 0;

	for (i = 0; i < n; i++)
		calls[i] = put_call("CreateSecret", &items[i], kms_key, tag_cluster);
	aws_perform(c, calls, n, deadline);
	/* A secret left by an earlier resume gets a new value instead. */
	for (i = 0; i < n; i++) {
		bool exists = calls[i]->status == AWS_CALL_SERVICE_ERROR &&
			      strcmp(calls[i]->code, "ResourceExistsException") == 0;

		record(&items[i], calls[i]);
		aws_call_free(calls[i]);
		if (exists)
			which[k++] = i;
	}
	/* Unbound before the new value is written: the instance of the
	 * secret's last life must not read this one's. */
	if (k && unbind_tag) {
		const char **names = xcalloc(k + 1, sizeof(*names));
		const char **none = xcalloc(k + 1, sizeof(*none));
		char (*errs)[256] = xcalloc(k + 1, sizeof(*errs));
		size_t kept = 0;

		for (i = 0; i < k; i++) {
			names[i] = items[which[i]].name;
			none[i] = "none";
		}
		sm_tag_secrets(c, names, unbind_tag, none, k, errs, NULL,
			       deadline);
		for (i = 0; i < k; i++) {
			if (errs[i][0]) {
				items[which[i]].ok = false;
				snprintf(items[which[i]].error,
					 sizeof(items[which[i]].error),
					 "not unbound before its new value: %.200s",
					 errs[i]);
			} else {
				which[kept++] = which[i];
			}
		}
		k = kept;
		free(names);
		free(none);
		free(errs);
	}
	for (i = 0; i < k; i++)
		calls[i] = put_call("PutSecretValue", &items[which[i]], NULL, NULL);
	if (k)
		aws_perform(c, calls, k, deadline);
	for (i = 0; i < k; i++) {
		record(&items[which[i]], calls[i]);
		aws_call_free(calls[i]);
	}
	for (i = 0; i < n; i++)
		failed += !items[i].ok;
	free(calls);
	free(which);
	return failed;
}

/* jansson's copy of the secret string: wipe it before it is freed. */
static void wipe_json_string(json_t *v)
{
	if (json_is_string(v))
		OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

int sm_get_secret(struct aws_client *c, const char *name,
		  struct secret **value, char *err, size_t errlen)
{
	struct strbuf b;
	struct aws_call *call;
	json_t *v;
	int rc = -1;

	*value = NULL;
	strbuf_init(&b);
	strbuf_puts(&b, "{\"SecretId\":");
	put_json_string(&b, name, strlen(name));
	strbuf_putc(&b, '}');
	call = aws_call_json_text(&aws_secretsmanager, "GetSecretValue", b.data,
				  b.len);
	strbuf_free(&b);
	if (aws_perform_one(c, call) < 0) {
		if (call->status == AWS_CALL_SERVICE_ERROR &&
		    strcmp(call->code, "ResourceNotFoundException") == 0) {
			rc = 1;
		} else {
			aws_call_error(call, err, errlen);
		}
		goto out;
	}
	v = json_object_get(call->json, "SecretString");
	if (!json_is_string(v)) {
		snprintf(err, errlen, "secretsmanager GetSecretValue: no SecretString in reply");
		goto out;
	}
	*value = secret_new(json_string_value(v), json_string_length(v));
	rc = 0;
out:
	if (call->json)
		wipe_json_string(json_object_get(call->json, "SecretString"));
	aws_call_free(call);
	return rc;
}

/* Calls on secrets, done: a secret that does not exist counts as done
 * (gone[i] says so, when not NULL); errors[i] (when not NULL) gets each
 * failure, "" if none. Frees calls; returns how many failed. */
static size_t finish_calls(struct aws_call **calls, size_t n,
			   char (*errors)[256], bool *gone)
{
	size_t i, failed = 0;

	for (i = 0; i < n; i++) {
		bool missing = calls[i]->status == AWS_CALL_SERVICE_ERROR &&
			       strcmp(calls[i]->code, "ResourceNotFoundException") == 0;
		bool ok = calls[i]->status == AWS_CALL_OK || missing;

		if (gone)
			gone[i] = missing;
		if (errors) {
			errors[i][0] = '\0';
			if (!ok)
				aws_call_error(calls[i], errors[i], sizeof(errors[i]));
		}
		failed += !ok;
		aws_call_free(calls[i]);
	}
	free(calls);
	return failed;
}

size_t sm_tag_secrets(struct aws_client *c, const char *const *names,
		      const char *key, const char *const *values, size_t n,
		      char (*errors)[256], bool *gone, double deadline)
{
	struct aws_call **calls = xcalloc(n + 1, sizeof(*calls));
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *input = json_object(), *tags = json_array(),
		       *tag = json_object();

		json_object_set_new(tag, "Key", json_string(key));
		json_object_set_new(tag, "Value", json_string(values[i]));
		json_array_append_new(tags, tag);
		json_object_set_new(input, "SecretId", json_string(names[i]));
		json_object_set_new(input, "Tags", tags);
		calls[i] = aws_call_json(&aws_secretsmanager, "TagResource", input);
	}
	aws_perform(c, calls, n, deadline);
	return finish_calls(calls, n, errors, gone);
}

size_t sm_delete_secrets(struct aws_client *c, const char *const *names,
			 size_t n, char (*errors)[256], double deadline)
{
	struct aws_call **calls = xcalloc(n + 1, sizeof(*calls));
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *input = json_object();

		json_object_set_new(input, "SecretId", json_string(names[i]));
		json_object_set_new(input, "ForceDeleteWithoutRecovery", json_true());
		calls[i] = aws_call_json(&aws_secretsmanager, "DeleteSecret", input);
	}
	aws_perform(c, calls, n, deadline);
	return finish_calls(calls, n, errors, NULL);
}
