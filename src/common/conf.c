/* conf.c: identity.conf parsing and validation. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>


#include "conf.h"
#include "log.h"
#include "secret.h"
#include "xmalloc.h"

#ifndef SLURM_CONF_DIR
#define SLURM_CONF_DIR "/etc/slurm"
#endif

#define MAX_LINE 4096
/* identity.conf is a few dozen lines; anything this large is a mistake. */
#define MAX_CONF_SIZE (1024 * 1024)

enum value_type {
	VALUE_STRING,		/* any printable text */
	VALUE_NAME,		/* [A-Za-z0-9._-], e.g. a cluster name */
	VALUE_PATH,		/* absolute path */
	VALUE_INT,
	VALUE_DOUBLE,
	VALUE_BACKENDS,
	VALUE_LEVEL,
	VALUE_SECRET,
};

struct key_spec {
	const char *name;
	enum value_type type;
	size_t offset;
	long min;		/* for numbers */
	long max;
};

#define FIELD(f) offsetof(struct identity_conf, f)

static const struct key_spec keys[] = {
	{ "ClusterName", VALUE_NAME, FIELD(cluster_name), 0, 0 },
	{ "Backends", VALUE_BACKENDS, FIELD(backends), 0, 0 },
	{ "Region", VALUE_NAME, FIELD(region), 0, 0 },
	{ "StateDir", VALUE_PATH, FIELD(state_dir), 0, 0 },
	{ "LogFile", VALUE_PATH, FIELD(log_file), 0, 0 },
	{ "DebugLevel", VALUE_LEVEL, FIELD(debug_level), 0, 0 },
	{ "ChainResumeProgram", VALUE_PATH, FIELD(chain_resume_program), 0, 0 },
	{ "ChainSuspendProgram", VALUE_PATH, FIELD(chain_suspend_program), 0, 0 },
	{ "ChainResumeFailProgram", VALUE_PATH,
	  FIELD(chain_resume_fail_program), 0, 0 },
	{ "OpsWorksStackId", VALUE_NAME, FIELD(opsworks_stack_id), 0, 0 },
	{ "DomainName", VALUE_NAME, FIELD(domain_name), 0, 0 },
	{ "DomainNameParameter", VALUE_STRING, FIELD(domain_name_parameter), 0, 0 },
	{ "DomainPasswordParameter", VALUE_STRING,
	  FIELD(domain_password_parameter), 0, 0 },
	{ "DomainPassword", VALUE_SECRET, FIELD(domain_password), 0, 0 },
	{ "DomainUser", VALUE_STRING, FIELD(domain_user), 0, 0 },
	{ "DomainController", VALUE_NAME, FIELD(domain_controller), 0, 0 },
	{ "ComputerOU", VALUE_STRING, FIELD(computer_ou), 0, 0 },
	{ "AdcliPath", VALUE_PATH, FIELD(adcli_path), 0, 0 },
	{ "DomainRealm", VALUE_NAME, FIELD(domain_realm), 0, 0 },
	{ "ComputerNamePrefix", VALUE_NAME, FIELD(computer_name_prefix), 0, 0 },
	{ "LdapCaFile", VALUE_PATH, FIELD(ldap_ca_file), 0, 0 },
	{ "LdapTlsReqCert", VALUE_NAME, FIELD(ldap_tls_reqcert), 0, 0 },
	{ "HostKeytab", VALUE_PATH, FIELD(host_keytab), 0, 0 },
	{ "JoinSecretKmsKeyId", VALUE_STRING, FIELD(join_secret_kms_key), 0, 0 },
	{ "SsmOnlineTimeout", VALUE_INT, FIELD(ssm_online_timeout), 1, 3600 },
	{ "JoinSecretWait", VALUE_INT, FIELD(join_secret_wait), 0, 3600 },
	{ "JoinSecretBinding", VALUE_STRING, FIELD(join_secret_binding), 0, 0 },
	{ "SsmRegistrationFile", VALUE_PATH, FIELD(ssm_registration_file), 0, 0 },
	{ "SsmActivationIds", VALUE_STRING, FIELD(ssm_activation_ids), 0, 0 },
	{ "DomainPasswordKmsKeyId", VALUE_STRING,
	  FIELD(domain_password_kms_key), 0, 0 },
	{ "AwsConfigFile", VALUE_PATH, FIELD(aws_config_file), 0, 0 },
	{ "AwsCredentialsFile", VALUE_PATH, FIELD(aws_credentials_file), 0, 0 },
	{ "MetricsFile", VALUE_PATH, FIELD(metrics_file), 0, 0 },
	{ "SuspendBudget", VALUE_INT, FIELD(suspend_budget), 1, 3600 },
	{ "MaxConcurrency", VALUE_INT, FIELD(max_concurrency), 1, 256 },
	{ "MaxRequestRate", VALUE_DOUBLE, FIELD(max_request_rate), 0, 10000 },
	{ "MaxAttempts", VALUE_INT, FIELD(max_attempts), 1, 10 },
	{ "RequestTimeout", VALUE_INT, FIELD(request_timeout), 1, 600 },
	{ "Ec2NotFoundGrace", VALUE_INT, FIELD(ec2_not_found_grace), 0, 86400 },
	{ "WatchPeriod", VALUE_INT, FIELD(watch_period), 1, 3600 },
	{ "WatchSweepPeriod", VALUE_INT, FIELD(watch_sweep_period), 10, 86400 },
};

