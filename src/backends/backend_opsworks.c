/* backend_opsworks.c: AWS OpsWorks Stacks registration.
 *
 * The node registers itself (RegisterInstance with its signed IMDSv2
 * identity document and a fresh RSA key pair, as the OpsWorks agent did);
 * the controller deregisters, and lists the stack for reconcile. AWS ended
 * OpsWorks Stacks in May 2024; this serves sites that still run it or an
 * API-compatible service.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/crypto.h>

#include "backend.h"
#include "common/aws/json_each.h"
#include "common/aws/services.h"
#include "common/hostlist.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/xmalloc.h"
#include "common/json_field.h"

struct listing {
	struct registration *regs;
	size_t count, cap;
};

/* One instance of the stack's listing, read as it comes. */
static int add_instance(json_t *item, void *arg)
{
	struct listing *l = arg;
	const char *id = json_field(item, "InstanceId");
	const char *ec2 = json_field(item, "Ec2InstanceId");
	const char *host = json_field(item, "Hostname");
	const char *status = json_field(item, "Status");
	struct registration *r;

	if (!id || strlen(id) >= sizeof(r->id))
		return 0;
	if (l->count + 1 >= l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->regs = xrealloc(l->regs, l->cap * sizeof(*l->regs));
	}
	r = &l->regs[l->count++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	if (ec2 && ec2_instance_id_valid(ec2))
		snprintf(r->instance_id, sizeof(r->instance_id), "%s", ec2);
	/* We register with Hostname = Slurm node name. */
	if (host && node_name_valid(host))
		snprintf(r->node, sizeof(r->node), "%s", host);
	snprintf(r->detail, sizeof(r->detail), "status %s",
		 status ? status : "unknown");
	return 0;
}

static int opsworks_list(struct backend_context *ctx,
			 struct registration **regs, size_t *count, char *err,
			 size_t errlen)
{
	json_t *input = json_object();
	struct listing l = { NULL, 0, 0 };
	struct json_each each = { "Instances", add_instance, &l, false };
	struct aws_call *call;
	int rc = -1;

	*regs = NULL;
	*count = 0;
	json_object_set_new(input, "StackId",
			    json_string(ctx->conf->opsworks_stack_id));
	call = aws_call_json(&aws_opsworks, "DescribeInstances", input);
	/* A stack of 10,000 instances: one at a time, not one tree. */
	call->each = &each;
	if (aws_perform(ctx->aws, &call, 1, ctx->deadline) != 0) {
		aws_call_error(call, err, errlen);
		goto out;
	}
	if (!each.found) {
		snprintf(err, errlen, "opsworks DescribeInstances: no Instances in reply");
		goto out;
	}
	*regs = l.regs ? l.regs : xcalloc(1, sizeof(**regs));
	*count = l.count;
	l.regs = NULL;
	rc = 0;
out:
	free(l.regs);
	aws_call_free(call);
	return rc;
}

static void opsworks_remove(struct backend_context *ctx,
			    struct registration *regs, size_t count)
{
	struct aws_call **calls = xcalloc(count + 1, sizeof(*calls));
	size_t i;

	for (i = 0; i < count; i++) {
		json_t *input = json_object();

		json_object_set_new(input, "InstanceId", json_string(regs[i].id));
		calls[i] = aws_call_json(&aws_opsworks, "DeregisterInstance", input);
	}
	aws_perform(ctx->aws, calls, count, ctx->deadline);
	for (i = 0; i < count; i++) {
		struct aws_call *c = calls[i];

		if (c->status == AWS_CALL_OK ||
		    (c->status == AWS_CALL_SERVICE_ERROR &&
		     strcmp(c->code, "ResourceNotFoundException") == 0)) {
			regs[i].removed = true;
			metrics_count("slurm_identity_deregistrations_total",
				      "backend=\"opsworks\"", 1);
			metrics_observe("slurm_identity_call_seconds",
					"backend=\"opsworks\",op=\"deregister\"",
					c->seconds);
			log_info("%s: opsworks: deregistered %s%s (request %s, %.0f ms)",
				 regs[i].node[0] ? regs[i].node : "-", regs[i].id,
				 c->status == AWS_CALL_OK ? "" : " (already gone)",
				 c->request_id[0] ? c->request_id : "-",
				 c->seconds * 1000);
		} else {
			aws_call_error(c, regs[i].error, sizeof(regs[i].error));
			metrics_count("slurm_identity_failures_total",
				      "backend=\"opsworks\",op=\"deregister\"", 1);
		}
		aws_call_free(c);
	}
	free(calls);
}

/* PEM public key and its MD5 fingerprint (aa:bb:...), as the agent sent. */
static int make_key_pair(const char *key_path, char **public_pem,
			 char *fingerprint, size_t fplen, char *why,
			 size_t whylen)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	BIO *bio = NULL;
	FILE *fp = NULL;
	char *data;
	long len;
	int derlen, fd, rc = -1;

	if (!key) {
		snprintf(why, whylen, "RSA key generation failed");
		return -1;
	}
	unlink(key_path);
	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 || !(fp = fdopen(fd, "w"))) {
		snprintf(why, whylen, "cannot create %s: %s", key_path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (!PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) ||
	    fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		snprintf(why, whylen, "cannot write %s", key_path);
		goto out;
	}
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_PUBKEY(bio, key)) {
		snprintf(why, whylen, "cannot encode the public key");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	*public_pem = xstrndup(data, (size_t)len);
	derlen = i2d_PUBKEY(key, &der);
	if (derlen <= 0 ||
	    !EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_md5(), NULL)) {
		snprintf(why, whylen, "cannot fingerprint the public key");
		goto out;
	}
	fingerprint[0] = '\0';
	for (i = 0; i < mdlen && 3 * (i + 1) < fplen; i++)
		snprintf(fingerprint + 3 * i, fplen - 3 * i, "%s%02x",
			 i ? ":" : "", md[i]);
	rc = 0;
