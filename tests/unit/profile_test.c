/* profile_test.c: shared credentials/config files and the provider chain. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/aws/credentials.h"
#include "common/aws/profile.h"
#include "tap.h"

static char dir[] = "/tmp/profile_test.XXXXXX";

static char *write_file(const char *leaf, const char *text)
{
	char *path = xasprintf("%s/%s", dir, leaf);
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
	return path;
}

int main(void)
{
	struct profile p;
	struct aws_credentials c;
	struct http_client *http;
	struct imds imds;
	char err[512];
	char *creds_path, *config_path;

	if (!mkdtemp(dir))
		return 1;
	creds_path = write_file("credentials",
				"[default]\n"
				"aws_access_key_id = AKIDDEFAULT\n"
				"aws_secret_access_key = secretdefault\n"
				"\n"
				"# comment\n"
				"[ops]\n"
				"aws_access_key_id=AKIDOPS\n"
				"aws_secret_access_key=secretops\n"
				"aws_session_token=tokenops\n");
	config_path = write_file("config",
				 "[default]\n"
				 "region = eu-west-1\n"
				 "[profile ops]\n"
				 "region = us-west-2\n"
				 "s3 =\n"
				 "  max_concurrent_requests = 20\n"
				 "ec2_metadata_service_endpoint = http://127.0.0.1:1338\n"
				 "[profile cfgonly]\n"
				 "aws_access_key_id = AKIDCFG\n"
				 "aws_secret_access_key = secretcfg\n");

	tap_is_int(profile_load(config_path, "ops", 1, &p, err, sizeof(err)), 0,
		   "config profile loads");
	tap_is_str(profile_get(&p, "region"), "us-west-2",
		   "[profile ops] section used");
	tap_ok(profile_get(&p, "max_concurrent_requests") == NULL,
	       "nested settings skipped");
	tap_is_str(profile_get(&p, "EC2_METADATA_SERVICE_ENDPOINT"),
		   "http://127.0.0.1:1338", "keys case-insensitive");
	profile_free(&p);
	tap_is_int(profile_load(config_path, "default", 1, &p, err, sizeof(err)),
		   0, "default section");
	tap_is_str(profile_get(&p, "region"), "eu-west-1", "[default] in config");
	profile_free(&p);
	tap_is_int(profile_load("/nonexistent/x", "default", 0, &p, err,
				sizeof(err)), 0, "missing file is empty");
	tap_is_int((long)p.count, 0, "missing file has no settings");
	{
		char *bad = write_file("bad", "[default\nx=1\n");

		tap_is_int(profile_load(bad, "default", 0, &p, err, sizeof(err)),
			   -1, "malformed section refused");
		tap_ok(strstr(err, "bad:1: malformed section header") != NULL,
		       "error names file:line");
		unlink(bad);
		free(bad);
	}

	/* The chain, with IMDS pointed at a closed port so it fails fast. */
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds_path, 1);
	setenv("AWS_CONFIG_FILE", config_path, 1);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	http = http_client_new();
	imds_init(&imds, http);
	memset(&c, 0, sizeof(c));

	tap_is_int(aws_credentials_resolve(&imds, &c, err, sizeof(err)), 0,
		   "default profile resolves");
	tap_is_str(c.access_key_id, "AKIDDEFAULT", "credentials file default");
	tap_is_str(c.source, "credentials profile default", "source named");
	tap_ok(c.session_token == NULL, "no token for long-term keys");

	setenv("AWS_PROFILE", "ops", 1);
	tap_is_int(aws_credentials_resolve(&imds, &c, err, sizeof(err)), 0,
		   "AWS_PROFILE resolves");
	tap_is_str(c.access_key_id, "AKIDOPS", "AWS_PROFILE honoured");
	tap_ok(c.session_token && strcmp((const char *)secret_bytes(c.session_token),
					 "tokenops") == 0,
	       "session token read");

	setenv("AWS_PROFILE", "cfgonly", 1);
	tap_is_int(aws_credentials_resolve(&imds, &c, err, sizeof(err)), 0,
		   "config-file keys resolve");
	tap_is_str(c.access_key_id, "AKIDCFG", "config file after credentials");

	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
	tap_is_int(aws_credentials_resolve(&imds, &c, err, sizeof(err)), 0,
		   "environment resolves");
	tap_is_str(c.access_key_id, "AKIDENV", "environment first");
	tap_is_str(c.source, "environment", "environment source");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");

	setenv("AWS_PROFILE", "nosuch", 1);
	tap_is_int(aws_credentials_resolve(&imds, &c, err, sizeof(err)), -1,
		   "nothing anywhere fails");
	tap_ok(strstr(err, "IMDS http://127.0.0.1:9") != NULL,
	       "error says IMDS was tried: %s", err);

	aws_credentials_clear(&c);
	imds_free(&imds);
	http_client_free(http);
	unlink(creds_path);
	unlink(config_path);
	free(creds_path);
	free(config_path);
	rmdir(dir);
	return tap_done();
}
