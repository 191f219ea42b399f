/* program.c: common start-up of every program. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "program.h"
#include "xmalloc.h"

int program_start(struct program *p, const char *name, const char *conf_path,
		  bool interactive, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	log_init(name);
	/* Until the configuration says otherwise: syslog, and stderr for a
	 * person at a terminal. */
	log_open(NULL, LOG_LEVEL_INFO, true, interactive);
	p->conf_path = conf_path ? xstrdup(conf_path) : config_default_path();
	config_init(&p->conf);
	if (config_load(&p->conf, p->conf_path, err, errlen) < 0) {
		log_error("%s", err);
		return -1;
	}
	p->conf_loaded = true;
	if (p->conf.log_file &&
	    log_open(p->conf.log_file, p->conf.debug_level, false,
		     interactive) < 0) {
		snprintf(err, errlen, "cannot open LogFile %s", p->conf.log_file);
		log_open(NULL, p->conf.debug_level, true, interactive);
		log_error("%s", err);
	} else if (!p->conf.log_file) {
		log_open(NULL, p->conf.debug_level, true, interactive);
	}
	/* slurmctld and slurmd give us no HOME: identity.conf may name the
	 * AWS files instead. */
	if (p->conf.aws_config_file)
		setenv("AWS_CONFIG_FILE", p->conf.aws_config_file, 1);
	if (p->conf.aws_credentials_file)
		setenv("AWS_SHARED_CREDENTIALS_FILE",
		       p->conf.aws_credentials_file, 1);
	return 0;
}

struct aws_client *program_aws(struct program *p, char *err, size_t errlen)
{
	struct aws_client_options opts;

	if (p->aws)
		return p->aws;
	memset(&opts, 0, sizeof(opts));
	opts.region = p->conf.region;
	opts.max_concurrency = p->conf.max_concurrency;
	opts.max_request_rate = p->conf.max_request_rate;
	opts.max_attempts = p->conf.max_attempts;
	opts.request_timeout = p->conf.request_timeout;
	p->aws = aws_client_new(&opts, err, errlen);
	return p->aws;
}

void program_end(struct program *p)
{
	char err[512];

	if (p->conf_loaded && metrics_flush(&p->conf, err, sizeof(err)) < 0)
		log_error("metrics: %s", err);
	aws_client_free(p->aws);
	p->aws = NULL;
	config_free(&p->conf);
	free(p->conf_path);
	p->conf_path = NULL;
	log_close();
}
