/* journal.c: crash-safe per-node state files. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "hostlist.h"
#include "journal.h"
#include "xmalloc.h"

#define JOURNAL_MAX_SIZE 16384

static char *role_dir(const char *state_dir, const char *role)
{
	return xasprintf("%s/%s", state_dir, role);
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s is owned by uid %u, not by us (uid %u)",
			 path, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	return 0;
}

int journal_init(const char *state_dir, const char *role, char *err,
		 size_t errlen)
{
	char *dir;
	int rc;

	if (make_dir(state_dir, err, errlen) < 0)
		return -1;
	dir = role_dir(state_dir, role);
	rc = make_dir(dir, err, errlen);
	free(dir);
	return rc;
}

void journal_entry_init(struct journal_entry *e, const char *node)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->node, sizeof(e->node), "%s", node);
}

void journal_entry_clear(struct journal_entry *e)
{
	size_t i;

	for (i = 0; i < e->count; i++) {
		free(e->fields[i].key);
		free(e->fields[i].value);
	}
	e->count = 0;
}

const char *journal_get(const struct journal_entry *e, const char *key)
{
	size_t i;

	for (i = 0; i < e->count; i++)
		if (strcmp(e->fields[i].key, key) == 0)
			return e->fields[i].value;
	return NULL;
}

/* Values are single-line text: a newline would forge a field. */
static char *clean_value(const char *v)
{
	char *copy = xstrdup(v ? v : ""), *p;

	for (p = copy; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return copy;
}

void journal_set(struct journal_entry *e, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < e->count; i++) {
		if (strcmp(e->fields[i].key, key) == 0) {
			free(e->fields[i].value);
			e->fields[i].value = clean_value(value);
			return;
		}
	}
	if (e->count == JOURNAL_MAX_FIELDS)
		return;
	e->fields[e->count].key = xstrdup(key);
	e->fields[e->count].value = clean_value(value);
	e->count++;
}

void journal_setf(struct journal_entry *e, const char *key, const char *fmt,
		  ...)
{
	struct strbuf sb;
	va_list ap;

	strbuf_init(&sb);
	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	journal_set(e, key, sb.data ? sb.data : "");
	strbuf_free(&sb);
}

void journal_unset(struct journal_entry *e, const char *key)
{
	size_t i;

	for (i = 0; i < e->count; i++) {
		if (strcmp(e->fields[i].key, key) == 0) {
			free(e->fields[i].key);
			free(e->fields[i].value);
			e->fields[i] = e->fields[--e->count];
			return;
		}
	}
}

static char *entry_path(const char *state_dir, const char *role,
			const char *node)
{
	return xasprintf("%s/%s/%s", state_dir, role, node);
}

int journal_read(const char *state_dir, const char *role, const char *node,
		 struct journal_entry *e, char *err, size_t errlen)
{
	char *path, buf[JOURNAL_MAX_SIZE + 1], *line, *save = NULL;
	ssize_t n;
	int fd, rc = -1;

	journal_entry_init(e, node);
	if (!node_name_valid(node)) {
		snprintf(err, errlen, "invalid node name \"%.64s\"", node);
		return -1;
	}
	path = entry_path(state_dir, role, node);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			free(path);
			return 1;
		}
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > JOURNAL_MAX_SIZE) {
		snprintf(err, errlen, "%s: %s", path,
			 n < 0 ? strerror(errno) : "too large");
		goto out;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq = '\0';
		journal_set(e, line, eq + 1);
	}
	rc = 0;
out:
	free(path);
	return rc;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int journal_write(const char *state_dir, const char *role,
		  const struct journal_entry *e, char *err, size_t errlen)
{
	char *path = entry_path(state_dir, role, e->node);
	struct strbuf sb;
	size_t i;
	int rc = -1;

	strbuf_init(&sb);
	if (!node_name_valid(e->node)) {
		snprintf(err, errlen, "invalid node name \"%.64s\"", e->node);
		goto out;
	}
	strbuf_printf(&sb, "node=%s\nupdated=%lld\n", e->node,
		      (long long)time(NULL));
	for (i = 0; i < e->count; i++) {
		if (strcmp(e->fields[i].key, "node") == 0 ||
		    strcmp(e->fields[i].key, "updated") == 0)
			continue;
		strbuf_printf(&sb, "%s=%s\n", e->fields[i].key,
			      e->fields[i].value);
	}
	if (atomic_write_file(path, sb.data, sb.len, 0600, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	strbuf_free(&sb);
	free(path);
	return rc;
}

int journal_remove(const char *state_dir, const char *role, const char *node,
		   char *err, size_t errlen)
{
	char *path, *dir;
	int rc = 0;

	if (!node_name_valid(node)) {
		snprintf(err, errlen, "invalid node name \"%.64s\"", node);
		return -1;
	}
	path = entry_path(state_dir, role, node);
	dir = role_dir(state_dir, role);
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove %s: %s", path,
			 strerror(errno));
		rc = -1;
	} else {
		fsync_dir(dir);
	}
	free(path);
	free(dir);
	return rc;
}

int journal_list(const char *state_dir, const char *role, char ***nodes,
		 size_t *count, char *err, size_t errlen)
{
	char *dir = role_dir(state_dir, role);
	struct dirent *de;
	DIR *d = opendir(dir);

	*nodes = NULL;
	*count = 0;
	if (!d) {
		int missing = errno == ENOENT;

		if (!missing)
			snprintf(err, errlen, "cannot read %s: %s", dir,
				 strerror(errno));
		free(dir);
		return missing ? 0 : -1;
	}
	while ((de = readdir(d))) {
		/* Lock files and temporaries are not records. */
		if (!node_name_valid(de->d_name) || strstr(de->d_name, ".tmp."))
			continue;
		*nodes = xrealloc(*nodes, (*count + 1) * sizeof(**nodes));
		(*nodes)[(*count)++] = xstrdup(de->d_name);
	}
	closedir(d);
	free(dir);
	return 0;
}

void journal_list_free(char **nodes, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(nodes[i]);
	free(nodes);
}

int journal_lock(const char *state_dir, const char *role, const char *node,
		 int wait_ms)
{
	char *path;
	int fd, waited = 0;

	if (!node_name_valid(node))
		return -1;
	path = xasprintf("%s/%s/.%s.lock", state_dir, role, node);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return -1;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK || waited >= wait_ms) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
		usleep(20000);
		waited += 20;
	}
}

void journal_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
