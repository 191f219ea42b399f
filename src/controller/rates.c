/* rates.c: learned API rates, kept in StateDir/queue/.rates. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/aws/service.h"
#include "common/journal.h"
#include "queue.h"
#include "rates.h"

#define RATES_FILE ".rates"
#define RATES_MAX_BYTES 4096	/* a line per service: far more than enough */

static const struct aws_service *const known[] = {
	&aws_opsworks, &aws_ssm, &aws_ec2, &aws_secretsmanager, &aws_sts,
};

static const struct aws_service *service_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i]->signing_name, name) == 0)
			return known[i];
	return NULL;
}

int rates_load(const char *state_dir, struct rate_entry *out, size_t max,
	       time_t now, char *err, size_t errlen)
{
	char *data, *line, *next;
	size_t n = 0, bad = 0, len;
	bool absent;

	err[0] = '\0';
	data = journal_file_read(state_dir, QUEUE_ROLE, RATES_FILE,
				 RATES_MAX_BYTES, &len, &absent, err, errlen);
	if (!data)
		return absent ? 0 : -1;
	/* "<service> <calls per second> <seconds since the epoch>" */
	for (line = data; line; line = next) {
		char name[32];
		double rate;
		intmax_t when;
		int used = 0;
		const struct aws_service *s;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		if (sscanf(line, "%31s %lf %jd%n", name, &rate, &when, &used) != 3 ||
		    line[used] != '\0' || !(s = service_named(name)) ||
		    !isfinite(rate) || rate <= 0 || rate > 1e6 || when <= 0) {
			bad++;
			continue;
		}
		if (now - (time_t)when > RATES_MAX_AGE || n == max)
			continue;
		out[n].service = s;
		out[n].rate = rate;
		out[n].when = (time_t)when;
		n++;
	}
	free(data);
	if (bad)
		snprintf(err, errlen, "%s/%s/%s: %zu damaged line(s) skipped",
			 state_dir, QUEUE_ROLE, RATES_FILE, bad);
	return (int)n;
}

void rates_seed(struct aws_client *aws, const struct rate_entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		aws_client_seed_rate(aws, e[i].service, e[i].rate);
}

size_t rates_merge(struct rate_entry *e, size_t n, size_t max,
		   const struct aws_rate_hint *h, size_t nh, time_t now,
		   bool *changed)
{
	size_t i, j;

	*changed = false;
	for (i = 0; i < nh; i++) {
		for (j = 0; j < n && e[j].service != h[i].service; j++)
			;
		if (h[i].throttled_at > 0) {
			if (j == n) {
				if (n == max)
					continue;
				n++;
			}
			e[j].service = h[i].service;
			e[j].rate = h[i].throttled_at;
			e[j].when = now;
			*changed = true;
		} else if (j < n && h[i].peak > e[j].rate) {
			/* Faster than the limit we knew, unthrottled: the
			 * limit went up; start cold next time. */
			e[j] = e[--n];
			*changed = true;
		}
	}
	return n;
}

int rates_save(const char *state_dir, const struct aws_client *aws,
	       time_t now, char *err, size_t errlen)
{
	struct rate_entry e[RATES_MAX_SERVICES];
	struct aws_rate_hint h[RATES_MAX_SERVICES];
	char data[2048], why[256];
	size_t nh = aws_client_rate_hints(aws, h, RATES_MAX_SERVICES), i,
	       len = 0, n;
	int got = rates_load(state_dir, e, RATES_MAX_SERVICES, now, why,
			     sizeof(why));
	bool changed;

	/* Unreadable: what this run learned still counts. */
	n = rates_merge(e, got < 0 ? 0 : (size_t)got, RATES_MAX_SERVICES, h, nh,
			now, &changed);
	if (!changed)
		return 0;
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(data + len, sizeof(data) - len, "%s %.3f %jd\n",
					e[i].service->signing_name, e[i].rate,
					(intmax_t)e[i].when);
	return journal_file_write(state_dir, QUEUE_ROLE, RATES_FILE, data, len,
				  err, errlen);
}
