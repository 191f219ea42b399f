/* iam_policy.h: pieces of IAM policy documents, for the statements each
 * backend says it needs (backend.h) and `slurm-identity policy`. */
#ifndef SLURM_IDENTITY_IAM_POLICY_H
#define SLURM_IDENTITY_IAM_POLICY_H

#include <jansson.h>

enum policy_role {
	POLICY_CONTROLLER,
	POLICY_NODE,
};

/* Append an Allow of actions (NULL-terminated) on resources (taken). */
void iam_statement(json_t *statements, const char *sid,
		   const char *const *actions, json_t *resources);
/* The last statement becomes a Deny. */
void iam_deny_last(json_t *statements);
/* A condition on the last statement: op { key: value } (value taken). */
void iam_condition(json_t *statements, const char *op, const char *key,
		   json_t *value);
/* Only when the call comes through service (kms:ViaService). */
void iam_via_service(json_t *statements, const char *service,
		     const char *region);
/* actions on one KMS key (id or ARN), only when called through service. */
void iam_key_statement(json_t *statements, const char *sid,
		       const char *const *actions, const char *region,
		       const char *account, const char *key,
		       const char *service);
/* A resource list of one ARN. */
json_t *iam_one(const char *arn);
/* ARNs (new strings). */
char *iam_parameter_arn(const char *region, const char *account,
			const char *name);
char *iam_key_arn(const char *region, const char *account, const char *key);

#endif
