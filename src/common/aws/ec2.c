/* ec2.c: EC2 DescribeInstances, batched and paginated. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "services.h"

/* Ids per DescribeInstances (EC2 takes up to 1,000), and such calls in
 * flight at once: a reply is about 5 KB per instance, so this bounds what
 * a describe of 10,000 instances holds to some 4 MB of replies. */
#define EC2_BATCH 200
#define EC2_IN_FLIGHT 4
/* A batch of 200 ids fits one page; this many means EC2 keeps paging. */
#define EC2_MAX_PAGES 1000
/* Values per DescribeInstances filter (EC2 takes up to 200). */
#define EC2_FILTER_VALUES 200

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

static int add_instance(const struct xml_node *item, void *arg)
{
	struct ec2_instance_set *s = arg;
	struct ec2_instance *in;
	const char *id = xml_path_text(item, "instanceId");
	const char *state = xml_path_text(item, "instanceState/name");
	const char *ip = xml_path_text(item, "privateIpAddress");

	if (!id || !ec2_instance_id_valid(id))
		return 0;
	if (s->count == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
	}
	in = &s->items[s->count++];
	memset(in, 0, sizeof(*in));
	snprintf(in->id, sizeof(in->id), "%s", id);
	snprintf(in->state, sizeof(in->state), "%s", state ? state : "unknown");
	snprintf(in->private_ip, sizeof(in->private_ip), "%s", ip ? ip : "");
	if (s->tag_key) {
		const struct xml_node *tags = xml_child(item, "tagSet"), *t;

		for (t = tags ? tags->children : NULL; t; t = t->next) {
			const char *k = xml_path_text(t, "key");
			const char *v = xml_path_text(t, "value");

			if (k && v && strcmp(k, s->tag_key) == 0)
				snprintf(in->tag_value, sizeof(in->tag_value),
					 "%s", v);
		}
	}
	return 0;
}

/* A DescribeInstances call whose instances go to s as its reply is read:
 * a page of 1,000 instances is 5 MB of XML, never held as a tree. */
static struct aws_call *describe_call(struct ec2_instance_set *s,
				      struct xml_each *each)
{
	struct aws_call *call = aws_call_query(&aws_ec2, "DescribeInstances");

	each->path = "reservationSet/item/instancesSet";
	each->fn = add_instance;
	each->arg = s;
	call->xml_each = each;
	return call;
}

