/* node.c: node-side registration and checks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "backends/backend.h"
#include "common/aws/clock.h"
#include "common/aws/imds.h"
#include "common/aws/services.h"
#include "common/hostlist.h"
#include "common/log.h"
#include "common/slurm_node.h"
#include "common/xmalloc.h"
#include "common/json_field.h"
#include "node.h"
#include "record.h"

/* Registration must finish well inside slurmd's PrologEpilogTimeout. */
#define REGISTER_BUDGET 60

void node_drain(const char *node, const char *reason)
{
	char full[512], err[512];

	snprintf(full, sizeof(full), "identity: %s", reason);
	log_error("draining: %s", full);
	if (nodes_drain(node, full, err, sizeof(err)) < 0)
		log_error("%s", err);
}

void node_drain_and_recycle(const char *node, const char *reason)
{
	char full[512], err[512];

	snprintf(full, sizeof(full), "identity: %s", reason);
	log_error("draining for a power cycle: %s", full);
	if (nodes_power_down(node, full, err, sizeof(err)) < 0) {
		log_error("%s", err);
		node_drain(node, reason);
	}
}

/* An EC2 instance type as the identity document gives it ("c5.xlarge"). */
static bool instance_type_valid(const char *type)
{
	size_t len = strlen(type);

	if (len == 0 || len >= 32)
		return false;
	return strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789.-") == len;
}

/* Read what IMDS says about this instance. */
static int load_identity(struct imds *imds, const char *node,
			 struct node_identity *me, char *why, size_t whylen)
{
	struct strbuf b;
	json_error_t jerr;
	json_t *doc = NULL;
	long status;
	int rc = -1;

	memset(me, 0, sizeof(*me));
	snprintf(me->node, sizeof(me->node), "%s", node);
	strbuf_init(&b);
	if (imds_get(imds, "/latest/dynamic/instance-identity/document", &b,
		     &status, why, whylen) < 0)
		goto out;
	doc = json_loadb(b.data, b.len, 0, &jerr);
	if (!json_is_object(doc) ||
	    !json_field(doc, "instanceId") ||
	    !ec2_instance_id_valid(json_field(doc, "instanceId"))) {
		snprintf(why, whylen, "imds: identity document without a valid instanceId");
		goto out;
	}
	me->document = xstrdup(b.data);
	snprintf(me->instance_id, sizeof(me->instance_id), "%s",
		 json_field(doc, "instanceId"));
	if (json_field(doc, "instanceType") &&
	    instance_type_valid(json_field(doc, "instanceType")))
		snprintf(me->instance_type, sizeof(me->instance_type), "%s",
			 json_field(doc, "instanceType"));
	json_field_copy(doc, "region", me->region, sizeof(me->region));
	json_field_copy(doc, "privateIp", me->private_ip,
			sizeof(me->private_ip));
	if (imds_get(imds, "/latest/dynamic/instance-identity/signature", &b,
		     &status, why, whylen) < 0)
		goto out;
	me->signature = xstrdup(b.data);
	/* Optional items: an instance may have no public address. */
	if (imds_get(imds, "/latest/meta-data/public-ipv4", &b, &status, why,
		     whylen) == 0 && b.len < sizeof(me->public_ip))
		snprintf(me->public_ip, sizeof(me->public_ip), "%s", b.data);
	if (imds_get(imds, "/latest/meta-data/local-hostname", &b, &status,
		     why, whylen) == 0 && b.len < sizeof(me->hostname))
		snprintf(me->hostname, sizeof(me->hostname), "%s", b.data);
	why[0] = '\0';
	rc = 0;
out:
	json_decref(doc);
	strbuf_free(&b);
	return rc;
}

static void free_identity(struct node_identity *me)
{
	free(me->document);
	free(me->signature);
}

int node_register(struct program *prog, const char *node,
		  struct journal_entry *e, char *reason, size_t reasonlen)
{
	const struct backend *backends[8];
	size_t n = backends_enabled(&prog->conf, backends, 8), i;
	struct backend_context ctx;
	struct node_identity me;
	struct strbuf extra;
	char err[1024], boot[64], why[768];
	struct aws_client *aws;
	bool native = false;
	int rc = -1;

	memset(&me, 0, sizeof(me));
	strbuf_init(&extra);
	aws = program_aws(prog, err, sizeof(err));
	if (!aws) {
		snprintf(reason, reasonlen, "%s: aws: %.200s", backends[0]->name,
			 err);
		goto out;
	}
	if (load_identity(aws_client_imds(aws), node, &me, why, sizeof(why)) < 0) {
		/* Only backends that send the signed document need IMDS; a
		 * hybrid (on-premises) node has none. */
		for (i = 0; i < n; i++) {
			if (backends[i]->needs_imds) {
				snprintf(reason, reasonlen, "%s: %.300s",
					 backends[i]->name, why);
				goto out;
			}
		}
		log_info("no instance identity (%s): going on without it", why);
		free_identity(&me);
		memset(&me, 0, sizeof(me));
		snprintf(me.node, sizeof(me.node), "%s", node);
	}
	node_boot_id(boot, sizeof(boot));
	/* The intention first: a crash mid-way is seen by the next run. */
	journal_set(e, "phase", "registering");
	journal_set(e, "instance", me.instance_id);
	journal_set(e, "boot_id", boot);
	if (journal_write(prog->conf.state_dir, NODE_ROLE, e, err, sizeof(err)) < 0) {
		snprintf(reason, reasonlen, "state: %.300s", err);
		goto out;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = &prog->conf;
	ctx.aws = aws;
	ctx.deadline = clock_monotonic() + REGISTER_BUDGET;
	/* Releases with InstanceId keep the instance there; 22.05 has only
	 * Extra. Either way it is for people and status, not an authority
	 * for the controller. */
	strbuf_printf(&extra, "identity=ready");
	if (!nodes_have_instance_fields())
		strbuf_printf(&extra, " instance=%s",
			      me.instance_id[0] ? me.instance_id : "-");
	for (i = 0; i < n; i++) {
		const char *id;
		double t0 = clock_monotonic();

		if (backends[i]->register_node(&ctx, &me, e, why, sizeof(why)) < 0) {
			snprintf(reason, reasonlen, "%s: register: %.400s",
				 backends[i]->name, why);
			journal_set(e, "phase", "failed");
			journal_set(e, "error", reason);
			journal_write(prog->conf.state_dir, NODE_ROLE, e, err,
				      sizeof(err));
			goto out;
		}
		id = journal_get(e, backends[i]->id_key);
		if (id)
			strbuf_printf(&extra, " %s=%s", backends[i]->name, id);
		log_info("%s: registered in %.0f ms", backends[i]->name,
			 (clock_monotonic() - t0) * 1000);
	}
	journal_set(e, "phase", "ready");
	journal_unset(e, "error");
	if (journal_write(prog->conf.state_dir, NODE_ROLE, e, err, sizeof(err)) < 0) {
		snprintf(reason, reasonlen, "state: %.300s", err);
		goto out;
	}
	/* Mirror into the node record, for scontrol show node and status.
	 * The controller never takes ids from it: anyone with node root or
	 * operator rights can write it. */
	if (nodes_set_identity(node, extra.data, me.instance_id,
			       me.instance_type[0] ? me.instance_type : NULL,
			       &native, err, sizeof(err)) < 0)
		log_error("%s", err);
	else if (native)
		log_verbose("InstanceId=%s InstanceType=%s recorded in Slurm",
			    me.instance_id, me.instance_type[0] ? me.instance_type : "-");
	rc = 0;
out:
	free_identity(&me);
	strbuf_free(&extra);
	return rc;
}