/* none, nodeaddr, or tag:KEY: an EC2 tag the cloud's launcher sets to the
 * node's name, which a node cannot set on itself (not aws:, not ours). */
static int join_binding_check(const char *v, char *err, size_t errlen,
			      const char *path)
{
	const char *key = v + 4, *c;

	if (strcmp(v, "none") == 0 || strcmp(v, "nodeaddr") == 0)
		return 0;
	if (strncmp(v, "tag:", 4) == 0 && *key && strlen(key) <= 127 &&
	    strncmp(key, "aws:", 4) != 0 &&
	    strncmp(key, "slurm-identity:", 15) != 0) {
		for (c = key; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ',')
				break;
		if (!*c)
			return 0;
	}
	snprintf(err, errlen,
		 "%s: JoinSecretBinding=%s: use none, nodeaddr or tag:KEY (KEY a tag the cloud's launcher sets to the node name; not aws: or slurm-identity:, which nodes may set on themselves)",
		 path, v);
	return -1;
}

char *config_expand_node(const char *pattern, const char *node)
{
	struct strbuf b;
	const char *p;

	strbuf_init(&b);
	for (p = pattern; *p; p++) {
		if (p[0] == '%' && p[1] == 'n') {
			strbuf_puts(&b, node);
			p++;
		} else {
			strbuf_putc(&b, *p);
		}
	}
	return strbuf_detach(&b);
}

char *config_default_path(void)
{
	const char *env = getenv("SLURM_IDENTITY_CONF");
	const char *slurm_conf = getenv("SLURM_CONF");
	const char *slash;

	if (env && *env)
		return xstrdup(env);
	if (slurm_conf && (slash = strrchr(slurm_conf, '/')))
		return xasprintf("%.*s/identity.conf",
				 (int)(slash - slurm_conf), slurm_conf);
	return xstrdup(SLURM_CONF_DIR "/identity.conf");
}

void config_init(struct identity_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->state_dir = xstrdup("/var/spool/slurm-identity");
	conf->debug_level = LOG_LEVEL_INFO;
	conf->adcli_path = xstrdup(ADCLI_PATH);
	conf->ldap_ca_file = xstrdup("/etc/ssl/certs/ca-certificates.crt");
	conf->ldap_tls_reqcert = xstrdup("demand");
	conf->join_secret_binding = xstrdup("none");
	conf->host_keytab = xstrdup("/etc/krb5.keytab");
	conf->ssm_online_timeout = 60;
	conf->join_secret_wait = 60;
	conf->ssm_registration_file = xstrdup("/var/lib/amazon/ssm/registration");
	conf->max_concurrency = 16;
	conf->max_request_rate = 0;	/* adaptive */
	conf->max_attempts = 3;
	conf->request_timeout = 10;
	conf->ec2_not_found_grace = 600;
	conf->watch_period = 5;
	conf->watch_sweep_period = 300;
}

