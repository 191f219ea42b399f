/* resume_file.h: SLURM_RESUME_FILE, the JSON slurmctld hands ResumeProgram.
 *
 * 22.05 writes "all_nodes" and jobs[].nodes; 23.02+ write
 * "all_nodes_resume" and jobs[].nodes_resume (plus nodes_alloc, partition,
 * ..., and in 26.05 priority and exclusive). Both are accepted; the keys
 * we do not use are ignored.
 */
#ifndef SLURM_IDENTITY_RESUME_FILE_H
#define SLURM_IDENTITY_RESUME_FILE_H

#include <stddef.h>

#include "common/xmalloc.h"

/* Largest resume file we read: far above 10,000 jobs' worth. */
#define RESUME_FILE_MAX (16u << 20)

struct resume_request {
	char *all_nodes;	/* hostlist of every node to resume, or NULL */
	char *jobs;		/* "1(n[1-2]) 2(n3)", for the log; "" if none */
	size_t job_count;
};

/* Read path into out: a regular file (a FIFO or device would block the
 * hook), at most RESUME_FILE_MAX bytes. -1 with err otherwise. */
int resume_file_read(const char *path, struct strbuf *out, char *err,
		     size_t errlen);

/* Parse a resume file's text. -1 with err if it is not a JSON object or
 * its fields have the wrong types. */
int resume_file_parse(const char *data, size_t len, struct resume_request *req,
		      char *err, size_t errlen);
void resume_request_free(struct resume_request *req);

#endif
