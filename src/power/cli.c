/* cli.c: slurm-identity, the administrator's command. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>

#include "../common/conf.h"
#include "../common/log.h"
#include "../common/secret.h"
#include "check.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: slurm-identity [-c FILE] [-v] COMMAND\n"
		"\n"
		"Commands:\n"
		"  check      validate identity.conf, the AWS identity and every backend\n"
		"  version    print the version\n"
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
	char *conf_path = NULL;
	const char *command;
	int verbose = 0, opt, rc;

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
	command = argv[optind];
	if (!conf_path)
		conf_path = config_default_path();
	if (strcmp(command, "check") == 0) {
		rc = check_run(conf_path, verbose);
	} else if (strcmp(command, "version") == 0) {
		printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		rc = 0;
	} else {
		fprintf(stderr, "slurm-identity: unknown command \"%s\" (see --help)\n",
			command);
		rc = 2;
	}
	free(conf_path);
	log_close();
	return rc;
}
