/* fence.h: the controller's long-lived processes (the worker, the
 * watcher) act only while the slurmctld of their host is in control
 * (common/ctld_ha.h). One fence per process; without fence_init() it
 * always holds, as for the hooks, which only slurmctld in control runs. */
#ifndef SLURM_IDENTITY_FENCE_H
#define SLURM_IDENTITY_FENCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Read slurm.conf's controllers once. With one SlurmctldHost (or no
 * slurm.conf to read) the fence always holds. */
void fence_init(void);

/* Is this host's slurmctld in control? Slurm's heartbeat is read at most
 * once a second (any thread). A fence found lost stays lost until
 * fence_wait() finds it held again: what began as the controller in
 * control does not go on after a gap. */
bool fence_holds(void);

/* Was the fence lost since fence_init() or the last fence_wait()? */
bool fence_lost(void);

/* Why the fence holds or not, for people. */
const char *fence_why(void);

/* fence_holds() as the AWS client's gate (aws_gate_fn): a call is not
 * sent once the fence is lost. */
bool fence_gate(char *why, size_t whylen);

/* Wait up to seconds (< 0: until *stop) for this host's slurmctld to be in
 * control; true when it is. stop may be NULL. */
bool fence_wait(double seconds, const volatile sig_atomic_t *stop);

#endif
