/* json_each_test.c: a reply's large array read an element at a time, on
 * replies shaped like DescribeInstances, and on broken ones. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/aws/client.h"
#include "common/aws/json_each.h"
#include "common/aws/services.h"
#include "tap.h"

struct seen {
	char ids[512];
	int count;
	int refuse_at;		/* 1-based element to refuse, 0: none */
};

static int collect(json_t *item, void *arg)
{
	struct seen *s = arg;
	const char *id = json_string_value(json_object_get(item, "InstanceId"));
	size_t used = strlen(s->ids);

	s->count++;
	if (s->refuse_at && s->count == s->refuse_at)
		return -1;
	snprintf(s->ids + used, sizeof(s->ids) - used, "%s%s", used ? "," : "",
		 id ? id : (json_is_object(item) ? "?" : "!"));
	return 0;
}

/* Walk body; "OK:<ids>|<rest as JSON>" or "ERR:<message>". */
static const char *run(const char *body, int refuse_at, char *out, size_t len)
{
	struct seen s = { "", 0, refuse_at };
	struct json_each each = { "Instances", collect, &s, false };
	json_t *rest = NULL;
	char err[256];

	if (json_each_reply(body, strlen(body), &each, &rest, err, sizeof(err)) < 0) {
		snprintf(out, len, "ERR:%s:%d", err, s.count);
		return out;
	}
	{
		char *r = json_dumps(rest, JSON_COMPACT | JSON_SORT_KEYS);

		snprintf(out, len, "OK:%s:%s|%s", each.found ? "found" : "absent", s.ids, r);
		free(r);
	}
	json_decref(rest);
	return out;
}

static void is_ok(const char *body, const char *want, const char *name)
{
	char out[1024];

	tap_is_str(run(body, 0, out, sizeof(out)), want, name);
}

static void is_err(const char *body, const char *name)
{
	char out[1024];

	run(body, 0, out, sizeof(out));
	tap_ok(strncmp(out, "ERR:", 4) == 0 && strcmp(out + strlen(out) - 2, ":0") == 0,
	       "%s (%s)", name, out);
}

static void reply(struct aws_call *call, long status, const char *body)
{
	aws_parse_reply(call, status, body, strlen(body));
}

int main(void)
{
	char out[1024];
	struct aws_call *call;
	struct seen s = { "", 0, 0 };
	struct json_each each = { "Instances", collect, &s, false };

	is_ok("{\"Instances\":[{\"InstanceId\":\"a\"},{\"InstanceId\":\"b\"}]}",
	      "OK:found:a,b|{}", "elements in order, nothing else kept");
	is_ok(" \n{ \"NextToken\" : \"t1\" ,\t\"Instances\" : [ { \"InstanceId\" : \"a\" } ,\r\n"
	      "{\"InstanceId\":\"b\",\"Tags\":[{\"K\":\"]}\"}]} ] , \"Count\": 2 } \n",
	      "OK:found:a,b|{\"Count\":2,\"NextToken\":\"t1\"}",
	      "whitespace everywhere, other members kept");
	is_ok("{\"Instances\":[]}", "OK:found:|{}", "empty array");
	is_ok("{\"Instances\":[ ]}", "OK:found:|{}", "empty array with a space");
	is_ok("{}", "OK:absent:|{}", "empty reply: member absent");
	is_ok("{\"Other\":[{\"InstanceId\":\"x\"}]}", "OK:absent:|{\"Other\":[{\"InstanceId\":\"x\"}]}",
	      "another array is kept whole");
	is_ok("{\"Instances\":null}", "OK:absent:|{\"Instances\":null}",
	      "a non-array member is kept, not streamed");
	is_ok("{\"Instances\":[{\"InstanceId\":\"q\\\"]}\\\\\"},{\"InstanceId\":\"\\u00e9\"}]}",
	      "OK:found:q\"]}\\,\xc3\xa9|{}", "escapes and brackets inside strings");
	is_ok("{\"Instances\":[{\"A\":{\"B\":[[{}],{\"C\":\"{\"}]}},17,\"s\",true,null]}",
	      "OK:found:?,!,!,!,!|{}", "nested values and non-object elements");
	is_ok("{\"Ins\\u0074ances\":[{\"InstanceId\":\"e\"}]}", "OK:found:e|{}",
	      "member name compared after unescaping");

	is_err("", "empty body refused");
	is_err("[]", "a top-level array refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"},{\"InstanceId\":\"b\"}]", "truncated reply refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"},{\"InstanceId\":", "truncated element refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"},{\"InstanceId\":\"b\"]}", "mismatched bracket refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"} {\"InstanceId\":\"b\"}]}", "missing comma refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"},]}", "trailing comma refused");
	is_err("{\"Instances\":[1,2]} x", "data after the reply refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"}],\"Instances\":[{\"InstanceId\":\"b\"}]}",
	       "the array twice refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"}],}", "trailing comma in the object refused");
	is_err("{Instances:[]}", "unquoted member name refused");
	is_err("{\"Instances\"[]}", "missing colon refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"}],\"Next\":tru}", "bad literal elsewhere refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"}],\"Next\":\"\\x\"}", "bad escape elsewhere refused");
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"}]}}", "extra closing brace refused");
	/* A broken element late in the array: nothing delivered at all. */
	is_err("{\"Instances\":[{\"InstanceId\":\"a\"},{\"InstanceId\":\"b\"},{\"InstanceId\":x}]}",
	       "callback never sees the start of a broken reply");
	{
		char body[] = "{\"Instances\":[{\"InstanceId\":\"a\"}\0,{\"InstanceId\":\"b\"}]}";
		struct seen z = { "", 0, 0 };
		struct json_each e = { "Instances", collect, &z, false };
		json_t *rest;
		char err[256];

		tap_ok(json_each_reply(body, sizeof(body) - 1, &e, &rest, err, sizeof(err)) < 0 &&
			       z.count == 0 && rest == NULL,
		       "NUL inside the reply refused (%s)", err);
	}
	run("{\"Instances\":[{\"InstanceId\":\"a\"},{\"InstanceId\":\"b\"},{\"InstanceId\":\"c\"}]}",
	    2, out, sizeof(out));
	tap_ok(strncmp(out, "ERR:", 4) == 0 && strstr(out, "refused") &&
		       strcmp(out + strlen(out) - 2, ":2") == 0,
	       "a refusing callback stops the walk (%s)", out);

	/* Through the protocol layer: a 200 reply streams, the rest stays in
	 * call->json; an error reply is read as usual. */
	call = aws_call_json(&aws_opsworks, "DescribeInstances", json_object());
	call->each = &each;
	reply(call, 200, "{\"Instances\":[{\"InstanceId\":\"p\"}],\"X\":1}");
	tap_is_int(call->status, AWS_CALL_OK, "streamed 200 is OK");
	tap_is_str(s.ids, "p", "streamed element delivered");
	tap_ok(call->json && json_object_get(call->json, "Instances") == NULL &&
		       json_integer_value(json_object_get(call->json, "X")) == 1,
	       "the rest of the reply in call->json, without the array");
	reply(call, 200, "{\"Instances\":[{\"InstanceId\":");
	tap_is_int(call->status, AWS_CALL_BAD_REPLY, "broken streamed 200 is a bad reply");
	tap_is_int(s.count, 1, "and delivers nothing more");
	reply(call, 400, "{\"__type\":\"ValidationException\",\"message\":\"no\"}");
	tap_is_int(call->status, AWS_CALL_SERVICE_ERROR, "error reply with a stream set");
	tap_is_str(call->code, "ValidationException", "error code read as usual");
	aws_call_free(call);
	return tap_done();
}
