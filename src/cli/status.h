/* status.h: "slurm-identity status": each node's identity at a glance. */
#ifndef SLURM_IDENTITY_STATUS_H
#define SLURM_IDENTITY_STATUS_H

#include <stdbool.h>

/* One libslurm node load plus the controller journal; no AWS call. */
int status_run(const char *conf_path, const char *hostlist, bool json);

#endif
