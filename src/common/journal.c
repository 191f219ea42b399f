/* journal.c: crash-safe per-node state files. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "hash.h"
#include "nodename.h"
#include "journal.h"
#include "xmalloc.h"

/* A busy node lock is tried again this often while journal_lock waits. */
#define LOCK_POLL_MS 20

#define JOURNAL_MAX_SIZE 16384
#define LOCK_FILES 32

/* Each directory we use is checked once and then held open: everything
 * inside it is done relative to that descriptor, so swapping a path
 * component for a symlink later changes nothing. */
struct open_dir {
	char *state_dir;
	char *role;
	int fd;
};

static struct open_dir open_dirs[8];
static size_t open_dir_count;
/* The deregistration's helper thread opens them too. */
static pthread_mutex_t open_dirs_lock = PTHREAD_MUTEX_INITIALIZER;

/* Like MUNGE's path checks: every directory from / down to path must be
 * owned by root or by us and not writable by group or other (unless
 * sticky, as /tmp is), or someone else could replace what is below it. */
static int path_secure(const char *path, char *err, size_t errlen)
{
	char *dir = realpath(path, NULL);
	int rc = -1;

	if (!dir) {
		snprintf(err, errlen, "cannot resolve %s: %s", path,
			 strerror(errno));
		return -1;
	}
	for (;;) {
		struct stat st;
		char *slash;

		if (stat(dir, &st) < 0) {
			snprintf(err, errlen, "cannot check %s: %s", dir,
				 strerror(errno));
			goto out;
		}
		if (st.st_uid != 0 && st.st_uid != geteuid()) {
			snprintf(err, errlen,
				 "%s is insecure: owned by uid %u, not by root or us (uid %u)",
				 dir, (unsigned)st.st_uid, (unsigned)geteuid());
			goto out;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
			snprintf(err, errlen,
				 "%s is insecure: writable by group or other (mode %04o)",
				 dir, (unsigned)(st.st_mode & 07777));
			goto out;
		}
		if (strcmp(dir, "/") == 0)
			break;
		/* One level up: "/a/b" -> "/a", "/a" -> "/". */
		slash = strrchr(dir, '/');
		slash[slash == dir ? 1 : 0] = '\0';
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* A directory we own, not a symlink, not writable by anyone else. */
static int check_own_dir(int fd, const char *what, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", what);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s is owned by uid %u, not by us (uid %u)",
			 what, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "%s is writable by group or other (mode %04o): make it 0700",
			 what, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* StateDir/role, created (0700) if create and missing, checked and held
 * open. -1 with err; errno ENOENT if it does not exist and !create. */
static int role_fd_locked(const char *state_dir, const char *role,
			  bool create, char *err, size_t errlen)
{
	char *what;
	size_t i;
	int sfd = -1, rfd = -1;

	for (i = 0; i < open_dir_count; i++)
		if (strcmp(open_dirs[i].state_dir, state_dir) == 0 &&
		    strcmp(open_dirs[i].role, role) == 0)
			return open_dirs[i].fd;
	if (create && mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", state_dir,
			 strerror(errno));
		return -1;
	}
	sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0) {
		int saved = errno;

		snprintf(err, errlen, "cannot open StateDir %s: %s", state_dir,
			 errno == ELOOP ? "it is a symlink" : strerror(errno));
		errno = saved;
		return -1;
	}
	if (check_own_dir(sfd, state_dir, err, errlen) < 0 ||
	    path_secure(state_dir, err, errlen) < 0)
		goto fail;
	if (create && mkdirat(sfd, role, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s/%s: %s", state_dir, role,
			 strerror(errno));
		goto fail;
	}
	rfd = openat(sfd, role, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rfd < 0) {
		int saved = errno;

		snprintf(err, errlen, "cannot open %s/%s: %s", state_dir, role,
			 errno == ELOOP || errno == ENOTDIR ? "not a directory (a symlink?)"
							    : strerror(errno));
		close(sfd);
		errno = saved;
		return -1;
	}
	what = xasprintf("%s/%s", state_dir, role);
	if (check_own_dir(rfd, what, err, errlen) < 0) {
		free(what);
		goto fail;
	}
	free(what);
	close(sfd);
	if (open_dir_count == sizeof(open_dirs) / sizeof(open_dirs[0])) {
		/* Programs use two or three; keep the oldest. */
		return rfd;
	}
	open_dirs[open_dir_count].state_dir = xstrdup(state_dir);
	open_dirs[open_dir_count].role = xstrdup(role);
	open_dirs[open_dir_count].fd = rfd;
	open_dir_count++;
	return rfd;
fail:
	if (rfd >= 0)
		close(rfd);
	close(sfd);
	errno = EPERM;
	return -1;
}

static int role_fd(const char *state_dir, const char *role, bool create,
		   char *err, size_t errlen)
{
	int fd, saved;

	pthread_mutex_lock(&open_dirs_lock);
	fd = role_fd_locked(state_dir, role, create, err, errlen);
	saved = errno;
	pthread_mutex_unlock(&open_dirs_lock);
	errno = saved;
	return fd;
}

int journal_init(const char *state_dir, const char *role, char *err,
		 size_t errlen)
{
	return role_fd(state_dir, role, true, err, errlen) < 0 ? -1 : 0;
}

int journal_dir_fd(const char *state_dir, const char *role, char *err,
		   size_t errlen)
{
	return role_fd(state_dir, role, true, err, errlen);
}

char *journal_file_read(const char *state_dir, const char *role,
			const char *name, size_t max, size_t *len, bool *absent,
			char *err, size_t errlen)
{
	char why[256];
	char *data;
	int dirfd;

	*absent = false;
	dirfd = journal_dir_fd(state_dir, role, err, errlen);
	if (dirfd < 0)
		return NULL;
	data = atomic_read_at(dirfd, name, max, len, absent, why, sizeof(why));
	if (!data && !*absent)
		snprintf(err, errlen, "%s/%s: %s", state_dir, role, why);
	return data;
}

int journal_file_write(const char *state_dir, const char *role,
		       const char *name, const char *data, size_t len,
		       char *err, size_t errlen)
{
	int dirfd = journal_dir_fd(state_dir, role, err, errlen);

	if (dirfd < 0)
		return -1;
	return atomic_write_at(dirfd, name, data, len, 0600, err, errlen);
}

void journal_close_all(void)
{
	size_t i;

	for (i = 0; i < open_dir_count; i++) {
		close(open_dirs[i].fd);
		free(open_dirs[i].state_dir);
		free(open_dirs[i].role);
	}
	open_dir_count = 0;
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

static const char *const phase_names[] = {
	[JOURNAL_PHASE_NONE] = "",
	[JOURNAL_PHASE_RESUMING] = "resuming",
	[JOURNAL_PHASE_PENDING] = "pending",
	[JOURNAL_PHASE_REGISTERING] = "registering",
	[JOURNAL_PHASE_FAILED] = "failed",
	[JOURNAL_PHASE_READY] = "ready",
	[JOURNAL_PHASE_UNKNOWN] = "unknown",
};

const char *journal_phase_name(enum journal_phase phase)
{
	if ((size_t)phase >= sizeof(phase_names) / sizeof(phase_names[0]))
		return "unknown";
	return phase_names[phase];
}

enum journal_phase journal_phase(const struct journal_entry *e)
{
	const char *word = journal_get(e, "phase");
	size_t i;

	if (!word || !*word)
		return JOURNAL_PHASE_NONE;
	for (i = JOURNAL_PHASE_RESUMING; i < JOURNAL_PHASE_UNKNOWN; i++)
		if (strcmp(word, phase_names[i]) == 0)
			return (enum journal_phase)i;
	/* Suspends before the detached worker wrote "deregistering" for a
	 * removal under way: work still to do, as pending is. */
	if (strcmp(word, "deregistering") == 0)
		return JOURNAL_PHASE_PENDING;
	return JOURNAL_PHASE_UNKNOWN;
}

void journal_set_phase(struct journal_entry *e, enum journal_phase phase)
{
	if (phase == JOURNAL_PHASE_NONE || phase == JOURNAL_PHASE_UNKNOWN)
		journal_unset(e, "phase");
	else
		journal_set(e, "phase", journal_phase_name(phase));
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

int journal_read(const char *state_dir, const char *role, const char *node,
		 struct journal_entry *e, char *err, size_t errlen)
{
	char buf[JOURNAL_MAX_SIZE + 1], *line, *save = NULL;
	ssize_t n;
	int dfd, fd;

	journal_entry_init(e, node);
	if (!node_name_valid(node)) {
		snprintf(err, errlen, "invalid node name \"%.64s\"", node);
		return -1;
	}
	dfd = role_fd(state_dir, role, false, err, errlen);
	if (dfd < 0)
		return errno == ENOENT ? 1 : -1;
	fd = openat(dfd, node, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "cannot open %s/%s/%s: %s", state_dir, role,
			 node, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > JOURNAL_MAX_SIZE) {
		snprintf(err, errlen, "%s/%s/%s: %s", state_dir, role, node,
			 n < 0 ? strerror(errno) : "too large");
		return -1;
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
	return 0;
}

int journal_write(const char *state_dir, const char *role,
		  const struct journal_entry *e, char *err, size_t errlen)
{
	struct strbuf sb;
	size_t i;
	int rc = -1, dfd;

	strbuf_init(&sb);
	if (!node_name_valid(e->node)) {
		snprintf(err, errlen, "invalid node name \"%.64s\"", e->node);
		goto out;
	}
	dfd = role_fd(state_dir, role, true, err, errlen);
	if (dfd < 0)
		goto out;
	strbuf_printf(&sb, "node=%s\nupdated=%lld\n", e->node,
		      (long long)time(NULL));
	for (i = 0; i < e->count; i++) {
		if (strcmp(e->fields[i].key, "node") == 0 ||
		    strcmp(e->fields[i].key, "updated") == 0)
			continue;
		strbuf_printf(&sb, "%s=%s\n", e->fields[i].key,
			      e->fields[i].value);
	}
	if (atomic_write_at(dfd, e->node, sb.data, sb.len, 0600, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	strbuf_free(&sb);
	return rc;
}

int journal_forget(const char *state_dir, const char *role, const char *node,
		   char *err, size_t errlen)
{
	int dfd;

	if (!node_name_valid(node)) {
		snprintf(err, errlen, "invalid node name \"%.64s\"", node);
		return -1;
	}
	dfd = role_fd(state_dir, role, false, err, errlen);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	if (unlinkat(dfd, node, 0) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove %s/%s/%s: %s", state_dir,
			 role, node, strerror(errno));
		return -1;
	}
	return 0;
}

void journal_sync(const char *state_dir, const char *role)
{
	char err[256];
	int dfd = role_fd(state_dir, role, false, err, sizeof(err));

	if (dfd >= 0)
		fsync(dfd);
}

int journal_remove(const char *state_dir, const char *role, const char *node,
		   char *err, size_t errlen)
{
	if (journal_forget(state_dir, role, node, err, errlen) < 0)
		return -1;
	journal_sync(state_dir, role);
	return 0;
}

int journal_dir_list(const char *state_dir, const char *role,
		     bool (*keep)(const char *name), char ***names, size_t *count,
		     char *err, size_t errlen)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int dfd;

	*names = NULL;
	*count = 0;
	dfd = role_fd(state_dir, role, false, err, errlen);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	/* A descriptor of its own: closedir closes it; rewind, since
	 * duplicates share the position. */
	dfd = dup(dfd);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		snprintf(err, errlen, "cannot read %s/%s: %s", state_dir, role,
			 strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!keep(de->d_name))
			continue;
		if (*count == cap) {
			cap = cap ? cap * 2 : 16;
			*names = xrealloc(*names, cap * sizeof(**names));
		}
		(*names)[(*count)++] = xstrdup(de->d_name);
	}
	closedir(d);
	return 0;
}

/* Records only: lock files and temporaries start with a dot. */
static bool is_record(const char *name)
{
	return node_name_valid(name) && !strstr(name, ".tmp.");
}

int journal_list(const char *state_dir, const char *role, char ***nodes,
		 size_t *count, char *err, size_t errlen)
{
	return journal_dir_list(state_dir, role, is_record, nodes, count, err,
				errlen);
}

void journal_list_free(char **nodes, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(nodes[i]);
	free(nodes);
}

/* A few lock files per role, one byte of one per node: the first event on
 * a node creates no file (creating one per node cost 0.8 ms of system
 * time each on ext4). Not one file: the kernel checks a new lock against
 * every lock held on the file, and a resume holds all its nodes' at once
 * (10,000 on one file: 2.05 s of system time; on 32, 0.07 s). The lock is on the open
 * file description (F_OFD_SETLK), so, as with flock, each journal_lock
 * excludes every other, in this process or another, and closing the
 * descriptor releases it. */
int journal_lock(const char *state_dir, const char *role, const char *node,
		 int wait_ms)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_len = 1,
	};
	char err[256], name[32];
	int dfd, fd, waited = 0;
	uint64_t h;

	if (!node_name_valid(node))
		return -1;
	dfd = role_fd(state_dir, role, true, err, sizeof(err));
	if (dfd < 0)
		return -1;
	/* The hash of the name picks a file (its low bits) and a byte in it
	 * (the rest, cut to fit a positive off_t). Two names that meet only
	 * wait for each other, at 10,000 nodes about once in 10^11. */
	h = hash_string(node);
	snprintf(name, sizeof(name), ".nodes.%02x.lock",
		 (unsigned)(h % LOCK_FILES));
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	fl.l_start = (off_t)((h / LOCK_FILES) >> (66 - 8 * sizeof(off_t)));
	for (;;) {
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			return fd;
		if (errno == EAGAIN || errno == EACCES)
			errno = EWOULDBLOCK;
		if (errno != EWOULDBLOCK || waited >= wait_ms) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
		usleep(LOCK_POLL_MS * 1000);
		waited += LOCK_POLL_MS;
	}
}

void journal_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
