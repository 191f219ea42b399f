/* metrics_file_test.c: the metrics textfile is replaced through a
 * temporary file of its own, never through a file someone planted at a
 * name they could predict (the textfile directory may be shared). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/metrics.h"
#include "common/xmalloc.h"
#include "tap.h"

/* Temporary files of the textfile left in dir, but for the planted one. */
static int strays(const char *dir, const char *planted)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, ".identity.prom", 14) == 0 &&
		    strcmp(de->d_name, planted) != 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/metrics_file_test.XXXXXX", err[256], *planted, *victim;
	char *text, *prom;
	struct identity_conf c;
	struct stat st;

	if (!mkdtemp(dir))
		return 1;
	config_init(&c);
	free(c.state_dir);
	c.state_dir = xstrdup(dir);
	prom = xasprintf("%s/identity.prom", dir);
	c.metrics_file = xstrdup(prom);
	/* Someone who can write the directory plants the name an old
	 * writer used (".NAME.tmp.PID") as a hard link to a file of theirs. */
	tap_write_file(dir, "victim", "not yours\n");
	victim = xasprintf("%s/victim", dir);
	planted = xasprintf("%s/.identity.prom.tmp.%ld", dir, (long)getpid());
	tap_ok(link(victim, planted) == 0, "planted a link at the predictable name");
	metrics_count("slurm_identity_registrations_total", "", 1);
	tap_ok(metrics_flush(&c, err, sizeof(err)) == 0, "flush (%s)", err);
	text = tap_read_file(dir, "victim");
	tap_is_str(text, "not yours\n", "the planted file is untouched");
	free(text);
	text = tap_read_file(dir, "identity.prom");
	tap_ok(strstr(text, "slurm_identity_registrations_total 1\n") != NULL,
	       "the textfile has the counter");
	free(text);
	tap_ok(stat(prom, &st) == 0 && st.st_nlink == 1 && (st.st_mode & 07777) == 0644,
	       "the textfile is a file of its own, mode 0644");
	tap_is_int(strays(dir, strrchr(planted, '/') + 1), 0, "no temporary file left behind");
	unlink(planted);
	free(planted);
	free(victim);
	free(prom);
	config_free(&c);
	tap_remove_tree(dir);
	return tap_done();
}
