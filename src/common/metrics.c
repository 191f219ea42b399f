/* metrics.c: persistent counters rendered as a Prometheus textfile. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "metrics.h"
#include "xmalloc.h"

#define MAX_SERIES 256

/* Histogram bucket upper bounds, seconds. */
static const double buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* One series: "name{labels}" and its value. Histograms are stored as
 * their Prometheus series (_bucket{le=..}, _sum, _count). */
struct series {
	char key[256];
	double value;
};

static struct series pending[MAX_SERIES];
static size_t npending;
static struct series gauges[MAX_SERIES];
static size_t ngauges;
/* Series are recorded from the deregistration's helper thread too. */
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

static void add(struct series *set, size_t *n, const char *key, double v)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp(set[i].key, key) == 0) {
			set[i].value += v;
			return;
		}
	}
	if (*n == MAX_SERIES)
		return;
	snprintf(set[*n].key, sizeof(set[*n].key), "%s", key);
	set[*n].value = v;
	(*n)++;
}

static void series_key(char *out, size_t len, const char *name,
		       const char *labels, const char *extra)
{
	const char *sep = labels[0] && extra[0] ? "," : "";

	if (labels[0] || extra[0])
		snprintf(out, len, "%s{%s%s%s}", name, labels, sep, extra);
	else
		snprintf(out, len, "%s", name);
}

void metrics_count(const char *name, const char *labels, double value)
{
	char key[256];

	series_key(key, sizeof(key), name, labels, "");
	pthread_mutex_lock(&record_lock);
	add(pending, &npending, key, value);
	pthread_mutex_unlock(&record_lock);
}

void metrics_gauge(const char *name, const char *labels, double value)
{
	char key[256];
	size_t i;

	series_key(key, sizeof(key), name, labels, "");
	pthread_mutex_lock(&record_lock);
	for (i = 0; i < ngauges; i++)
		if (strcmp(gauges[i].key, key) == 0)
			break;
	if (i == ngauges && ngauges < MAX_SERIES)
		snprintf(gauges[ngauges++].key, sizeof(gauges[0].key), "%s", key);
	if (i < MAX_SERIES)
		gauges[i].value = value;
	pthread_mutex_unlock(&record_lock);
}

void metrics_observe(const char *name, const char *labels, double seconds)
{
	char key[256], metric[128], le[32];
	size_t i;

	pthread_mutex_lock(&record_lock);
	for (i = 0; i < NBUCKETS; i++) {
		snprintf(metric, sizeof(metric), "%s_bucket", name);
		snprintf(le, sizeof(le), "le=\"%g\"", buckets[i]);
		series_key(key, sizeof(key), metric, labels, le);
		add(pending, &npending, key, seconds <= buckets[i] ? 1 : 0);
	}
	snprintf(metric, sizeof(metric), "%s_bucket", name);
	series_key(key, sizeof(key), metric, labels, "le=\"+Inf\"");
	add(pending, &npending, key, 1);
	snprintf(metric, sizeof(metric), "%s_sum", name);
	series_key(key, sizeof(key), metric, labels, "");
	add(pending, &npending, key, seconds);
	snprintf(metric, sizeof(metric), "%s_count", name);
	series_key(key, sizeof(key), metric, labels, "");
	add(pending, &npending, key, 1);
	pthread_mutex_unlock(&record_lock);
}

/* "# TYPE" line once per metric family. */
static void family(const char *key, char *name, size_t len, const char **type)
{
	size_t n = strcspn(key, "{");
	const char *suffixes[] = { "_bucket", "_sum", "_count" };
	size_t i;

	snprintf(name, len, "%.*s", (int)n, key);
	*type = strstr(name, "_total") ? "counter" : "gauge";
	for (i = 0; i < 3; i++) {
		size_t sl = strlen(suffixes[i]), nl = strlen(name);

		if (nl > sl && strcmp(name + nl - sl, suffixes[i]) == 0 &&
		    strstr(name, "_seconds")) {
			name[nl - sl] = '\0';
			*type = "histogram";
		}
	}
}

/* Prometheus wants each family's series together under one TYPE line. */
static int compare_series(const void *a, const void *b)
{
	const struct series *sa = a, *sb = b;
	char fa[128], fb[128];
	const char *ta, *tb;
	int c;

	family(sa->key, fa, sizeof(fa), &ta);
	family(sb->key, fb, sizeof(fb), &tb);
	c = strcmp(fa, fb);
	return c ? c : strcmp(sa->key, sb->key);
}

