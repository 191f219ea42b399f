/* hostlist.c: hostlist expansion over libslurm's hostlist API. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>

#include "hostlist.h"
#include "slurm_compat.h"
#include "xmalloc.h"

/* libslurm would accept about anything; cap what a hook will fan out to. */
#define MAX_NODES 100000

bool node_name_valid(const char *name)
{
	size_t len = strlen(name);
	const char *p;

	if (len == 0 || len > NODE_NAME_MAX || name[0] == '-' || name[0] == '.')
		return false;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

bool node_list_contains(const struct node_list *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (strcmp(list->names[i], name) == 0)
			return true;
	return false;
}

void node_list_add(struct node_list *list, const char *name)
{
	list->names = xrealloc(list->names,
			       (list->count + 1) * sizeof(*list->names));
	list->names[list->count++] = xstrdup(name);
}

void node_list_free(struct node_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		free(list->names[i]);
	free(list->names);
	list->names = NULL;
	list->count = 0;
}

/* Characters a hostlist expression may hold, with brackets balanced and
 * not nested: libslurm would guess at anything else. */
static bool hostlist_syntax_ok(const char *s)
{
	int depth = 0;

	for (; *s; s++) {
		if (*s == '[' && depth++ > 0)
			return false;
		if (*s == ']' && --depth < 0)
			return false;
		if (!isalnum((unsigned char)*s) && !strchr("._-[],", *s))
			return false;
	}
	return depth == 0;
}

int node_list_expand(const char *hostlist, struct node_list *out, char *err,
		     size_t errlen)
{
	struct hostlist *hl = NULL;
	char *host;
	int rc = -1;

	out->names = NULL;
	out->count = 0;
	if (!*hostlist)
		return 0;
	if (!hostlist_syntax_ok(hostlist)) {
		snprintf(err, errlen, "invalid hostlist \"%.64s\"", hostlist);
		return -1;
	}
	hl = slurm_hostlist_create(hostlist);
	if (!hl) {
		snprintf(err, errlen, "invalid hostlist \"%.64s\"", hostlist);
		return -1;
	}
	while ((host = slurm_hostlist_shift(hl))) {
		bool ok = node_name_valid(host);

		if (ok && out->count >= MAX_NODES) {
			snprintf(err, errlen, "hostlist has more than %d nodes",
				 MAX_NODES);
			free(host);
			goto fail;
		}
		if (!ok) {
			snprintf(err, errlen, "invalid node name \"%.64s\"",
				 host);
			free(host);
			goto fail;
		}
		if (!node_list_contains(out, host))
			node_list_add(out, host);
		free(host);
	}
	rc = 0;
fail:
	slurm_hostlist_destroy(hl);
	if (rc < 0)
		node_list_free(out);
	return rc;
}

char *node_list_compress(const struct node_list *list)
{
	struct hostlist *hl = slurm_hostlist_create(NULL);
	char *ranged;
	size_t i;

	for (i = 0; i < list->count; i++)
		slurm_hostlist_push_host(hl, list->names[i]);
	ranged = compat_hostlist_ranged(hl);
	slurm_hostlist_destroy(hl);
	return ranged;
}
