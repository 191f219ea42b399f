/* chain.c: fork and exec the chained cloud program. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/aws/clock.h"
#include "common/log.h"
#include "common/program.h"
#include "common/secret.h"
#include "chain.h"

pid_t chain_start(const char *program, const char *hostlist)
{
	pid_t pid;

	if (access(program, X_OK) < 0) {
		log_error("chain: %s is not executable: %s", program,
			  strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_error("chain: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Exactly what Slurm gave us: same argv shape, environment
		 * (not identity.conf's AWS settings), limits, signal mask and
		 * standard streams. Nothing else: our libcurl sockets, journal
		 * and lock descriptors, and whatever slurmctld leaked to us,
		 * are not the cloud program's to hold (a lock held by it would
		 * outlive us). */
		char *argv[] = { (char *)program, (char *)hostlist, NULL };

		closefrom(3);
		secret_unprotect_for_exec();
		execve(program, argv, program_given_environ());
		_exit(127);
	}
	log_verbose("chain: started %s %s (pid %ld)", program, hostlist,
		    (long)pid);
	return pid;
}

int chain_wait(pid_t pid, double deadline)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, deadline > 0 ? WNOHANG : 0);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			log_error("chain: waitpid: %s", strerror(errno));
			return -1;
		}
		if (deadline > 0 && clock_monotonic() >= deadline)
			return -1;
		if (r == 0)
			usleep(20000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}
