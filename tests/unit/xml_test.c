/* xml_test.c: the XML reader on real AWS replies and on hostile input. */
#include "config.h"

#include <string.h>

#include "common/aws/xml.h"
#include "tap.h"

static const char ec2_reply[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
	"  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>\n"
	"  <reservationSet><item><reservationId>r-1</reservationId>\n"
	"    <instancesSet><item><instanceId>i-0123456789abcdef0</instanceId>\n"
	"      <instanceState><code>16</code><name>running</name></instanceState>\n"
	"      <tagSet><item><key>Name</key><value>a &amp; b &lt;c&gt; &#233;&#x41;</value></item></tagSet>\n"
	"    </item></instancesSet></item></reservationSet>\n"
	"  <nextToken><![CDATA[tok<en>]]></nextToken>\n"
	"</DescribeInstancesResponse>";

static const char sts_error[] =
	"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
	"<Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
	"<Message>The request signature we calculated does not match</Message>"
	"</Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>"
	"</ErrorResponse>";

/* Two reservations, and an empty one, as moto and EC2 send them. */
static const char ec2_two[] =
	"<DescribeInstancesResponse><requestId>r</requestId><reservationSet>"
	"<item><instancesSet><item><instanceId>i-1</instanceId></item>"
	"<item><instanceId>i-2</instanceId></item></instancesSet></item>"
	"<item><instancesSet/></item>"
	"<item><instancesSet><item><instanceId>i-3</instanceId></item>"
	"</instancesSet></item></reservationSet><nextToken>t</nextToken>"
	"</DescribeInstancesResponse>";

struct seen {
	char ids[64];
	int calls;
	int refuse_at;		/* 0: never */
};

static int see(const struct xml_node *item, void *arg)
{
	struct seen *s = arg;
	const char *id = xml_path_text(item, "instanceId");

	s->calls++;
	strncat(s->ids, id ? id : "?", sizeof(s->ids) - strlen(s->ids) - 2);
	strcat(s->ids, ",");
	return s->calls == s->refuse_at ? -1 : 0;
}

static void test_each(void)
{
	struct seen s = { "", 0, 0 };
	struct xml_each each = { "reservationSet/item/instancesSet", see, &s, false };
	char err[128], bad[sizeof(ec2_two) + 8];
	struct xml_node *root;

	root = xml_parse_each(ec2_two, strlen(ec2_two), &each, err, sizeof(err));
	tap_ok(root != NULL, "each: reply parses");
	tap_is_str(s.ids, "i-1,i-2,i-3,", "each: every instance of every reservation, in order");
	tap_ok(each.found, "each: path found");
	tap_ok(xml_path(root, "reservationSet/item/instancesSet/item") == NULL,
	       "each: streamed items are not in the tree");
	tap_is_str(xml_path_text(root, "nextToken"), "t", "each: the rest is kept");
	xml_free(root);

	/* Truncated: fn must see nothing of it. */
	memset(&s, 0, sizeof(s));
	root = xml_parse_each(ec2_two, strlen(ec2_two) - 30, &each, err, sizeof(err));
	tap_ok(root == NULL && s.calls == 0, "each: malformed reply reaches no fn");
	tap_ok(strncmp(err, "malformed XML: ", 15) == 0,
	       "each: malformed reply's reason");

	snprintf(bad, sizeof(bad), "%s<x/>", ec2_two);
	memset(&s, 0, sizeof(s));
	root = xml_parse_each(bad, strlen(bad), &each, err, sizeof(err));
	tap_ok(root == NULL && s.calls == 0, "each: trailing garbage reaches no fn");

	memset(&s, 0, sizeof(s));
	s.refuse_at = 2;
	root = xml_parse_each(ec2_two, strlen(ec2_two), &each, err, sizeof(err));
	tap_ok(root == NULL && s.calls == 2, "each: a refused item stops the parse");
	tap_is_str(err, "malformed XML: an item was refused", "each: refusal's reason");

	memset(&s, 0, sizeof(s));
	each.path = "reservationSet/item/nothing";
	root = xml_parse_each(ec2_two, strlen(ec2_two), &each, err, sizeof(err));
	tap_ok(root != NULL && !each.found && s.calls == 0, "each: absent path is not found");
	xml_free(root);

	memset(&s, 0, sizeof(s));
	each.path = "reservationSet";
	root = xml_parse_each(ec2_two, strlen(ec2_two), &each, err, sizeof(err));
	tap_ok(root != NULL && each.found && s.calls == 3 &&
	       strcmp(s.ids, "?,?,?,") == 0, "each: reservations as items");
	tap_ok(xml_path(root, "reservationSet/item") == NULL &&
	       xml_path(root, "reservationSet") != NULL,
	       "each: the streamed element stays, without its items");
	xml_free(root);
}

static const char *parse_err(const char *doc)
{
	static char err[128];
	struct xml_node *n = xml_parse(doc, strlen(doc), err, sizeof(err));

	if (n) {
		xml_free(n);
		return "parsed";
	}
	return err;
}

int main(void)
{
	char err[128];
	struct xml_node *root;
	const struct xml_node *item;

	root = xml_parse(ec2_reply, strlen(ec2_reply), err, sizeof(err));
	tap_ok(root != NULL, "EC2 reply parses");
	tap_is_str(root ? root->name : NULL, "DescribeInstancesResponse",
		   "root name");
	item = xml_path(root, "reservationSet/item/instancesSet/item");
	tap_is_str(xml_path_text(item, "instanceId"), "i-0123456789abcdef0",
		   "nested path");
	tap_is_str(xml_path_text(item, "instanceState/name"), "running",
		   "state name");
	tap_is_str(xml_path_text(item, "tagSet/item/value"),
		   "a & b <c> \xc3\xa9" "A", "entities and char refs decoded");
	tap_is_str(xml_path_text(root, "nextToken"), "tok<en>", "CDATA kept");
	tap_ok(xml_path(root, "reservationSet/nothing") == NULL,
	       "missing path is NULL");
	xml_free(root);

	root = xml_parse(sts_error, strlen(sts_error), err, sizeof(err));
	tap_is_str(xml_path_text(root, "Error/Code"), "SignatureDoesNotMatch",
		   "STS error code");
	tap_is_str(xml_path_text(root, "RequestId"),
		   "c6104cbe-af31-11e0-8154-cbc7ccf896c7", "STS request id");
	xml_free(root);

	tap_is_str(parse_err("<a><b></a>"), "malformed XML: mismatched end tag",
		   "mismatched tags");
	tap_is_str(parse_err("<a>"), "malformed XML: unexpected end of document",
		   "truncated");
	tap_is_str(parse_err(""), "malformed XML: no root element", "empty");
	tap_is_str(parse_err("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"),
		   "malformed XML: no root element", "DOCTYPE refused");
	tap_is_str(parse_err("<a><!ENTITY x \"y\"></a>"),
		   "malformed XML: declarations are not allowed",
		   "inner declaration refused");
	tap_is_str(parse_err("<a>&bogus;</a>"),
		   "malformed XML: bad entity reference", "unknown entity");
	tap_is_str(parse_err("<a>&#0;</a>"), "malformed XML: bad entity reference",
		   "NUL char ref refused");
	tap_is_str(parse_err("<a></a><b></b>"),
		   "malformed XML: content after the root element",
		   "two roots refused");
	tap_is_str(parse_err("<a x='1' y=\"2\"/>"), "parsed", "attributes skipped");
	tap_is_str(parse_err("<a x=1/>"), "malformed XML: bad attribute",
		   "unquoted attribute refused");
	{
		char deep[2000];
		size_t i, n = 0;

		for (i = 0; i < 70; i++)
			n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<a>");
		for (i = 0; i < 70; i++)
			n += (size_t)snprintf(deep + n, sizeof(deep) - n, "</a>");
		tap_is_str(parse_err(deep), "malformed XML: nested too deeply",
			   "depth bounded");
	}
	tap_is_str(parse_err("not xml at all"), "malformed XML: no root element",
		   "garbage refused");
	test_each();
	return tap_done();
}
