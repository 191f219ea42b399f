/* profile.h: the AWS shared config and credentials files.
 *
 * ~/.aws/credentials ([name] sections) and ~/.aws/config ([profile name],
 * [default]), or the files named by AWS_SHARED_CREDENTIALS_FILE and
 * AWS_CONFIG_FILE; the profile is AWS_PROFILE or "default".
 */
#ifndef SLURM_IDENTITY_PROFILE_H
#define SLURM_IDENTITY_PROFILE_H

#include <stddef.h>

struct profile_entry {
	char *key;
	char *value;
};

struct profile {
	struct profile_entry *entries;
	size_t count;
};

/* Load the settings of profile name from an INI file; is_config selects
 * the config file's "[profile name]" spelling. A missing file is not an
 * error (empty profile); a malformed one is (-1 with err). */
int profile_load(const char *path, const char *name, int is_config,
		 struct profile *out, char *err, size_t errlen);
/* Value of key (case-insensitive), or NULL. */
const char *profile_get(const struct profile *p, const char *key);
void profile_free(struct profile *p);

/* endpoint_url for a service from the config file: the service's entry in
 * the profile's "services" section, else the profile's own endpoint_url.
 * service_key is the lower-case service id ("ssm", "ec2", "opsworks").
 * NULL when neither is set. Caller frees. */
char *profile_endpoint_url(const char *service_key);

/* The active profile name and the two file paths (caller frees). */
char *profile_name(void);
char *profile_credentials_path(void);
char *profile_config_path(void);

#endif
