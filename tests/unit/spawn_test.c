/* spawn_test.c: helpers run with fixed stdin, output kept up to a limit
 * (more is an error, never a cut-off answer), a timeout. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/spawn.h"
#include "common/xmalloc.h"
#include "tap.h"

int main(void)
{
	const char *echo[] = { "echo", "hello", NULL };
	const char *head[] = { "head", "-c", "70000", "/dev/zero", NULL };
	const char *sleep5[] = { "sleep", "5", NULL };
	struct strbuf out;
	struct spawn s;
	char err[256] = "";
	int rc;

	strbuf_init(&out);
	memset(&s, 0, sizeof(s));
	s.path = "/bin/echo";
	s.argv = echo;
	rc = spawn_run(&s, &out, err, sizeof(err));
	tap_is_int(rc, 0, "echo exits 0");
	tap_is_str(out.data, "hello\n", "its output is read");

	s.path = "/usr/bin/head";
	s.argv = head;
	rc = spawn_run(&s, &out, err, sizeof(err));
	tap_is_int(rc, -1, "70,000 bytes past the default 64 KiB: an error");
	tap_ok(strstr(err, "head wrote more than 65536 bytes") != NULL,
	       "that says why (%s)", err);
	s.output_max = 100000;
	err[0] = '\0';
	rc = spawn_run(&s, &out, err, sizeof(err));
	tap_is_int(rc, 0, "within a caller's larger limit: read whole");
	tap_is_int((long)out.len, 70000, "all 70,000 bytes");

	s.path = "/bin/sleep";
	s.argv = sleep5;
	s.timeout = 0.3;
	rc = spawn_run(&s, &out, err, sizeof(err));
	tap_is_int(rc, 124, "a helper past its timeout is killed: 124");

	s.path = "bin/echo";
	rc = spawn_run(&s, &out, err, sizeof(err));
	tap_is_int(rc, -1, "a relative path is refused");
	strbuf_free(&out);
	return tap_done();
}