/* Write fd whole; 0 or -1 with errno. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replace the textfile at path through a temporary file beside it. The
 * textfile directory (node_exporter's) may be writable by others: the
 * temporary name is random and created with O_EXCL|O_NOFOLLOW, so no
 * file, link or symlink planted at a name one could predict is ever
 * opened, written or renamed into place. */
static int write_textfile(const char *path, const char *data, size_t len,
			  char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dirlen = slash == path ? 1 : (size_t)(slash - path);
	char *dir = slash ? xstrndup(path, dirlen) : xstrdup(".");
	char tmp[300] = "";
	int dirfd, fd = -1, tries, rc = -1;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
		goto out;
	}
	for (tries = 0; fd < 0 && tries < 16; tries++) {
		unsigned char r[8];

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			snprintf(err, errlen, "no randomness for a temporary name: %s",
				 strerror(errno));
			goto out;
		}
		snprintf(tmp, sizeof(tmp),
			 ".%.200s.tmp.%02x%02x%02x%02x%02x%02x%02x%02x", base,
			 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
					       O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s/%s: %s", dir, tmp,
				 strerror(errno));
			tmp[0] = '\0';
			goto out;
		}
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file in %s", dir);
		tmp[0] = '\0';
		goto out;
	}
	/* Readable by the exporter whatever our umask. */
	if (fchmod(fd, 0644) < 0 || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write %s/%s: %s", dir, tmp,
			 strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "cannot write %s/%s: %s", dir, tmp,
			 strerror(errno));
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, base) < 0) {
		snprintf(err, errlen, "cannot rename %s/%s to %s: %s", dir, tmp,
			 path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	if (fsync(dirfd) < 0) {
		snprintf(err, errlen, "cannot sync %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlinkat(dirfd, tmp, 0);
	if (dirfd >= 0)
		close(dirfd);
	free(dir);
	return rc;
}

/* MetricsFile with %n replaced by this host's short name: one pattern for
 * hosts that share a textfile directory (or a shared /etc/slurm). */
static char *textfile_path(const char *pattern)
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	host[strcspn(host, ".")] = '\0';
	return config_expand_node(pattern, host);
}

int metrics_flush(const struct identity_conf *conf, char *err, size_t errlen)
{
	static struct series all[MAX_SERIES];
	size_t nall = 0, i;
	char *state = NULL, *lock = NULL, *textfile = NULL, line[512],
	     last[128] = "";
	struct strbuf out;
	FILE *fp;
	int fd = -1, rc = -1;

	if (!conf->metrics_file || (npending == 0 && ngauges == 0))
		return 0;
	strbuf_init(&out);
	state = xasprintf("%s/metrics.state", conf->state_dir);
	lock = xasprintf("%s/.metrics.lock", conf->state_dir);
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		snprintf(err, errlen, "cannot lock %s: %s", lock, strerror(errno));
		goto out;
	}
	fp = fopen(state, "re");
	while (fp && fgets(line, sizeof(line), fp)) {
		char *sp = strrchr(line, ' ');

		if (!sp)
			continue;
		*sp = '\0';
		add(all, &nall, line, strtod(sp + 1, NULL));
	}
	if (fp)
		fclose(fp);
	for (i = 0; i < npending; i++)
		add(all, &nall, pending[i].key, pending[i].value);
	for (i = 0; i < ngauges; i++) {
		size_t j;

		for (j = 0; j < nall; j++)
			if (strcmp(all[j].key, gauges[i].key) == 0)
				all[j].value = 0;
		add(all, &nall, gauges[i].key, gauges[i].value);
	}
	for (i = 0; i < nall; i++)
		strbuf_printf(&out, "%s %.17g\n", all[i].key, all[i].value);
	if (atomic_write_file(state, out.data, out.len, 0600, err, errlen) < 0)
		goto out;
	strbuf_reset(&out);
	qsort(all, nall, sizeof(all[0]), compare_series);
	for (i = 0; i < nall; i++) {
		char name[128];
		const char *type;

		family(all[i].key, name, sizeof(name), &type);
		if (strcmp(name, last) != 0) {
			strbuf_printf(&out, "# TYPE %s %s\n", name, type);
			snprintf(last, sizeof(last), "%s", name);
		}
		strbuf_printf(&out, "%s %.17g\n", all[i].key, all[i].value);
	}
	textfile = textfile_path(conf->metrics_file);
	if (write_textfile(textfile, out.data ? out.data : "", out.len, err,
			   errlen) < 0)
		goto out;
	npending = 0;
	ngauges = 0;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	strbuf_free(&out);
	free(state);
	free(lock);
	free(textfile);
	return rc;
}
