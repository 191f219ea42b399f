/* bind.c: join secrets bound to their instances (bind.h). */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/aws/services.h"
#include "common/log.h"
#include "common/slurm_node.h"
#include "common/xmalloc.h"
#include "bind.h"

bool controller_binds(const struct controller *c)
{
	size_t b;

	if (strcmp(c->conf->join_secret_binding, "none") == 0)
		return false;
	for (b = 0; b < c->backend_count; b++)
		if (c->backends[b]->bind)
			return true;
	return false;
}

/* The account instance ARNs name: the one our credentials are of. */
static const char *account_of(struct controller *c, char *err, size_t errlen)
{
	static struct caller_identity id;

	if (!id.account[0] &&
	    sts_get_caller_identity(c->ctx.aws, &id, err, errlen) < 0)
		return NULL;
	return id.account;
}

/* What EC2 is asked for node n: its NodeAddr (a private IPv4 address,
 * not yet the node's name), or its name (tag mode). NULL: nothing yet. */
static const char *lookup_value(const struct controller *c,
				const struct slurm_node *n)
{
	struct in_addr a;

	if (strncmp(c->conf->join_secret_binding, "tag:", 4) == 0)
		return n->name;
	return inet_pton(AF_INET, n->addr, &a) == 1 ? n->addr : NULL;
}

/* nodeaddr: does another node have the same NodeAddr? */
static bool shared_addr(const struct controller *c,
			const struct slurm_node_set *slurm,
			const struct slurm_node *n)
{
	size_t i;

	if (strncmp(c->conf->join_secret_binding, "tag:", 4) == 0)
		return false;
	for (i = 0; i < slurm->count; i++)
		if (&slurm->nodes[i] != n && strcmp(slurm->nodes[i].addr, n->addr) == 0)
			return true;
	return false;
}

static bool claims(const struct controller *c, const struct ec2_instance *in,
		   const struct slurm_node *n)
{
	if (strncmp(c->conf->join_secret_binding, "tag:", 4) == 0)
		return strcmp(in->tag_value, n->name) == 0;
	return strcmp(in->private_ip, n->addr) == 0;
}

void controller_bind(struct controller *c, const struct node_list *nodes,
		     struct node_list *left)
{
	struct slurm_node_set slurm;
	struct ec2_instance_set found = { 0 };
	struct registration *regs = NULL;
	const struct slurm_node **want = NULL;
	const char **values = NULL, *account, *filter;
	char err[512];
	size_t i, j, nwant = 0, nregs = 0, b;

	if (!nodes->count)
		return;
	if (!c->ctx.aws || nodes_load(&slurm, err, sizeof(err)) < 0) {
		log_error("bind: %s; tried again", c->ctx.aws ? err : "no AWS client");
		if (c->ctx.aws)
			nodes_free(&slurm);
		for (i = 0; i < nodes->count; i++)
			node_list_add(left, nodes->names[i]);
		return;
	}
	want = xcalloc(nodes->count + 1, sizeof(*want));
	values = xcalloc(nodes->count + 1, sizeof(*values));
	for (i = 0; i < nodes->count; i++) {
		const struct slurm_node *n = nodes_find(&slurm, nodes->names[i]);

		if (!n || n->powered_down || n->powering_down || n->down) {
			log_info("%s: no longer coming up or up in Slurm: its join secret is not bound",
				 nodes->names[i]);
			continue;
		}
		if (!(values[nwant] = lookup_value(c, n))) {
			node_list_add(left, n->name);	/* NodeAddr not set yet */
			continue;
		}
		if (shared_addr(c, &slurm, n)) {
			/* A NodeAddr of the node's last life, now another's. */
			node_list_add(left, n->name);
			continue;
		}
		want[nwant++] = n;
	}
	filter = strncmp(c->conf->join_secret_binding, "tag:", 4) == 0
			 ? c->conf->join_secret_binding : "private-ip-address";
	account = nwant ? account_of(c, err, sizeof(err)) : "";
	if (nwant && (!account ||
		      ec2_find_instances(c->ctx.aws, filter, values, nwant, &found,
					 err, sizeof(err)) < 0)) {
		log_error("bind: %s; tried again", err);
		for (i = 0; i < nwant; i++)
			node_list_add(left, want[i]->name);
		nwant = 0;
	}
	regs = xcalloc(nwant + 1, sizeof(*regs));
	for (i = 0; i < nwant; i++) {
		const struct ec2_instance *one = NULL;
		size_t claimed = 0;

		for (j = 0; j < found.count; j++) {
			if (!claims(c, &found.items[j], want[i]))
				continue;
			if (claimed++ == 0)
				one = &found.items[j];
		}
		if (claimed != 1) {
			/* None yet; or two claim the node (an address reused,
			 * a tag copied): bound to neither. */
			if (claimed > 1)
				log_error("%s: %zu instances match %s=%s (%s and others): its join secret stays unbound; its join waits JoinSecretWait and drains",
					  want[i]->name, claimed, filter, values[i],
					  one->id);
			node_list_add(left, want[i]->name);
			continue;
		}
		snprintf(regs[nregs].node, sizeof(regs[nregs].node), "%s",
			 want[i]->name);
		snprintf(regs[nregs].instance_id, sizeof(regs[nregs].instance_id),
			 "%s", one->id);
		snprintf(regs[nregs].detail, sizeof(regs[nregs].detail),
			 "arn:aws:ec2:%s:%s:instance/%s",
			 aws_client_region(c->ctx.aws), account, one->id);
		nregs++;
	}
	for (b = 0; b < c->backend_count && nregs; b++) {
		if (!c->backends[b]->bind)
			continue;
		c->backends[b]->bind(&c->ctx, regs, nregs);
		for (i = 0; i < nregs; i++) {
			if (!regs[i].error[0])
				continue;
			log_error("%s: %s: %s; tried again", regs[i].node,
				  c->backends[b]->name, regs[i].error);
			node_list_add(left, regs[i].node);
			regs[i].error[0] = '\0';
		}
	}
	free(regs);
	free(want);
	free(values);
	ec2_instance_set_free(&found);
	nodes_free(&slurm);
}
