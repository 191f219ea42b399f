/* hostlist_test.c: hostlist expansion and node name validation. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <slurm/slurm.h>

#include "common/hostlist.h"
#include "common/xmalloc.h"
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

	/* This node's own name: never shortened into another's. */
	{
		char own[NODE_NAME_MAX + 1], why[256];
		char *long_name = xmalloc(71);

		memset(long_name, 'n', 70);
		long_name[70] = '\0';
		setenv("SLURMD_NODENAME", long_name, 1);
		tap_ok(node_own_name(own, sizeof(own), why, sizeof(why)) < 0 &&
			       strstr(why, "invalid node name"),
		       "a 70-character SLURMD_NODENAME is refused: %s", why);
		setenv("SLURMD_NODENAME", "gpu-7", 1);
		tap_ok(node_own_name(own, sizeof(own), why, sizeof(why)) == 0 &&
			       strcmp(own, "gpu-7") == 0, "SLURMD_NODENAME is the name");
		unsetenv("SLURMD_NODENAME");
		free(long_name);
	}

	/* Limits are checked before libslurm sees the list. */
	{
		struct timespec t0, t1;
		double secs;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		tap_is_str(expand_err("a[0-99]b[0-99]c[0-99]d[0-99]e[0-99]"),
			   "hostlist has more than 100000 nodes",
			   "10^10 names refused without expanding them");
		tap_is_str(expand_err("n[0-18446744073709551615],a1"),
			   "invalid range in hostlist \"n[0-18446744073709551615],a1\"",
			   "a range past 2^64 is refused, not read as nothing");
		tap_is_str(expand_err("n[0-999999999999999999],a1"),
			   "hostlist has more than 100000 nodes",
			   "an 18-digit range is counted");
		tap_is_str(expand_err("n[3-1]"), "invalid range in hostlist \"n[3-1]\"",
			   "reversed range refused");
		tap_is_str(expand_err("n[]"), "invalid range in hostlist \"n[]\"",
			   "empty brackets refused");
		tap_ok(!node_name_valid("n18446744073709551616"),
		       "a name whose number would saturate in Slurm is invalid");
		tap_ok(node_name_valid("n123456789012345678"), "18 digits are fine");
		if (!tap_ok(node_list_expand("a[1-50000],b[1-40000],a[1-10000]", &l, err,
					     sizeof(err)) == 0, "100,000 names with duplicates (%s)",
			    err))
			return tap_done();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		tap_is_int((long)l.count, 90000, "deduplicated to 90,000");
		tap_is_str(l.names[89999], "b40000", "order kept");
		/* It took 33.8 s when duplicates were found by a linear scan. */
		tap_ok(secs < 5, "all of it in linear time (%.2f s)", secs);
		node_list_free(&l);
	}
	return tap_done();
}
