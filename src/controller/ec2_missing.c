/* ec2_missing.c: instances EC2 says do not exist, and since when. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/aws/services.h"
#include "common/journal.h"
#include "common/xmalloc.h"
#include "controller.h"
#include "ec2_missing.h"

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
	char *data, *line, *next;
	size_t len, bad = 0;
	bool absent;

	memset(m, 0, sizeof(*m));
	name_set_init(&m->index);
	data = journal_file_read(state_dir, CONTROLLER_ROLE, MISSING_FILE,
				 MISSING_MAX_BYTES, &len, &absent, err, errlen);
	if (!data)
		return absent ? 0 : -1;
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
	int rc;

	data[0] = '\0';
	for (i = 0; i < m->count; i++)
		if (m->seen[i])
			len += (size_t)snprintf(data + len, 64, "%s %jd\n", m->ids[i],
						(intmax_t)m->since[i]);
	rc = journal_file_write(state_dir, CONTROLLER_ROLE, MISSING_FILE, data,
				len, err, errlen);
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
