/* backend_ssm.c: SSM Session Manager, so nodes are reached as managed
 * instances instead of through SSH.
 *
 * Node (first job): wait, within SsmOnlineTimeout, until this instance is
 * an SSM managed instance whose agent is Online, then tag it with its
 * Slurm node name and cluster, so `aws ssm start-session --target` can be
 * found by node name: EC2 CreateTags for i-... instances, SSM
 * AddTagsToResource for hybrid mi-... nodes (SSM refuses i-... ids there).
 *
 * Controller (suspend, reconcile): remove the tags; a hybrid node is
 * deregistered from SSM (DeregisterManagedInstance), as its activation
 * would otherwise keep it listed forever.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backend.h"
#include "common/aws/clock.h"
#include "common/aws/services.h"
#include "common/hostlist.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/nameset.h"
#include "common/xmalloc.h"
#include "common/json_field.h"

#define TAG_NODE "slurm-identity:node"
#define TAG_CLUSTER "slurm-identity:cluster"
#define POLL_SECONDS 2.0

/* Is activation one of this cluster's (SsmActivationIds)? */
static bool our_activation(const struct identity_conf *conf, const char *id)
{
	const char *p = conf->ssm_activation_ids;
	size_t n = strlen(id);

	while (p && *p && n) {
		size_t len;

		p += strspn(p, ", ");
		len = strcspn(p, ", ");
		if (len == n && strncmp(p, id, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* A hybrid instance's node tag is a claim (tags can be written by others):
 * SSM itself must say it belongs to this cluster (registered with one of
 * its activations) and to that node (its agent reports that host name). */
static bool hybrid_confirmed(const struct identity_conf *conf,
			     const struct ssm_instance *m, const char *node,
			     char *why, size_t whylen)
{
	size_t n = strcspn(m->computer_name, ".");

	if (!our_activation(conf, m->activation_id)) {
		snprintf(why, whylen, "its activation %.64s is not in SsmActivationIds",
			 m->activation_id[0] ? m->activation_id : "(none)");
		return false;
	}
	if (n != strlen(node) || strncasecmp(m->computer_name, node, n) != 0) {
		snprintf(why, whylen, "its agent reports host name %.64s",
			 m->computer_name[0] ? m->computer_name : "(none)");
		return false;
	}
	return true;
}

/* EC2 instances tagged as this cluster's nodes. DescribeTags finds them
 * (a small reply per instance, where DescribeInstances sends 5 KB), then
 * EC2 is asked for their states: tags die with a terminated instance, so
 * such an instance has nothing to remove. */
static int ssm_list_tagged(struct backend_context *ctx,
			   struct registration **regs, size_t *count,
			   char *err, size_t errlen)
{
	struct ec2_tag_set ours, nodes;
	struct ec2_instance_set set;
	struct name_set cluster, node_of;
	const char **ids;
	size_t nids = 0, i;
	int rc = -1;

	*regs = NULL;
	*count = 0;
	if (ec2_list_tags(ctx->aws, TAG_CLUSTER, ctx->conf->cluster_name, &ours,
			  err, errlen) < 0)
		return -1;
	if (ec2_list_tags(ctx->aws, TAG_NODE, NULL, &nodes, err, errlen) < 0) {
		ec2_tag_set_free(&ours);
		return -1;
	}
	name_set_init(&cluster);
	name_set_init(&node_of);
	/* Filter values may hold wildcards: only the exact name is ours. */
	for (i = 0; i < ours.count; i++)
		if (strcmp(ours.items[i].value, ctx->conf->cluster_name) == 0)
			name_set_add(&cluster, ours.items[i].instance_id, i);
	ids = xcalloc(nodes.count + 1, sizeof(*ids));
	for (i = 0; i < nodes.count; i++) {
		const char *id = nodes.items[i].instance_id;

		if (name_set_find(&cluster, id, NULL) &&
		    node_name_valid(nodes.items[i].value) &&
		    name_set_add(&node_of, id, i))
			ids[nids++] = id;
	}
	if (nids == 0) {
		rc = 0;
		goto out;
	}
	if (ec2_describe_instances(ctx->aws, ids, nids, &set, err, errlen) < 0)
		goto out;
	*regs = xcalloc(set.count + 1, sizeof(**regs));
	for (i = 0; i < set.count; i++) {
		const struct ec2_instance *in = &set.items[i];
		struct registration *r = &(*regs)[*count];
		size_t j;

		if (strcmp(in->state, "terminated") == 0 ||
		    !name_set_find(&node_of, in->id, &j))
			continue;
		snprintf(r->node, sizeof(r->node), "%.64s", nodes.items[j].value);
		snprintf(r->id, sizeof(r->id), "%s", in->id);
		snprintf(r->instance_id, sizeof(r->instance_id), "%s", in->id);
		snprintf(r->detail, sizeof(r->detail), "tagged, %s", in->state);
		(*count)++;
	}
	ec2_instance_set_free(&set);
	rc = 0;
out:
	free(ids);
	name_set_free(&cluster);
	name_set_free(&node_of);
	ec2_tag_set_free(&ours);
	ec2_tag_set_free(&nodes);
	return rc;
}

static int ssm_list(struct backend_context *ctx, struct registration **regs,
		    size_t *count, char *err, size_t errlen)
{
	struct ssm_instance *hybrid = NULL;
	size_t nhybrid = 0, i;

	*regs = NULL;
	*count = 0;
	if (!ctx->conf->cluster_name) {
		snprintf(err, errlen, "no ClusterName to find our tags by");
		return -1;
	}
	if (ssm_list_tagged(ctx, regs, count, err, errlen) < 0)
		return -1;
	if (ssm_list_tagged_managed(ctx->aws, TAG_CLUSTER,
				    ctx->conf->cluster_name, &hybrid, &nhybrid,
				    err, errlen) < 0) {
		free(*regs);
		*regs = NULL;
		*count = 0;
		return -1;
	}
	*regs = xrealloc(*regs, (*count + nhybrid + 1) * sizeof(**regs));
	for (i = 0; i < nhybrid; i++) {
		struct registration *r = &(*regs)[*count];
		char node[128], why[160];

		memset(r, 0, sizeof(*r));
		if (!ssm_managed_id_valid(hybrid[i].id) ||
		    ssm_managed_tag(ctx->aws, hybrid[i].id, TAG_NODE, node,
				    sizeof(node), err, errlen) < 0 ||
		    !node_name_valid(node))
			continue;
		if (!hybrid_confirmed(ctx->conf, &hybrid[i], node, why, sizeof(why))) {
			log_info("ssm: %s is tagged as node %s of this cluster, but %s; left alone",
				 hybrid[i].id, node, why);
			continue;
		}
		snprintf(r->node, sizeof(r->node), "%.64s", node);
		snprintf(r->id, sizeof(r->id), "%s", hybrid[i].id);
		snprintf(r->detail, sizeof(r->detail), "hybrid, %s",
			 hybrid[i].ping_status);
		(*count)++;
	}
	err[0] = '\0';
	free(hybrid);
	return 0;
}

/* What became of one call per registration: removed, or why not. */
static void ssm_settle(struct registration *r, const struct instance_call *call,
		       bool hybrid)
{
	if (call->ok || call->gone) {
		r->removed = true;
		if (hybrid)
			log_info("%s: ssm: managed instance %s deregistered%s (%.0f ms)",
				 r->node, r->id, call->gone ? " (already gone)" : "",
				 call->seconds * 1000);
		else
			log_info("%s: ssm: tags removed from %s%s (%.0f ms)", r->node,
				 r->id, call->gone ? " (instance gone)" : "",
				 call->seconds * 1000);
	} else {
		snprintf(r->error, sizeof(r->error), "%s", call->error);
	}
}

/* EC2 instances lose our tags (DeleteTags); hybrid managed instances are
 * deregistered (DeregisterManagedInstance): each kind in one parallel
 * batch at the API's rate. */
static void ssm_remove(struct backend_context *ctx, struct registration *regs,
		       size_t count)
{
	static const char *const keys[] = { TAG_NODE, TAG_CLUSTER };
	struct instance_call *tags = xcalloc(count + 1, sizeof(*tags));
	struct instance_call *hybrid = xcalloc(count + 1, sizeof(*hybrid));
	size_t *tag_of = xcalloc(count + 1, sizeof(*tag_of));
	size_t *hybrid_of = xcalloc(count + 1, sizeof(*hybrid_of));
	size_t ntags = 0, nhybrid = 0, i;

	for (i = 0; i < count; i++) {
		if (ec2_instance_id_valid(regs[i].id)) {
			tags[ntags].instance_id = regs[i].id;
			tag_of[ntags++] = i;
		} else if (ssm_managed_id_valid(regs[i].id)) {
			hybrid[nhybrid].instance_id = regs[i].id;
			hybrid_of[nhybrid++] = i;
		} else {
			snprintf(regs[i].error, sizeof(regs[i].error),
				 "not an instance id: %.64s", regs[i].id);
		}
	}
	if (nhybrid)
		ssm_deregister_managed(ctx->aws, hybrid, nhybrid, ctx->deadline);
	if (ntags)
		ec2_tags(ctx->aws, false, tags, ntags, keys, NULL, 2, ctx->deadline);
	for (i = 0; i < nhybrid; i++)
		ssm_settle(&regs[hybrid_of[i]], &hybrid[i], true);
	for (i = 0; i < ntags; i++)
		ssm_settle(&regs[tag_of[i]], &tags[i], false);
	for (i = 0; i < count; i++) {
		if (regs[i].removed) {
			metrics_count("slurm_identity_deregistrations_total",
				      "backend=\"ssm\"", 1);
		} else {
			metrics_count("slurm_identity_failures_total",
				      "backend=\"ssm\",op=\"deregister\"", 1);
		}
	}
	free(tags);
	free(hybrid);
	free(tag_of);
	free(hybrid_of);
}

/* A hybrid node's managed instance id, from the agent's registration
 * file; "" when this is no hybrid node. */
static void hybrid_id(const struct identity_conf *conf, const char *node,
		      char *out, size_t len)
{
	char *path = config_expand_node(conf->ssm_registration_file, node);
	json_error_t jerr;
	json_t *doc;
	const char *id;

	out[0] = '\0';
	doc = json_load_file(path, 0, &jerr);
	id = json_field(doc, "ManagedInstanceID");
	if (id && ssm_managed_id_valid(id))
		snprintf(out, len, "%s", id);
	json_decref(doc);
	free(path);
}

static int ssm_register(struct backend_context *ctx,
			const struct node_identity *me,
			struct journal_entry *state, char *why, size_t whylen)
{
	static const char *const keys[] = { TAG_NODE, TAG_CLUSTER };
	const char *values[2] = { me->node, ctx->conf->cluster_name };
	double start = clock_monotonic();
	double deadline = start + ctx->conf->ssm_online_timeout;

	if (!values[1]) {
		snprintf(why, whylen, "no ClusterName to tag with");
		return -1;
	}
	struct ssm_instance info;
	char id[32], err[512], last[64] = "not a managed instance yet";
	bool found;

	hybrid_id(ctx->conf, me->node, id, sizeof(id));
	if (!id[0])
		snprintf(id, sizeof(id), "%s", me->instance_id);
	if (!id[0]) {
		snprintf(why, whylen, "no instance id (no IMDS and no SSM agent registration in %s)",
			 ctx->conf->ssm_registration_file);
		return -1;
	}
	if (ctx->deadline > 0 && ctx->deadline < deadline)
		deadline = ctx->deadline;
	/* The agent registers itself once it starts: wait for Online. */
	for (;;) {
		if (ssm_describe_instance(ctx->aws, id, &info, &found, err,
					  sizeof(err)) < 0)
			snprintf(last, sizeof(last), "%.60s", err);
		else if (found && strcmp(info.ping_status, "Online") == 0)
			break;
		else if (found)
			snprintf(last, sizeof(last), "agent %.40s", info.ping_status);
		if (clock_monotonic() + POLL_SECONDS > deadline) {
			snprintf(why, whylen, "%s not Online as an SSM managed instance after %.0f s (%s)",
				 id, clock_monotonic() - start, last);
			metrics_count("slurm_identity_failures_total",
				      "backend=\"ssm\",op=\"register\"", 1);
			return -1;
		}
		clock_sleep(POLL_SECONDS);
	}
	if (ssm_managed_id_valid(id)) {
		if (ssm_tag_managed(ctx->aws, id, keys, values, 2, err,
				    sizeof(err)) < 0) {
			snprintf(why, whylen, "tag %s: %.300s", id, err);
			return -1;
		}
	} else {
		struct instance_call call = { id, false, false, 0, "" };

		ec2_tags(ctx->aws, true, &call, 1, keys, values, 2, ctx->deadline);
		if (!call.ok) {
			snprintf(why, whylen, "tag %s: %.300s", id, call.error);
			return -1;
		}
	}
	journal_set(state, "ssm.id", id);
	metrics_count("slurm_identity_registrations_total", "backend=\"ssm\"", 1);
	metrics_observe("slurm_identity_call_seconds",
			"backend=\"ssm\",op=\"register\"", clock_monotonic() - start);
	log_info("ssm: %s Online after %.1f s, tagged %s=%s", id,
		 clock_monotonic() - start, TAG_NODE, me->node);
	return 0;
}

/* `slurm-identity check`: the calls suspend and reconcile make. */
static void ssm_check(struct backend_context *ctx, const struct check_report *r)
{
	struct aws_client *c = ctx->aws;
	const struct identity_conf *conf = ctx->conf;
	struct ssm_instance *hybrid = NULL;
	struct ec2_tag_set tagged;
	size_t n = 0;
	char err[1024];

	if (ec2_list_tags(c, "slurm-identity:cluster", conf->cluster_name,
			  &tagged, err, sizeof(err)) < 0) {
		r->fail("ssm: %s", err);
	} else {
		r->pass("ssm: ec2 DescribeTags allowed (%zu instance(s) tagged for cluster %s)",
		     tagged.count, conf->cluster_name);
		ec2_tag_set_free(&tagged);
	}
	if (ssm_list_tagged_managed(c, "slurm-identity:cluster",
				    conf->cluster_name, &hybrid, &n, err,
				    sizeof(err)) < 0) {
		r->fail("ssm: %s", err);
		return;
	}
	r->pass("ssm: DescribeInstanceInformation allowed (%zu hybrid node(s) of cluster %s)",
	     n, conf->cluster_name);
	free(hybrid);
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
	iam_condition(statements, "ForAllValues:StringEquals", "aws:TagKeys",
		  our_tag_keys());
	iam_condition(statements, "StringEquals", "aws:RequestTag/" TAG_CLUSTER_KEY,
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

	iam_statement(statements, "SlurmIdentitySsmTagHybrid", tag_hybrid,
		      iam_one(managed));
	our_tags_requested(conf, statements);
	iam_condition(statements, "Null", "aws:ResourceTag/" TAG_NODE_KEY,
		  json_string("true"));
	iam_condition(statements, "Null", "aws:ResourceTag/" TAG_CLUSTER_KEY,
		  json_string("true"));

	/* A retried registration writes the same values again. */
	iam_statement(statements, "SlurmIdentitySsmRetagHybrid", tag_hybrid,
		      iam_one(managed));
	our_tags_requested(conf, statements);
	iam_condition(statements, "StringEquals", "aws:ResourceTag/" TAG_NODE_KEY,
		  json_string("${aws:RequestTag/" TAG_NODE_KEY "}"));
	iam_condition(statements, "StringEquals",
		  "aws:ResourceTag/" TAG_CLUSTER_KEY,
		  json_string(conf->cluster_name ? conf->cluster_name : ""));
}

/* The SSM backend. The node gets the managed-instance core permissions
 * (those of AmazonSSMManagedInstanceCore) and may tag itself (an EC2
 * instance exactly, a hybrid node as add_hybrid_tags() says), only with
 * our keys; the controller may only remove those keys, and deregister
 * hybrid nodes. */
static void ssm_policy(const struct identity_conf *conf, enum policy_role role,
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
		iam_statement(statements, "SlurmIdentitySessionManagerCore", core,
			      iam_one("*"));
		iam_statement(statements, "SlurmIdentitySsmOnlineWait", describe,
			      iam_one("*"));
		iam_statement(statements, "SlurmIdentitySsmTagSelf", create_tags,
			      iam_one(instances));
		iam_condition(statements, "StringEquals", "aws:ARN",
			  json_string("${ec2:SourceInstanceARN}"));
		iam_condition(statements, "ForAllValues:StringEquals", "aws:TagKeys",
			  our_tag_keys());
		add_hybrid_tags(conf, managed, statements);
	} else {
		iam_statement(statements, "SlurmIdentitySsmList", describe, iam_one("*"));
		iam_statement(statements, "SlurmIdentitySsmFindTagged", find_tagged,
			      iam_one("*"));
		iam_statement(statements, "SlurmIdentitySsmUntag", delete_tags,
			      iam_one(instances));
		iam_condition(statements, "ForAllValues:StringEquals", "aws:TagKeys",
			  our_tag_keys());
		/* Only what carries this cluster's tag; the controller also
		 * checks the activation and host name before it acts. */
		iam_statement(statements, "SlurmIdentitySsmHybridTags", list_tags,
			      iam_one(managed));
		iam_statement(statements, "SlurmIdentitySsmHybridDeregister",
			      deregister, iam_one(managed));
		iam_condition(statements, "StringEquals",
			  "ssm:resourceTag/slurm-identity:cluster",
			  json_string(conf->cluster_name ? conf->cluster_name : ""));
	}
	free(instances);
	free(managed);
}

const struct backend ssm_backend = {
	.name = "ssm",
	.id_key = "ssm.id",
	.list = ssm_list,
	.remove = ssm_remove,
	.register_node = ssm_register,
	.check = ssm_check,
	.policy = ssm_policy,
};
