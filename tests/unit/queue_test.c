/* queue_test.c: the deregistration queue: batches written in one durable
 * write, listed oldest first, read back without duplicates, removed. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/journal.h"
#include "common/xmalloc.h"
#include "controller/queue.h"
#include "tap.h"

int main(void)
{
	char dir[] = "/tmp/queue_test.XXXXXX", err[512], **names = NULL;
	struct node_list a = { NULL, 0 }, b = { NULL, 0 }, all = { NULL, 0 };
	size_t count = 0;
	char *junk;
	int fd;

	if (!mkdtemp(dir))
		return 1;
	tap_is_int(queue_list(dir, &names, &count, err, sizeof(err)), 0,
		   "an empty queue lists");
	tap_is_int((long)count, 0, "with nothing in it");
	node_list_expand("n[1-3]", &a, err, sizeof(err));
	node_list_expand("n[3-5],gpu1", &b, err, sizeof(err));
	tap_is_int(queue_put(dir, QUEUE_REMOVE, &a, err, sizeof(err)), 0,
		   "batch one written");
	tap_is_int(queue_put(dir, QUEUE_PREPARE, &b, err, sizeof(err)), 0,
		   "batch two written, of the other kind");
	/* Things that are not batches of ours are not listed. */
	junk = xasprintf("%s/queue/notes.txt", dir);
	fd = open(junk, O_WRONLY | O_CREAT, 0600);
	close(fd);
	tap_is_int(queue_list(dir, &names, &count, err, sizeof(err)), 0, "list");
	tap_is_int((long)count, 2, "two batches, nothing else");
	if (count == 2) {
		tap_ok(strcmp(names[0], names[1]) < 0, "oldest first");
		struct node_list prep = { NULL, 0 };
		enum queue_kind k1 = QUEUE_PREPARE, k2 = QUEUE_REMOVE;

		tap_is_int(queue_read(dir, names[0], &k1, &all, err, sizeof(err)), 0,
			   "read one");
		tap_is_int(queue_read(dir, names[1], &k2, &all, err, sizeof(err)), 0,
			   "read two");
		tap_ok(k1 == QUEUE_REMOVE && k2 == QUEUE_PREPARE, "each of its kind");
		tap_is_int((long)all.count, 6, "merged without duplicates");
		tap_is_str(all.count == 6 ? all.names[5] : "", "gpu1", "in order");
		tap_is_int(queue_nodes(dir, QUEUE_PREPARE, &prep, err, sizeof(err)), 0,
			   "the nodes of one kind");
		tap_is_int((long)prep.count, 4, "only the resume batch's");
		node_list_free(&prep);
		tap_is_int(queue_remove(dir, names[0], err, sizeof(err)), 0, "remove");
		tap_is_int(queue_remove(dir, names[0], err, sizeof(err)), 0,
			   "removing twice is harmless");
	}
	{
		enum queue_kind k;

		tap_ok(queue_read(dir, "notes.txt", &k, &all, err, sizeof(err)) < 0 &&
		       strstr(err, "is not a batch"), "a file not named as a batch is refused");
	}
	queue_names_free(names, count);
	tap_is_int(queue_list(dir, &names, &count, err, sizeof(err)), 0, "list again");
	tap_is_int((long)count, 1, "one batch left");
	queue_names_free(names, count);
	node_list_free(&a);
	node_list_free(&b);
	node_list_free(&all);
	unlink(junk);
	free(junk);
	journal_close_all();
	tap_remove_tree(dir);
	return tap_done();
}
