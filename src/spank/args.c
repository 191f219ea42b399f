/* args.c: strict plugstack.conf argument parsing. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

/* Absolute, and every component a real name: no "", "." or "..", so that
 * one directory has one spelling ("/." is "/", "/home//x" is "/home/x").
 * A trailing slash is allowed. */
static bool path_normal(const char *v)
{
	const char *p = v;

	if (v[0] != '/')
		return false;
	if (strcmp(v, "/") == 0)
		return true;
	while (*p == '/') {
		size_t n = strcspn(p + 1, "/");

		if (n == 0 && p[1] != '\0')
			return false;	/* "//" */
		if (n == 0)
			return p != v;	/* trailing "/" after a name */
		if ((n == 1 && p[1] == '.') ||
		    (n == 2 && p[1] == '.' && p[2] == '.'))
			return false;
		p += n + 1;
	}
	return true;
}

static int set_path(char *dst, const char *key, const char *v, char *err,
		    size_t errlen)
{
	size_t len = strlen(v);

	if (!path_normal(v)) {
		snprintf(err, errlen, "%s: \"%s\" is not an absolute, normal path",
			 key, v);
		return -1;
	}
	if (snprintf(dst, ARG_PATH_MAX, "%s", v) >= ARG_PATH_MAX) {
		snprintf(err, errlen, "%s: path too long", key);
		return -1;
	}
	/* "/home/" and "/home" are the same base. */
	while (len > 1 && dst[len - 1] == '/')
		dst[--len] = '\0';
	return 0;
}

bool args_home_managed(const struct spank_identity_args *a, const char *home)
{
	size_t blen = strlen(a->home_base);
	const char *leaf;

	/* A path component match: /home2/x and /homes/x are not /home's. */
	if (strncmp(home, a->home_base, blen) != 0 || home[blen] != '/')
		return false;
	leaf = home + blen + 1;
	return *leaf && !strchr(leaf, '/') && strcmp(leaf, ".") != 0 &&
	       strcmp(leaf, "..") != 0;
}

int args_parse(int argc, char **argv, struct spank_identity_args *a,
	       char *err, size_t errlen)
{
	int i;

	memset(a, 0, sizeof(*a));
	snprintf(a->state_dir, sizeof(a->state_dir), "/var/spool/slurm-identity");
	snprintf(a->home_base, sizeof(a->home_base), "/home");
	snprintf(a->skel, sizeof(a->skel), "/etc/skel");
	a->home_mode = 0700;
	a->create_home = true;
	for (i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		const char *v = eq ? eq + 1 : "";
		size_t klen = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		char key[32];
		char *end;
		long n;

		if (!eq || klen >= sizeof(key)) {
			snprintf(err, errlen, "bad argument \"%s\" (expected key=value)",
				 argv[i]);
			return -1;
		}
		memcpy(key, argv[i], klen);
		key[klen] = '\0';
		if (strcmp(key, "statedir") == 0) {
			if (set_path(a->state_dir, key, v, err, errlen) < 0)
				return -1;
		} else if (strcmp(key, "home_base") == 0) {
			if (set_path(a->home_base, key, v, err, errlen) < 0)
				return -1;
			if (strcmp(a->home_base, "/") == 0) {
				snprintf(err, errlen, "home_base: / is not allowed");
				return -1;
			}
		} else if (strcmp(key, "skel") == 0) {
			if (set_path(a->skel, key, v, err, errlen) < 0)
				return -1;
		} else if (strcmp(key, "wait") == 0) {
			errno = 0;
			n = strtol(v, &end, 10);
			if (errno || end == v || *end || n < 0 || n > 3600) {
				snprintf(err, errlen, "wait: \"%s\" is not 0-3600 seconds", v);
				return -1;
			}
			a->wait_seconds = (int)n;
		} else if (strcmp(key, "home") == 0) {
			if (strcmp(v, "create") == 0)
				a->create_home = true;
			else if (strcmp(v, "off") == 0)
				a->create_home = false;
			else {
				snprintf(err, errlen, "home: \"%s\" is not create or off", v);
				return -1;
			}
		} else if (strcmp(key, "home_mode") == 0) {
			errno = 0;
			n = strtol(v, &end, 8);
			if (errno || end == v || *end || n < 0 || n > 0777 ||
			    (n & 0022)) {
				snprintf(err, errlen,
					 "home_mode: \"%s\" is not an octal mode without group/other write",
					 v);
				return -1;
			}
			a->home_mode = (mode_t)n;
		} else {
			snprintf(err, errlen, "unknown argument \"%s\"", key);
			return -1;
		}
	}
	return 0;
}
