/* chain.h: run the cluster's own power program (ChainResumeProgram=, ...)
 * with the argv and environment Slurm gave us. */
#ifndef SLURM_IDENTITY_CHAIN_H
#define SLURM_IDENTITY_CHAIN_H

#include <sys/types.h>

/* Start program with argv[1] = hostlist; returns the pid or -1. */
pid_t chain_start(const char *program, const char *hostlist);
/* Wait for pid until deadline (clock_monotonic(), 0: forever). Returns
 * its exit status as a shell would (128+signal), or -1 if it is still
 * running at the deadline (it is left running: Slurm's own timeout applies
 * to it as to us). */
int chain_wait(pid_t pid, double deadline);

#endif
