/* nameset.h: a set of short strings (node names, ids) with constant-time
 * lookups, so that work on N nodes stays linear at 10,000 nodes. */
#ifndef SLURM_IDENTITY_NAMESET_H
#define SLURM_IDENTITY_NAMESET_H

#include <stdbool.h>
#include <stddef.h>

struct name_set {
	const char **slots;	/* open addressing; NULL is empty */
	size_t *values;		/* what each name maps to (an index) */
	size_t cap;		/* a power of two */
	size_t count;
};

void name_set_init(struct name_set *set);
/* Add name (not copied: it must outlive the set) with value. False if it
 * was there already (value not changed). */
bool name_set_add(struct name_set *set, const char *name, size_t value);
/* True if name is in the set; its value in *value if value is not NULL. */
bool name_set_find(const struct name_set *set, const char *name,
		   size_t *value);
void name_set_free(struct name_set *set);

#endif
