/* ad_test.c: computer names, search entries, and the helper runner
 * that carries passwords to adcli and the LDAP tools. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/ad_accounts.h"
#include "common/spawn.h"
#include "common/xmalloc.h"
#include "tap.h"

static const char *name(const char *cluster, const char *prefix,
			const char *node)
{
	static char buf[32];

	if (ad_computer_name(cluster, prefix, node, buf, sizeof(buf)) < 0)
		return "(error)";
	return buf;
}

static void names(void)
{
	char a[32];

	tap_is_str(name("c", NULL, "n1"), "N1", "short node name in capitals");
	tap_is_str(name("c", "HPC1-", "n1"), "HPC1-N1", "prefix");
	tap_is_str(name("c", NULL, "compute-000123"), "COMPUTE-000123",
		   "14 characters kept");
	tap_is_str(name("c", NULL, "abcdefghijklmno"), "ABCDEFGHIJKLMNO",
		   "exactly 15 characters kept");
	snprintf(a, sizeof(a), "%s",
		 name("c", NULL, "queue1-dy-c5xlarge-1"));
	tap_is_int((long)strlen(a), 15, "a long name becomes 15 characters");
	tap_ok(strncmp(a, "QUEUE1-D-", 9) == 0, "stem of the long name (%s)", a);
	tap_is_str(name("c", NULL, "queue1-dy-c5xlarge-1"), a,
		   "the mapping is deterministic");
	tap_ok(strcmp(name("c", NULL, "queue1-dy-c5xlarge-2"), a) != 0,
	       "sibling nodes differ");
	tap_ok(strcmp(name("other", NULL, "queue1-dy-c5xlarge-1"), a) != 0,
	       "the same node in another cluster differs");
	tap_ok(strchr(name("c", NULL, "gpu_node.1"), '_') == NULL &&
	       strchr(name("c", NULL, "gpu_node.1"), '.') == NULL,
	       "characters NetBIOS refuses are hashed away (%s)",
	       name("c", NULL, "gpu_node.1"));
	tap_ok(strlen(name("c", NULL, "123")) == 10 &&
	       strncmp(name("c", NULL, "123"), "123-", 4) == 0,
	       "an all-digit name is hashed (%s)", name("c", NULL, "123"));
	tap_ok(name("c", NULL, "-rf")[0] != '-', "never starts with a dash (%s)",
	       name("c", NULL, "-rf"));
	tap_is_str(name("c", NULL, ""), "(error)", "empty node refused");
}

/* One entry as the LDAP library hands it over. */
static bool entry(struct ad_computer *c, const char *dn, const char *sam,
		  const char *desc, bool creator, const char *cluster)
{
	return ad_computer_from_entry(c, dn, sam, desc, creator, cluster);
}

static void search(void)
{
	struct ad_computer c;
	char long_dn[600];

	tap_ok(entry(&c, "CN=N1,OU=HPC,DC=test,DC=domain", "N1$",
		     "slurm-identity:sitest node=n1 life=3fa2c901", false,
		     "sitest") &&
	       c.ours && strcmp(c.node, "n1") == 0 && strcmp(c.name, "N1") == 0,
	       "ours: name without $, node from the mark");
	tap_is_str(c.dn, "CN=N1,OU=HPC,DC=test,DC=domain", "dn kept");
	tap_is_str(c.life, "3fa2c901", "life token from the mark");
	tap_ok(entry(&c, "CN=N2,OU=HPC,DC=test,DC=domain", "N2$",
		     "slurm-identity:sitest node=n2", false, "sitest") &&
	       c.ours && strcmp(c.node, "n2") == 0 && c.life[0] == '\0',
	       "a mark without a life token (older accounts)");
	tap_ok(entry(&c, "CN=WS1,OU=HPC,DC=test,DC=domain", "WS1$",
		     "slurm-identity:othercluster node=ws1", false, "sitest") &&
	       !c.ours, "another cluster's mark is not ours");
	tap_ok(entry(&c, "CN=PC,OU=HPC,DC=test,DC=domain", "PC$", NULL, false,
		     "sitest") && !c.ours && c.node[0] == '\0',
	       "no mark is not ours");
	tap_ok(!entry(&c, "CN=X,OU=HPC,DC=test,DC=domain", NULL, NULL, false,
		      "sitest"), "an entry without sAMAccountName is none");
	tap_ok(!entry(&c, "CN=X,OU=HPC,DC=test,DC=domain", "$", NULL, false,
		      "sitest"), "nor one whose name is only the $");
	tap_ok(!entry(&c, "CN=X,OU=HPC,DC=test,DC=domain", "SIXTEEN-CHARS-XX$",
		      NULL, false, "sitest"),
	       "nor one whose name is longer than 15");
	memset(long_dn, 'a', sizeof(long_dn) - 1);
	long_dn[sizeof(long_dn) - 1] = '\0';
	tap_ok(!entry(&c, long_dn, "N1$", NULL, false, "sitest"),
	       "nor one whose DN does not fit");
	tap_ok(entry(&c, "CN=N3,OU=HPC,DC=test,DC=domain", "N3",
		     "slurm-identity:sitest node=n3", true, "sitest") &&
	       strcmp(c.name, "N3") == 0 && c.created_by_user,
	       "a name without $ as it is; a creator SID noted");
}