void config_free(struct identity_conf *conf)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		void *field = (char *)conf + keys[i].offset;

		if (keys[i].type == VALUE_SECRET) {
			secret_free(*(struct secret **)field);
			*(struct secret **)field = NULL;
		} else if (keys[i].type == VALUE_STRING ||
			   keys[i].type == VALUE_NAME ||
			   keys[i].type == VALUE_BACKENDS ||
			   keys[i].type == VALUE_PATH) {
			xfree_ptr(field);
		}
	}
	xfree_ptr(&conf->path);
	xfree_ptr(&conf->slurm_conf);
}

static const struct key_spec *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool valid_name(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 255)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Backends=: a comma list of names, kept lower case and without blanks;
 * which names exist is the backend table's to say. */
static int parse_backends(const char *value, char **out, char *why,
			  size_t whylen)
{
	char *copy = xstrdup(value), *save = NULL, *tok;
	struct strbuf list;
	int rc = 0;

	strbuf_init(&list);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *c;

		tok = str_trim(tok);
		for (c = tok; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!valid_name(tok)) {
			snprintf(why, whylen, "\"%s\" is not a backend name",
				 tok);
			rc = -1;
			break;
		}
		if (list.len)
			strbuf_putc(&list, ',');
		strbuf_puts(&list, tok);
	}
	free(copy);
	free(*out);
	*out = NULL;
	if (rc == 0 && list.len)
		*out = strbuf_detach(&list);
	else
		strbuf_free(&list);
	return rc;
}

/* Store value into the field described by spec; why explains a refusal. */
static int set_value(struct identity_conf *conf, const struct key_spec *spec,
		     const char *value, char *why, size_t whylen)
{
	void *field = (char *)conf + spec->offset;
	char *end;
	long n;
	double d;
	int level;

	switch (spec->type) {
	case VALUE_NAME:
		if (!valid_name(value)) {
			snprintf(why, whylen,
				 "\"%s\" is not a valid name (letters, digits, '.', '_', '-')",
				 value);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case VALUE_STRING:
		if (!printable(value)) {
			snprintf(why, whylen, "control characters in value");
			return -1;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case VALUE_PATH:
		if (value[0] != '/' || !printable(value)) {
			snprintf(why, whylen, "\"%s\" is not an absolute path",
				 value);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case VALUE_INT:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno || end == value || *end || n < spec->min ||
		    n > spec->max) {
			snprintf(why, whylen,
				 "\"%s\" is not a whole number from %ld to %ld",
				 value, spec->min, spec->max);
			return -1;
		}
		*(int *)field = (int)n;
		return 0;
	case VALUE_DOUBLE:
		errno = 0;
		d = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(d) ||
		    d < (double)spec->min || d > (double)spec->max) {
			snprintf(why, whylen,
				 "\"%s\" is not a number from %ld to %ld",
				 value, spec->min, spec->max);
			return -1;
		}
		*(double *)field = d;
		return 0;
	case VALUE_BACKENDS:
		return parse_backends(value, (char **)field, why, whylen);
	case VALUE_LEVEL:
		level = log_level_parse(value);
		if (level < 0) {
			snprintf(why, whylen,
				 "\"%s\" is not a level (quiet, fatal, error, info, verbose, debug, debug2, debug3)",
				 value);
			return -1;
		}
		*(int *)field = level;
		return 0;
	case VALUE_SECRET:
		secret_free(*(struct secret **)field);
		*(struct secret **)field = secret_from_string(value);
		return 0;
	}
	return -1;
}

/* Strip one pair of matching quotes, as slurm.conf allows. */
static char *unquote(char *s)
{
	size_t len = strlen(s);

	if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
		s[len - 1] = '\0';
		return s + 1;
	}
	return s;
}

