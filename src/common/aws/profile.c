/* profile.c: shared config / credentials file reader. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "profile.h"
#include "common/secret.h"
#include "common/xmalloc.h"

/* AWS shared files are small; a larger one is not read. */
#define PROFILE_FILE_MAX (1024 * 1024)

/* Power programs run with no HOME: fall back to the passwd entry. */
static char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && *home)
		return xstrdup(home);
	pw = getpwuid(geteuid());
	if (pw && pw->pw_dir)
		return xstrdup(pw->pw_dir);
	return xstrdup("/");
}

static char *file_path(const char *env, const char *leaf)
{
	const char *v = getenv(env);
	char *home, *path;

	if (v && *v)
		return xstrdup(v);
	home = home_dir();
	path = xasprintf("%s/.aws/%s", home, leaf);
	free(home);
	return path;
}

char *profile_credentials_path(void)
{
	return file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
}

char *profile_config_path(void)
{
	return file_path("AWS_CONFIG_FILE", "config");
}

char *profile_name(void)
{
	const char *p = getenv("AWS_PROFILE");

	if (!p || !*p)
		p = getenv("AWS_DEFAULT_PROFILE");
	return xstrdup(p && *p ? p : "default");
}

/* Does the section header text (inside [ ]) name our profile? */
static int section_matches(const char *section, const char *name,
			   int is_config)
{
	if (!is_config)
		return strcmp(section, name) == 0;
	if (strcmp(name, "default") == 0 && strcmp(section, "default") == 0)
		return 1;
	if (strncmp(section, "profile", 7) == 0 &&
	    isspace((unsigned char)section[7])) {
		const char *rest = section + 7;

		while (isspace((unsigned char)*rest))
			rest++;
		return strcmp(rest, name) == 0;
	}
	return 0;
}

int profile_load(const char *path, const char *name, int is_config,
		 struct profile *out, char *err, size_t errlen)
{
	char line[4096], why[128];
	unsigned lineno = 0;
	int in_section = 0, rc = 0, got, fd;
	struct secret *text;
	size_t pos = 0;

	out->entries = NULL;
	out->count = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Read without stdio, into a buffer that is wiped: the file holds
	 * secret keys. */
	text = secret_read_fd(fd, PROFILE_FILE_MAX, why, sizeof(why));
	close(fd);
	if (!text) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	while ((got = secret_next_line(text, &pos, line, sizeof(line))) != 0) {
		char *p, *eq;

		lineno++;
		if (got < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno,
				 got == -1 ? "line too long" : "NUL byte in the line");
			rc = -1;
			break;
		}
		p = str_trim(line);
		if (!*p || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			char *close = strchr(p, ']');

			if (!close) {
				snprintf(err, errlen,
					 "%s:%u: malformed section header",
					 path, lineno);
				rc = -1;
				break;
			}
			*close = '\0';
			in_section = section_matches(str_trim(p + 1), name,
						     is_config);
			continue;
		}
		if (!in_section)
			continue;
		/* Indented lines continue a nested setting (s3 = ...):
		 * nothing we use, so they are skipped, not misread. */
		if (line[0] == ' ' || line[0] == '\t')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected key = value",
				 path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		out->entries = xrealloc(out->entries, (out->count + 1) *
							      sizeof(*out->entries));
		out->entries[out->count].key = xstrdup(str_trim(p));
		out->entries[out->count].value = xstrdup(str_trim(eq + 1));
		out->count++;
	}
	OPENSSL_cleanse(line, sizeof(line));
	secret_free(text);
	if (rc < 0)
		profile_free(out);
	return rc;
}

const char *profile_get(const struct profile *p, const char *key)
{
	size_t i;

	for (i = p->count; i > 0; i--)
		if (strcasecmp(p->entries[i - 1].key, key) == 0)
			return p->entries[i - 1].value;
	return NULL;
}

void profile_free(struct profile *p)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		OPENSSL_cleanse(p->entries[i].value,
				strlen(p->entries[i].value));
		free(p->entries[i].key);
		free(p->entries[i].value);
	}
	free(p->entries);
	p->entries = NULL;
	p->count = 0;
}

/* Find "<service> =" in [services name] and its indented endpoint_url. */
static char *services_section_url(const char *path, const char *section,
				  const char *service_key)
{
	char line[4096];
	int in_section = 0, in_service = 0;
	char *url = NULL;
	FILE *fp = fopen(path, "re");

	if (!fp)
		return NULL;
	while (!url && fgets(line, sizeof(line), fp)) {
		int indented = line[0] == ' ' || line[0] == '\t';
		char *p = str_trim(line), *eq;

		if (!*p || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			char *close = strchr(p, ']');

			in_section = 0;
			in_service = 0;
			if (close) {
				*close = '\0';
				p = str_trim(p + 1);
				in_section = strncmp(p, "services", 8) == 0 &&
					     isspace((unsigned char)p[8]) &&
					     strcmp(str_trim(p + 9), section) == 0;
			}
			continue;
		}
		if (!in_section || !(eq = strchr(p, '=')))
			continue;
		*eq = '\0';
		if (!indented) {
			in_service = strcasecmp(str_trim(p), service_key) == 0;
			continue;
		}
		if (in_service && strcasecmp(str_trim(p), "endpoint_url") == 0)
			url = xstrdup(str_trim(eq + 1));
	}
	fclose(fp);
	return url;
}

char *profile_endpoint_url(const char *service_key)
{
	char *path = profile_config_path(), *name = profile_name();
	char err[256], *url = NULL;
	struct profile p;

	if (profile_load(path, name, 1, &p, err, sizeof(err)) == 0) {
		const char *services = profile_get(&p, "services");
		const char *global = profile_get(&p, "endpoint_url");

		if (services && *services)
			url = services_section_url(path, services, service_key);
		if (!url && global && *global)
			url = xstrdup(global);
		profile_free(&p);
	}
	free(path);
	free(name);
	return url;
}
