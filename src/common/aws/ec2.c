/* ec2.c: EC2 DescribeInstances, batched and paginated. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "services.h"

/* EC2 takes at most 1000 instance ids per DescribeInstances. */
#define EC2_BATCH 1000

bool ec2_instance_id_valid(const char *id)
{
	size_t len = strlen(id), i;

	if (len < 10 || len > 19 || strncmp(id, "i-", 2) != 0)
		return false;
	for (i = 2; i < len; i++)
		if (!isxdigit((unsigned char)id[i]) ||
		    isupper((unsigned char)id[i]))
			return false;
	return true;
}

void ec2_instance_set_free(struct ec2_instance_set *s)
{
	size_t i;

	free(s->items);
	for (i = 0; i < s->missing_count; i++)
		free(s->missing[i]);
	free(s->missing);
	memset(s, 0, sizeof(*s));
}

static void add_instance(struct ec2_instance_set *s, const struct xml_node *item)
{
	const struct xml_node *tags = xml_child(item, "tagSet"), *t;
	struct ec2_instance *in;
	const char *id = xml_path_text(item, "instanceId");

	if (!id || !ec2_instance_id_valid(id))
		return;
	s->items = xrealloc(s->items, (s->count + 1) * sizeof(*s->items));
	in = &s->items[s->count++];
	memset(in, 0, sizeof(*in));
	snprintf(in->id, sizeof(in->id), "%s", id);
	snprintf(in->state, sizeof(in->state), "%s",
		 xml_path_text(item, "instanceState/name")
			 ? xml_path_text(item, "instanceState/name")
			 : "unknown");
	snprintf(in->private_ip, sizeof(in->private_ip), "%s",
		 xml_path_text(item, "privateIpAddress")
			 ? xml_path_text(item, "privateIpAddress")
			 : "");
	for (t = tags ? tags->children : NULL; t; t = t->next) {
		const char *k = xml_path_text(t, "key");
		const char *v = xml_path_text(t, "value");

		if (k && v && strcmp(k, "slurm-identity:node") == 0)
			snprintf(in->node_name, sizeof(in->node_name), "%s", v);
	}
}

/* Collect every instance of a reply; return nextToken or NULL. */
static const char *collect(struct ec2_instance_set *s,
			   const struct xml_node *root)
{
	const struct xml_node *res = xml_child(root, "reservationSet"), *r, *i;

	for (r = res ? res->children : NULL; r; r = r->next) {
		const struct xml_node *set = xml_child(r, "instancesSet");

		for (i = set ? set->children : NULL; i; i = i->next)
			add_instance(s, i);
	}
	return xml_path_text(root, "nextToken");
}

/* InvalidInstanceID.NotFound names the missing ids in its message:
 * "The instance IDs 'i-1, i-2' do not exist". Move those we asked for
 * from the batch to missing; false if none could be identified. */
static bool take_missing(struct ec2_instance_set *s, const char *message,
			 char **batch, size_t *count)
{
	size_t i = 0;
	bool any = false;

	while (i < *count) {
		const char *hit = strstr(message, batch[i]);
		size_t len = strlen(batch[i]);

		if (hit && !isxdigit((unsigned char)hit[len])) {
			s->missing = xrealloc(s->missing,
					      (s->missing_count + 1) *
						      sizeof(*s->missing));
			s->missing[s->missing_count++] = batch[i];
			batch[i] = batch[--*count];
			any = true;
		} else {
			i++;
		}
	}
	return any;
}

struct batch {
	char **ids;
	size_t count;
	char *next_token;
	bool done;
};

