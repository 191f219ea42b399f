/* journal_test.c: per-node records: round trip, hostile values, listing,
 * locking. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/journal.h"
#include "common/xmalloc.h"
#include "tap.h"

int main(void)
{
	char dir[] = "/tmp/journal_test.XXXXXX", err[512];
	struct journal_entry e, r;
	char **nodes = NULL, *path;
	size_t n = 0;
	struct stat st;
	int fd, fd2;

	if (!mkdtemp(dir))
		return 1;
	tap_is_int(journal_init(dir, "controller", err, sizeof(err)), 0, "init");
	path = xasprintf("%s/controller", dir);
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700,
	       "role directory is 0700");
	free(path);

	journal_entry_init(&e, "n1");
	journal_set(&e, "phase", "pending");
	journal_set(&e, "opsworks.id", "abc");
	journal_set(&e, "error", "line one\nphase=ready");
	journal_setf(&e, "count", "%d", 3);
	journal_set(&e, "phase", "deregistering");
	tap_is_int(journal_write(dir, "controller", &e, err, sizeof(err)), 0, "write");
	tap_is_int(journal_read(dir, "controller", "n1", &r, err, sizeof(err)), 0, "read back");
	tap_is_str(journal_get(&r, "phase"), "deregistering", "last set wins");
	tap_is_str(journal_get(&r, "opsworks.id"), "abc", "dotted key");
	tap_is_str(journal_get(&r, "error"), "line one phase=ready",
		   "a newline in a value cannot forge a field");
	tap_is_str(journal_get(&r, "count"), "3", "formatted value");
	tap_ok(journal_get(&r, "updated") != NULL, "write stamps the time");
	journal_unset(&r, "opsworks.id");
	tap_ok(journal_get(&r, "opsworks.id") == NULL, "unset");
	journal_entry_clear(&r);
	journal_entry_clear(&e);

	tap_is_int(journal_read(dir, "controller", "n9", &r, err, sizeof(err)), 1,
		   "a missing record is empty, not an error");
	tap_is_int(journal_read(dir, "controller", "../etc", &r, err, sizeof(err)), -1,
		   "a path as node name is refused");
	journal_entry_init(&e, "-rf");
	tap_is_int(journal_write(dir, "controller", &e, err, sizeof(err)), -1,
		   "an option-like node name is refused");
	journal_entry_clear(&e);

	fd = journal_lock(dir, "controller", "n1", 0);
	tap_ok(fd >= 0, "lock taken");
	fd2 = journal_lock(dir, "controller", "n1", 0);
	tap_ok(fd2 < 0 && errno == EWOULDBLOCK, "second lock refused without waiting");
	journal_unlock(fd);
	fd2 = journal_lock(dir, "controller", "n1", 100);
	tap_ok(fd2 >= 0, "lock free again after unlock");
	journal_unlock(fd2);

	journal_entry_init(&e, "n2.example");
	journal_set(&e, "phase", "resuming");
	journal_write(dir, "controller", &e, err, sizeof(err));
	journal_entry_clear(&e);
	path = xasprintf("%s/controller/n3.tmp.123", dir);
	fclose(fopen(path, "w"));
	tap_is_int(journal_list(dir, "controller", &nodes, &n, err, sizeof(err)), 0, "list");
	tap_is_int((long)n, 2, "lists records only (no lock or temporary files)");
	journal_list_free(nodes, n);
	unlink(path);
	free(path);

	tap_is_int(journal_remove(dir, "controller", "n1", err, sizeof(err)), 0, "remove");
	tap_is_int(journal_remove(dir, "controller", "n1", err, sizeof(err)), 0,
		   "removing twice is harmless");
	if (system(NULL)) {
		char *cmd = xasprintf("rm -rf '%s'", dir);
		int ignored = system(cmd);

		(void)ignored;
		free(cmd);
	}
	return tap_done();
}
