/* services.h: the AWS operations slurm-identity uses, one file each. */
#ifndef SLURM_IDENTITY_SERVICES_H
#define SLURM_IDENTITY_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/secret.h"
#include "client.h"

/* sts.c */
struct caller_identity {
	char account[32];
	char arn[512];
	char user_id[256];
};
int sts_get_caller_identity(struct aws_client *c, struct caller_identity *id,
			    char *err, size_t errlen);

/* ssm.c */
struct ssm_parameter {
	char *name;		/* as requested */
	char *type;		/* String, StringList, SecureString */
	char *arn;
	struct secret *value;	/* every value is kept as a secret */
	bool found;
};
/* One GetParameters call for up to 10 names; not-found names come back
 * with found=false (an API error is -1). */
int ssm_get_parameters(struct aws_client *c, const char *const *names,
		       size_t n, bool decrypt, struct ssm_parameter *out,
		       char *err, size_t errlen);
void ssm_parameter_clear(struct ssm_parameter *p);

/* ec2.c */
struct ec2_instance {
	char id[32];
	char state[32];		/* pending, running, terminated, ... */
	char private_ip[64];
	char tag_value[128];	/* the set's tag_key, when it names one */
};
struct ec2_instance_set {
	struct ec2_instance *items;
	size_t count;
	size_t cap;
	char **missing;		/* ids EC2 says do not exist */
	size_t missing_count;
	const char *tag_key;	/* ec2_find_instances by a tag: its key */
};
/* Describe the given ids in batches, a few batches in parallel, each
 * reply read an instance at a time. Ids EC2 does not know land in missing
 * (so "gone" is told apart from "could not look", which is -1). */
int ec2_describe_instances(struct aws_client *c, const char *const *ids,
			   size_t n, struct ec2_instance_set *out, char *err,
			   size_t errlen);
/* One tag of one instance. */
struct ec2_tag {
	char instance_id[32];
	char value[128];
};
struct ec2_tag_set {
	struct ec2_tag *items;
	size_t count;
	size_t cap;
};
/* Every instance's tag key (=value, unless value is NULL), all pages of
 * DescribeTags: some 200 bytes of reply per instance, where a
 * DescribeInstances would send 5 KB. Values too long are left out. */
int ec2_list_tags(struct aws_client *c, const char *key, const char *value,
		  struct ec2_tag_set *out, char *err, size_t errlen);
void ec2_tag_set_free(struct ec2_tag_set *s);
/* One call per instance of a parallel batch, and what came of it. */
struct instance_call {
	const char *instance_id;
	bool ok;
	bool gone;		/* the service does not know the instance */
	double seconds;
	char error[256];
};
/* Performs calls[i] for items[i], all in parallel, and records what came
 * of each (gone: the service answered gone_code); frees the calls. */
void instance_calls_perform(struct aws_client *c, struct aws_call **calls,
			    struct instance_call *items, size_t n,
			    const char *gone_code, double deadline);
/* CreateTags (create) or DeleteTags on each item's instance, in parallel. */
void ec2_tags(struct aws_client *c, bool create, struct instance_call *items,
	      size_t n, const char *const *keys, const char *const *values,
	      size_t ntags, double deadline);
/* One page of DescribeInstances with MaxResults=5: a reachability probe. */
/* The pending and running instances whose filter (a DescribeInstances
 * filter name: "private-ip-address", "tag:KEY") is one of values. */
int ec2_find_instances(struct aws_client *c, const char *filter,
		       const char *const *values, size_t n,
		       struct ec2_instance_set *out, char *err, size_t errlen);
int ec2_probe(struct aws_client *c, char *err, size_t errlen);
void ec2_instance_set_free(struct ec2_instance_set *s);
bool ec2_instance_id_valid(const char *id);

/* ssm_instances.c: SSM managed instances (Session Manager targets). */
struct ssm_instance {
	char id[32];		/* i-... or mi-... */
	char ping_status[32];	/* Online, ConnectionLost, Inactive */
	char resource_type[32];	/* EC2Instance, ManagedInstance */
	char activation_id[64];	/* hybrid: the activation it registered with */
	char computer_name[256];	/* as its agent reports it */
};
/* DescribeInstanceInformation for one instance: 0 with *found set (false:
 * not a managed instance), -1 on error. */
int ssm_describe_instance(struct aws_client *c, const char *id,
			  struct ssm_instance *out, bool *found, char *err,
			  size_t errlen);
/* Hybrid managed instances tagged key=value (all pages). */
int ssm_list_tagged_managed(struct aws_client *c, const char *key,
			    const char *value, struct ssm_instance **out,
			    size_t *count, char *err, size_t errlen);
/* AddTagsToResource on a managed instance (mi-...). */
int ssm_tag_managed(struct aws_client *c, const char *id,
		    const char *const *keys, const char *const *values,
		    size_t ntags, char *err, size_t errlen);
/* DeregisterManagedInstance of each item's managed instance (mi-...), in
 * parallel; gone when it was not registered anyway. */
void ssm_deregister_managed(struct aws_client *c, struct instance_call *items,
			    size_t n, double deadline);
/* The value of tag key on a managed instance ("" if untagged). */
int ssm_managed_tag(struct aws_client *c, const char *id, const char *key,
		    char *value, size_t len, char *err, size_t errlen);
bool ssm_managed_id_valid(const char *id);

/* opsworks.c */
struct opsworks_stack {
	char stack_id[64];
	char name[256];
	char arn[512];
};
int opsworks_describe_stack(struct aws_client *c, const char *stack_id,
			    struct opsworks_stack *out, char *err,
			    size_t errlen);

/* secretsmanager.c: short-lived secrets handed from controller to node. */
struct sm_put {
	const char *name;		/* secret name */
	const struct secret *value;	/* SecretString */
	const char *description;
	bool ok;
	char error[256];
};
/* Create each secret, or give it a new value if it exists; in parallel.
 * An existing secret first has unbind_tag (if not NULL) set to "none", so
 * whatever it was bound to cannot read its new value.
 * kms_key may be NULL (the account's aws/secretsmanager key). Returns how
 * many failed. */
size_t sm_put_secrets(struct aws_client *c, struct sm_put *items, size_t n,
		      const char *kms_key, const char *tag_cluster,
		      const char *unbind_tag, double deadline);
/* Set tag key to values[i] on secret names[i], in parallel; errors[i]
 * gets each failure ("" if done; a secret that no longer exists is done,
 * with *gone[i] set when gone is not NULL). Returns how many failed. */
size_t sm_tag_secrets(struct aws_client *c, const char *const *names,
		      const char *key, const char *const *values, size_t n,
		      char (*errors)[256], bool *gone, double deadline);
/* GetSecretValue: 0 with *value set, 1 if there is no such secret, -1. */
int sm_get_secret(struct aws_client *c, const char *name,
		  struct secret **value, char *err, size_t errlen);
/* Delete without a recovery window; names that do not exist are fine.
 * Returns how many failed; errors[i] (if not NULL) gets each reason. */
size_t sm_delete_secrets(struct aws_client *c, const char *const *names,
			 size_t n, char (*errors)[256], double deadline);

#endif
