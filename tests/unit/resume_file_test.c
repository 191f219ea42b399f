/* resume_file_test.c: SLURM_RESUME_FILE as each supported release writes
 * it (the documents are what slurmctld 22.05.8, 24.11.5 and 26.05.5 handed
 * ResumeProgram here), and what must be refused. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "power/resume_file.h"
#include "tap.h"

struct release_case {
	const char *release;
	const char *json;
	const char *all;
	const char *jobs;
};

static const struct release_case releases[] = {
	{ "22.05", "{\"jobs\":[{\"job_id\":1,\"nodes\":\"n[1-2]\"}],\"all_nodes\":\"n[1-2]\"}",
	  "n[1-2]", "1(n[1-2])" },
	{ "24.11",
	  "{\"jobs\":[{\"extra\":null,\"job_id\":1,\"features\":null,\"nodes_alloc\":\"n[1-2]\","
	  "\"nodes_resume\":\"n[1-2]\",\"oversubscribe\":\"OK\",\"partition\":\"cloud\","
	  "\"reservation\":null}],\"all_nodes_resume\":\"n[1-2]\"}",
	  "n[1-2]", "1(n[1-2])" },
	{ "26.05",
	  "{\"jobs\":[{\"exclusive\":\"NO\",\"extra\":null,\"job_id\":1,\"priority\":1,"
	  "\"features\":null,\"nodes_alloc\":\"n[1-2]\",\"nodes_resume\":\"n[1-2]\","
	  "\"oversubscribe\":\"NO\",\"partition\":\"cloud\",\"reservation\":null},"
	  "{\"exclusive\":\"USER\",\"extra\":\"x\",\"job_id\":7,\"priority\":4294901759,"
	  "\"features\":\"a&b\",\"nodes_alloc\":\"n[3-4]\",\"nodes_resume\":\"n4\","
	  "\"oversubscribe\":\"NO\",\"partition\":\"cloud\",\"reservation\":null}],"
	  "\"all_nodes_resume\":\"n[1-2,4]\"}",
	  "n[1-2,4]", "1(n[1-2]) 7(n4)" },
	{ "no jobs (scontrol power up)", "{\"all_nodes_resume\":\"n9\",\"jobs\":[]}", "n9", "" },
};

static const char *const refused[] = {
	"",
	"[]",
	"{\"all_nodes\":",
	"{\"all_nodes_resume\":5}",
	"{\"jobs\":{}}",
	"{\"jobs\":[{\"job_id\":\"1\"}]}",
	"{\"jobs\":[{\"job_id\":1,\"nodes_resume\":[1]}]}",
	"{\"all_nodes\":\"a\",\"all_nodes\":\"b\"}",
};

static void test_read(void)
{
	char dir[] = "/tmp/resume_file_test.XXXXXX", path[128], err[256];
	struct strbuf b;
	int fd;

	if (!mkdtemp(dir)) {
		tap_ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/fifo", dir);
	strbuf_init(&b);
	/* A FIFO would block the hook until a writer came. */
	tap_ok(mkfifo(path, 0600) == 0 &&
		       resume_file_read(path, &b, err, sizeof(err)) < 0 &&
		       strstr(err, "not a regular file"),
	       "a FIFO is refused at once: %s", err);
	unlink(path);
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd >= 0) {
		tap_ok(write(fd, "{\"all_nodes\":\"n1\"}", 18) == 18, "write");
		close(fd);
	}
	tap_ok(resume_file_read(path, &b, err, sizeof(err)) == 0 && b.len == 18,
	       "a regular file is read whole");
	unlink(path);
	tap_ok(resume_file_read(path, &b, err, sizeof(err)) < 0 &&
		       strstr(err, "cannot open"),
	       "a missing file is an error: %s", err);
	strbuf_free(&b);
	rmdir(dir);
}

int main(void)
{
	struct resume_request req;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(releases) / sizeof(releases[0]); i++) {
		const struct release_case *c = &releases[i];
		int rc = resume_file_parse(c->json, strlen(c->json), &req, err,
					   sizeof(err));

		tap_is_int(rc, 0, c->release);
		tap_is_str(req.all_nodes, c->all, "all nodes");
		tap_is_str(req.jobs, c->jobs, "jobs");
		resume_request_free(&req);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		err[0] = '\0';
		tap_ok(resume_file_parse(refused[i], strlen(refused[i]), &req, err,
					 sizeof(err)) < 0 && err[0] && !req.all_nodes,
		       "refused: %s (%s)", refused[i], err);
		resume_request_free(&req);
	}
	test_read();
	return tap_done();
}