static int check_file_security(int fd, const char *path, bool has_secret,
			       char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", path,
			 strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "%s: insecure: owned by uid %u, expected root or uid %u",
			 path, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "%s: insecure: writable by group or other (perms=%04o)",
			 path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (has_secret && (st.st_mode & S_IROTH)) {
		snprintf(err, errlen,
			 "%s: insecure: holds DomainPassword but is readable by other (perms=%04o)",
			 path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int config_load(struct identity_conf *conf, const char *path, char *err,
		size_t errlen)
{
	unsigned char seen[sizeof(keys) / sizeof(keys[0])] = { 0 };
	unsigned first_line[sizeof(keys) / sizeof(keys[0])] = { 0 };
	char line[MAX_LINE], why[256];
	unsigned lineno = 0;
	bool has_secret = false;
	struct secret *text = NULL;
	size_t pos = 0;
	int fd, rc = -1, got;
	const char *env_conf = getenv("SLURM_CONF");

	conf->path = xstrdup(path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	/* Without stdio: no buffer of ours keeps a DomainPassword line. */
	text = secret_read_fd(fd, MAX_CONF_SIZE, why, sizeof(why));
	if (!text) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto out;
	}
	while ((got = secret_next_line(text, &pos, line, sizeof(line))) != 0) {
		const struct key_spec *spec;
		char *p, *eq, *key, *value;
		size_t idx;

		lineno++;
		if (got == -1) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes",
				 path, lineno, MAX_LINE - 1);
			goto out;
		}
		if (got == -2) {
			snprintf(err, errlen, "%s:%u: NUL byte in the line", path,
				 lineno);
			goto out;
		}
		p = strchr(line, '#');
		if (p)
			*p = '\0';
		p = str_trim(line);
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected Key=Value",
				 path, lineno);
			goto out;
		}
		*eq = '\0';
		key = str_trim(p);
		value = unquote(str_trim(eq + 1));
		spec = find_key(key);
		if (!spec) {
			snprintf(err, errlen, "%s:%u: unknown key \"%s\"", path,
				 lineno, key);
			goto out;
		}
		idx = (size_t)(spec - keys);
		if (seen[idx]) {
			snprintf(err, errlen,
				 "%s:%u: %s is set twice (first on line %u)",
				 path, lineno, spec->name, first_line[idx]);
			goto out;
		}
		seen[idx] = 1;
		first_line[idx] = lineno;
		if (spec->type == VALUE_BACKENDS)
			conf->backends_line = lineno;
		if (!*value && spec->type != VALUE_BACKENDS) {
			snprintf(err, errlen, "%s:%u: %s: empty value", path,
				 lineno, spec->name);
			goto out;
		}
		if (set_value(conf, spec, value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s: %s", path, lineno,
				 spec->name, why);
			goto out;
		}
		if (spec->type == VALUE_SECRET)
			has_secret = true;
	}
	if (check_file_security(fd, path, has_secret, err, errlen) < 0)
		goto out;

	if (env_conf && *env_conf)
		conf->slurm_conf = xstrdup(env_conf);
	else
		conf->slurm_conf = xstrdup(SLURM_CONF_DIR "/slurm.conf");
	if (conf->computer_ou) {
		const char *c;

		for (c = conf->computer_ou; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				break;
		if (*c || !strchr(conf->computer_ou, '=')) {
			snprintf(err, errlen,
				 "%s: ComputerOU must be a DN (OU=...,DC=...) without control characters",
				 path);
			goto out;
		}
	}
	if (join_binding_check(conf->join_secret_binding, err, errlen, path) < 0)
		goto out;
	if (strcmp(conf->ldap_tls_reqcert, "demand") != 0 &&
	    strcmp(conf->ldap_tls_reqcert, "hard") != 0 &&
	    strcmp(conf->ldap_tls_reqcert, "try") != 0 &&
	    strcmp(conf->ldap_tls_reqcert, "allow") != 0 &&
	    strcmp(conf->ldap_tls_reqcert, "never") != 0) {
		snprintf(err, errlen,
			 "%s: LdapTlsReqCert=%s: use demand, hard, try, allow or never",
			 path, conf->ldap_tls_reqcert);
		goto out;
	}
	rc = 0;
out:
	/* A DomainPassword line may still be in the buffer. */
	explicit_bzero(line, sizeof(line));
	secret_free(text);
	close(fd);
	return rc;
}
