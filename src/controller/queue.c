/* queue.c: batches of nodes to deregister, one file each in StateDir/queue. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/journal.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "queue.h"

/* A batch names at most this many bytes of nodes (100,000 long names). */
#define BATCH_MAX (8u << 20)
#define SUFFIX ".batch"

/* The key of a batch's one line, by kind. */
static const char *kind_key(enum queue_kind kind)
{
	return kind == QUEUE_PREPARE ? "prepare=" : "nodes=";
}

int queue_put(const char *state_dir, enum queue_kind kind,
	      const struct node_list *nodes, char *err, size_t errlen)
{
	struct timespec now;
	struct strbuf b;
	char name[64];
	size_t i;
	int rc;

	clock_gettime(CLOCK_REALTIME, &now);
	/* Sorts by time; the pid keeps two hooks of one instant apart. */
	snprintf(name, sizeof(name), "%020lld.%09ld-%ld%s",
		 (long long)now.tv_sec, now.tv_nsec, (long)getpid(), SUFFIX);
	strbuf_init(&b);
	strbuf_puts(&b, kind_key(kind));
	for (i = 0; i < nodes->count; i++)
		strbuf_printf(&b, "%s%s", i ? "," : "", nodes->names[i]);
	strbuf_putc(&b, '\n');
	rc = journal_file_write(state_dir, QUEUE_ROLE, name, b.data, b.len, err,
				errlen);
	strbuf_free(&b);
	return rc;
}

/* "<seconds>.<nanoseconds>-<pid>.batch", as queue_put names them. */
static bool is_batch(const char *name)
{
	size_t n = strlen(name), stem = n - strlen(SUFFIX), i;

	if (n <= strlen(SUFFIX) || !isdigit((unsigned char)name[0]) ||
	    strcmp(name + stem, SUFFIX) != 0)
		return false;
	for (i = 0; i < stem; i++)
		if (!isdigit((unsigned char)name[i]) && name[i] != '.' &&
		    name[i] != '-')
			return false;
	return true;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int queue_list(const char *state_dir, char ***names, size_t *count, char *err,
	       size_t errlen)
{
	char why[512] = "";

	/* Made here on first use, so a fresh StateDir has an empty queue. */
	if (journal_dir_fd(state_dir, QUEUE_ROLE, err ? err : why,
			   err ? errlen : sizeof(why)) < 0)
		return -1;
	if (journal_dir_list(state_dir, QUEUE_ROLE, is_batch, names, count,
			     err ? err : why, err ? errlen : sizeof(why)) < 0)
		return -1;
	if (*count)
		qsort(*names, *count, sizeof(**names), compare_names);
	return 0;
}

void queue_names_free(char **names, size_t count)
{
	journal_list_free(names, count);
}

int queue_read(const char *state_dir, const char *name, enum queue_kind *kind,
	       struct node_list *out, char *err, size_t errlen)
{
	struct node_list batch = { NULL, 0 };
	struct strbuf b;
	char buf[65536], *list = NULL, *nl;
	ssize_t n;
	int dirfd, fd, rc = -1;

	if (!is_batch(name)) {
		snprintf(err, errlen, "%s is not a batch", name);
		return -1;
	}
	dirfd = journal_dir_fd(state_dir, QUEUE_ROLE, err, errlen);
	if (dirfd < 0)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s/%s/%s: %s", state_dir,
			 QUEUE_ROLE, name, strerror(errno));
		return -1;
	}
	strbuf_init(&b);
	while ((n = read(fd, buf, sizeof(buf))) > 0 && b.len <= BATCH_MAX)
		strbuf_append(&b, buf, (size_t)n);
	close(fd);
	if (n >= 0 && b.len <= BATCH_MAX && b.data &&
	    (nl = strchr(b.data, '\n'))) {
		*nl = '\0';
		if (strncmp(b.data, kind_key(QUEUE_REMOVE),
			    strlen(kind_key(QUEUE_REMOVE))) == 0) {
			*kind = QUEUE_REMOVE;
			list = b.data + strlen(kind_key(QUEUE_REMOVE));
		} else if (strncmp(b.data, kind_key(QUEUE_PREPARE),
				   strlen(kind_key(QUEUE_PREPARE))) == 0) {
			*kind = QUEUE_PREPARE;
			list = b.data + strlen(kind_key(QUEUE_PREPARE));
		}
	}
	if (!list) {
		snprintf(err, errlen, "%s/%s/%s: not a batch we wrote", state_dir,
			 QUEUE_ROLE, name);
		goto out;
	}
	if (node_list_expand(list, &batch, err, errlen) < 0)
		goto out;
	node_list_merge(out, &batch);
	rc = 0;
out:
	node_list_free(&batch);
	strbuf_free(&b);
	return rc;
}

int queue_nodes(const char *state_dir, enum queue_kind kind,
		struct node_list *out, char *err, size_t errlen)
{
	struct node_list batch;
	enum queue_kind k;
	char **names = NULL, why[512];
	size_t count = 0, i;

	if (queue_list(state_dir, &names, &count, err, errlen) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		batch.names = NULL;
		batch.count = 0;
		if (queue_read(state_dir, names[i], &k, &batch, why,
			       sizeof(why)) < 0)
			log_verbose("%s", why);
		else if (k == kind)
			node_list_merge(out, &batch);
		node_list_free(&batch);
	}
	queue_names_free(names, count);
	return 0;
}

double queue_batch_time(const char *name)
{
	char *end;
	double t;

	if (!is_batch(name))
		return 0;
	t = strtod(name, &end);
	return end != name && *end == '-' ? t : 0;
}

int queue_set_aside(const char *state_dir, const char *name, char *aside,
		    size_t asidelen, char *err, size_t errlen)
{
	int dirfd;

	if (!is_batch(name) ||
	    snprintf(aside, asidelen, "%s%s", name, QUEUE_ASIDE_SUFFIX) >=
		    (int)asidelen) {
		snprintf(err, errlen, "%s is not a batch", name);
		return -1;
	}
	dirfd = journal_dir_fd(state_dir, QUEUE_ROLE, err, errlen);
	if (dirfd < 0)
		return -1;
	/* Kept, not deleted: it may be a batch we wrote and a disk damaged,
	 * whose nodes someone must look at (reconcile finds their leaks). */
	if (renameat(dirfd, name, dirfd, aside) < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "cannot rename %s/%s/%s to %s: %s",
			 state_dir, QUEUE_ROLE, name, aside, strerror(errno));
		return -1;
	}
	if (fsync(dirfd) < 0) {
		snprintf(err, errlen, "cannot sync %s/%s: %s", state_dir,
			 QUEUE_ROLE, strerror(errno));
		return -1;
	}
	return 0;
}

int queue_remove(const char *state_dir, const char *name, char *err,
		 size_t errlen)
{
	int dirfd = journal_dir_fd(state_dir, QUEUE_ROLE, err, errlen);

	if (dirfd < 0)
		return -1;
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove %s/%s/%s: %s", state_dir,
			 QUEUE_ROLE, name, strerror(errno));
		return -1;
	}
	return 0;
}
