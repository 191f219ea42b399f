/* check_ha.h: what a cluster with a backup controller needs of StateDir
 * and of the timeouts (check.c runs it). */
#ifndef SLURM_IDENTITY_CHECK_HA_H
#define SLURM_IDENTITY_CHECK_HA_H

#include "backends/backend.h"
#include "common/conf.h"

void check_ha(const struct identity_conf *conf, const struct check_report *r);

#endif
