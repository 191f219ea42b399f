/* program.c: common start-up of every program. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "slurm_node.h"
#include "log.h"
#include "metrics.h"
#include "program.h"
#include "xmalloc.h"

extern char **environ;

/* The environment we were started with (Slurm's), before we point the AWS
 * layer at identity.conf's files: programs we chain get this one. */
static char **given_environ;

static void save_environ(void)
{
	size_t n = 0, i;

	if (given_environ)
		return;
	while (environ && environ[n])
		n++;
	given_environ = xcalloc(n + 1, sizeof(*given_environ));
	for (i = 0; i < n; i++)
		given_environ[i] = xstrdup(environ[i]);
}

char *const *program_given_environ(void)
{
	return given_environ ? given_environ : environ;
}

/* slurmctld may start us with standard descriptors closed: fill them with
 * /dev/null first, so that no file we open later (the log, StateDir)
 * lands on 0-2, where a child's or the worker's redirection would take
 * it over. */
static void standard_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (open("/dev/null", O_RDWR) < 0)
			return;
	}
}

/* Run as root, become the owner of state_dir if that is not root: its
 * user, with its groups. 1 when we switched, 0 when nothing was to do (not
 * root; no StateDir yet, or root's: the journal's checks have the last
 * word), -1 with err. */
static int become_state_owner(const char *state_dir, char *owner,
			      size_t ownerlen, char *err, size_t errlen)
{
	struct passwd *pw;
	struct stat st;
	gid_t gid;

	if (geteuid() != 0 || lstat(state_dir, &st) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid == 0)
		return 0;
	pw = getpwuid(st.st_uid);
	gid = pw ? pw->pw_gid : st.st_gid;
	if ((pw ? initgroups(pw->pw_name, gid) : setgroups(0, NULL)) < 0 ||
	    setgid(gid) < 0 || setuid(st.st_uid) < 0) {
		snprintf(err, errlen,
			 "cannot become uid %u, the owner of StateDir %s: %s",
			 (unsigned)st.st_uid, state_dir, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "still root after becoming uid %u",
			 (unsigned)st.st_uid);
		return -1;
	}
	/* As su(1) does: root's HOME would point the AWS layer at root's
	 * ~/.aws, which the new user cannot read. */
	if (pw) {
		setenv("HOME", pw->pw_dir, 1);
		setenv("USER", pw->pw_name, 1);
		setenv("LOGNAME", pw->pw_name, 1);
		snprintf(owner, ownerlen, "%s (uid %u)", pw->pw_name,
			 (unsigned)st.st_uid);
	} else {
		unsetenv("HOME");
		snprintf(owner, ownerlen, "uid %u", (unsigned)st.st_uid);
	}
	return 1;
}

int program_start(struct program *p, const char *name, const char *conf_path,
		  unsigned flags, char *err, size_t errlen)
{
	bool interactive = flags & PROGRAM_INTERACTIVE;
	char owner[128] = "";
	int became = 0;

	standard_fds();
	memset(p, 0, sizeof(*p));
	p->name = name;
	save_environ();
	/* The OpenLDAP library (ours for AD, and libcurl's) reads no
	 * ldap.conf, ldaprc or LDAP* variables, which could steer where the
	 * domain password goes: identity.conf says all of it. Set before any
	 * thread starts; programs we chain get the environment saved above. */
	setenv("LDAPNOINIT", "1", 1);
	/* We bind with a simple bind over TLS and never use SASL, yet the
	 * library's first use loads every Cyrus SASL plugin it finds (GSSAPI
	 * brings in Kerberos): 18 ms of CPU, and code from a SASL_PATH we
	 * were given, in a process that holds the domain password. A path
	 * that is not a directory loads none. */
	setenv("SASL_PATH", "/dev/null", 1);
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
	if ((flags & PROGRAM_AS_STATE_OWNER) &&
	    (became = become_state_owner(p->conf.state_dir, owner,
					 sizeof(owner), err, errlen)) < 0) {
		log_error("%s", err);
		return -1;
	}
	if (p->conf.log_file &&
	    log_open(p->conf.log_file, p->conf.debug_level, false,
		     interactive) < 0) {
		snprintf(err, errlen, "cannot open LogFile %s", p->conf.log_file);
		log_open(NULL, p->conf.debug_level, true, interactive);
		log_error("%s", err);
	} else if (!p->conf.log_file) {
		log_open(NULL, p->conf.debug_level, true, interactive);
	}
	if (became)
		log_verbose("running as %s, the owner of StateDir %s", owner,
			    p->conf.state_dir);
	/* slurmctld and slurmd give us no HOME: identity.conf may name the
	 * AWS files instead. */
	if (p->conf.aws_config_file)
		setenv("AWS_CONFIG_FILE", p->conf.aws_config_file, 1);
	if (p->conf.aws_credentials_file)
		setenv("AWS_SHARED_CREDENTIALS_FILE",
		       p->conf.aws_credentials_file, 1);
	return 0;
}

int program_need_cluster_name(struct program *p, char *err, size_t errlen)
{
	char why[256];
	size_t i;

	if (p->conf.cluster_name)
		return 0;
	/* Slurm's own, asked from slurmctld (Include files and all), not a
	 * parse of slurm.conf: and only when needed, never on the prolog's
	 * fast path. */
	p->conf.cluster_name = ctld_cluster_name(why, sizeof(why));
	if (!p->conf.cluster_name) {
		snprintf(err, errlen,
			 "no ClusterName in %s, and slurmctld could not be asked for it (%s)",
			 p->conf_path, why);
		return -1;
	}
	for (i = 0; p->conf.cluster_name[i]; i++) {
		char c = p->conf.cluster_name[i];

		if (!isalnum((unsigned char)c) && c != '-' && c != '_' && c != '.') {
			snprintf(err, errlen, "slurmctld's ClusterName \"%.64s\" cannot name our marks and tags",
				 p->conf.cluster_name);
			xfree_ptr(&p->conf.cluster_name);
			return -1;
		}
	}
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

void program_aws_drop(struct program *p)
{
	aws_client_free(p->aws);
	p->aws = NULL;
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
	journal_close_all();
	log_close();
	if (given_environ) {
		size_t i;

		for (i = 0; given_environ[i]; i++)
			free(given_environ[i]);
		free(given_environ);
		given_environ = NULL;
	}
}
