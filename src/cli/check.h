/* check.h: "slurm-identity check": is this configuration able to work? */
#ifndef SLURM_IDENTITY_CHECK_H
#define SLURM_IDENTITY_CHECK_H

/* Runs every check, one line each; returns 0 only if all passed. */
int check_run(const char *conf_path, int verbose);

#endif
