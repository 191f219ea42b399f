/* missing.c: instances EC2 says do not exist, and since when. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/atomic.h"
#include "common/aws/services.h"
#include "common/journal.h"
#include "common/xmalloc.h"
#include "controller.h"
#include "missing.h"

#define MISSING_FILE ".ec2-missing"
#define MISSING_MAX_BYTES (4 << 20)

static size_t add(struct missing_set *m, const char *id, time_t since)
{
	size_t i = m->count;

	if (m->count == m->cap) {
		size_t k;

		m->cap = m->cap ? m->cap * 2 : 64;
		m->ids = xrealloc(m->ids, m->cap * sizeof(*m->ids));
		m->since = xrealloc(m->since, m->cap * sizeof(*m->since));
		m->seen = xrealloc(m->seen, m->cap * sizeof(*m->seen));
		/* The index points into ids: build it again after a move. */
		name_set_free(&m->index);
		name_set_init(&m->index);
		for (k = 0; k < m->count; k++)
			name_set_add(&m->index, m->ids[k], k);
	}
	snprintf(m->ids[i], sizeof(m->ids[i]), "%s", id);
	m->since[i] = since;
	m->seen[i] = false;
	m->count++;
	name_set_add(&m->index, m->ids[i], i);
	return i;
}

int missing_load(const char *state_dir, struct missing_set *m, char *err,
		 size_t errlen)
{
	char *data = NULL, *line, *next;
	size_t len = 0, bad = 0;
	ssize_t got;
	int dirfd, fd;

	memset(m, 0, sizeof(*m));
	name_set_init(&m->index);
	dirfd = journal_dir_fd(state_dir, CONTROLLER_ROLE, err, errlen);
	if (dirfd < 0)
		return -1;
	fd = openat(dirfd, MISSING_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open %s/%s/%s: %s", state_dir,
			 CONTROLLER_ROLE, MISSING_FILE, strerror(errno));
		return -1;
	}
	data = xmalloc(MISSING_MAX_BYTES + 1);
	while (len < MISSING_MAX_BYTES &&
	       (got = read(fd, data + len, MISSING_MAX_BYTES - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "cannot read %s/%s/%s: %s", state_dir,
				 CONTROLLER_ROLE, MISSING_FILE, strerror(errno));
			close(fd);
			free(data);
			return -1;
		}
		len += (size_t)got;
	}
	close(fd);
	data[len] = '\0';
	/* "<instance id> <first seen, seconds since the epoch>" per line. */
	for (line = data; line; line = next) {
		char id[32], *end;
		intmax_t since;
		int used = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		if (sscanf(line, "%31s %n", id, &used) != 1 || !used ||
		    !ec2_instance_id_valid(id) ||
		    name_set_find(&m->index, id, NULL)) {
			bad++;
			continue;
		}
		errno = 0;
		since = strtoimax(line + used, &end, 10);
		if (errno || end == line + used || *end || since <= 0) {
			bad++;
			continue;
		}
		add(m, id, (time_t)since);
	}
	free(data);
	if (bad)
		snprintf(err, errlen, "%s/%s/%s: %zu damaged line(s) skipped",
			 state_dir, CONTROLLER_ROLE, MISSING_FILE, bad);
	return 0;
}

time_t missing_mark(struct missing_set *m, const char *id, time_t now)
{
	size_t i;

	if (!name_set_find(&m->index, id, &i))
		i = add(m, id, now);
	m->seen[i] = true;
	return m->since[i];
}

void missing_forget(struct missing_set *m, const char *id)
{
	size_t i;

	if (name_set_find(&m->index, id, &i))
		m->seen[i] = false;
}

int missing_save(const char *state_dir, const struct missing_set *m,
		 char *err, size_t errlen)
{
	char *data = xmalloc(m->count * 64 + 1);
	size_t len = 0, i;
	int dirfd, rc;

	data[0] = '\0';
	for (i = 0; i < m->count; i++)
		if (m->seen[i])
			len += (size_t)snprintf(data + len, 64, "%s %jd\n", m->ids[i],
						(intmax_t)m->since[i]);
	dirfd = journal_dir_fd(state_dir, CONTROLLER_ROLE, err, errlen);
	rc = dirfd < 0 ? -1
		       : atomic_write_at(dirfd, MISSING_FILE, data, len, 0600, err,
					 errlen);
	free(data);
	return rc;
}

void missing_free(struct missing_set *m)
{
	name_set_free(&m->index);
	free(m->ids);
	free(m->since);
	free(m->seen);
	memset(m, 0, sizeof(*m));
}