/* What the controller will act on: the mark is a claim, the account must
 * also be exactly the one we make. */
static void ownership(void)
{
	static const struct {
		const char *dn, *sam, *desc;
		bool creator, want;
		const char *why;
	} t[] = {
		{ "CN=SI-N1,OU=HPC,DC=test,DC=domain", "SI-N1$",
		  "slurm-identity:sitest node=n1 life=3fa2c901", false, true,
		  "ours" },
		{ "CN=SI-N2,CN=Computers,DC=test,DC=domain", "SI-N2$",
		  "slurm-identity:sitest node=n2", false, false,
		  "our mark and name outside the OU: not ours" },
		{ "CN=EVIL,OU=HPC,DC=test,DC=domain", "EVIL$",
		  "slurm-identity:sitest node=n3", false, false,
		  "our mark for n3 on an account named otherwise: not ours" },
		{ "CN=SI-N4,OU=HPC,DC=test,DC=domain", "SI-N4$",
		  "slurm-identity:sitest node=n4", true, false,
		  "made by a user through the machine account quota: not ours" },
		{ "CN=SI-N5\nchangetype: delete,OU=HPC,DC=test,DC=domain",
		  "SI-N5$", "slurm-identity:sitest node=n5", false, false,
		  "a DN with a newline and LDIF in it: not ours" },
	};
	struct ad_domain d;
	struct ad_computer c;
	char *esc, *long_cluster, *mark;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.ou = "OU=HPC,DC=test,DC=domain";
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		tap_ok(entry(&c, t[i].dn, t[i].sam, t[i].desc, t[i].creator,
			     "sitest") &&
		       ad_computer_owned(&c, &d, "sitest", "si-") == t[i].want,
		       "%s: %s", t[i].sam, t[i].why);

	esc = ad_dn_escape(" a,b+c\"d\\e<f>g;h=i#\n ");
	tap_is_str(esc, "\\ a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i#\\0a\\ ",
		   "DN value escaped (RFC 4514)");
	free(esc);
	esc = ad_account_dn(&d, "SI-N1");
	tap_is_str(esc, "CN=SI-N1,OU=HPC,DC=test,DC=domain", "the account DN we build");
	free(esc);

	/* A long cluster name is compared whole, never truncated into a
	 * prefix that another cluster's marks also start with. */
	long_cluster = xmalloc(301);
	memset(long_cluster, 'c', 300);
	long_cluster[300] = '\0';
	mark = xasprintf("slurm-identity:%sOTHER node=n1", long_cluster);
	tap_ok(entry(&c, "CN=X,OU=HPC,DC=test,DC=domain", "X$", mark, false,
		     long_cluster) && c.node[0] == '\0',
	       "another cluster whose name extends ours is not read as ours");
	free(mark);
	free(long_cluster);
}

static void ids(void)
{
	char id[64], name[16], life[17];

	ad_id_format(id, sizeof(id), "N1", "3fa2c901");
	tap_is_str(id, "N1:3fa2c901", "an id names the account and its life");
	ad_id_split(id, name, sizeof(name), life, sizeof(life));
	tap_ok(strcmp(name, "N1") == 0 && strcmp(life, "3fa2c901") == 0, "and splits back");
	ad_id_format(id, sizeof(id), "N1", "");
	ad_id_split(id, name, sizeof(name), life, sizeof(life));
	tap_ok(strcmp(id, "N1") == 0 && strcmp(name, "N1") == 0 && life[0] == '\0',
	       "a bare computer name has no life");
}

