/* ec2_missing_test.c: first sightings of instances EC2 does not know, kept
 * across runs in StateDir/controller/.ec2-missing; damaged lines skipped. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/journal.h"
#include "common/xmalloc.h"
#include "controller/ec2_missing.h"
#include "tap.h"

#define FILE_NAME "controller/.ec2-missing"

int main(void)
{
	char dir[] = "/tmp/missing_test.XXXXXX", err[512] = "";
	struct missing_set m;
	char *text;
	int i;

	if (!mkdtemp(dir))
		return 1;
	tap_is_int(missing_load(dir, &m, err, sizeof(err)), 0, "no file yet is not an error");
	tap_is_int((long)m.count, 0, "and holds nothing");
	tap_is_int((long)missing_mark(&m, "i-0123456789abcdef0", 1000), 1000,
		   "a new id is missing since now");
	tap_is_int((long)missing_mark(&m, "i-0123456789abcdef0", 1300), 1000,
		   "marked again: still its first sighting");
	tap_is_int((long)missing_mark(&m, "i-11111111", 1300), 1300, "another id");
	tap_is_int(missing_save(dir, &m, err, sizeof(err)), 0, "saved");
	missing_free(&m);
	text = tap_read_file(dir, FILE_NAME);
	tap_is_str(text, "i-0123456789abcdef0 1000\ni-11111111 1300\n", "one line per id");
	free(text);

	tap_is_int(missing_load(dir, &m, err, sizeof(err)), 0, "read back");
	tap_is_int((long)m.count, 2, "two ids");
	tap_is_int((long)missing_mark(&m, "i-11111111", 2000), 1300,
		   "a later run keeps the first sighting");
	missing_mark(&m, "i-99999999", 2000);
	missing_forget(&m, "i-99999999");
	missing_forget(&m, "i-00000000");
	tap_is_int(missing_save(dir, &m, err, sizeof(err)), 0, "saved again");
	missing_free(&m);
	text = tap_read_file(dir, FILE_NAME);
	tap_is_str(text, "i-11111111 1300\n", "an id not missing this run, or removed, is forgotten");
	free(text);

	/* Many ids: the index survives the arrays growing. */
	tap_is_int(missing_load(dir, &m, err, sizeof(err)), 0, "read");
	for (i = 0; i < 300; i++) {
		char id[32];

		snprintf(id, sizeof(id), "i-%017x", i);
		missing_mark(&m, id, 5000 + i);
	}
	tap_is_int((long)missing_mark(&m, "i-0000000000000012b", 9999), 5000 + 0x12b,
		   "found after growth");
	tap_is_int((long)missing_mark(&m, "i-11111111", 9999), 1300, "the first one too");
	missing_free(&m);

	tap_write_file(dir, FILE_NAME, "i-22222222 100\n"
		 "garbage\n"
		 "i-33333333\n"
		 "i-44444444 12x\n"
		 "i-55555555 -7\n"
		 "x-66666666 100\n"
		 "i-22222222 200\n"
		 "\n"
		 "i-77777777 300 extra\n"
		 "i-88888888 400");
	err[0] = '\0';
	tap_is_int(missing_load(dir, &m, err, sizeof(err)), 0, "a damaged file still loads");
	tap_ok(strstr(err, "7 damaged line(s) skipped") != NULL, "and says so (%s)", err);
	tap_is_int((long)m.count, 2, "the good lines are kept");
	tap_is_int((long)missing_mark(&m, "i-22222222", 9000), 100, "the first of a doubled id");
	tap_is_int((long)missing_mark(&m, "i-88888888", 9000), 400, "a last line without newline");
	missing_free(&m);

	{
		char *path = xasprintf("%s/controller/.ec2-missing", dir);

		unlink(path);
		tap_ok(symlink("/etc/passwd", path) == 0, "the file replaced by a symlink");
		err[0] = '\0';
		tap_ok(missing_load(dir, &m, err, sizeof(err)) < 0 && strstr(err, "cannot open"),
		       "a symlink is not followed (%s)", err);
		missing_free(&m);
		unlink(path);
		free(path);
	}
	journal_close_all();
	tap_remove_tree(dir);
	return tap_done();
}
