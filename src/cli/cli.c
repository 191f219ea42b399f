/* cli.c: slurm-identity, the administrator's command. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/slurm.h>

#include "backends/ad_delegation.h"
#include "backends/backend.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/aws/services.h"
#include "common/program.h"
#include "common/slurm_node.h"
#include "check.h"
#include "controller/controller.h"
#include "policy.h"
#include "status.h"
#include "controller/watch.h"
#include "controller/worker.h"

static int run_reconcile(const char *conf_path, int verbose, int argc,
			 char **argv)
{
	struct program prog;
	struct controller ctl;
	struct reconcile_report rep;
	struct aws_client *aws;
	char err[1024];
	bool dry_run = false;
	int i, rc = 1;

	(void)verbose;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0) {
			dry_run = true;
		} else {
			fprintf(stderr, "slurm-identity: reconcile: unknown argument \"%s\"\n",
				argv[i]);
			return 2;
		}
	}
	if (backends_program_start(&prog, "slurm-identity", conf_path,
				   PROGRAM_INTERACTIVE | PROGRAM_AS_STATE_OWNER, err,
				   sizeof(err)) < 0)
		goto out;
	if (!prog.conf.backends) {
		printf("reconcile: no backends configured\n");
		rc = 0;
		goto out;
	}
	if (program_need_cluster_name(&prog, err, sizeof(err)) < 0) {
		log_error("reconcile: %s", err);
		goto out;
	}
	aws = program_aws(&prog, err, sizeof(err));
	if (!aws) {
		log_error("%s", err);
		goto out;
	}
	/* Batches a worker did not live to finish come first. */
	if (!dry_run) {
		size_t drained, left = worker_drain_once(&prog, &drained);

		if (drained)
			printf("queued: %zu node(s) of batches no worker finished, done now (%zu pending)\n",
			       drained, left);
	}
	controller_init(&ctl, &prog.conf, aws, 0);
	if (controller_reconcile(&ctl, dry_run, stdout, &rep) == 0 &&
	    rep.failed == 0)
		rc = 0;
	printf("reconcile: %zu registrations, %zu leaks, %zu removed, %zu failed, %zu records settled, %zu busy, %zu foreign%s\n",
	       rep.registrations, rep.leaks, rep.removed, rep.failed,
	       rep.journal_cleaned, rep.skipped_busy, rep.foreign,
	       dry_run ? " (dry run)" : "");
	controller_free(&ctl);
out:
	program_end(&prog);
	libslurm_close();
	return rc;
}

static int run_watch(const char *conf_path, int verbose, int argc,
		     char **argv)
{
	struct program prog;
	char err[1024];
	bool once = false;
	int i, rc = 1;

	(void)verbose;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0) {
			once = true;
		} else {
			fprintf(stderr, "slurm-identity: watch: unknown argument \"%s\"\n",
				argv[i]);
			return 2;
		}
	}
	/* A service: its lines go to LogFile (and stderr when a person
	 * runs it in a terminal; systemd's journal otherwise). */
	if (backends_program_start(&prog, "slurm-identity",
				   conf_path,
				   (isatty(2) ? PROGRAM_INTERACTIVE : 0) |
					   PROGRAM_AS_STATE_OWNER,
				   err, sizeof(err)) < 0) {
		/* A service manager keeps stderr: say why it did not start. */
		if (!isatty(2))
			fprintf(stderr, "slurm-identity: watch: %s\n", err);
		goto out;
	}
	if (!prog.conf.backends) {
		log_error("watch: no backends configured: nothing to watch");
		goto out;
	}
	if (program_need_cluster_name(&prog, err, sizeof(err)) < 0) {
		log_error("watch: %s", err);
		goto out;
	}
	if (watch_run(&prog, once) == 0)
		rc = 0;
out:
	program_end(&prog);
	libslurm_close();
	return rc;
}

