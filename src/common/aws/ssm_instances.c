/* ssm_instances.c: SSM managed instances, for Session Manager. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services.h"
#include "common/json_field.h"

/* DescribeInstanceInformation pages: the most the API returns at once,
 * and the most a listing reads, so that a reply that keeps handing out
 * NextToken cannot hold us forever. */
#define SSM_PAGE_SIZE 50
#define SSM_MAX_PAGES 1000

bool ssm_managed_id_valid(const char *id)
{
	size_t i;

	if (strlen(id) != 20 || strncmp(id, "mi-", 3) != 0)
		return false;
	for (i = 3; id[i]; i++)
		if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
			return false;
	return true;
}

static void read_instance(json_t *item, struct ssm_instance *out)
{
	memset(out, 0, sizeof(*out));
	json_field_copy(item, "InstanceId", out->id, sizeof(out->id));
	json_field_copy(item, "PingStatus", out->ping_status,
			sizeof(out->ping_status));
	json_field_copy(item, "ResourceType", out->resource_type,
			sizeof(out->resource_type));
	json_field_copy(item, "ActivationId", out->activation_id,
			sizeof(out->activation_id));
	json_field_copy(item, "ComputerName", out->computer_name,
			sizeof(out->computer_name));
}

static json_t *filter(const char *key, const char *value)
{
	json_t *f = json_object(), *values = json_array();

	json_array_append_new(values, json_string(value));
	json_object_set_new(f, "Key", json_string(key));
	json_object_set_new(f, "Values", values);
	return f;
}

int ssm_describe_instance(struct aws_client *c, const char *id,
			  struct ssm_instance *out, bool *found, char *err,
			  size_t errlen)
{
	json_t *input = json_object(), *filters = json_array(), *list;
	struct aws_call *call;
	size_t i;
	json_t *item;
	int rc = -1;

	*found = false;
	json_array_append_new(filters, filter("InstanceIds", id));
	json_object_set_new(input, "Filters", filters);
	call = aws_call_json(&aws_ssm, "DescribeInstanceInformation", input);
	if (aws_perform_one(c, call) < 0) {
		aws_call_error(call, err, errlen);
		goto out;
	}
	list = json_object_get(call->json, "InstanceInformationList");
	if (!json_is_array(list)) {
		snprintf(err, errlen, "ssm DescribeInstanceInformation: no InstanceInformationList in reply");
		goto out;
	}
	json_array_foreach(list, i, item) {
		const char *got = json_field(item, "InstanceId");

		if (got && strcmp(got, id) == 0) {
			read_instance(item, out);
			*found = true;
		}
	}
	rc = 0;
out:
	aws_call_free(call);
	return rc;
}

int ssm_list_tagged_managed(struct aws_client *c, const char *key,
			    const char *value, struct ssm_instance **out,
			    size_t *count, char *err, size_t errlen)
{
	char *token = NULL, tag[160];
	int page, rc = 0;

	*out = NULL;
	*count = 0;
	snprintf(tag, sizeof(tag), "tag:%s", key);
	for (page = 0; page < SSM_MAX_PAGES; page++) {
		json_t *input = json_object(), *filters = json_array(), *list, *item;
		struct aws_call *call;
		const char *next;
		size_t i;

		json_array_append_new(filters, filter("ResourceType", "ManagedInstance"));
		json_array_append_new(filters, filter(tag, value));
		json_object_set_new(input, "Filters", filters);
		json_object_set_new(input, "MaxResults", json_integer(SSM_PAGE_SIZE));
		if (token)
			json_object_set_new(input, "NextToken", json_string(token));
		call = aws_call_json(&aws_ssm, "DescribeInstanceInformation", input);
		if (aws_perform_one(c, call) < 0) {
			aws_call_error(call, err, errlen);
			aws_call_free(call);
			rc = -1;
			break;
		}
		list = json_object_get(call->json, "InstanceInformationList");
		json_array_foreach(list, i, item) {
			*out = xrealloc(*out, (*count + 1) * sizeof(**out));
			read_instance(item, &(*out)[(*count)++]);
		}
		next = json_field(call->json, "NextToken");
		free(token);
		token = next && *next ? xstrdup(next) : NULL;
		aws_call_free(call);
		if (!token)
			break;
	}
	free(token);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*count = 0;
	}
	return rc;
}

int ssm_tag_managed(struct aws_client *c, const char *id,
		    const char *const *keys, const char *const *values,
		    size_t ntags, char *err, size_t errlen)
{
	json_t *input = json_object(), *tags = json_array();
	struct aws_call *call;
	size_t i;
	int rc = 0;

	for (i = 0; i < ntags; i++) {
		json_t *t = json_object();

		json_object_set_new(t, "Key", json_string(keys[i]));
		json_object_set_new(t, "Value", json_string(values[i]));
		json_array_append_new(tags, t);
	}
	json_object_set_new(input, "ResourceType", json_string("ManagedInstance"));
	json_object_set_new(input, "ResourceId", json_string(id));
	json_object_set_new(input, "Tags", tags);
	call = aws_call_json(&aws_ssm, "AddTagsToResource", input);
	if (aws_perform_one(c, call) < 0) {
		aws_call_error(call, err, errlen);
		rc = -1;
	}
	aws_call_free(call);
	return rc;
}

void ssm_deregister_managed(struct aws_client *c, struct instance_call *items,
			    size_t n, double deadline)
{
	struct aws_call **calls = xcalloc(n + 1, sizeof(*calls));
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *input = json_object();

		json_object_set_new(input, "InstanceId",
				    json_string(items[i].instance_id));
		calls[i] = aws_call_json(&aws_ssm, "DeregisterManagedInstance",
					 input);
	}
	instance_calls_perform(c, calls, items, n, "InvalidInstanceId", deadline);
}

int ssm_managed_tag(struct aws_client *c, const char *id, const char *key,
		    char *value, size_t len, char *err, size_t errlen)
{
	json_t *input = json_object(), *list, *item;
	struct aws_call *call;
	size_t i;
	int rc = -1;

	value[0] = '\0';
	json_object_set_new(input, "ResourceType", json_string("ManagedInstance"));
	json_object_set_new(input, "ResourceId", json_string(id));
	call = aws_call_json(&aws_ssm, "ListTagsForResource", input);
	if (aws_perform_one(c, call) < 0) {
		aws_call_error(call, err, errlen);
		goto out;
	}
	list = json_object_get(call->json, "TagList");
	json_array_foreach(list, i, item) {
		const char *k = json_field(item, "Key");
		const char *v = json_field(item, "Value");

		if (k && v && strcmp(k, key) == 0)
			snprintf(value, len, "%s", v);
	}
	rc = 0;
out:
	aws_call_free(call);
	return rc;
}
