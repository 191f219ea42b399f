/* check.c: validate the configuration, the AWS identity and every backend.
 *
 * Passing checks print "ok: ..." on stdout; each failure prints one line
 * "slurm-identity: check: ..." on stderr with what to do about it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/aws/services.h"
#include "../common/conf.h"
#include "../common/log.h"
#include "../common/program.h"
#include "check.h"

static int failures;

static void pass(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void pass(const char *fmt, ...)
{
	va_list ap;

	printf("ok: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	fflush(stdout);
	fprintf(stderr, "slurm-identity: check: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void check_opsworks(struct aws_client *c,
			   const struct identity_conf *conf)
{
	struct opsworks_stack stack;
	char err[1024];

	if (opsworks_describe_stack(c, conf->opsworks_stack_id, &stack, err,
				    sizeof(err)) < 0) {
		fail("opsworks: %s", err);
		return;
	}
	pass("opsworks: stack %s (%s) found", stack.stack_id,
	     stack.name[0] ? stack.name : "unnamed");
}

static void check_ad_parameters(struct aws_client *c,
				const struct identity_conf *conf)
{
	const char *names[2];
	struct ssm_parameter params[2];
	size_t n = 0, i;
	char err[1024];

	if (conf->domain_name_parameter)
		names[n++] = conf->domain_name_parameter;
	if (conf->domain_password_parameter)
		names[n++] = conf->domain_password_parameter;
	if (n == 0) {
		pass("ad: domain settings are in identity.conf");
		return;
	}
	if (ssm_get_parameters(c, names, n, true, params, err, sizeof(err)) < 0) {
		fail("ad: %s", err);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!params[i].found)
			fail("ad: parameter %s does not exist", names[i]);
		else if (names[i] == conf->domain_password_parameter &&
			 strcmp(params[i].type, "SecureString") != 0)
			fail("ad: parameter %s is a %s; store the password as a SecureString",
			     names[i], params[i].type);
		else
			pass("ad: parameter %s readable (%s)", names[i],
			     params[i].type);
		ssm_parameter_clear(&params[i]);
	}
}

int check_run(const char *conf_path, int verbose)
{
	struct program prog;
	struct caller_identity id;
	struct aws_client *client;
	char err[1024], backends[64];

	failures = 0;
	if (program_start(&prog, "slurm-identity", conf_path, false, err,
			  sizeof(err)) < 0) {
		fail("%s", err);
		goto out;
	}
	/* Results are this command's output; the log stays quiet unless
	 * asked to show every call. */
	log_open(NULL, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_QUIET, false,
		 verbose);
	config_backends_string(prog.conf.backends, backends, sizeof(backends));
	pass("config %s (cluster %s, backends %s)", conf_path,
	     prog.conf.cluster_name ? prog.conf.cluster_name : "unnamed",
	     backends);
	client = program_aws(&prog, err, sizeof(err));
	if (!client) {
		fail("%s", err);
		goto out;
	}
	pass("region %s", aws_client_region(client));
	if (aws_client_load_credentials(client, err, sizeof(err)) < 0) {
		fail("credentials: %s", err);
		goto out;
	}
	if (sts_get_caller_identity(client, &id, err, sizeof(err)) < 0) {
		fail("identity: %s", err);
		goto out;
	}
	pass("identity %s (credentials from %s)", id.arn,
	     aws_client_credentials_source(client));
	if (prog.conf.backends & BACKEND_OPSWORKS)
		check_opsworks(client, &prog.conf);
	if (prog.conf.backends & BACKEND_AD)
		check_ad_parameters(client, &prog.conf);
	if (prog.conf.backends) {
		if (ec2_probe(client, err, sizeof(err)) < 0)
			fail("ec2: %s", err);
		else
			pass("ec2: DescribeInstances allowed");
	}
out:
	program_end(&prog);
	return failures ? 1 : 0;
}
