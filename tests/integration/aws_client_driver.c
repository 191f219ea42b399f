/* aws_client_driver.c: drive src/common's AWS layer from test scripts.
 *
 * Not installed. Each subcommand is one operation of the real library
 * against whatever endpoint the standard AWS_* variables name, printing
 * plain lines a script can assert on (never a secret's value: a SHA-256
 * of it).
 *
 *   aws_client_driver [options] sts
 *   aws_client_driver [options] ssm-get NAME...
 *   aws_client_driver [options] ec2-describe ID...
 *   aws_client_driver [options] opsworks-stack STACK_ID
 *   aws_client_driver [options] parallel-stacks N STACK_ID
 * options: --region R --concurrency N --rate R --attempts N --timeout S
 *          --verbose
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/aws/clock.h"
#include "common/aws/services.h"
#include "common/aws/sigv4.h"
#include "common/log.h"

static int do_sts(struct aws_client *c)
{
	struct caller_identity id;
	char err[1024];

	if (sts_get_caller_identity(c, &id, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("arn %s\naccount %s\nsource %s\n", id.arn, id.account,
	       aws_client_credentials_source(c));
	return 0;
}

static int do_ssm_get(struct aws_client *c, int argc, char **argv)
{
	struct ssm_parameter params[10];
	char err[1024], hash[65];
	int i;

	if (argc < 1 || argc > 10) {
		fprintf(stderr, "ssm-get takes 1-10 names\n");
		return 2;
	}
	if (ssm_get_parameters(c, (const char *const *)argv, (size_t)argc, true,
			       params, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (i = 0; i < argc; i++) {
		if (!params[i].found) {
			printf("%s missing\n", argv[i]);
			continue;
		}
		sigv4_sha256_hex(secret_bytes(params[i].value),
				 secret_len(params[i].value), hash);
		printf("%s %s sha256=%s\n", params[i].name, params[i].type, hash);
		ssm_parameter_clear(&params[i]);
	}
	return 0;
}

static int do_ec2(struct aws_client *c, int argc, char **argv)
{
	struct ec2_instance_set set;
	char err[1024];
	double t0 = clock_monotonic();
	size_t i;

	if (ec2_describe_instances(c, (const char *const *)argv, (size_t)argc,
				   &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (i = 0; i < set.count; i++)
		printf("%s %s\n", set.items[i].id, set.items[i].state);
	for (i = 0; i < set.missing_count; i++)
		printf("missing %s\n", set.missing[i]);
	printf("described %zu missing %zu seconds %.3f\n", set.count,
	       set.missing_count, clock_monotonic() - t0);
	ec2_instance_set_free(&set);
	return 0;
}

static int do_stack(struct aws_client *c, const char *stack_id)
{
	struct opsworks_stack s;
	char err[1024];

	if (opsworks_describe_stack(c, stack_id, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("stack %s name %s arn %s\n", s.stack_id, s.name, s.arn);
	return 0;
}

/* N DescribeStacks at once: shows concurrency, rate limit and retries. */
static int do_parallel(struct aws_client *c, int n, const char *stack_id)
{
	struct aws_call **calls = calloc((size_t)n, sizeof(*calls));
	double t0 = clock_monotonic();
	int i, ok = 0, attempts = 0;
	size_t failed;
	char err[1024];

	for (i = 0; i < n; i++) {
		json_t *in = json_object(), *ids = json_array();

		json_array_append_new(ids, json_string(stack_id));
		json_object_set_new(in, "StackIds", ids);
		calls[i] = aws_call_json(&aws_opsworks, "DescribeStacks", in);
	}
	failed = aws_perform(c, calls, (size_t)n, 0);
	for (i = 0; i < n; i++) {
		attempts += calls[i]->attempts;
		if (calls[i]->status == AWS_CALL_OK) {
			ok++;
		} else if (failed) {
			aws_call_error(calls[i], err, sizeof(err));
			printf("error %s\n", err);
		}
		aws_call_free(calls[i]);
	}
	free(calls);
	printf("calls %d ok %d attempts %d quota %d seconds %.3f\n", n, ok,
	       attempts, aws_client_retry_quota(c), clock_monotonic() - t0);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'R' },
		{ "attempts", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct aws_client_options opts = { NULL, 16, 0, 3, 10 };
	struct aws_client *c;
	char err[1024];
	const char *cmd;
	int opt, rc = 2;

	log_init("aws_client_driver");
	log_open(NULL, LOG_LEVEL_ERROR, false, true);
	while ((opt = getopt_long(argc, argv, "+r:c:R:a:t:v", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			opts.region = optarg;
			break;
		case 'c':
			opts.max_concurrency = atoi(optarg);
			break;
		case 'R':
			opts.max_request_rate = atof(optarg);
			break;
		case 'a':
			opts.max_attempts = atoi(optarg);
			break;
		case 't':
			opts.request_timeout = atoi(optarg);
			break;
		case 'v':
			log_open(NULL, LOG_LEVEL_DEBUG, false, true);
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		return 2;
	cmd = argv[optind++];
	c = aws_client_new(&opts, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(cmd, "sts") == 0)
		rc = do_sts(c);
	else if (strcmp(cmd, "ssm-get") == 0)
		rc = do_ssm_get(c, argc - optind, argv + optind);
	else if (strcmp(cmd, "ec2-describe") == 0)
		rc = do_ec2(c, argc - optind, argv + optind);
	else if (strcmp(cmd, "opsworks-stack") == 0 && optind < argc)
		rc = do_stack(c, argv[optind]);
	else if (strcmp(cmd, "parallel-stacks") == 0 && optind + 1 < argc)
		rc = do_parallel(c, atoi(argv[optind]), argv[optind + 1]);
	else
		fprintf(stderr, "unknown command %s\n", cmd);
	aws_client_free(c);
	return rc;
}
