/* region_test.c: a region from identity.conf, the environment or the
 * config file becomes part of every endpoint's host name, so only AWS's
 * region syntax is taken (partition code, words, a number), whatever its
 * source. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/aws/client.h"
#include "tap.h"

static const struct {
	const char *region;
	int valid;
} cases[] = {
	{ "us-east-1", 1 },
	{ "eu-west-3", 1 },
	{ "us-gov-west-1", 1 },
	{ "cn-north-1", 1 },
	{ "ap-southeast-5", 1 },
	{ "us-isob-east-1", 1 },
	{ "il-central-1", 1 },
	{ "", 0 },
	{ "us", 0 },
	{ "us-east", 0 },
	{ "us-east-", 0 },
	{ "-us-east-1", 0 },
	{ "us--east-1", 0 },
	{ "US-EAST-1", 0 },
	{ "us-East-1", 0 },
	{ "us-east-1.evil.example", 0 },
	{ "evil.example/x", 0 },
	{ "us-east-1/", 0 },
	{ "us-east-1#", 0 },
	{ "us-east-1 ", 0 },
	{ "us_east_1", 0 },
	{ "us-east-1a", 0 },
	{ "us-east-12345", 0 },
	{ "a-very-very-very-very-long-region-name-1", 0 },
};

int main(void)
{
	struct aws_client_options opts = { 0 };
	char err[512];
	size_t i;

	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	unsetenv("AWS_DEFAULT_REGION");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_client *c;

		/* Region= in identity.conf. */
		opts.region = cases[i].region;
		unsetenv("AWS_REGION");
		err[0] = '\0';
		c = aws_client_new(&opts, err, sizeof(err));
		if (cases[i].valid)
			tap_ok(c && strcmp(aws_client_region(c), cases[i].region) == 0,
			       "Region=%s taken", cases[i].region);
		else if (cases[i].region[0])
			tap_ok(!c && strstr(err, "invalid AWS region") &&
				       strstr(err, "from identity.conf"),
			       "Region=\"%s\" refused (%s)", cases[i].region, err);
		aws_client_free(c);
		/* The same from AWS_REGION. */
		opts.region = NULL;
		setenv("AWS_REGION", cases[i].region, 1);
		err[0] = '\0';
		c = aws_client_new(&opts, err, sizeof(err));
		if (cases[i].valid)
			tap_ok(c != NULL, "AWS_REGION=%s taken", cases[i].region);
		else
			tap_ok(!c, "AWS_REGION=\"%s\" refused (%s)", cases[i].region,
			       err);
		aws_client_free(c);
	}
	return tap_done();
}
