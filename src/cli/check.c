/* check.c: validate the configuration, the AWS identity and every backend.
 *
 * Passing checks print "ok: ..." on stdout; each failure prints one line
 * "slurm-identity: check: ..." on stderr with what to do about it. A
 * setting that works but weakens security is a warning on stderr,
 * "slurm-identity: check: warning: ...", and not a failure. What each
 * backend needs is probed by the backend itself (its check_settings and
 * check); this file checks the configuration, the AWS identity and EC2.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/backend.h"
#include "common/aws/services.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/program.h"
#include "common/slurm_node.h"
#include "check.h"
#include "check_ha.h"
#include "controller/watch.h"

static int failures;

static void pass(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void pass(const char *fmt, ...)
{
	va_list ap;

	printf("ok: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* What to do about a failure, by what it says; NULL if nothing useful. */
static const char *remedy(const char *msg)
{
	static const struct {
		const char *says;
		const char *fix;
	} table[] = {
		{ "insecure:", "chown root and chmod 0644 (0640 if it holds DomainPassword)" },
		{ "unknown key", "see identity.conf(5) for the keys" },
		{ "cannot open", "create identity.conf beside slurm.conf or set SLURM_IDENTITY_CONF" },
		{ "no AWS region", "set Region= in identity.conf" },
		{ "credentials:", "give SlurmUser credentials: an instance role, or AwsConfigFile=/AwsCredentialsFile= in identity.conf" },
		{ "SignatureDoesNotMatch", "the secret key does not match the access key id; or the clock is off (run chrony)" },
		{ "InvalidSignatureException", "the secret key does not match the access key id; or the clock is off (run chrony)" },
		{ "InvalidClientTokenId", "the access key id is unknown or the session expired" },
		{ "UnrecognizedClientException", "the access key id is unknown or the session expired" },
		{ "AccessDenied", "attach the policy printed by: slurm-identity policy --role controller" },
		{ "UnauthorizedOperation", "attach the policy printed by: slurm-identity policy --role controller" },
		{ "ResourceNotFoundException", "check OpsWorksStackId= and Region=" },
		{ "ComputerOU", "create the OU, or fix ComputerOU= (a DN such as OU=HPC,DC=corp,DC=example,DC=com)" },
		{ "Can't contact LDAP server", "check DomainController=, that the head node reaches it on 636 (LDAPS), and LdapCaFile=/LdapTlsReqCert= for its certificate" },
		{ "Invalid credentials", "DomainUser= or the password in DomainPasswordParameter= is wrong" },
		{ "Insufficient access", "delegate create/delete computer objects in ComputerOU to DomainUser" },
		{ "helper /", "install the OpenLDAP tools (ldap-utils) on the head node, adcli on nodes" },
		{ "does not exist", "create the parameter in SSM Parameter Store, or fix its name" },
		{ "SecureString", "store the password with: aws ssm put-parameter --type SecureString --key-id <KMS key>" },
		{ "cannot connect", "check the endpoint (AWS_ENDPOINT_URL*), DNS, proxies (https_proxy/no_proxy) and security groups" },
		{ "timed out", "the endpoint does not answer: check proxies and network paths; RequestTimeout= bounds each try" },
		{ "TLS error", "check AWS_CA_BUNDLE and the proxy's certificate" },
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strstr(msg, table[i].says))
			return table[i].fix;
	return NULL;
}

/* One line on stderr per failure; the remedy, if any, on stdout. */
static void fail(const char *fmt, ...)
{
	char msg[2048];
	const char *fix;
	va_list ap;

	failures++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "slurm-identity: check: %s\n", msg);
	fix = remedy(msg);
	if (fix)
		printf("fix: %s\n", fix);
	fflush(stdout);
}

/* One line on stderr; the exit status is not changed. */
static void warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "slurm-identity: check: warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Can we (SlurmUser by now) use path as mode asks (R_OK, W_OK)? A file
 * that does not exist yet needs a writable directory. */
static void check_access(const char *what, const char *path, int mode)
{
	char *copy;

	if (!path)
		return;
	if (access(path, mode) == 0)
		return;
	if (errno == ENOENT && mode == W_OK) {
		copy = strdup(path);
		if (copy && access(dirname(copy), W_OK | X_OK) == 0) {
			free(copy);
			return;
		}
		free(copy);
	}
	fail("SlurmUser cannot %s %s=%s: %s", mode == R_OK ? "read" : "write",
	     what, path, strerror(errno));
}

/* The hooks and the worker run as SlurmUser: StateDir must be theirs
 * (0700), and identity.conf, the AWS files, LogFile and MetricsFile usable
 * by them. Run as root, check became StateDir's owner already (program.c),
 * so what it can do here is what SlurmUser can. */
