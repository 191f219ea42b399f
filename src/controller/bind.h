/* bind.h: each prepared node's join secret bound to the instance it is
 * for (JoinSecretBinding), once EC2 shows which instance that is: by the
 * private IP Slurm has as the node's NodeAddr (set by the cloud's
 * program), or by an EC2 tag the cloud's launcher sets to the node name.
 * Nodes cannot set either on themselves. */
#ifndef SLURM_IDENTITY_BIND_H
#define SLURM_IDENTITY_BIND_H

#include "controller.h"

/* Is binding configured (and a backend binds)? */
bool controller_binds(const struct controller *c);

/* One round over nodes: those bound, or no longer coming up or up in
 * Slurm, are done; the others (no instance yet, two claiming one node,
 * a failed call) go into left, each said in the log. */
void controller_bind(struct controller *c, const struct node_list *nodes,
		     struct node_list *left);

#endif
