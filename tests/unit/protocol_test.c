/* protocol_test.c: request bodies and reply parsing for JSON 1.1 and
 * Query, on replies shaped like the services' own. */
#include "config.h"

#include <string.h>

#include "common/aws/client.h"
#include "common/aws/services.h"
#include "common/aws/xml.h"
#include "tap.h"

static void parse(struct aws_call *call, long status, const char *body)
{
	aws_parse_reply(call, status, body, strlen(body));
}

static int count_item(const struct xml_node *item, void *arg)
{
	int *n = arg;

	if (xml_path_text(item, "resourceId"))
		(*n)++;
	return 0;
}

/* A DescribeTags reply read an item at a time through the call. */
static void test_query_each(void)
{
	struct aws_call *call = aws_call_query(&aws_ec2, "DescribeTags");
	int n = 0;
	struct xml_each each = { "tagSet", count_item, &n, false };

	call->xml_each = &each;
	parse(call, 200,
	      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<DescribeTagsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
	      "<requestId>tags-req</requestId><tagSet>"
	      "<item><resourceId>i-1234567890abcdef0</resourceId><resourceType>instance</resourceType>"
	      "<key>slurm-identity:node</key><value>n1</value></item>"
	      "<item><resourceId>i-1234567890abcdef1</resourceId><resourceType>instance</resourceType>"
	      "<key>slurm-identity:node</key><value>n2</value></item>"
	      "</tagSet><nextToken>next</nextToken></DescribeTagsResponse>");
	tap_is_int(call->status, AWS_CALL_OK, "each: Query 200 ok");
	tap_is_int(n, 2, "each: both items handed over");
	tap_ok(each.found, "each: tagSet found");
	tap_is_str(call->request_id, "tags-req", "each: request id still read");
	tap_is_str(xml_path_text(call->xml, "nextToken"), "next",
		   "each: nextToken still in the tree");
	tap_ok(xml_path(call->xml, "tagSet/item") == NULL,
	       "each: items not kept in the tree");
	n = 0;
	parse(call, 503,
	      "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
	      "<Message>slow down</Message></Error></Errors></Response>");
	tap_ok(call->status == AWS_CALL_SERVICE_ERROR && n == 0 &&
	       strcmp(call->code, "RequestLimitExceeded") == 0,
	       "each: an error reply is read as an error, no item handed over");
	aws_call_free(call);
}

int main(void)
{
	struct aws_call *call;
	char buf[512];
	json_t *in;

	in = json_object();
	json_object_set_new(in, "WithDecryption", json_true());
	json_object_set_new(in, "Name", json_string("/a/b"));
	call = aws_call_json(&aws_ssm, "GetParameter", in);
	tap_is_str(call->body.data, "{\"Name\":\"/a/b\",\"WithDecryption\":true}",
		   "JSON body compact and sorted");

	parse(call, 200, "{\"Parameter\":{\"Name\":\"/a/b\",\"Value\":\"x\"}}");
	tap_is_int(call->status, AWS_CALL_OK, "JSON 200 ok");
	tap_is_str(json_string_value(json_object_get(
			   json_object_get(call->json, "Parameter"), "Value")),
		   "x", "JSON reply kept");

	parse(call, 400, "{\"__type\":\"com.amazonaws.ssm#ParameterNotFound\",\"message\":\"Parameter /a/b not found.\"}");
	tap_is_int(call->status, AWS_CALL_SERVICE_ERROR, "JSON 400 is an error");
	tap_is_str(call->code, "ParameterNotFound", "namespace stripped from __type");
	tap_is_str(call->message, "Parameter /a/b not found.", "message read");
	snprintf(call->request_id, sizeof(call->request_id), "req-1");
	aws_call_error(call, buf, sizeof(buf));
	tap_is_str(buf, "ssm GetParameter: ParameterNotFound: Parameter /a/b not found. (request req-1)",
		   "one-line error");

	parse(call, 400, "{\"__type\":\"AccessDeniedException\",\"Message\":\"User: x is not authorized\"}");
	tap_is_str(call->message, "User: x is not authorized", "Message spelling");

	parse(call, 502, "<html>Bad Gateway</html>");
	tap_is_str(call->code, "HTTP502", "unparsable error body named by status");

	parse(call, 403, "<?xml version=\"1.0\"?>\n<ErrorResponse><Errors><Error><Code>AccessDenied</Code>"
		   "<Message>not authorized</Message></Error></Errors></ErrorResponse>");
	tap_is_str(call->code, "AccessDenied", "XML error in front of a JSON service");
	tap_is_str(call->message, "not authorized", "its message");

	parse(call, 200, "[1,2]");
	tap_is_int(call->status, AWS_CALL_BAD_REPLY, "non-object 200 is bad");
	parse(call, 200, "{\"trunc");
	tap_is_int(call->status, AWS_CALL_BAD_REPLY, "truncated JSON is bad");
	aws_call_free(call);

	call = aws_call_query(&aws_ec2, "DescribeInstances");
	aws_call_param(call, "InstanceId.1", "i-0123456789abcdef0");
	aws_call_param(call, "Filter.1.Value.1", "a b&c=d/é");
	tap_is_str(call->body.data,
		   "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0"
		   "&Filter.1.Value.1=a%20b%26c%3Dd%2F%C3%A9",
		   "Query body form-encoded");
	parse(call, 400,
	      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
	      "<Code>InvalidInstanceID.NotFound</Code><Message>The instance ID 'i-1' does not exist</Message>"
	      "</Error></Errors><RequestID>ec2-req</RequestID></Response>");
	tap_is_str(call->code, "InvalidInstanceID.NotFound", "EC2 error code");
	tap_is_str(call->request_id, "ec2-req", "EC2 RequestID");
	aws_call_free(call);

	call = aws_call_query(&aws_sts, "GetCallerIdentity");
	parse(call, 403,
	      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
	      "<Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>bad sig</Message>"
	      "</Error><RequestId>sts-req</RequestId></ErrorResponse>");
	tap_is_str(call->code, "SignatureDoesNotMatch", "STS error code");
	tap_is_str(call->request_id, "sts-req", "STS RequestId");
	call->request_id[0] = '\0';
	parse(call, 200,
	      "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/a</Arn>"
	      "<UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
	      "<ResponseMetadata><RequestId>ok-req</RequestId></ResponseMetadata></GetCallerIdentityResponse>");
	tap_is_int(call->status, AWS_CALL_OK, "STS 200 ok");
	tap_is_str(call->request_id, "ok-req", "request id from metadata");
	parse(call, 200, "<unterminated>");
	tap_is_int(call->status, AWS_CALL_BAD_REPLY, "garbage XML is bad");
	aws_call_free(call);

	tap_ok(ec2_instance_id_valid("i-0123456789abcdef0"), "17-digit id valid");
	tap_ok(ec2_instance_id_valid("i-12345678"), "8-digit id valid");
	tap_ok(!ec2_instance_id_valid("i-0123456789ABCDEF0"), "upper case invalid");
	tap_ok(!ec2_instance_id_valid("mi-0123456789abcdef0"), "hybrid id is not EC2");
	tap_ok(!ec2_instance_id_valid("i-12345678;x"), "junk invalid");
	test_query_each();
	return tap_done();
}
