/* service.c: service descriptions and endpoint resolution. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "profile.h"
#include "service.h"
#include "common/xmalloc.h"

const struct aws_service aws_sts = { "sts", "STS", AWS_PROTOCOL_QUERY, NULL,
				     "2011-06-15" };
const struct aws_service aws_ssm = { "ssm", "SSM", AWS_PROTOCOL_JSON,
				     "AmazonSSM", NULL };
const struct aws_service aws_ec2 = { "ec2", "EC2", AWS_PROTOCOL_QUERY, NULL,
				     "2016-11-15" };
const struct aws_service aws_secretsmanager = { "secretsmanager",
						"SECRETS_MANAGER",
						AWS_PROTOCOL_JSON,
						"secretsmanager", NULL };
const struct aws_service aws_opsworks = { "opsworks", "OPSWORKS",
					  AWS_PROTOCOL_JSON,
					  "OpsWorks_20130218", NULL };

static char *strip_slash(char *url)
{
	size_t len = strlen(url);

	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	return url;
}

bool aws_region_valid(const char *region)
{
	size_t words = 0, digits = 0, i = 0, n;

	if (!region || strlen(region) > AWS_REGION_MAX)
		return false;
	/* Words of lowercase letters, each followed by a hyphen ... */
	for (;;) {
		for (n = 0; region[i] >= 'a' && region[i] <= 'z'; n++)
			i++;
		if (n == 0)
			break;
		if (region[i++] != '-')
			return false;
		words++;
	}
	/* ... then the number. */
	while (region[i] >= '0' && region[i] <= '9') {
		i++;
		digits++;
	}
	return words >= 2 && digits >= 1 && digits <= 3 && region[i] == '\0';
}

char *aws_service_endpoint(const struct aws_service *s, const char *region)
{
	const char *ignore = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	char name[64], *url;
	const char *v;

	if (!(ignore && strcasecmp(ignore, "true") == 0)) {
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", s->env_name);
		v = getenv(name);
		if (v && *v)
			return strip_slash(xstrdup(v));
		v = getenv("AWS_ENDPOINT_URL");
		if (v && *v)
			return strip_slash(xstrdup(v));
		/* The config file names services by their id in snake
		 * case ("secrets_manager"), as the env variables do. */
		snprintf(name, sizeof(name), "%s", s->env_name);
		for (char *p = name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		url = profile_endpoint_url(name);
		if (url)
			return strip_slash(url);
	}
	return xasprintf("https://%s.%s.amazonaws.com", s->signing_name,
			 region);
}
