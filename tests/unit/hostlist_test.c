/* hostlist_test.c: hostlist expansion and node name validation. */
#include "config.h"

#include <stdlib.h>

#include <slurm/slurm.h>

#include "common/hostlist.h"
#include "tap.h"

static const char *expand_err(const char *hl)
{
	static char err[256];
	struct node_list l;

	err[0] = '\0';
	if (node_list_expand(hl, &l, err, sizeof(err)) == 0) {
		node_list_free(&l);
		return "";
	}
	return err;
}

int main(void)
{
	struct node_list l;
	char err[256], *s;

	tap_is_int(node_list_expand("n[1-3],gpu7", &l, err, sizeof(err)), 0,
		   "expand range and single");
	tap_is_int((long)l.count, 4, "four nodes");
	tap_is_str(l.names[0], "n1", "first");
	tap_is_str(l.names[3], "gpu7", "last");
	s = node_list_compress(&l);
	tap_is_str(s, "n[1-3],gpu7", "compress back");
	free(s);
	node_list_free(&l);

	tap_is_int(node_list_expand("a[001-003],a002", &l, err, sizeof(err)), 0,
		   "zero padded with duplicate");
	tap_is_int((long)l.count, 3, "duplicate removed");
	tap_is_str(l.names[1], "a002", "padding kept");
	node_list_free(&l);

	tap_is_int(node_list_expand("", &l, err, sizeof(err)), 0, "empty list");
	tap_is_int((long)l.count, 0, "empty list has no nodes");

	tap_is_str(expand_err("n1;rm -rf"), "invalid hostlist \"n1;rm -rf\"",
		   "shell metacharacters refused");
	tap_is_str(expand_err("-n1"), "invalid node name \"-n1\"",
		   "option-like name refused");
	tap_is_str(expand_err("n1,../etc"), "invalid hostlist \"n1,../etc\"",
		   "path refused");
	tap_is_str(expand_err("n[1-3"), "invalid hostlist \"n[1-3\"",
		   "unbalanced bracket refused");
	tap_ok(node_name_valid("compute-dy-c5xlarge-12"), "PCluster name valid");
	tap_ok(!node_name_valid(""), "empty name invalid");
	tap_ok(!node_name_valid(".hidden"), "leading dot invalid");
	tap_ok(!node_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	       "65 characters invalid");
	tap_ok(!node_name_valid("n 1"), "space invalid");
	return tap_done();
}