int ec2_describe_instances(struct aws_client *c, const char *const *ids,
			   size_t n, struct ec2_instance_set *out, char *err,
			   size_t errlen)
{
	size_t nbatches = (n + EC2_BATCH - 1) / EC2_BATCH, i, j, left;
	struct batch *batches = xcalloc(nbatches + 1, sizeof(*batches));
	struct aws_call **calls = xcalloc(nbatches + 1, sizeof(*calls));
	int rc = -1, round;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	for (i = 0; i < n; i++) {
		struct batch *b = &batches[i / EC2_BATCH];

		if (!ec2_instance_id_valid(ids[i])) {
			snprintf(err, errlen, "invalid EC2 instance id \"%.32s\"",
				 ids[i]);
			goto out;
		}
		if (!b->ids)
			b->ids = xcalloc(EC2_BATCH, sizeof(*b->ids));
		b->ids[b->count++] = xstrdup(ids[i]);
	}
	/* Each round sends every unfinished batch in parallel; a batch goes
	 * again for its next page or without the ids EC2 did not know. */
	for (round = 0; round < 64; round++) {
		size_t ncalls = 0;

		for (i = 0; i < nbatches; i++) {
			struct batch *b = &batches[i];
			struct aws_call *call;

			if (b->done)
				continue;
			if (b->count == 0) {
				b->done = true;
				continue;
			}
			call = aws_call_query(&aws_ec2, "DescribeInstances");
			for (j = 0; j < b->count; j++) {
				char key[32];

				snprintf(key, sizeof(key), "InstanceId.%zu", j + 1);
				aws_call_param(call, key, b->ids[j]);
			}
			if (b->next_token)
				aws_call_param(call, "NextToken", b->next_token);
			call->user = b;
			calls[ncalls++] = call;
		}
		if (ncalls == 0)
			break;
		aws_perform(c, calls, ncalls, 0);
		left = 0;
		for (i = 0; i < ncalls; i++) {
			struct aws_call *call = calls[i];
			struct batch *b = call->user;
			const char *token;

			if (call->status == AWS_CALL_SERVICE_ERROR &&
			    strcmp(call->code, "InvalidInstanceID.NotFound") == 0 &&
			    take_missing(out, call->message, b->ids, &b->count)) {
				left++;
			} else if (call->status != AWS_CALL_OK) {
				if (!err[0])
					aws_call_error(call, err, errlen);
				b->done = true;
				left = (size_t)-1;
			} else {
				token = collect(out, call->xml);
				free(b->next_token);
				b->next_token = token && *token ? xstrdup(token) : NULL;
				b->done = b->next_token == NULL;
			}
			aws_call_free(call);
			calls[i] = NULL;
		}
		if (left == (size_t)-1)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < nbatches; i++) {
		for (j = 0; j < batches[i].count; j++)
			free(batches[i].ids[j]);
		free(batches[i].ids);
		free(batches[i].next_token);
	}
	free(batches);
	free(calls);
	if (rc < 0)
		ec2_instance_set_free(out);
	return rc;
}

int ec2_probe(struct aws_client *c, char *err, size_t errlen)
{
	struct aws_call *call = aws_call_query(&aws_ec2, "DescribeInstances");
	int rc = 0;

	aws_call_param(call, "MaxResults", "5");
	if (aws_perform_one(c, call) < 0) {
		aws_call_error(call, err, errlen);
		rc = -1;
	}
	aws_call_free(call);
	return rc;
}

int ec2_describe_tagged(struct aws_client *c, const char *key,
			const char *value, struct ec2_instance_set *out,
			char *err, size_t errlen)
{
	char *token = NULL, name[160];
	int rc = 0, page;

	memset(out, 0, sizeof(*out));
	snprintf(name, sizeof(name), "tag:%s", key);
	for (page = 0; page < 1000; page++) {
		struct aws_call *call = aws_call_query(&aws_ec2, "DescribeInstances");
		const char *next;

		aws_call_param(call, "Filter.1.Name", name);
		aws_call_param(call, "Filter.1.Value.1", value);
		aws_call_param(call, "MaxResults", "1000");
		if (token)
			aws_call_param(call, "NextToken", token);
		if (aws_perform_one(c, call) < 0) {
			aws_call_error(call, err, errlen);
			aws_call_free(call);
			rc = -1;
			break;
		}
		next = collect(out, call->xml);
		free(token);
		token = next && *next ? xstrdup(next) : NULL;
		aws_call_free(call);
		if (!token)
			break;
	}
	free(token);
	if (rc < 0)
		ec2_instance_set_free(out);
	return rc;
}

void ec2_tags(struct aws_client *c, bool create, struct instance_call *items,
	      size_t n, const char *const *keys, const char *const *values,
	      size_t ntags, double deadline)
{
	struct aws_call **calls = xcalloc(n + 1, sizeof(*calls));
	size_t i, t;

	for (i = 0; i < n; i++) {
		calls[i] = aws_call_query(&aws_ec2, create ? "CreateTags" : "DeleteTags");
		aws_call_param(calls[i], "ResourceId.1", items[i].instance_id);
		for (t = 0; t < ntags; t++) {
			char k[32];

			snprintf(k, sizeof(k), "Tag.%zu.Key", t + 1);
			aws_call_param(calls[i], k, keys[t]);
			if (create) {
				snprintf(k, sizeof(k), "Tag.%zu.Value", t + 1);
				aws_call_param(calls[i], k, values[t]);
			}
		}
	}
	instance_calls_perform(c, calls, items, n, "InvalidInstanceID.NotFound",
			       deadline);
}

void instance_calls_perform(struct aws_client *c, struct aws_call **calls,
			    struct instance_call *items, size_t n,
			    const char *gone_code, double deadline)
{
	size_t i;

	aws_perform(c, calls, n, deadline);
	for (i = 0; i < n; i++) {
		struct aws_call *call = calls[i];

		items[i].gone = call->status == AWS_CALL_SERVICE_ERROR &&
				strcmp(call->code, gone_code) == 0;
		items[i].ok = call->status == AWS_CALL_OK;
		items[i].seconds = call->seconds;
		if (!items[i].ok)
			aws_call_error(call, items[i].error, sizeof(items[i].error));
		aws_call_free(call);
	}
	free(calls);
}
