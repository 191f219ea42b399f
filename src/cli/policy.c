/* policy.c: IAM policies, one statement per need, nothing wildcarded that
 * the service lets us scope. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Only when the call comes through service (kms:ViaService). */
static void via_service(json_t *statements, const char *service,
			const char *region)
{
	json_t *st = json_array_get(statements, json_array_size(statements) - 1);
	json_t *cond = json_object(), *eq = json_object();
	char *via = xasprintf("%s.%s.amazonaws.com", service, region);

	json_object_set_new(eq, "kms:ViaService", json_string(via));
	json_object_set_new(cond, "StringEquals", eq);
	json_object_set_new(st, "Condition", cond);
	free(via);
}

static char *parameter_arn(const char *region, const char *account,
			   const char *name)
{
	return xasprintf("arn:aws:ssm:%s:%s:parameter%s%s", region, account,
			 name[0] == '/' ? "" : "/", name);
}

static char *key_arn(const char *region, const char *account, const char *key)
{
	if (strncmp(key, "arn:", 4) == 0)
		return xstrdup(key);
	return xasprintf("arn:aws:kms:%s:%s:key/%s", region, account, key);
}

static json_t *one(const char *arn);

/* A condition on the last statement: cond { key: value }. */
static void condition(json_t *statements, const char *op, const char *key,
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

#define TAG_NODE_KEY	"slurm-identity:node"
#define TAG_CLUSTER_KEY "slurm-identity:cluster"

static json_t *our_tag_keys(void)
{
	json_t *a = json_array();

	json_array_append_new(a, json_string(TAG_NODE_KEY));
	json_array_append_new(a, json_string(TAG_CLUSTER_KEY));
	return a;
}

/* The request carries our two tags, the cluster's being this cluster. */
static void our_tags_requested(const struct identity_conf *conf,
			       json_t *statements)
{
	condition(statements, "ForAllValues:StringEquals", "aws:TagKeys",
		  our_tag_keys());
	condition(statements, "StringEquals", "aws:RequestTag/" TAG_CLUSTER_KEY,
		  json_string(conf->cluster_name ? conf->cluster_name : ""));
}

/* A hybrid node tags its managed instance. Its credentials are the
 * activation's role, shared by every node, and for AddTagsToResource AWS
 * offers no condition naming the calling instance (ssm:SourceInstanceARN
 * is documented only for the agent's own calls, and comparing it with the
 * target needs aws:ARN, which AWS does not document), so "only itself" is
 * approached through the target's tags: a node may tag a managed instance
 * that carries none of ours yet, or tag again with the values it already
 * has. It can no longer re-tag a sibling (that sibling would then never be
 * cleaned up) nor pull another cluster's instance into ours. What remains:
 * in the seconds between a sibling's registration and its own tagging, a
 * node can tag it first: the sibling's own tagging is then denied and it
 * drains with the reason, and the controller, which checks the activation
 * and the host name the agent reports, leaves the mis-tagged instance
 * alone and logs why (a visible leak, never a wrong removal). If AWS does
 * not resolve ${aws:RequestTag/...} here, only the retry is denied. */
static void add_hybrid_tags(const struct identity_conf *conf,
			    const char *managed, json_t *statements)
{
	static const char *const tag_hybrid[] = { "ssm:AddTagsToResource",
						  NULL };

	add_statement(statements, "SlurmIdentitySsmTagHybrid", tag_hybrid,
		      one(managed));
	our_tags_requested(conf, statements);
	condition(statements, "Null", "aws:ResourceTag/" TAG_NODE_KEY,
		  json_string("true"));
	condition(statements, "Null", "aws:ResourceTag/" TAG_CLUSTER_KEY,
		  json_string("true"));

	/* A retried registration writes the same values again. */
	add_statement(statements, "SlurmIdentitySsmRetagHybrid", tag_hybrid,
		      one(managed));
	our_tags_requested(conf, statements);
	condition(statements, "StringEquals", "aws:ResourceTag/" TAG_NODE_KEY,
		  json_string("${aws:RequestTag/" TAG_NODE_KEY "}"));
	condition(statements, "StringEquals",
		  "aws:ResourceTag/" TAG_CLUSTER_KEY,
		  json_string(conf->cluster_name ? conf->cluster_name : ""));
}

/* The SSM backend. The node gets the managed-instance core permissions
 * (those of AmazonSSMManagedInstanceCore) and may tag itself (an EC2
 * instance exactly, a hybrid node as add_hybrid_tags() says), only with
 * our keys; the controller may only remove those keys, and deregister
 * hybrid nodes. */
static void add_ssm(const struct identity_conf *conf, enum policy_role role,
		    const char *region, const char *account,
		    json_t *statements)
{
	static const char *const core[] = {
		"ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance",
		"ssm:GetDocument", "ssm:DescribeDocument", "ssm:GetManifest",
		"ssm:GetParameter", "ssm:GetParameters", "ssm:ListAssociations",
		"ssm:ListInstanceAssociations", "ssm:PutInventory",
		"ssm:PutComplianceItems", "ssm:PutConfigurePackageResult",
		"ssm:UpdateAssociationStatus", "ssm:UpdateInstanceAssociationStatus",
		"ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel",
		"ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
		"ssmmessages:OpenDataChannel", "ec2messages:AcknowledgeMessage",
		"ec2messages:DeleteMessage", "ec2messages:FailMessage",
		"ec2messages:GetEndpoint", "ec2messages:GetMessages",
		"ec2messages:SendReply", NULL
	};
	static const char *const describe[] = { "ssm:DescribeInstanceInformation", NULL };
	static const char *const create_tags[] = { "ec2:CreateTags", NULL };
	static const char *const delete_tags[] = { "ec2:DeleteTags", NULL };
	/* DescribeTags has no resource-level permissions in EC2. */
	static const char *const find_tagged[] = { "ec2:DescribeTags", NULL };
	static const char *const deregister[] = { "ssm:DeregisterManagedInstance",
						  NULL };
	static const char *const list_tags[] = { "ssm:ListTagsForResource", NULL };
	char *instances = xasprintf("arn:aws:ec2:%s:%s:instance/*", region, account);
	char *managed = xasprintf("arn:aws:ssm:%s:%s:managed-instance/*", region,
				  account);

	if (role == POLICY_NODE) {
		add_statement(statements, "SlurmIdentitySessionManagerCore", core,
			      one("*"));
		add_statement(statements, "SlurmIdentitySsmOnlineWait", describe,
			      one("*"));
		add_statement(statements, "SlurmIdentitySsmTagSelf", create_tags,
			      one(instances));
		condition(statements, "StringEquals", "aws:ARN",
			  json_string("${ec2:SourceInstanceARN}"));
		condition(statements, "ForAllValues:StringEquals", "aws:TagKeys",
			  our_tag_keys());
		add_hybrid_tags(conf, managed, statements);
	} else {
		add_statement(statements, "SlurmIdentitySsmList", describe, one("*"));
		add_statement(statements, "SlurmIdentitySsmFindTagged", find_tagged,
			      one("*"));
		add_statement(statements, "SlurmIdentitySsmUntag", delete_tags,
			      one(instances));
		condition(statements, "ForAllValues:StringEquals", "aws:TagKeys",
			  our_tag_keys());
		/* Only what carries this cluster's tag; the controller also
		 * checks the activation and host name before it acts. */
		add_statement(statements, "SlurmIdentitySsmHybridTags", list_tags,
			      one(managed));
		add_statement(statements, "SlurmIdentitySsmHybridDeregister",
			      deregister, one(managed));
		condition(statements, "StringEquals",
			  "ssm:resourceTag/slurm-identity:cluster",
			  json_string(conf->cluster_name ? conf->cluster_name : ""));
	}
	free(instances);
	free(managed);
}

/* With both ad and ssm, the core permissions include reading parameters:
 * an explicit Deny keeps the domain password out of the node's reach, even
 * if AmazonSSMManagedInstanceCore is attached too. */
static void deny_password(const struct identity_conf *conf, const char *region,
			  const char *account, json_t *statements)
{
	static const char *const reads[] = { "ssm:GetParameter", "ssm:GetParameters",
					     "ssm:GetParameterHistory",
					     "ssm:GetParametersByPath", NULL };
	json_t *st, *arns = json_array();
	const char *name = conf->domain_password_parameter;
	char *arn = parameter_arn(region, account, name);
	char *path = xasprintf("%s%s", name[0] == '/' ? "" : "/", name), *slash;

	json_array_append_new(arns, json_string(arn));
	free(arn);
	/* GetParametersByPath is authorized on the path it is given, which
	 * may end in a slash: each enclosing path both ways, up to "/"
	 * itself (its ARN ends in "parameter/"). */
	while ((slash = strrchr(path, '/'))) {
		if (slash != path) {
			*slash = '\0';
			arn = parameter_arn(region, account, path);
			json_array_append_new(arns, json_string(arn));
			free(arn);
		}
		slash[0] = '/';
		slash[1] = '\0';
		arn = parameter_arn(region, account, path);
		json_array_append_new(arns, json_string(arn));
		free(arn);
		if (slash == path)
			break;
		*slash = '\0';
	}
	free(path);
	add_statement(statements, "SlurmIdentityDenyDomainPassword", reads, arns);
	st = json_array_get(statements, json_array_size(statements) - 1);
	json_object_set_new(st, "Effect", json_string("Deny"));
}

/* actions on one KMS key, only when called through service. */
static void add_key_statement(json_t *statements, const char *sid,
			      const char *const *actions, const char *region,
			      const char *account, const char *key,
			      const char *service)
{
	char *arn = key_arn(region, account, key);

	add_statement(statements, sid, actions, one(arn));
	via_service(statements, service, region);
	free(arn);
}

/* The AD backend: the controller reads the domain settings and writes
 * each node's join secret; a node reads and deletes its own. */
static void add_ad(const struct identity_conf *conf, enum policy_role role,
		   const char *region, const char *account, json_t *statements)
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
			arn = parameter_arn(region, account,
					    conf->domain_name_parameter);
			json_array_append_new(params, json_string(arn));
			free(arn);
		}
		if (!conf->domain_password && conf->domain_password_parameter) {
			arn = parameter_arn(region, account,
					    conf->domain_password_parameter);
			json_array_append_new(params, json_string(arn));
			free(arn);
		}
		if (json_array_size(params))
			add_statement(statements, "SlurmIdentityDomainParameters",
				      get_parameters, params);
		else
			json_decref(params);
		if (conf->domain_password_kms_key)
			add_key_statement(statements, "SlurmIdentityDomainPasswordKey",
					  decrypt, region, account,
					  conf->domain_password_kms_key, "ssm");
		add_statement(statements, "SlurmIdentityJoinSecretsWrite",
			      controller_secrets, one(secrets));
		if (conf->join_secret_kms_key)
			add_key_statement(statements, "SlurmIdentityJoinSecretsKey",
					  encrypt, region, account,
					  conf->join_secret_kms_key, "secretsmanager");
	} else {
		add_statement(statements, "SlurmIdentityJoinSecretRead",
			      node_secrets, one(secrets));
		if (conf->join_secret_kms_key)
			add_key_statement(statements, "SlurmIdentityJoinSecretKey",
					  decrypt, region, account,
					  conf->join_secret_kms_key, "secretsmanager");
	}
	free(secrets);
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
	if (conf->backends & BACKEND_AD)
		add_ad(conf, role, region, account, statements);
	if (conf->backends & BACKEND_SSM)
		add_ssm(conf, role, region, account, statements);
	if (role == POLICY_NODE && (conf->backends & BACKEND_SSM) &&
	    (conf->backends & BACKEND_AD) && conf->domain_password_parameter)
		deny_password(conf, region, account, statements);
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
