/* service.h: what we need to know about each AWS service we call. */
#ifndef SLURM_IDENTITY_SERVICE_H
#define SLURM_IDENTITY_SERVICE_H

#include <stdbool.h>

enum aws_protocol {
	AWS_PROTOCOL_JSON,	/* JSON 1.1 with X-Amz-Target */
	AWS_PROTOCOL_QUERY,	/* form-encoded Action=..., XML replies */
};

struct aws_service {
	const char *signing_name;	/* "ssm": SigV4 scope, hostname */
	const char *env_name;		/* "SSM": AWS_ENDPOINT_URL_SSM */
	enum aws_protocol protocol;
	const char *target_prefix;	/* JSON: "AmazonSSM" */
	const char *api_version;	/* Query: "2016-11-15" */
};

extern const struct aws_service aws_sts;
extern const struct aws_service aws_ssm;
extern const struct aws_service aws_ec2;
extern const struct aws_service aws_opsworks;
extern const struct aws_service aws_secretsmanager;

/* AWS's region syntax: a partition code, words and a number, in lowercase
 * letters, digits and hyphens (us-east-1, us-gov-west-1, cn-north-1). */
#define AWS_REGION_MAX 32
bool aws_region_valid(const char *region);

/* Endpoint URL for service in region: AWS_ENDPOINT_URL_<NAME>, else
 * AWS_ENDPOINT_URL, else the config file's services section or
 * endpoint_url, else the public https endpoint. Caller frees. */
char *aws_service_endpoint(const struct aws_service *s, const char *region);

#endif
