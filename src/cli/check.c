/* check.c: validate the configuration, the AWS identity and every backend.
 *
 * Passing checks print "ok: ..." on stdout; each failure prints one line
 * "slurm-identity: check: ..." on stderr with what to do about it. A
 * setting that works but weakens security is a warning on stderr,
 * "slurm-identity: check: warning: ...", and not a failure.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ad_accounts.h"
#include "common/aws/services.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/program.h"
#include "check.h"

/* The distributions' bundles of every public CA (the first is
 * LdapCaFile's default). */
static const char *const system_ca_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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

/* The domain password goes over this TLS connection: say plainly what
 * the settings let through. */
static void check_ldap_tls(const struct identity_conf *conf)
{
	size_t i;

	if (strcmp(conf->ldap_tls_reqcert, "never") == 0 ||
	    strcmp(conf->ldap_tls_reqcert, "allow") == 0)
		warn("LdapTlsReqCert=%s: TLS verification is off: the domain controller's certificate is not checked, and whoever answers on its address gets DomainUser's password; use demand with LdapCaFile= the domain's CA",
		     conf->ldap_tls_reqcert);
	for (i = 0; i < ARRAY_SIZE(system_ca_bundles); i++)
		if (strcmp(conf->ldap_ca_file, system_ca_bundles[i]) == 0)
			warn("LdapCaFile=%s is the whole system CA bundle: any public CA can vouch for the domain controller; set LdapCaFile= to the domain's own CA",
			     conf->ldap_ca_file);
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

/* Bind to the DC as DomainUser and list this cluster's accounts. */
static void check_ad_domain(struct aws_client *c,
			    const struct identity_conf *conf)
{
	struct ad_domain d;
	struct ad_computer *found = NULL;
	size_t n = 0;
	char err[1024], *uri;

	if (ad_domain_load(conf, c, &d, err, sizeof(err)) < 0)
		return;	/* check_ad_parameters said why */
	uri = ad_ldap_uri(&d);
	if (ad_find_computers(conf, &d, NULL, 0, &found, &n, err,
			      sizeof(err)) < 0)
		fail("ad: %s: %s", uri, err);
	else
		pass("ad: %s bound as %s; %zu computer account(s) of cluster %s in %s",
		     uri, d.user, n, conf->cluster_name, d.ou);
	free(found);
	free(uri);
	ad_domain_clear(&d);
}

/* The calls suspend and reconcile make for the ssm backend. */
static void check_ssm(struct aws_client *c, const struct identity_conf *conf)
{
	struct ssm_instance *hybrid = NULL;
	struct ec2_tag_set tagged;
	size_t n = 0;
	char err[1024];

	if (ec2_list_tags(c, "slurm-identity:cluster", conf->cluster_name,
			  &tagged, err, sizeof(err)) < 0) {
		fail("ssm: %s", err);
	} else {
		pass("ssm: ec2 DescribeTags allowed (%zu instance(s) tagged for cluster %s)",
		     tagged.count, conf->cluster_name);
		ec2_tag_set_free(&tagged);
	}
	if (ssm_list_tagged_managed(c, "slurm-identity:cluster",
				    conf->cluster_name, &hybrid, &n, err,
				    sizeof(err)) < 0) {
		fail("ssm: %s", err);
		return;
	}
	pass("ssm: DescribeInstanceInformation allowed (%zu hybrid node(s) of cluster %s)",
	     n, conf->cluster_name);
	free(hybrid);
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
	if (prog.conf.backends &&
	    program_need_cluster_name(&prog, err, sizeof(err)) < 0) {
		fail("%s", err);
		goto out;
	}
	config_backends_string(prog.conf.backends, backends, sizeof(backends));
	pass("config %s (cluster %s, backends %s)", conf_path,
	     prog.conf.cluster_name ? prog.conf.cluster_name : "unnamed",
	     backends);
	if (prog.conf.backends & BACKEND_AD)
		check_ldap_tls(&prog.conf);
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
	if (prog.conf.backends & BACKEND_AD) {
		check_ad_parameters(client, &prog.conf);
		check_ad_domain(client, &prog.conf);
	}
	if (prog.conf.backends & BACKEND_SSM)
		check_ssm(client, &prog.conf);
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
