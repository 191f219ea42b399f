/* iam_policy.c: pieces of IAM policy documents (iam_policy.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "iam_policy.h"
#include "xmalloc.h"

void iam_statement(json_t *statements, const char *sid,
		   const char *const *actions, json_t *resources)
{
	json_t *st = json_object(), *acts = json_array();
	size_t i;

	for (i = 0; actions[i]; i++)
		json_array_append_new(acts, json_string(actions[i]));
	json_object_set_new(st, "Sid", json_string(sid));
	json_object_set_new(st, "Effect", json_string("Allow"));
	json_object_set_new(st, "Action", acts);
	json_object_set_new(st, "Resource", resources);
	json_array_append_new(statements, st);
}

void iam_deny_last(json_t *statements)
{
	json_t *st = json_array_get(statements, json_array_size(statements) - 1);

	json_object_set_new(st, "Effect", json_string("Deny"));
}

void iam_condition(json_t *statements, const char *op, const char *key,
		   json_t *value)
{
	json_t *st = json_array_get(statements, json_array_size(statements) - 1);
	json_t *cond = json_object_get(st, "Condition"), *entry;

	if (!cond) {
		cond = json_object();
		json_object_set_new(st, "Condition", cond);
	}
	entry = json_object_get(cond, op);
	if (!entry) {
		entry = json_object();
		json_object_set_new(cond, op, entry);
	}
	json_object_set_new(entry, key, value);
}

void iam_via_service(json_t *statements, const char *service,
		     const char *region)
{
	char *via = xasprintf("%s.%s.amazonaws.com", service, region);

	iam_condition(statements, "StringEquals", "kms:ViaService",
		      json_string(via));
	free(via);
}

void iam_key_statement(json_t *statements, const char *sid,
		       const char *const *actions, const char *region,
		       const char *account, const char *key,
		       const char *service)
{
	char *arn = iam_key_arn(region, account, key);

	iam_statement(statements, sid, actions, iam_one(arn));
	iam_via_service(statements, service, region);
	free(arn);
}

json_t *iam_one(const char *arn)
{
	json_t *a = json_array();

	json_array_append_new(a, json_string(arn));
	return a;
}

char *iam_parameter_arn(const char *region, const char *account,
			const char *name)
{
	return xasprintf("arn:aws:ssm:%s:%s:parameter%s%s", region, account,
			 name[0] == '/' ? "" : "/", name);
}

char *iam_key_arn(const char *region, const char *account, const char *key)
{
	if (strncmp(key, "arn:", 4) == 0)
		return xstrdup(key);
	return xasprintf("arn:aws:kms:%s:%s:key/%s", region, account, key);
}
