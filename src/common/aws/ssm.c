/* ssm.c: SSM Parameter Store reads. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "services.h"
#include "common/json_field.h"

void ssm_parameter_clear(struct ssm_parameter *p)
{
	free(p->name);
	free(p->type);
	free(p->arn);
	secret_free(p->value);
	memset(p, 0, sizeof(*p));
}

/* jansson keeps its own copy of the decrypted value: wipe it. */
static void wipe_values(json_t *params)
{
	size_t i;
	json_t *p;

	json_array_foreach(params, i, p) {
		json_t *v = json_object_get(p, "Value");

		if (json_is_string(v))
			OPENSSL_cleanse((char *)json_string_value(v),
					json_string_length(v));
	}
}

int ssm_get_parameters(struct aws_client *c, const char *const *names,
		       size_t n, bool decrypt, struct ssm_parameter *out,
		       char *err, size_t errlen)
{
	json_t *input = json_object(), *list = json_array(), *params, *item;
	struct aws_call *call;
	size_t i, j;
	int rc = -1;

	if (n == 0 || n > 10) {
		snprintf(err, errlen, "ssm GetParameters: %zu names (1-10)", n);
		json_decref(input);
		json_decref(list);
		return -1;
	}
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].name = xstrdup(names[i]);
		json_array_append_new(list, json_string(names[i]));
	}
	json_object_set_new(input, "Names", list);
	json_object_set_new(input, "WithDecryption", json_boolean(decrypt));
	call = aws_call_json(&aws_ssm, "GetParameters", input);
	if (aws_perform_one(c, call) < 0) {
		aws_call_error(call, err, errlen);
		goto out;
	}
	params = json_object_get(call->json, "Parameters");
	if (!json_is_array(params)) {
		snprintf(err, errlen, "ssm GetParameters: reply without Parameters");
		goto out;
	}
	json_array_foreach(params, j, item) {
		const char *name = json_field(item, "Name");
		const char *type = json_field(item, "Type");
		const char *arn = json_field(item, "ARN");
		json_t *value = json_object_get(item, "Value");

		if (!name || !type || !json_is_string(value))
			continue;
		for (i = 0; i < n; i++) {
			if (strcmp(out[i].name, name) != 0 || out[i].found)
				continue;
			out[i].found = true;
			out[i].type = xstrdup(type);
			out[i].arn = xstrdup(arn ? arn : "");
			out[i].value = secret_new(json_string_value(value),
						  json_string_length(value));
		}
	}
	rc = 0;
out:
	if (call->json)
		wipe_values(json_object_get(call->json, "Parameters"));
	/* The raw reply held the decrypted values too. */
	if (call->http)
		strbuf_free(&call->http->response);
	aws_call_free(call);
	return rc;
}
