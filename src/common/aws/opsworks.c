/* opsworks.c: OpsWorks Stacks calls. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "services.h"
#include "common/json_field.h"

int opsworks_describe_stack(struct aws_client *c, const char *stack_id,
			    struct opsworks_stack *out, char *err,
			    size_t errlen)
{
	json_t *input = json_object(), *ids = json_array(), *stacks, *s;
	struct aws_call *call;
	int rc = -1;

	json_array_append_new(ids, json_string(stack_id));
	json_object_set_new(input, "StackIds", ids);
	call = aws_call_json(&aws_opsworks, "DescribeStacks", input);
	if (aws_perform_one(c, call) < 0) {
		aws_call_error(call, err, errlen);
		goto out;
	}
	stacks = json_object_get(call->json, "Stacks");
	s = json_array_get(stacks, 0);
	if (!json_is_object(s)) {
		snprintf(err, errlen, "opsworks DescribeStacks: stack %s not in reply",
			 stack_id);
		goto out;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->stack_id, sizeof(out->stack_id), "%s", stack_id);
	json_field_copy(s, "Name", out->name, sizeof(out->name));
	json_field_copy(s, "Arn", out->arn, sizeof(out->arn));
	rc = 0;
out:
	aws_call_free(call);
	return rc;
}
