/* nameset.c: open-addressing hash set of borrowed strings (FNV-1a). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "nameset.h"
#include "xmalloc.h"

void name_set_init(struct name_set *set)
{
	memset(set, 0, sizeof(*set));
}

/* The slot holding name, or the empty slot where it would go. */
static size_t slot_of(const struct name_set *set, const char *name)
{
	size_t i = (size_t)hash_string(name) & (set->cap - 1);

	while (set->slots[i] && strcmp(set->slots[i], name) != 0)
		i = (i + 1) & (set->cap - 1);
	return i;
}

static void grow(struct name_set *set)
{
	struct name_set bigger;
	size_t i;

	bigger.cap = set->cap ? set->cap * 2 : 64;
	bigger.count = 0;
	bigger.slots = xcalloc(bigger.cap, sizeof(*bigger.slots));
	bigger.values = xcalloc(bigger.cap, sizeof(*bigger.values));
	for (i = 0; i < set->cap; i++) {
		if (set->slots[i]) {
			size_t j = slot_of(&bigger, set->slots[i]);

			bigger.slots[j] = set->slots[i];
			bigger.values[j] = set->values[i];
			bigger.count++;
		}
	}
	free(set->slots);
	free(set->values);
	*set = bigger;
}

bool name_set_add(struct name_set *set, const char *name, size_t value)
{
	size_t i;

	/* Keep the load under one half: probes stay short. */
	if ((set->count + 1) * 2 > set->cap)
		grow(set);
	i = slot_of(set, name);
	if (set->slots[i])
		return false;
	set->slots[i] = name;
	set->values[i] = value;
	set->count++;
	return true;
}

bool name_set_find(const struct name_set *set, const char *name,
		   size_t *value)
{
	size_t i;

	if (!set->cap)
		return false;
	i = slot_of(set, name);
	if (!set->slots[i])
		return false;
	if (value)
		*value = set->values[i];
	return true;
}

void name_set_free(struct name_set *set)
{
	free(set->slots);
	free(set->values);
	memset(set, 0, sizeof(*set));
}
