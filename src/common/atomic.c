/* atomic.c: crash-safe file replacement. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "xmalloc.h"

int atomic_write_at(int dirfd, const char *name, const char *data, size_t len,
		    mode_t mode, char *err, size_t errlen)
{
	char *tmp = xasprintf(".%s.tmp.%ld", name, (long)getpid());
	int fd, rc = -1;

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    mode);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fsync(dirfd) < 0) {
		snprintf(err, errlen, "cannot sync the directory of %s: %s", name,
			 strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		unlinkat(dirfd, tmp, 0);
	free(tmp);
	return rc;
}

int atomic_write_file(const char *path, const char *data, size_t len,
		      mode_t mode, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
	else
		rc = atomic_write_at(fd, slash ? slash + 1 : path, data, len, mode,
				     err, errlen);
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

char *atomic_read_at(int dirfd, const char *name, size_t max, size_t *len,
		     bool *missing, char *err, size_t errlen)
{
	char *data;
	ssize_t got;
	int fd;

	*len = 0;
	*missing = false;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*missing = errno == ENOENT;
		snprintf(err, errlen, "cannot open %s: %s", name, strerror(errno));
		return NULL;
	}
	data = xmalloc(max + 1);
	while (*len < max && (got = read(fd, data + *len, max - *len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "cannot read %s: %s", name,
				 strerror(errno));
			close(fd);
			free(data);
			return NULL;
		}
		*len += (size_t)got;
	}
	close(fd);
	data[*len] = '\0';
	return data;
}