static void check_slurm_user(const struct program *p)
{
	const struct identity_conf *conf = &p->conf;
	char name[64], err[512];
	struct stat st;
	unsigned uid;
	int before = failures;

	/* No slurm.conf here (a node, or a test): nothing to ask. */
	if (!libslurm_conf_here(NULL, 0))
		return;
	if (ctld_slurm_user(&uid, name, sizeof(name), err, sizeof(err)) < 0) {
		warn("cannot ask slurmctld for SlurmUser (%s): ownership of StateDir and readability of the files not checked",
		     err);
		return;
	}
	if (geteuid() != uid && geteuid() == 0) {
		if (stat(conf->state_dir, &st) < 0)
			fail("StateDir %s does not exist; the hooks run as SlurmUser %s: mkdir -m 0700 %s && chown %s %s",
			     conf->state_dir, name, conf->state_dir, name,
			     conf->state_dir);
		else
			fail("StateDir %s is owned by uid %u, but the hooks run as SlurmUser %s (uid %u): chown -R %s %s",
			     conf->state_dir, (unsigned)st.st_uid, name, uid,
			     name, conf->state_dir);
		return;
	}
	if (geteuid() != uid) {
		warn("checked as uid %u, not as SlurmUser %s (uid %u): run check as root or as %s",
		     (unsigned)geteuid(), name, uid, name);
		return;
	}
	if (stat(conf->state_dir, &st) < 0)
		check_access("StateDir", conf->state_dir, W_OK);
	else if (st.st_uid != uid)
		fail("StateDir %s is owned by uid %u, not by SlurmUser %s: chown -R %s %s",
		     conf->state_dir, (unsigned)st.st_uid, name, name,
		     conf->state_dir);
	else if (st.st_mode & 077)
		fail("StateDir %s is mode %04o: chmod 0700 %s",
		     conf->state_dir, (unsigned)(st.st_mode & 07777),
		     conf->state_dir);
	check_access("identity.conf", p->conf_path, R_OK);
	check_access("AwsConfigFile", conf->aws_config_file, R_OK);
	check_access("AwsCredentialsFile", conf->aws_credentials_file, R_OK);
	check_access("LogFile", conf->log_file, W_OK);
	check_access("MetricsFile", conf->metrics_file, W_OK);
	if (failures == before)
		pass("SlurmUser %s owns StateDir %s and can use the files it names",
		     name, conf->state_dir);
}

/* Is program (a path, or on 26.05 a PowerAction's name) one of ours? */
static const char *program_kind(const char *program, const char *ours)
{
	const char *slash = strrchr(program, '/');
	const char *base = slash ? slash + 1 : program;

	if (!*program)
		return "none";
	if (strncmp(base, ours, strlen(ours)) == 0)
		return "ours";
	return slash ? "not ours" : "a PowerAction";
}

/* Which set-up runs here: slurmctld's power programs are our hooks, or
 * they are not and only the watcher removes what nodes leave behind. */
static void check_setup(const struct program *p)
{
	char resume[1024], suspend[1024], err[512];
	const char *rk, *sk;
	pid_t watcher;

	if (!libslurm_conf_here(NULL, 0))
		return;
	if (ctld_power_programs(resume, sizeof(resume), suspend, sizeof(suspend),
				err, sizeof(err)) < 0) {
		warn("cannot ask slurmctld for its power programs (%s): set-up not checked",
		     err);
		return;
	}
	watcher = watch_active_pid(p->conf.state_dir);
	rk = program_kind(resume, "slurm-identity-resume");
	sk = program_kind(suspend, "slurm-identity-suspend");
	if (strcmp(rk, "ours") == 0 && strcmp(sk, "ours") == 0) {
		if (watcher)
			pass("set-up: slurmctld runs our hooks, and a watcher (pid %ld) is active beside them",
			     (long)watcher);
		else
			pass("set-up: slurmctld runs our hooks (no watcher active: slurm-identity watch is the net under them)");
		return;
	}
	if (watcher) {
		pass("set-up: ResumeProgram is %s (%s), SuspendProgram is %s (%s); the watcher (pid %ld) follows Slurm's node states",
		     rk, resume[0] ? resume : "-", sk, suspend[0] ? suspend : "-",
		     (long)watcher);
		return;
	}
	warn("set-up: ResumeProgram is %s (%s), SuspendProgram is %s (%s), and no watcher is active: start slurm-identity watch (etc/slurm-identity-watch.service), or the identities of nodes Slurm powers down stay registered",
	     rk, resume[0] ? resume : "-", sk, suspend[0] ? suspend : "-");
}

int check_run(const char *conf_path, int verbose)
{
	static const struct check_report report = { pass, fail, warn };
	const struct backend *backends[BACKEND_SLOTS];
	struct backend_context ctx = { 0 };
	struct program prog;
	struct caller_identity id;
	struct aws_client *client;
	char err[1024];
	size_t i, n;

	failures = 0;
	if (backends_program_start(&prog, "slurm-identity", conf_path,
				   PROGRAM_AS_STATE_OWNER, err,
				   sizeof(err)) < 0) {
		fail("%s", err);
		goto out;
	}
	/* Results are this command's output; the log stays quiet unless
	 * asked to show every call. */
	log_open(NULL, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_QUIET, false,
		 verbose);
	if (prog.conf.backends &&
	    program_need_cluster_name(&prog, err, sizeof(err)) < 0) {
		fail("%s", err);
		goto out;
	}
	pass("config %s (cluster %s, backends %s)", conf_path,
	     prog.conf.cluster_name ? prog.conf.cluster_name : "unnamed",
	     prog.conf.backends ? prog.conf.backends : "none");
	if (prog.conf.backends)
		check_setup(&prog);
	n = backends_enabled(&prog.conf, backends, BACKEND_SLOTS);
	for (i = 0; i < n; i++)
		if (backends[i]->check_settings)
			backends[i]->check_settings(&prog.conf, &report);
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
	ctx.conf = &prog.conf;
	ctx.aws = client;
	for (i = 0; i < n; i++)
		if (backends[i]->check)
			backends[i]->check(&ctx, &report);
	backend_context_clear(&ctx);
	if (prog.conf.backends) {
		if (ec2_probe(client, err, sizeof(err)) < 0)
			fail("ec2: %s", err);
		else
			pass("ec2: DescribeInstances allowed");
		check_slurm_user(&prog);
		if (libslurm_conf_here(NULL, 0))
			check_ha(&prog.conf, &report);
	}
out:
	program_end(&prog);
	return failures ? 1 : 0;
}
