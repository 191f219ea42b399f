/* nodename.h: Slurm node names we accept, and this node's own name. */
#ifndef SLURM_IDENTITY_NODENAME_H
#define SLURM_IDENTITY_NODENAME_H

#include <stdbool.h>
#include <stddef.h>

#define NODE_NAME_MAX 64
/* Slurm reads the digits of a name as a number (n12 is 12 of "n"); past
 * 18 digits that number saturates and two names become one. */
#define NAME_DIGITS_MAX 18

/* A node name we accept: 1-64 of [A-Za-z0-9._-], not starting with '-' or
 * '.', no run of more than NAME_DIGITS_MAX digits, so it can never be read
 * as an option or a path, nor mistaken by Slurm for another. */
bool node_name_valid(const char *name);

/* This node's Slurm name: SLURMD_NODENAME (as slurmd gives it to the
 * prolog), else the short host name. -1 with err if it is not valid. */
int node_own_name(char *out, size_t len, char *err, size_t errlen);

#endif