static const char *next_token(const struct aws_call *call)
{
	const char *t = xml_path_text(call->xml, "nextToken");

	return t && *t ? t : NULL;
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

/* One page of a listing: call sent from *token's page on, and *token
 * replaced by the next page's (NULL after the last). The reply must hold
 * list (as a child, or streamed: *found), or it is "could not look", not
 * "none". 1: more pages, 0: the last, -1 with err. The call is freed. */
static int read_page(struct aws_client *c, struct aws_call *call,
		     const char *list, const bool *found, char **token,
		     char *err, size_t errlen)
{
	const char *next;
	int rc = -1;

	if (*token)
		aws_call_param(call, "NextToken", *token);
	free(*token);
	*token = NULL;
	if (aws_perform_one(c, call) < 0) {
		aws_call_error(call, err, errlen);
	} else if (found ? !*found : !xml_child(call->xml, list)) {
		snprintf(err, errlen, "ec2 %s: no %s in reply", call->action, list);
	} else {
		next = next_token(call);
		*token = next ? xstrdup(next) : NULL;
		rc = *token ? 1 : 0;
	}
	aws_call_free(call);
	return rc;
}

struct batch {
	char **ids;
	size_t count;
	char *next_token;
	int pages;
	bool done;
	struct xml_each each;
};

int ec2_describe_instances(struct aws_client *c, const char *const *ids,
			   size_t n, struct ec2_instance_set *out, char *err,
			   size_t errlen)
{
	size_t nbatches = (n + EC2_BATCH - 1) / EC2_BATCH, i, j;
	struct batch *batches = xcalloc(nbatches + 1, sizeof(*batches));
	struct aws_call **calls = xcalloc(nbatches + 1, sizeof(*calls));
	bool failed = false;
	int rc = -1;

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
	/* Each round sends up to EC2_IN_FLIGHT unfinished batches in
	 * parallel; a batch goes again for its next page or without the ids
	 * EC2 did not know (moto names one a reply, EC2 all of them: every
	 * such round drops at least one, so it ends). Any other failure fails
	 * the whole describe: a partial answer would read as "those instances
	 * are not there". */
	while (!failed) {
		size_t ncalls = 0;

		for (i = 0; i < nbatches && ncalls < EC2_IN_FLIGHT; i++) {
			struct batch *b = &batches[i];
			struct aws_call *call;

			if (b->done)
				continue;
			if (b->count == 0) {
				b->done = true;
				continue;
			}
			call = describe_call(out, &b->each);
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
		for (i = 0; i < ncalls; i++) {
			struct aws_call *call = calls[i];
			struct batch *b = call->user;
			const char *token;

			if (call->status == AWS_CALL_SERVICE_ERROR &&
			    strcmp(call->code, "InvalidInstanceID.NotFound") == 0 &&
			    take_missing(out, call->message, b->ids, &b->count)) {
				;	/* sent again without them */
			} else if (call->status != AWS_CALL_OK) {
				if (!failed)
					aws_call_error(call, err, errlen);
				failed = true;
			} else if (!xml_child(call->xml, "reservationSet")) {
				if (!failed)
					snprintf(err, errlen,
						 "ec2 DescribeInstances: no reservationSet in reply");
				failed = true;
			} else if (++b->pages > EC2_MAX_PAGES) {
				if (!failed)
					snprintf(err, errlen,
						 "ec2 DescribeInstances: still paging after %d pages",
						 EC2_MAX_PAGES);
				failed = true;
			} else {
				token = next_token(call);
				free(b->next_token);
				b->next_token = token ? xstrdup(token) : NULL;
				b->done = b->next_token == NULL;
			}
			aws_call_free(call);
			calls[i] = NULL;
		}
	}
	if (!failed)
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

int ec2_find_instances(struct aws_client *c, const char *filter,
		       const char *const *values, size_t n,
		       struct ec2_instance_set *out, char *err, size_t errlen)
{
	size_t first, j;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (strncmp(filter, "tag:", 4) == 0)
		out->tag_key = filter + 4;
	for (first = 0; first < n && rc == 0; first += EC2_FILTER_VALUES) {
		char *token = NULL;
		int page;

		for (page = 0; page < EC2_MAX_PAGES; page++) {
			struct xml_each each;
			struct aws_call *call;
			char key[40];

			memset(&each, 0, sizeof(each));
			call = describe_call(out, &each);

			aws_call_param(call, "Filter.1.Name", filter);
			for (j = first; j < n && j < first + EC2_FILTER_VALUES; j++) {
				snprintf(key, sizeof(key), "Filter.1.Value.%zu",
					 j - first + 1);
				aws_call_param(call, key, values[j]);
			}
			aws_call_param(call, "Filter.2.Name", "instance-state-name");
			aws_call_param(call, "Filter.2.Value.1", "pending");
			aws_call_param(call, "Filter.2.Value.2", "running");
			rc = read_page(c, call, "reservationSet", NULL, &token, err,
				       errlen);
			if (rc <= 0)
				break;
		}
		free(token);
		if (rc > 0) {
			snprintf(err, errlen, "ec2 DescribeInstances: still paging after %d pages",
				 EC2_MAX_PAGES);
			rc = -1;
		}
	}
	out->tag_key = NULL;	/* the caller's string */
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

void ec2_tag_set_free(struct ec2_tag_set *s)
{
	free(s->items);
	memset(s, 0, sizeof(*s));
}

static int add_tag(const struct xml_node *item, void *arg)
{
	struct ec2_tag_set *s = arg;
	const char *id = xml_path_text(item, "resourceId");
	const char *type = xml_path_text(item, "resourceType");
	const char *value = xml_path_text(item, "value");
	struct ec2_tag *t;

	if (!id || !value || !type || strcmp(type, "instance") != 0 ||
	    !ec2_instance_id_valid(id) || strlen(value) >= sizeof(t->value))
		return 0;
	if (s->count == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
	}
	t = &s->items[s->count++];
	snprintf(t->instance_id, sizeof(t->instance_id), "%s", id);
	snprintf(t->value, sizeof(t->value), "%s", value);
	return 0;
}

int ec2_list_tags(struct aws_client *c, const char *key, const char *value,
		  struct ec2_tag_set *out, char *err, size_t errlen)
{
	char *token = NULL;
	int rc = 0, page;

	memset(out, 0, sizeof(*out));
	for (page = 0; page < 100000; page++) {
		struct aws_call *call = aws_call_query(&aws_ec2, "DescribeTags");
		struct xml_each each = { "tagSet", add_tag, out, false };

		call->xml_each = &each;
		aws_call_param(call, "Filter.1.Name", "resource-type");
		aws_call_param(call, "Filter.1.Value.1", "instance");
		aws_call_param(call, "Filter.2.Name", "key");
		aws_call_param(call, "Filter.2.Value.1", key);
		if (value) {
			aws_call_param(call, "Filter.3.Name", "value");
			aws_call_param(call, "Filter.3.Value.1", value);
		}
		aws_call_param(call, "MaxResults", "1000");
		rc = read_page(c, call, "tagSet", &each.found, &token, err, errlen);
		if (rc <= 0)
			break;
	}
	free(token);
	if (rc > 0) {
		snprintf(err, errlen, "ec2 DescribeTags: still paging after %d pages", page);
		rc = -1;
	}
	if (rc < 0)
		ec2_tag_set_free(out);
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
