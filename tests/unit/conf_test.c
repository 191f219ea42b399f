/* conf_test.c: identity.conf parsing, validation and file checks. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/log.h"
#include "tap.h"

static char dir[] = "/tmp/conf_test.XXXXXX";

static char *write_conf(const char *text, mode_t mode)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/identity.conf", dir);
	unlink(path);
	fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	return path;
}

/* Load text; return the error (empty string on success). */
static const char *load(const char *text, mode_t mode,
			struct identity_conf *conf)
{
	static char err[512];
	char *path = write_conf(text, mode);

	err[0] = '\0';
	config_init(conf);
	if (config_load(conf, path, err, sizeof(err)) == 0)
		err[0] = '\0';
	return err;
}

/* The error with the directory part of the path removed. */
static const char *load_err(const char *text, mode_t mode)
{
	struct identity_conf conf;
	const char *err = load(text, mode, &conf);
	const char *leaf = strstr(err, "identity.conf");

	config_free(&conf);
	return leaf ? leaf : err;
}

int main(void)
{
	struct identity_conf conf;
	const char *err;
	char *path;

	if (!mkdtemp(dir))
		return 1;
	setenv("SLURM_CONF", "/nonexistent/slurm.conf", 1);

	err = load("# comment\n"
		   "clustername = demo\n"
		   "Backends=opsworks, ad\n"
		   "OpsWorksStackId=2f18b4cb-4de5-4429-a149-ff7da9f0d8ee\n"
		   "DomainNameParameter=/slurm/DomainName\n"
		   "DomainPasswordParameter=\"/slurm/DomainPassword\"\n"
		   "MaxConcurrency=8   # trailing comment\n"
		   "MaxRequestRate=2.5\n"
		   "Ec2NotFoundGrace=0\n"
		   "DebugLevel=debug2\n"
		   "StateDir=/var/lib/si\n",
		   0644, &conf);
	tap_is_str(err, "", "valid file loads");
	tap_is_str(conf.cluster_name, "demo", "keys are case-insensitive");
	tap_is_str(conf.backends, "opsworks,ad",
		   "backend list kept without blanks");
	tap_is_int(conf.backends_line, 3, "its line kept");
	tap_is_str(conf.domain_password_parameter, "/slurm/DomainPassword",
		   "quotes stripped");
	tap_is_int(conf.max_concurrency, 8, "trailing comment ignored");
	tap_ok(conf.max_request_rate == 2.5, "double parsed");
	tap_is_int(conf.debug_level, LOG_LEVEL_DEBUG2, "level name parsed");
	tap_is_str(conf.state_dir, "/var/lib/si", "StateDir set");
	tap_is_int(conf.max_attempts, 3, "default MaxAttempts is 3");
	tap_is_int(conf.ec2_not_found_grace, 0, "Ec2NotFoundGrace=0 allowed");
	config_free(&conf);

	err = load("", 0644, &conf);
	tap_is_str(err, "", "empty file is valid");
	tap_is_str(conf.state_dir, "/var/spool/slurm-identity",
		   "default StateDir");
	tap_ok(conf.backends == NULL, "no backends by default");
	tap_is_str(conf.join_secret_binding, "none", "JoinSecretBinding is none by default");
	tap_is_int(conf.ec2_not_found_grace, 600, "default Ec2NotFoundGrace is 600 s");
	config_free(&conf);
	tap_is_str(load_err("Ec2NotFoundGrace=-1\n", 0644),
		   "identity.conf:1: Ec2NotFoundGrace: \"-1\" is not a whole number from 0 to 86400",
		   "negative grace refused");

	tap_is_str(load("JoinSecretBinding=nodeaddr\n", 0644, &conf), "",
		   "JoinSecretBinding=nodeaddr accepted");
	tap_is_str(conf.join_secret_binding, "nodeaddr", "JoinSecretBinding read");
	config_free(&conf);
	tap_is_str(load("JoinSecretBinding=tag:launcher:node\n", 0644, &conf), "",
		   "JoinSecretBinding=tag:KEY accepted");
	config_free(&conf);
	{
		static const char *const bad[] = { "tag:slurm-identity:node",
			"tag:aws:autoscaling", "tag:", "ip", NULL };
		char text[128];
		size_t i;

		for (i = 0; bad[i]; i++) {
			const char *e;

			snprintf(text, sizeof(text), "JoinSecretBinding=%s\n", bad[i]);
			e = load_err(text, 0644);
			tap_ok(e && strstr(e, "use none, nodeaddr or tag:KEY"),
			       "JoinSecretBinding=%s refused (%s)", bad[i], e ? e : "accepted");
		}
	}
	tap_is_str(load_err("Bogus=1\n", 0644),
		   "identity.conf:1: unknown key \"Bogus\"", "unknown key");
	tap_is_str(load_err("\n\nMaxConcurrency=0\n", 0644),
		   "identity.conf:3: MaxConcurrency: \"0\" is not a whole number from 1 to 256",
		   "out of range int");
	tap_is_str(load_err("MaxConcurrency=4x\n", 0644),
		   "identity.conf:1: MaxConcurrency: \"4x\" is not a whole number from 1 to 256",
		   "trailing garbage int");
	tap_is_str(load_err("ClusterName=a\nclustername=b\n", 0644),
		   "identity.conf:2: ClusterName is set twice (first on line 1)",
		   "duplicate key");
	tap_is_str(load_err("ClusterName\n", 0644),
		   "identity.conf:1: expected Key=Value", "missing equals");
	tap_is_str(load_err("ClusterName=-rf\n", 0644),
		   "identity.conf:1: ClusterName: \"-rf\" is not a valid name (letters, digits, '.', '_', '-')",
		   "option-like name refused");
	tap_is_str(load_err("StateDir=relative/dir\n", 0644),
		   "identity.conf:1: StateDir: \"relative/dir\" is not an absolute path",
		   "relative path refused");
	tap_is_str(load_err("Backends=opsworks,-x\n", 0644),
		   "identity.conf:1: Backends: \"-x\" is not a backend name",
		   "a name that is no name");
	tap_is_str(load_err("DebugLevel=loud\n", 0644),
		   "identity.conf:1: DebugLevel: \"loud\" is not a level (quiet, fatal, error, info, verbose, debug, debug2, debug3)",
		   "unknown level");
	tap_is_str(load_err("Region=\n", 0644),
		   "identity.conf:1: Region: empty value", "empty value");
	tap_is_str(load_err("ClusterName=a\n", 0664),
		   "identity.conf: insecure: writable by group or other (perms=0664)",
		   "group-writable file refused");
	tap_is_str(load_err("DomainPassword=hunter2\n", 0644),
		   "identity.conf: insecure: holds DomainPassword but is readable by other (perms=0644)",
		   "world-readable secret refused");
	tap_ok(strstr(load_err("DomainPassword=hunter2\n", 0644), "hunter2") == NULL,
	       "refusal does not print the secret");
	tap_is_str(load_err("DomainPassword=hunter2\n", 0640), "",
		   "secret in a 0640 file accepted");
	{
		char line[5000];

		memset(line, 'a', sizeof(line) - 2);
		line[sizeof(line) - 2] = '\n';
		line[sizeof(line) - 1] = '\0';
		tap_is_str(load_err(line, 0644),
			   "identity.conf:1: line longer than 4095 bytes",
			   "over-long line refused");
	}

	/* NUL bytes: refused where they are, at the end of the file too. */
	{
		static const struct {
			const char *bytes;
			size_t len;
			const char *want;
		} nul[] = {
			{ "ClusterName=a\n\0", 15, "identity.conf:2: NUL byte in the line" },
			{ "Clus\0terName=a\n", 16, "identity.conf:1: NUL byte in the line" },
			{ "ClusterName=a\0\n", 15, "identity.conf:1: NUL byte in the line" },
		};
		size_t i;

		for (i = 0; i < sizeof(nul) / sizeof(nul[0]); i++) {
			char *p = write_conf("", 0644), *e;
			struct identity_conf c;
			char e2[512] = "";
			FILE *fp = fopen(p, "w");

			fwrite(nul[i].bytes, 1, nul[i].len, fp);
			fclose(fp);
			config_init(&c);
			config_load(&c, p, e2, sizeof(e2));
			e = strstr(e2, "identity.conf");
			tap_is_str(e ? e : e2, nul[i].want, "NUL byte refused");
			config_free(&c);
		}
	}

	/* identity.conf beside SLURM_CONF, or SLURM_IDENTITY_CONF. (Without
	 * ClusterName here, it is asked from slurmctld when needed.) */
	{
		char slurm_conf[300];

		snprintf(slurm_conf, sizeof(slurm_conf), "%s/slurm.conf", dir);
		setenv("SLURM_CONF", slurm_conf, 1);
		err = load("", 0644, &conf);
		tap_ok(conf.cluster_name == NULL, "no ClusterName: none, and slurm.conf not read");
		config_free(&conf);
		path = config_default_path();
		snprintf(slurm_conf, sizeof(slurm_conf), "%s/identity.conf", dir);
		tap_is_str(path, slurm_conf, "identity.conf beside SLURM_CONF");
		free(path);
		setenv("SLURM_IDENTITY_CONF", "/x/y.conf", 1);
		path = config_default_path();
		tap_is_str(path, "/x/y.conf", "SLURM_IDENTITY_CONF wins");
		free(path);
		unsetenv("SLURM_IDENTITY_CONF");
	}
	{
		char p[300];

		snprintf(p, sizeof(p), "%s/identity.conf", dir);
		unlink(p);
		rmdir(dir);
	}
	{
		char *x = config_expand_node("/var/lib/%n/krb5-%n.keytab", "n7");

		tap_is_str(x, "/var/lib/n7/krb5-n7.keytab", "%n expands to the node name");
		free(x);
		x = config_expand_node("/etc/krb5.keytab%", "n7");
		tap_is_str(x, "/etc/krb5.keytab%", "a lone % stays");
		free(x);
	}
	return tap_done();
}
