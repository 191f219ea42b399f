/* credentials.h: the AWS credential provider chain.
 *
 * In order: environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), the shared credentials file, the shared config file
 * (both for AWS_PROFILE), then the instance role through IMDSv2.
 */
#ifndef SLURM_IDENTITY_CREDENTIALS_H
#define SLURM_IDENTITY_CREDENTIALS_H

#include <stddef.h>

#include "common/secret.h"
#include "imds.h"

struct aws_credentials {
	char *access_key_id;
	struct secret *secret_access_key;
	struct secret *session_token;	/* NULL for long-term keys */
	long long expiration;	/* Unix time; 0 when they do not expire */
	char source[64];	/* "environment", "profile default", ... */
};

int aws_credentials_resolve(struct imds *imds, struct aws_credentials *out,
			    char *err, size_t errlen);
/* Refresh when they expire within this many seconds. */
#define AWS_CREDENTIALS_REFRESH_MARGIN 300
void aws_credentials_clear(struct aws_credentials *c);

#endif
