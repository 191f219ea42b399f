/* policy.c: `slurm-identity policy`: the IAM policy the configuration
 * needs, one statement per need, nothing wildcarded that the service lets
 * us scope. Each backend says what it needs (backend.h); this adds what
 * reconcile needs of EC2. */
#include "config.h"

#include <stdio.h>

#include "backends/backend.h"
#include "policy.h"

json_t *policy_build(const struct identity_conf *conf, enum policy_role role,
		     const char *region, const char *account, char *err,
		     size_t errlen)
{
	/* DescribeInstances has no resource-level permissions in EC2. */
	static const char *const controller_ec2[] = { "ec2:DescribeInstances",
						      NULL };
	const struct backend *backends[BACKEND_SLOTS];
	json_t *doc = json_object(), *statements = json_array();
	size_t i, n = backends_enabled(conf, backends, BACKEND_SLOTS);

	json_object_set_new(doc, "Version", json_string("2012-10-17"));
	for (i = 0; i < n; i++)
		if (backends[i]->policy)
			backends[i]->policy(conf, role, region, account,
					    statements);
	if (role == POLICY_CONTROLLER && n)
		iam_statement(statements, "SlurmIdentityReconcileDescribe",
			      controller_ec2, iam_one("*"));
	if (json_array_size(statements) == 0) {
		snprintf(err, errlen,
			 "Backends= is empty: the %s needs no AWS permissions",
			 role == POLICY_CONTROLLER ? "controller" : "node");
		json_decref(statements);
		json_decref(doc);
		return NULL;
	}
	json_object_set_new(doc, "Statement", statements);
	return doc;
}