static int run_policy(const char *conf_path, int verbose, int argc,
		      char **argv)
{
	struct program prog;
	const char *role_name = NULL, *account = NULL;
	struct caller_identity id;
	enum policy_role role;
	struct aws_client *aws;
	char err[1024], *text;
	json_t *doc;
	int i, rc = 1;

	(void)verbose;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role_name = argv[++i];
		else if (strcmp(argv[i], "--account") == 0 && i + 1 < argc)
			account = argv[++i];
		else {
			fprintf(stderr, "slurm-identity: policy: unknown argument \"%s\"\n",
				argv[i]);
			return 2;
		}
	}
	if (!role_name || (strcmp(role_name, "controller") != 0 &&
			   strcmp(role_name, "node") != 0 &&
			   strcmp(role_name, "directory") != 0)) {
		fprintf(stderr, "slurm-identity: policy: --role controller|node|directory is required\n");
		return 2;
	}
	role = strcmp(role_name, "node") == 0 ? POLICY_NODE : POLICY_CONTROLLER;
	if (backends_program_start(&prog, "slurm-identity", conf_path,
				   PROGRAM_INTERACTIVE | PROGRAM_AS_STATE_OWNER, err,
				   sizeof(err)) < 0)
		goto out;
	/* The directory's delegation: no AWS, no account id. */
	if (strcmp(role_name, "directory") == 0) {
		if (!backend_enabled(&prog.conf, &ad_backend))
			log_error("policy: --role directory: Backends= has no ad");
		else if (ad_delegation_print(&prog.conf, stdout, err,
					     sizeof(err)) < 0)
			log_error("policy: %s", err);
		else
			rc = 0;
		goto out;
	}
	/* Policies name this cluster's resources. */
	if ((backend_enabled(&prog.conf, &ad_backend) ||
	     backend_enabled(&prog.conf, &ssm_backend)) &&
	    program_need_cluster_name(&prog, err, sizeof(err)) < 0) {
		log_error("policy: %s", err);
		goto out;
	}
	aws = program_aws(&prog, err, sizeof(err));
	if (!aws) {
		log_error("%s", err);
		goto out;
	}
	if (!account) {
		if (sts_get_caller_identity(aws, &id, err, sizeof(err)) < 0) {
			log_error("cannot learn the account id (use --account): %s",
				  err);
			goto out;
		}
		account = id.account;
	}
	doc = policy_build(&prog.conf, role, aws_client_region(aws), account,
			   err, sizeof(err));
	if (!doc) {
		log_error("%s", err);
		goto out;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", text);
	free(text);
	json_decref(doc);
	rc = 0;
out:
	program_end(&prog);
	return rc;
}

static int run_check(const char *conf_path, int verbose, int argc,
		     char **argv)
{
	if (argc > 0) {
		fprintf(stderr, "slurm-identity: check: unknown argument \"%s\"\n",
			argv[0]);
		return 2;
	}
	return check_run(conf_path, verbose);
}

static int run_status(const char *conf_path, int verbose, int argc,
		      char **argv)
{
	const char *hl = NULL;
	bool json = false;
	int i;

	(void)verbose;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (argv[i][0] != '-' && !hl) {
			hl = argv[i];
		} else {
			fprintf(stderr, "slurm-identity: status [HOSTLIST] [--json]\n");
			return 2;
		}
	}
	return status_run(conf_path, hl, json);
}

static int run_version(const char *conf_path, int verbose, int argc,
		       char **argv)
{
	(void)conf_path;
	(void)verbose;
	(void)argc;
	(void)argv;
	printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
	return 0;
}

/* The subcommands: what each takes and does, and the function that runs
 * it with the words after its name. */
static const struct command {
	const char *name;
	const char *args;
	const char *summary;
	int (*run)(const char *conf_path, int verbose, int argc, char **argv);
} commands[] = {
	{ "check", "",
	  "validate identity.conf, the AWS identity and every backend",
	  run_check },
	{ "status", "[HOSTLIST] [--json]",
	  "each node's Slurm state, instance and identity (no AWS call)",
	  run_status },
	{ "reconcile", "[--dry-run]",
	  "remove registrations that escaped the hooks", run_reconcile },
	{ "watch", "[--once]",
	  "follow Slurm's node states: prepare and remove identities (a service)",
	  run_watch },
	{ "policy", "--role controller|node|directory [--account ID]",
	  "print the IAM policy this configuration needs", run_policy },
	{ "version", "", "print the version", run_version },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "Usage: slurm-identity [-c FILE] [-v] COMMAND\n\nCommands:\n");
	for (i = 0; i < COMMAND_COUNT; i++)
		fprintf(fp, "  %s%s%s\n      %s\n", commands[i].name,
			commands[i].args[0] ? " " : "", commands[i].args,
			commands[i].summary);
	fprintf(fp,
		"\n"
		"Options:\n"
		"  -c, --config FILE  identity.conf to use (default: $SLURM_IDENTITY_CONF,\n"
		"                     else identity.conf beside $SLURM_CONF or slurm.conf)\n"
		"  -v, --verbose      log AWS calls to stderr\n"
		"  -h, --help         this text\n"
		"\n"
		"See slurm-identity(8) and identity.conf(5).\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd = NULL;
	char *conf_path = NULL;
	int verbose = 0, opt, rc;
	size_t i;

	secret_protect_process();
	log_init("slurm-identity");
	log_open(NULL, LOG_LEVEL_ERROR, false, true);
	while ((opt = getopt_long(argc, argv, "+c:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			free(conf_path);
			conf_path = strdup(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			free(conf_path);
			return 0;
		default:
			usage(stderr);
			free(conf_path);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		free(conf_path);
		return 2;
	}
	for (i = 0; i < COMMAND_COUNT && !cmd; i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "slurm-identity: unknown command \"%s\" (see --help)\n",
			argv[optind]);
		free(conf_path);
		return 2;
	}
	if (!conf_path)
		conf_path = config_default_path();
	rc = cmd->run(conf_path, verbose, argc - optind - 1, argv + optind + 1);
	free(conf_path);
	log_close();
	return rc;
}
