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
	struct identity_conf conf;
	struct aws_client_options opts;
	struct caller_identity id;
	struct aws_client *client = NULL;
	char err[1024], backends[64];

	failures = 0;
	config_init(&conf);
	if (config_load(&conf, conf_path, err, sizeof(err)) < 0) {
		fail("%s", err);
		goto out;
	}
	config_backends_string(conf.backends, backends, sizeof(backends));
	pass("config %s (cluster %s, backends %s)", conf_path,
	     conf.cluster_name ? conf.cluster_name : "unnamed", backends);
	if (verbose)
		log_open(NULL, LOG_LEVEL_DEBUG, false, true);

	memset(&opts, 0, sizeof(opts));
	opts.region = conf.region;
	opts.max_concurrency = conf.max_concurrency;
	opts.max_request_rate = conf.max_request_rate;
	opts.max_attempts = conf.max_attempts;
	opts.request_timeout = conf.request_timeout;
	client = aws_client_new(&opts, err, sizeof(err));
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
	if (conf.backends & BACKEND_OPSWORKS)
		check_opsworks(client, &conf);
	if (conf.backends & BACKEND_AD)
		check_ad_parameters(client, &conf);
	if (conf.backends) {
		if (ec2_probe(client, err, sizeof(err)) < 0)
			fail("ec2: %s", err);
		else
			pass("ec2: DescribeInstances allowed");
	}
out:
	aws_client_free(client);
	config_free(&conf);
	return failures ? 1 : 0;
}
