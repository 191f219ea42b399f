/* policy.h: the least-privilege IAM policy the configuration needs. */
#ifndef SLURM_IDENTITY_POLICY_H
#define SLURM_IDENTITY_POLICY_H

#include <jansson.h>

#include "common/conf.h"
#include "common/iam_policy.h"

/* A policy document for role, resource-scoped to region and account.
 * NULL with err if the configuration lacks what a resource needs. */
json_t *policy_build(const struct identity_conf *conf, enum policy_role role,
		     const char *region, const char *account, char *err,
		     size_t errlen);

#endif
