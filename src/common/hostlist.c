/* hostlist.c: hostlist expansion over libslurm's hostlist API. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>

#include "hostlist.h"
#include "nameset.h"
#include "slurm_compat.h"
#include "xmalloc.h"

/* libslurm would accept about anything; cap what a hook will fan out to. */
#define MAX_NODES 100000

void node_list_merge(struct node_list *dst, const struct node_list *src)
{
	struct name_set have;
	size_t i;

	name_set_init(&have);
	for (i = 0; i < dst->count; i++)
		name_set_add(&have, dst->names[i], i);
	/* Names are added to the set as they are copied: src may repeat. */
	for (i = 0; i < src->count; i++) {
		if (name_set_find(&have, src->names[i], NULL))
			continue;
		node_list_add(dst, src->names[i]);
		name_set_add(&have, dst->names[dst->count - 1], dst->count - 1);
	}
	name_set_free(&have);
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

/* A bracket number: at most NAME_DIGITS_MAX digits (nodename.h). */
static bool read_number(const char **s, unsigned long long *out)
{
	size_t n = 0;

	*out = 0;
	while (isdigit((unsigned char)**s)) {
		if (++n > NAME_DIGITS_MAX)
			return false;
		*out = *out * 10 + (unsigned long long)(**s - '0');
		(*s)++;
	}
	return n > 0;
}

/* How many names an expression (already syntax-checked) expands to,
 * counted without expanding it, so that libslurm never sees a list it
 * would spend gigabytes on; at most max + 1. -1 if a range is malformed
 * (empty, reversed, or a number too long to be a node name's). */
static long long hostlist_count(const char *s, size_t max)
{
	unsigned long long total = 0, item = 1, group = 0;
	bool in_group = false;

	for (;;) {
		if (!in_group && (*s == ',' || *s == '\0')) {
			total += item;
			if (total > max)
				return (long long)max + 1;
			if (!*s)
				return (long long)total;
			item = 1;
			s++;
			continue;
		}
		if (*s == '[') {
			in_group = true;
			group = 0;
			s++;
		}
		if (in_group) {
			unsigned long long lo, hi;

			if (!read_number(&s, &lo))
				return -1;
			hi = lo;
			if (*s == '-') {
				s++;
				if (!read_number(&s, &hi) || hi < lo)
					return -1;
			}
			group += hi - lo + 1;
			if (group > max)
				group = max + 1;
			if (*s == ',') {
				s++;
				continue;
			}
			if (*s != ']')
				return -1;
			in_group = false;
			item *= group;
			if (item > max)
				item = max + 1;
		}
		s++;
	}
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
	struct name_set seen;
	long long count, shifted = 0;
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
	count = hostlist_count(hostlist, MAX_NODES);
	if (count < 0) {
		snprintf(err, errlen, "invalid range in hostlist \"%.64s\"",
			 hostlist);
		return -1;
	}
	if (count > MAX_NODES) {
		snprintf(err, errlen, "hostlist has more than %d nodes",
			 MAX_NODES);
		return -1;
	}
	hl = slurm_hostlist_create(hostlist);
	if (!hl) {
		snprintf(err, errlen, "invalid hostlist \"%.64s\"", hostlist);
		return -1;
	}
	out->names = xcalloc((size_t)count + 1, sizeof(*out->names));
	name_set_init(&seen);
	while ((host = slurm_hostlist_shift(hl))) {
		if (!node_name_valid(host)) {
			snprintf(err, errlen, "invalid node name \"%.64s\"",
				 host);
			free(host);
			goto fail;
		}
		if (++shifted > count) {
			free(host);
			break;
		}
		if (name_set_add(&seen, host, out->count))
			out->names[out->count++] = host;
		else
			free(host);
	}
	/* Every name counted, no more and no fewer: a list libslurm read
	 * differently from us is not acted on. */
	if (shifted != count) {
		snprintf(err, errlen, "hostlist \"%.64s\" expands to %lld names where %lld were expected",
			 hostlist, shifted, count);
		goto fail;
	}
	rc = 0;
fail:
	name_set_free(&seen);
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
