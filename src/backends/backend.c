/* backend.c: the table of backends. */
#include "config.h"

#include <stdlib.h>

#include "ad_accounts.h"
#include "backend.h"

static const struct backend *all_backends[] = {
	&opsworks_backend,
	&ad_backend,
	&ssm_backend,
};

void backend_context_clear(struct backend_context *ctx)
{
	if (ctx->ad) {
		ad_domain_clear(ctx->ad);
		free(ctx->ad);
		ctx->ad = NULL;
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
