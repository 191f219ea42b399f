/* metrics_test.c: counters, gauges and histograms persist across flushes
 * (separate processes in real use) and render as a valid textfile. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/metrics.h"
#include "common/xmalloc.h"
#include "tap.h"

static char *slurp(const char *path)
{
	struct strbuf sb;
	char buf[4096];
	size_t n;
	FILE *fp = fopen(path, "r");

	strbuf_init(&sb);
	while (fp && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(&sb, buf, n);
	if (fp)
		fclose(fp);
	return strbuf_detach(&sb);
}

static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

static void one_run(struct identity_conf *c, double latency)
{
	char err[256];

	metrics_count("slurm_identity_registrations_total", "backend=\"opsworks\"", 1);
	metrics_observe("slurm_identity_call_seconds", "op=\"register\"", latency);
	metrics_gauge("slurm_identity_pending_nodes", "", latency > 1 ? 3 : 1);
	metrics_count("slurm_identity_failures_total", "op=\"register\"", 0);
	tap_ok(metrics_flush(c, err, sizeof(err)) == 0, "flush (%s)", err);
}

int main(void)
{
	char dir[] = "/tmp/metrics_test.XXXXXX";
	struct identity_conf c;
	char *prom, *text, *state, err[256];

	if (!mkdtemp(dir))
		return 1;
	config_init(&c);
	free(c.state_dir);
	c.state_dir = xstrdup(dir);
	tap_ok(metrics_flush(&c, err, sizeof(err)) == 0, "no MetricsFile: no-op");
	prom = xasprintf("%s/identity.prom", dir);
	c.metrics_file = xstrdup(prom);
	one_run(&c, 0.07);
	one_run(&c, 3.0);
	text = slurp(prom);
	tap_ok(strstr(text, "slurm_identity_registrations_total{backend=\"opsworks\"} 2\n") != NULL,
	       "counter adds up across flushes");
	tap_ok(strstr(text, "slurm_identity_pending_nodes 3\n") != NULL,
	       "gauge keeps the last value");
	tap_ok(strstr(text, "slurm_identity_call_seconds_bucket{op=\"register\",le=\"0.1\"} 1\n") != NULL,
	       "histogram bucket le=0.1 counts the fast call only");
	tap_ok(strstr(text, "slurm_identity_call_seconds_bucket{op=\"register\",le=\"+Inf\"} 2\n") != NULL,
	       "+Inf bucket counts both");
	tap_ok(strstr(text, "slurm_identity_call_seconds_count{op=\"register\"} 2\n") != NULL,
	       "histogram count");
	tap_is_int(count_lines(text, "# TYPE slurm_identity_call_seconds histogram"), 1,
		   "one TYPE line per family");
	tap_is_int(count_lines(text, "# TYPE slurm_identity_registrations_total counter"), 1,
		   "counters typed as counters");
	tap_is_int(count_lines(text, "# TYPE slurm_identity_pending_nodes gauge"), 1,
		   "gauges typed as gauges");
	state = xasprintf("%s/metrics.state", dir);
	tap_ok(access(state, R_OK) == 0, "state kept in StateDir");
	unlink(state);
	unlink(prom);
	{
		char *lock = xasprintf("%s/.metrics.lock", dir);

		unlink(lock);
		free(lock);
	}
	rmdir(dir);
	free(state);
	free(text);
	free(prom);
	config_free(&c);
	return tap_done();
}
