/* backend.c: the table of backends, and Backends= read against it. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "common/log.h"

#define BACKEND_COUNT (sizeof(all_backends) / sizeof(all_backends[0]))

static const struct backend *all_backends[] = {
	&opsworks_backend,
	&ad_backend,
	&ssm_backend,
};

void **backend_state(struct backend_context *ctx, const struct backend *b)
{
	size_t i;

	for (i = 0; i < BACKEND_COUNT && i < BACKEND_SLOTS; i++)
		if (all_backends[i] == b)
			return &ctx->state[i];
	/* Not in the table: a program error; the last slot is never a
	 * table backend's while the table is shorter than the slots. */
	return &ctx->state[BACKEND_SLOTS - 1];
}

void backend_context_clear(struct backend_context *ctx)
{
	size_t i;

	for (i = 0; i < BACKEND_COUNT; i++) {
		void **state = backend_state(ctx, all_backends[i]);

		if (*state && all_backends[i]->free_state)
			all_backends[i]->free_state(*state);
		*state = NULL;
	}
}

/* The next name of a comma list as conf.c keeps it ("opsworks,ad"), into
 * buf; *p moves past it. false at the end. */
static bool next_name(const char **p, char *buf, size_t len)
{
	const char *comma;
	size_t n;

	if (!*p || !**p)
		return false;
	comma = strchr(*p, ',');
	n = comma ? (size_t)(comma - *p) : strlen(*p);
	snprintf(buf, len, "%.*s", (int)n, *p);
	*p = comma ? comma + 1 : NULL;
	return true;
}

static const struct backend *table_find(const char *name)
{
	size_t i;

	for (i = 0; i < BACKEND_COUNT; i++)
		if (strcmp(name, all_backends[i]->name) == 0)
			return all_backends[i];
	return NULL;
}

bool backend_enabled(const struct identity_conf *conf, const struct backend *b)
{
	const char *p = conf->backends;
	char name[256];

	while (next_name(&p, name, sizeof(name)))
		if (strcmp(name, b->name) == 0)
			return true;
	return false;
}

size_t backends_enabled(const struct identity_conf *conf,
			const struct backend **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < BACKEND_COUNT; i++)
		if (backend_enabled(conf, all_backends[i]) && n < max)
			out[n++] = all_backends[i];
	return n;
}

/* "file:line: Backends: unknown backend ..." with the names there are. */
static void unknown_backend(const struct identity_conf *conf,
			    const char *path, const char *name, char *err,
			    size_t errlen)
{
	char expected[128] = "";
	size_t i, used = 0;

	for (i = 0; i < BACKEND_COUNT; i++)
		used += (size_t)snprintf(expected + used,
					 used < sizeof(expected) ?
					 sizeof(expected) - used : 0,
					 "%s%s", i ? ", " : "",
					 all_backends[i]->name);
	snprintf(err, errlen,
		 "%s:%u: Backends: unknown backend \"%s\" (expected %s)", path,
		 conf->backends_line, name, expected);
}

int backends_validate(const struct identity_conf *conf, char *err,
		      size_t errlen)
{
	const char *path = conf->path ? conf->path : "identity.conf";
	const char *p = conf->backends;
	char name[256], why[256];
	size_t i;

	while (next_name(&p, name, sizeof(name))) {
		if (!table_find(name)) {
			unknown_backend(conf, path, name, err, errlen);
			return -1;
		}
	}
	for (i = 0; i < BACKEND_COUNT; i++) {
		const struct backend *b = all_backends[i];

		if (!b->validate || !backend_enabled(conf, b))
			continue;
		if (b->validate(conf, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: Backends includes %s but %s",
				 path, b->name, why);
			return -1;
		}
	}
	return 0;
}

int backends_program_start(struct program *p, const char *name,
			   const char *conf_path, unsigned flags, char *err,
			   size_t errlen)
{
	if (program_start(p, name, conf_path, flags, err, errlen) < 0)
		return -1;
	if (backends_validate(&p->conf, err, errlen) < 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}
