/* backends_test.c: Backends= read against the backend table, and each
 * backend's own settings checked. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/backend.h"
#include "common/conf.h"
#include "tap.h"

static char dir[] = "/tmp/backends_test.XXXXXX";

/* Load text as identity.conf and validate it: "" when both pass, else the
 * error with the directory part of the path removed. */
static const char *validate(const char *text, struct identity_conf *conf)
{
	static char err[512];
	char path[256];
	const char *leaf;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/identity.conf", dir);
	fp = fopen(path, "w");
	if (!fp)
		return "cannot write identity.conf";
	fputs(text, fp);
	fclose(fp);
	chmod(path, 0644);
	err[0] = '\0';
	config_init(conf);
	if (config_load(conf, path, err, sizeof(err)) == 0 &&
	    backends_validate(conf, err, sizeof(err)) == 0)
		err[0] = '\0';
	unlink(path);
	leaf = strstr(err, "identity.conf");
	return leaf ? leaf : err;
}

static const char *validate_err(const char *text)
{
	struct identity_conf conf;
	const char *err = validate(text, &conf);

	config_free(&conf);
	return err;
}

int main(void)
{
	struct identity_conf conf;
	const struct backend *on[BACKEND_SLOTS];
	struct backend_context ctx = { 0 };
	size_t n;

	if (!mkdtemp(dir))
		return 1;
	setenv("SLURM_CONF", "/nonexistent/slurm.conf", 1);

	tap_is_str(validate("Backends=SSM, opsworks\n"
			    "OpsWorksStackId=2f18b4cb-4de5-4429-a149-ff7da9f0d8ee\n",
			    &conf),
		   "", "known names in any case and order");
	n = backends_enabled(&conf, on, BACKEND_SLOTS);
	tap_is_int((int)n, 2, "two backends enabled");
	tap_ok(n == 2 && on[0] == &opsworks_backend && on[1] == &ssm_backend,
	       "in the table's order, not the file's");
	tap_ok(backend_enabled(&conf, &ssm_backend), "ssm enabled");
	tap_ok(!backend_enabled(&conf, &ad_backend), "ad not enabled");
	config_free(&conf);

	tap_is_str(validate("Backends=opsworksx\n", &conf),
		   "identity.conf:1: Backends: unknown backend \"opsworksx\" (expected opsworks, ad, ssm)",
		   "a longer name is not a prefix match");
	config_free(&conf);
	tap_is_str(validate_err("ClusterName=a\n\nBackends=opsworks,ldap\n"),
		   "identity.conf:3: Backends: unknown backend \"ldap\" (expected opsworks, ad, ssm)",
		   "unknown backend named at its line");
	tap_is_str(validate_err("Backends=opsworks\n"),
		   "identity.conf: Backends includes opsworks but OpsWorksStackId is not set",
		   "opsworks needs a stack");
	tap_is_str(validate_err("Backends=ad\nDomainName=x.example\n"),
		   "identity.conf: Backends includes ad but DomainPasswordParameter is not set",
		   "ad needs a password source");
	tap_is_str(validate_err("Backends=ad\nDomainPasswordParameter=/p\n"),
		   "identity.conf: Backends includes ad but neither DomainName nor DomainNameParameter is set",
		   "ad needs a domain");
	tap_is_str(validate_err("Backends=ssm\n"), "", "ssm needs nothing more");
	tap_is_str(validate_err("Backends=\n"), "", "an empty list is none");
	tap_is_str(validate_err("OpsWorksStackId=x\n"), "",
		   "settings of a backend not named are not checked");

	/* Every table backend has its own state slot. */
	*backend_state(&ctx, &opsworks_backend) = &ctx;
	tap_ok(*backend_state(&ctx, &ad_backend) == NULL &&
	       *backend_state(&ctx, &ssm_backend) == NULL,
	       "state slots are apart");
	*backend_state(&ctx, &opsworks_backend) = NULL;

	rmdir(dir);
	return tap_done();
}
