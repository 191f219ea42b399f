/* conf.h: identity.conf, the one configuration file of the suite.
 *
 * slurm.conf-style Key=Value lines, keys case-insensitive, '#' comments.
 * Unknown keys, bad values and unsafe file permissions are errors that name
 * file:line, so a broken configuration stops a hook before it does anything.
 */
#ifndef SLURM_IDENTITY_CONF_H
#define SLURM_IDENTITY_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "secret.h"

struct identity_conf {
	char *path;		/* the file this was read from */
	char *slurm_conf;	/* slurm.conf used for defaults */

	char *cluster_name;
	/* Backends= as written, lower case, "opsworks,ad"; NULL: none. The
	 * backend table (backends/backend.c) knows the names and checks each
	 * backend's settings; this file only keeps them. */
	char *backends;
	unsigned backends_line;	/* its line in path, for messages */
	char *region;
	char *state_dir;
	char *log_file;
	int debug_level;	/* enum log_level */

	char *chain_resume_program;
	char *chain_suspend_program;
	char *chain_resume_fail_program;

	char *opsworks_stack_id;

	char *domain_name;
	char *domain_name_parameter;
	char *domain_password_parameter;
	struct secret *domain_password;	/* only if set in the file itself */
	char *domain_user;
	char *domain_controller;
	char *computer_ou;
	char *adcli_path;
	char *domain_realm;	/* default: DomainName in capitals */
	char *computer_name_prefix;	/* prepended to computer names */
	char *ldap_ca_file;	/* CA bundle for LDAPS to the DC */
	char *ldap_tls_reqcert;	/* demand (default), hard, try, allow, never */
	char *host_keytab;	/* node: where adcli join writes the keytab */
	char *join_secret_kms_key;	/* KMS key for join secrets */
	char *domain_password_kms_key;	/* for the policy: key of the password */

	int ssm_online_timeout;	/* node: seconds to wait for the agent */
	int join_secret_wait;	/* node: seconds to wait for its join secret */
	/* How a join secret is bound to the instance it is for: none,
	 * nodeaddr (Slurm's NodeAddr is its private IP), tag:KEY. */
	char *join_secret_binding;
	char *ssm_registration_file;	/* a hybrid node's agent registration */
	char *ssm_activation_ids;	/* comma list: this cluster's hybrid
					 * activations; NULL: none */

	char *aws_config_file;	/* AWS shared config file to use */
	char *aws_credentials_file;	/* AWS shared credentials file */
	int suspend_budget;	/* seconds the suspend hook may take; 0: derive */
	char *metrics_file;	/* Prometheus textfile, optional */

	int max_concurrency;	/* parallel calls per API */
	double max_request_rate;	/* calls per second per API */
	int max_attempts;	/* AWS retry attempts, including the first */
	int request_timeout;	/* seconds, one HTTP attempt */
	int ec2_not_found_grace;	/* seconds "not found" must last to be gone */
	int watch_period;	/* watch: seconds between looks at Slurm */
	int watch_sweep_period;	/* watch: seconds between sweeps */
};

/* Where identity.conf is: $SLURM_IDENTITY_CONF, else the directory of
 * $SLURM_CONF, else the compiled-in Slurm configuration directory. */
char *config_default_path(void);

/* A path key's value with %n replaced by the node name (HostKeytab=,
 * SsmRegistrationFile=: several test nodes share one host). */
char *config_expand_node(const char *pattern, const char *node);

void config_init(struct identity_conf *conf);
/* Read path into conf (defaults first). On error returns -1 with a
 * "file:line: ..." message in err. */
int config_load(struct identity_conf *conf, const char *path, char *err,
		size_t errlen);
void config_free(struct identity_conf *conf);

#endif