out:
	if (fp)
		fclose(fp);
	OPENSSL_free(der);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return rc;
}

static int opsworks_register(struct backend_context *ctx,
			     const struct node_identity *me,
			     struct journal_entry *state, char *why,
			     size_t whylen)
{
	json_t *input = json_object(), *identity = json_object();
	struct aws_call *call;
	char *key_path, *public_pem = NULL, fingerprint[64];
	const char *id;
	int rc = -1;

	key_path = xasprintf("%s/node/%s.key", ctx->conf->state_dir, me->node);
	if (make_key_pair(key_path, &public_pem, fingerprint,
			  sizeof(fingerprint), why, whylen) < 0) {
		json_decref(input);
		json_decref(identity);
		free(key_path);
		return -1;
	}
	json_object_set_new(input, "StackId",
			    json_string(ctx->conf->opsworks_stack_id));
	json_object_set_new(input, "Hostname", json_string(me->node));
	if (me->private_ip[0])
		json_object_set_new(input, "PrivateIp", json_string(me->private_ip));
	if (me->public_ip[0])
		json_object_set_new(input, "PublicIp", json_string(me->public_ip));
	json_object_set_new(input, "RsaPublicKey", json_string(public_pem));
	json_object_set_new(input, "RsaPublicKeyFingerprint",
			    json_string(fingerprint));
	json_object_set_new(identity, "Document", json_string(me->document));
	json_object_set_new(identity, "Signature", json_string(me->signature));
	json_object_set_new(input, "InstanceIdentity", identity);
	call = aws_call_json(&aws_opsworks, "RegisterInstance", input);
	if (aws_perform(ctx->aws, &call, 1, ctx->deadline) != 0) {
		aws_call_error(call, why, whylen);
		metrics_count("slurm_identity_failures_total",
			      "backend=\"opsworks\",op=\"register\"", 1);
		goto out;
	}
	metrics_count("slurm_identity_registrations_total",
		      "backend=\"opsworks\"", 1);
	metrics_observe("slurm_identity_call_seconds",
			"backend=\"opsworks\",op=\"register\"", call->seconds);
	id = json_field(call->json, "InstanceId");
	if (!id || !*id || strlen(id) > 64 || strchr(id, ' ')) {
		snprintf(why, whylen, "opsworks RegisterInstance: no InstanceId in reply");
		goto out;
	}
	journal_set(state, "opsworks.id", id);
	journal_set(state, "opsworks.key", key_path);
	log_info("opsworks: registered %s as %s in stack %s (request %s, %.0f ms)",
		 me->instance_id, id, ctx->conf->opsworks_stack_id,
		 call->request_id[0] ? call->request_id : "-",
		 call->seconds * 1000);
	rc = 0;
out:
	aws_call_free(call);
	free(public_pem);
	free(key_path);
	return rc;
}

/* `slurm-identity check`: the stack is there and ours to describe. */
static void opsworks_check(struct backend_context *ctx,
			   const struct check_report *r)
{
	struct aws_client *c = ctx->aws;
	const struct identity_conf *conf = ctx->conf;
	struct opsworks_stack stack;
	char err[1024];

	if (opsworks_describe_stack(c, conf->opsworks_stack_id, &stack, err,
				    sizeof(err)) < 0) {
		r->fail("opsworks: %s", err);
		return;
	}
	r->pass("opsworks: stack %s (%s) found", stack.stack_id,
	     stack.name[0] ? stack.name : "unnamed");
}

/* The agent's key the registration wrote must still be there. */
static int opsworks_node_check(const struct journal_entry *state, char *why,
			       size_t whylen)
{
	const char *key = journal_get(state, "opsworks.key");

	if (key && access(key, R_OK) == 0)
		return 0;
	snprintf(why, whylen, "key file missing");
	return -1;
}

/* The controller lists and deregisters in the stack; a node registers
 * into it. */
static void opsworks_policy(const struct identity_conf *conf,
			    enum policy_role role, const char *region,
			    const char *account, json_t *statements)
{
	static const char *const controller[] = {
		"opsworks:DescribeInstances", "opsworks:DeregisterInstance",
		"opsworks:DescribeStacks", NULL
	};
	static const char *const node[] = { "opsworks:RegisterInstance", NULL };
	/* Stack ARNs carry the region the stack's API endpoint serves. */
	char *stack = xasprintf("arn:aws:opsworks:%s:%s:stack/%s/", region,
				account, conf->opsworks_stack_id);

	if (role == POLICY_CONTROLLER)
		iam_statement(statements, "SlurmIdentityOpsWorksController",
			      controller, iam_one(stack));
	else
		iam_statement(statements, "SlurmIdentityOpsWorksRegister", node,
			      iam_one(stack));
	free(stack);
}

static int opsworks_validate(const struct identity_conf *conf, char *why,
			     size_t whylen)
{
	if (conf->opsworks_stack_id)
		return 0;
	snprintf(why, whylen, "OpsWorksStackId is not set");
	return -1;
}

const struct backend opsworks_backend = {
	.name = "opsworks",
	.needs_imds = true,
	.id_key = "opsworks.id",
	.list = opsworks_list,
	.remove = opsworks_remove,
	.register_node = opsworks_register,
	.node_check = opsworks_node_check,
	.validate = opsworks_validate,
	.check = opsworks_check,
	.policy = opsworks_policy,
};
