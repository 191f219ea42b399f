/* backend.c: the table of backends. */
#include "config.h"

#include <strings.h>

#include "backend.h"

static const struct backend *all_backends[] = {
	&opsworks_backend,
	&ad_backend,
	&ssm_backend,
};

void **backend_state(struct backend_context *ctx, const struct backend *b)
{
	/* Each backend has one bit of the first BACKEND_SLOTS. */
	return &ctx->state[(ffs((int)b->bit) - 1) % BACKEND_SLOTS];
}

void backend_context_clear(struct backend_context *ctx)
{
	size_t i;

	for (i = 0; i < sizeof(all_backends) / sizeof(all_backends[0]); i++) {
		void **state = backend_state(ctx, all_backends[i]);

		if (*state && all_backends[i]->free_state)
			all_backends[i]->free_state(*state);
		*state = NULL;
	}
}

size_t backends_enabled(const struct identity_conf *conf,
			const struct backend **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(all_backends) / sizeof(all_backends[0]); i++)
		if ((conf->backends & all_backends[i]->bit) && n < max)
			out[n++] = all_backends[i];
	return n;
}
