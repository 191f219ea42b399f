/* home.c: home directory creation with *at() calls and O_NOFOLLOW, so no
 * path component, planted symlink or race can redirect it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"

/* Open an absolute directory path component by component, following no
 * symlink anywhere. */
static int open_dir_nofollow(const char *path, char *err, size_t errlen)
{
	char copy[ARG_PATH_MAX], *save = NULL, *part;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	snprintf(copy, sizeof(copy), "%s", path);
	for (part = strtok_r(copy, "/", &save); part && fd >= 0;
	     part = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, part,
				  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (next < 0)
			snprintf(err, errlen, "%s: component \"%s\": %s", path, part,
				 errno == ELOOP || errno == ENOTDIR
					 ? "a symlink or not a directory"
					 : strerror(errno));
		close(fd);
		fd = next;
	}
	if (fd < 0 && !err[0])
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return fd;
}

/* Copy the skeleton's top-level regular files into the new directory. */
static void copy_skeleton(const char *skel, int dirfd, uid_t uid, gid_t gid)
{
	char ignored[256] = "";
	int sfd = open_dir_nofollow(skel, ignored, sizeof(ignored));
	struct dirent *de;
	DIR *d;

	if (sfd < 0)
		return;
	d = fdopendir(sfd);
	if (!d) {
		close(sfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		char buf[8192];
		ssize_t n;
		int in, out;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		in = openat(sfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			continue;
		if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(in);
			continue;
		}
		out = openat(dirfd, de->d_name,
			     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600);
		if (out >= 0) {
			while ((n = read(in, buf, sizeof(buf))) > 0)
				if (write(out, buf, (size_t)n) != n)
					break;
			if (fchown(out, uid, gid) == 0)
				fchmod(out, st.st_mode & 0755);
			close(out);
		}
		close(in);
	}
	closedir(d);
}

int home_ensure(const struct spank_identity_args *a, const char *home,
		uid_t uid, gid_t gid, bool *created, char *err, size_t errlen)
{
	size_t blen = strlen(a->home_base);
	const char *leaf;
	struct stat st;
	int base = -1, dir = -1, rc = -1;

	*created = false;
	err[0] = '\0';
	if (strncmp(home, a->home_base, blen) != 0 || home[blen] != '/') {
		snprintf(err, errlen, "%s is not under %s; not creating it", home,
			 a->home_base);
		return -1;
	}
	leaf = home + blen + 1;
	if (!*leaf || strchr(leaf, '/') || strcmp(leaf, ".") == 0 ||
	    strcmp(leaf, "..") == 0) {
		snprintf(err, errlen, "%s is not a direct child of %s", home,
			 a->home_base);
		return -1;
	}
	base = open_dir_nofollow(a->home_base, err, errlen);
	if (base < 0)
		return -1;
	if (fstat(base, &st) < 0 || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s must be owned by root and not writable by others",
			 a->home_base);
		goto out;
	}
	if (fstatat(base, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			snprintf(err, errlen, "%s is a symlink: refused, not followed",
				 home);
		else if (!S_ISDIR(st.st_mode))
			snprintf(err, errlen, "%s exists and is not a directory", home);
		else
			rc = 0;
		goto out;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", home, strerror(errno));
		goto out;
	}
	/* Root-owned and private while it is filled; the user gets it last. */
	if (mkdirat(base, leaf, 0700) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", home, strerror(errno));
		goto out;
	}
	dir = openat(base, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0) {
		snprintf(err, errlen, "%s: %s", home, strerror(errno));
		goto out;
	}
	copy_skeleton(a->skel, dir, uid, gid);
	if (fchown(dir, uid, gid) < 0 || fchmod(dir, a->home_mode) < 0) {
		snprintf(err, errlen, "cannot hand %s to uid %u: %s", home,
			 (unsigned)uid, strerror(errno));
		goto out;
	}
	*created = true;
	rc = 0;
out:
	if (dir >= 0)
		close(dir);
	close(base);
	return rc;
}
