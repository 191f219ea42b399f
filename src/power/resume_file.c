/* resume_file.c: read and parse SLURM_RESUME_FILE, of every release. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "resume_file.h"

int resume_file_read(const char *path, struct strbuf *out, char *err,
		     size_t errlen)
{
	char buf[65536];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (out->len + (size_t)n > RESUME_FILE_MAX) {
			snprintf(err, errlen, "%s is larger than %u bytes", path,
				 RESUME_FILE_MAX);
			goto out;
		}
		strbuf_append(out, buf, (size_t)n);
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* The first of two keys that holds a string; NULL if neither, and *bad
 * set if one holds something else. */
static const char *string_of(json_t *obj, const char *key, const char *old_key,
			     int *bad)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		v = json_object_get(obj, old_key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

int resume_file_parse(const char *data, size_t len, struct resume_request *req,
		      char *err, size_t errlen)
{
	struct strbuf jobs;
	json_error_t jerr;
	json_t *doc, *list, *job;
	const char *all;
	size_t i;
	int bad = 0, rc = -1;

	memset(req, 0, sizeof(*req));
	strbuf_init(&jobs);
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "not a JSON object%s%.100s",
			 doc ? "" : ": ", doc ? "" : jerr.text);
		goto out;
	}
	all = string_of(doc, "all_nodes_resume", "all_nodes", &bad);
	list = json_object_get(doc, "jobs");
	if (list && !json_is_array(list) && !json_is_null(list))
		bad = 1;
	json_array_foreach(list, i, job) {
		json_t *id = json_object_get(job, "job_id");
		const char *nodes;

		if (!json_is_object(job) || !json_is_integer(id)) {
			bad = 1;
			break;
		}
		nodes = string_of(job, "nodes_resume", "nodes", &bad);
		strbuf_printf(&jobs, "%s%lld(%s)", jobs.len ? " " : "",
			      (long long)json_integer_value(id),
			      nodes ? nodes : "?");
		req->job_count++;
	}
	if (bad) {
		snprintf(err, errlen, "unexpected types in its fields");
		goto out;
	}
	req->all_nodes = all ? xstrdup(all) : NULL;
	req->jobs = xstrdup(jobs.len ? jobs.data : "");
	rc = 0;
out:
	if (rc < 0)
		req->job_count = 0;
	json_decref(doc);
	strbuf_free(&jobs);
	return rc;
}

void resume_request_free(struct resume_request *req)
{
	free(req->all_nodes);
	free(req->jobs);
	memset(req, 0, sizeof(*req));
}
