/* hostlist.h: Slurm hostlists ("n[1-4],gpu7") to validated node names. */
#ifndef SLURM_IDENTITY_HOSTLIST_H
#define SLURM_IDENTITY_HOSTLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "nodename.h"

struct node_list {
	char **names;
	size_t count;
};

/* Expand and de-duplicate (order kept). -1 with err on a malformed list or
 * an invalid name; an empty string gives an empty list. */
int node_list_expand(const char *hostlist, struct node_list *out, char *err,
		     size_t errlen);
/* Compress names back to "n[1-4]"; caller frees. */
char *node_list_compress(const struct node_list *list);
void node_list_add(struct node_list *list, const char *name);
/* Append the names of src that dst does not have yet (linear time). */
void node_list_merge(struct node_list *dst, const struct node_list *src);
void node_list_free(struct node_list *list);

#endif
