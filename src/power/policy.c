/* policy.c: IAM policies, one statement per need, nothing wildcarded that
 * the service lets us scope. */
#include "config.h"

#include <stdio.h>

#include "common/xmalloc.h"
#include "policy.h"

static void add_statement(json_t *statements, const char *sid,
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

static json_t *one(const char *arn)
{
	json_t *a = json_array();

	json_array_append_new(a, json_string(arn));
	return a;
}

json_t *policy_build(const struct identity_conf *conf, enum policy_role role,
		     const char *region, const char *account, char *err,
		     size_t errlen)
{
	static const char *const controller_opsworks[] = {
		"opsworks:DescribeInstances", "opsworks:DeregisterInstance",
		"opsworks:DescribeStacks", NULL
	};
	static const char *const node_opsworks[] = { "opsworks:RegisterInstance",
						     NULL };
	/* DescribeInstances has no resource-level permissions in EC2. */
	static const char *const controller_ec2[] = { "ec2:DescribeInstances",
						      NULL };
	json_t *doc = json_object(), *statements = json_array();
	char *stack_arn = NULL;

	json_object_set_new(doc, "Version", json_string("2012-10-17"));
	if (conf->backends & BACKEND_OPSWORKS) {
		/* OpsWorks is a us-east-1 style global-ish service, but stack
		 * ARNs carry the region the stack's API endpoint serves. */
		stack_arn = xasprintf("arn:aws:opsworks:%s:%s:stack/%s/", region,
				      account, conf->opsworks_stack_id);
		if (role == POLICY_CONTROLLER)
			add_statement(statements, "SlurmIdentityOpsWorksController",
				      controller_opsworks, one(stack_arn));
		else
			add_statement(statements, "SlurmIdentityOpsWorksRegister",
				      node_opsworks, one(stack_arn));
	}
	if (role == POLICY_CONTROLLER && conf->backends)
		add_statement(statements, "SlurmIdentityReconcileDescribe",
			      controller_ec2, one("*"));
	if (json_array_size(statements) == 0) {
		snprintf(err, errlen,
			 "Backends= is empty: the %s needs no AWS permissions",
			 role == POLICY_CONTROLLER ? "controller" : "node");
		json_decref(statements);
		json_decref(doc);
		free(stack_arn);
		return NULL;
	}
	json_object_set_new(doc, "Statement", statements);
	free(stack_arn);
	return doc;
}