static void runner(void)
{
	const char *argv[] = { "sh", "-c",
			       "cat; echo; cat /dev/fd/3; echo; env | sort | tr '\\n' ' '",
			       NULL };
	const char *env[] = { "LDAPTLS_REQCERT=demand", NULL };
	const char *sleeper[] = { "sleep", "5", NULL };
	struct secret *in = secret_from_string("stdin-secret");
	struct secret *fd3 = secret_from_string("fd3-secret");
	struct spawn s;
	struct strbuf out;
	char err[256];
	int rc;

	setenv("SLURM_IDENTITY_TEST_LEAK", "must-not-pass", 1);
	strbuf_init(&out);
	memset(&s, 0, sizeof(s));
	s.path = "/bin/sh";
	s.argv = argv;
	s.env = env;
	s.stdin_secret = in;
	s.fd3_secret = fd3;
	rc = spawn_run(&s, &out, err, sizeof(err));
	tap_is_int(rc, 0, "helper ran");
	tap_ok(out.data && strstr(out.data, "stdin-secret\nfd3-secret\n"),
	       "secrets reach the helper on stdin and fd 3");
	tap_ok(out.data && strstr(out.data, "LDAPTLS_REQCERT=demand") &&
	       strstr(out.data, "PATH=/usr/sbin:/usr/bin:/sbin:/bin") &&
	       !strstr(out.data, "SLURM_IDENTITY_TEST_LEAK"),
	       "the helper's environment is only what we give it");

	memset(&s, 0, sizeof(s));
	s.path = "/bin/sleep";
	s.argv = sleeper;
	s.timeout = 0.3;
	tap_is_int(spawn_run(&s, &out, err, sizeof(err)), 124, "a hung helper is killed at its timeout");
	s.path = "sleep";
	tap_is_int(spawn_run(&s, &out, err, sizeof(err)), -1, "a relative path is refused");
	s.path = "/nonexistent/adcli";
	tap_is_int(spawn_run(&s, &out, err, sizeof(err)), -1, "a missing helper is reported");
	tap_ok(strstr(err, "/nonexistent/adcli") != NULL, "naming it (%s)", err);

	spawn_first_line("\n  \n  adcli: couldn't connect  \nmore\n", err, sizeof(err));
	tap_is_str(err, "adcli: couldn't connect", "first non-empty line, trimmed");
	secret_free(in);
	secret_free(fd3);
	strbuf_free(&out);
}

/* Sorted by name, found by name, case ignored: the lookups of a batch of
 * 10,000 accounts are not 10,000 x 10,000 comparisons. */
static void lookup(void)
{
	const char *order[] = { "N10", "n2", "N1", "COMPUTE-7", "n100", "N3" };
	struct ad_computer *list = xcalloc(2000, sizeof(*list));
	const struct ad_computer *c;
	char want[16];
	size_t i, n = sizeof(order) / sizeof(order[0]), misses = 0;

	for (i = 0; i < n; i++)
		snprintf(list[i].name, sizeof(list[i].name), "%s", order[i]);
	ad_computers_sort(list, n);
	tap_is_str(list[0].name, "COMPUTE-7", "sorted: first");
	tap_is_str(list[1].name, "N1", "sorted: N1 before N10");
	tap_is_str(list[5].name, "N3", "sorted: last");
	for (i = 0; i < n; i++) {
		c = ad_computer_find(list, n, order[i]);
		if (!c || strcmp(c->name, order[i]) != 0)
			misses++;
	}
	tap_is_int((long)misses, 0, "each of 6 found by its name");
	c = ad_computer_find(list, n, "N2");
	tap_ok(c && strcmp(c->name, "n2") == 0, "case ignored (N2 finds n2)");
	tap_ok(ad_computer_find(list, n, "N4") == NULL, "a name not there: NULL");
	tap_ok(ad_computer_find(list, n, "A") == NULL &&
		       ad_computer_find(list, n, "Z") == NULL,
	       "before the first and after the last: NULL");
	tap_ok(ad_computer_find(list, 0, "N1") == NULL, "an empty list: NULL");
	ad_computers_sort(list, 0);
	/* 2,000 names in reverse order; every one found, none invented. */
	for (i = 0; i < 2000; i++)
		snprintf(list[i].name, sizeof(list[i].name), "N%zu", 2000 - i);
	ad_computers_sort(list, 2000);
	misses = 0;
	for (i = 1; i <= 2000; i++) {
		snprintf(want, sizeof(want), "n%zu", i);
		c = ad_computer_find(list, 2000, want);
		if (!c || strcasecmp(c->name, want) != 0)
			misses++;
	}
	tap_is_int((long)misses, 0, "2,000 accounts: each found");
	tap_ok(ad_computer_find(list, 2000, "N2001") == NULL &&
		       ad_computer_find(list, 2000, "N0") == NULL,
	       "2,000 accounts: N0 and N2001 not found");
	free(list);
}

int main(void)
{
	names();
	search();
	lookup();
	ownership();
	ids();
	runner();
	return tap_done();
}
