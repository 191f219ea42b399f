/* imds.h: the EC2 instance metadata service, version 2 (token) only.
 *
 * Endpoint: AWS_EC2_METADATA_SERVICE_ENDPOINT, else the config file's
 * ec2_metadata_service_endpoint, else http://169.254.169.254. Never through
 * a proxy. AWS_EC2_METADATA_DISABLED=true turns it off.
 */
#ifndef SLURM_IDENTITY_IMDS_H
#define SLURM_IDENTITY_IMDS_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct imds {
	struct http_client *http;
	char *endpoint;		/* without trailing slash */
	char *token;
	double token_expires;	/* monotonic seconds */
	bool disabled;
};

void imds_init(struct imds *m, struct http_client *http);
void imds_free(struct imds *m);
/* GET path (e.g. "/latest/meta-data/instance-id") into out. -1 with err
 * on failure; *status gets the HTTP status (404: no such item). */
int imds_get(struct imds *m, const char *path, struct strbuf *out,
	     long *status, char *err, size_t errlen);

#endif
