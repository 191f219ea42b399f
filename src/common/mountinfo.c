/* mountinfo.c: the mount a path lives on (mountinfo.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

/* mountinfo(5) escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

static void copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
	unescape(dst);
}

/* Is point a prefix of path as a directory ("/" of all, "/a" of "/a/b"
 * but not of "/ab")? */
static bool under(const char *path, const char *point)
{
	size_t n = strlen(point);

	if (strcmp(point, "/") == 0)
		return true;
	return strncmp(path, point, n) == 0 && (path[n] == '/' || !path[n]);
}

int mountinfo_find(FILE *in, const char *path, struct mount_entry *out,
		   char *err, size_t errlen)
{
	char line[8192];
	size_t best = 0;
	bool found = false;
	int lineno = 0;

	while (fgets(line, sizeof(line), in)) {
		char *f[12], *save = NULL, *tok, *rest;
		int n = 0;
		struct mount_entry e;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		/* ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE
		 * SOURCE SUPER */
		rest = strstr(line, " - ");
		if (!rest) {
			snprintf(err, errlen, "mountinfo line %d: no \" - \" separator",
				 lineno);
			return -1;
		}
		*rest = '\0';
		rest += 3;
		for (tok = strtok_r(line, " ", &save); tok && n < 6;
		     tok = strtok_r(NULL, " ", &save))
			f[n++] = tok;
		if (n < 6) {
			snprintf(err, errlen, "mountinfo line %d: %d fields before \" - \"",
				 lineno, n);
			return -1;
		}
		memset(&e, 0, sizeof(e));
		copy_field(e.point, sizeof(e.point), f[4]);
		copy_field(e.options, sizeof(e.options), f[5]);
		save = NULL;
		copy_field(e.fstype, sizeof(e.fstype), strtok_r(rest, " ", &save));
		copy_field(e.source, sizeof(e.source), strtok_r(NULL, " ", &save));
		copy_field(e.super, sizeof(e.super), strtok_r(NULL, " ", &save));
		/* The last of equal points is the one on top. */
		if (under(path, e.point) && strlen(e.point) >= best) {
			best = strlen(e.point);
			*out = e;
			found = true;
		}
	}
	if (!found) {
		snprintf(err, errlen, "no mount holds %s", path);
		return -1;
	}
	return 0;
}

bool mount_option(const char *list, const char *option, char *value,
		  size_t valuelen)
{
	size_t n = strlen(option);
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len >= n && strncmp(p, option, n) == 0 &&
		    (len == n || p[n] == '=')) {
			if (value && valuelen) {
				size_t v = len > n ? len - n - 1 : 0;

				if (v >= valuelen)
					v = valuelen - 1;
				memcpy(value, p + n + (len > n), v);
				value[v] = '\0';
			}
			return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}
