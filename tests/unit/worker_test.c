/* worker_test.c: the deregistration worker on queue contents it cannot
 * use. A queue holding only an empty batch, or only a damaged one, lets
 * the worker finish at once (no loop on it, no CPU burnt); a damaged batch
 * is kept aside under a name the queue does not list, with its name in
 * the log, and never deleted with the batches that were done. No
 * slurmctld and no backend here: the worker runs for real, detached, as a
 * hook starts it. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/journal.h"
#include "common/program.h"
#include "common/xmalloc.h"
#include "controller/queue.h"
#include "controller/worker.h"
#include "tap.h"

static char dir[] = "/tmp/worker_test.XXXXXX";
static char *conf_path;

/* Does a worker hold the queue's lock? (The test's own probe.) */
static int lock_held(void)
{
	char *lock = xasprintf("%s/state/queue/.worker.lock", dir);
	int fd = open(lock, O_RDONLY | O_CLOEXEC), held = 0;

	if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		held = 1;
	if (fd >= 0)
		close(fd);
	free(lock);
	return held;
}

/* The running worker's pid, which it writes into the lock file. */
static long worker_pid(void)
{
	char *text = tap_read_file(dir, "state/queue/.worker.lock");
	long pid = strtol(text, NULL, 10);

	free(text);
	return pid;
}

/* CPU seconds (user + system) of pid so far, from /proc. */
static double cpu_seconds(long pid)
{
	char path[64], buf[2048], *p;
	unsigned long utime = 0, stime = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	if (!fgets(buf, sizeof(buf), fp))
		buf[0] = '\0';
	fclose(fp);
	p = strrchr(buf, ')');
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			&utime, &stime) == 2)
		return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

/* Start a worker on the queue as it is, as a hook does. */
static int start_worker(void)
{
	struct program prog;
	char err[512];
	int rc;

	if (program_start(&prog, "worker_test", conf_path, false, err,
			  sizeof(err)) < 0) {
		tap_ok(0, "program_start: %s", err);
		return -1;
	}
	rc = worker_ensure(&prog);
	program_end(&prog);
	return rc;
}

/* Stop the running worker (by the pid it wrote); the CPU it used. */
static double stop_worker(void)
{
	long pid = worker_pid();
	double cpu;
	int i;

	if (pid <= 0)
		return 0;
	cpu = cpu_seconds(pid);
	kill((pid_t)pid, SIGKILL);
	for (i = 0; i < 100 && lock_held(); i++)
		usleep(20000);
	return cpu;
}

/* Start a worker; wait up to secs for it to end. 1 if it ended; else it
 * is stopped, with the CPU it used in *cpu. */
static int worker_finishes(double secs, double *cpu)
{
	int i;

	*cpu = 0;
	if (start_worker() < 0)
		return 0;
	for (i = 0; i < (int)(secs * 20); i++) {
		if (!lock_held())
			return 1;
		usleep(50000);
	}
	*cpu = stop_worker();
	return 0;
}

static int exists(const char *name)
{
	char *path = xasprintf("%s/state/queue/%s", dir, name);
	struct stat st;
	int rc = lstat(path, &st) == 0;

	free(path);
	return rc;
}

static void plant(const char *name, const char *text)
{
	char *sub = xasprintf("%s/state/queue", dir);

	tap_write_file(sub, name, text);
	free(sub);
}

int main(void)
{
	const char *empty = "00000000000000000001.000000001-1.batch";
	const char *damaged = "00000000000000000002.000000001-1.batch";
	char *text, *state, *log, *slurm_conf, **names = NULL;
	size_t count = 0;
	double cpu = 0;
	int done, i;

	if (!mkdtemp(dir))
		return 1;
	state = xasprintf("%s/state", dir);
	log = xasprintf("%s/identity.log", dir);
	mkdir(state, 0700);
	text = xasprintf("ClusterName=wt\nStateDir=%s\nLogFile=%s\nDebugLevel=verbose\n",
			 state, log);
	tap_write_file(dir, "identity.conf", text);
	free(text);
	/* A slurmctld no one runs (port 1: connections are refused). */
	tap_write_file(dir, "slurm.conf",
		       "ClusterName=wt\nSlurmctldHost=localhost(127.0.0.1)\n"
		       "SlurmctldPort=1\nAuthType=auth/munge\n"
		       "NodeName=n1 CPUs=1 State=CLOUD\nPartitionName=p Nodes=n1\n");
	slurm_conf = xasprintf("%s/slurm.conf", dir);
	chmod(slurm_conf, 0644);
	conf_path = xasprintf("%s/identity.conf", dir);
	chmod(conf_path, 0644);
	setenv("SLURM_CONF", slurm_conf, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	tap_is_int(queue_list(state, &names, &count, NULL, 0), 0, "an empty queue");
	queue_names_free(names, count);

	plant(empty, "nodes=\n");
	done = worker_finishes(3, &cpu);
	if (!tap_ok(done, "a queue holding only an empty batch: the worker finishes"))
		printf("#   still running after 3 s, %.2f s of CPU\n", cpu);
	tap_ok(!exists(empty), "and the empty batch is gone (it was done)");

	plant(damaged, "garbage\n");
	done = worker_finishes(3, &cpu);
	if (!tap_ok(done, "a queue holding only a damaged batch: the worker finishes"))
		printf("#   still running after 3 s, %.2f s of CPU\n", cpu);
	tap_ok(!exists(damaged), "the damaged batch is no longer queued");
	text = xasprintf("%s.damaged", damaged);
	tap_ok(exists(text), "it is kept aside as %s", text);
	free(text);
	text = tap_read_file(dir, "identity.log");
	tap_ok(strstr(text, "worker: error: queue: ") &&
		       strstr(text, "not a batch we wrote; kept aside as 00000000000000000002.000000001-1.batch.damaged\n"),
	       "the log names it");
	tap_ok(!strstr(text, "worker: worker"), "one \"worker:\" prefix per line");
	free(text);
	queue_list(state, &names, &count, NULL, 0);
	tap_is_int((long)count, 0, "nothing is queued");
	queue_names_free(names, count);

	/* A damaged batch beside a good one: the good one is removed once
	 * its pass is over, the damaged one kept aside, not deleted with it.
	 * Its node cannot be checked with Slurm here (no slurmctld at the
	 * port slurm.conf names): it stays pending for the next round, and
	 * the worker, waiting to retry, is stopped. */
	plant("00000000000000000003.000000001-1.batch", "nodes=n1\n");
	plant("00000000000000000004.000000001-1.batch", "nodes=bad name\n");
	start_worker();
	for (i = 0; i < 600 && exists("00000000000000000003.000000001-1.batch"); i++)
		usleep(50000);
	tap_ok(!exists("00000000000000000003.000000001-1.batch"),
	       "the good batch is removed after its pass");
	tap_ok(exists("00000000000000000004.000000001-1.batch.damaged"),
	       "the damaged one beside it is kept aside, not deleted");
	text = tap_read_file(dir, "identity.log");
	if (!tap_ok(strstr(text, "worker: 1 node(s) done in") != NULL,
		    "the pass is logged once done"))
		printf("# log:\n%s", text);
	free(text);
	usleep(500000);
	done = !lock_held();
	tap_ok(!done && worker_running(state),
	       "worker_running() sees the worker that holds the lock");
	cpu = stop_worker();
	tap_ok(!done && cpu < 0.3, "waiting to retry, the worker sleeps (%.2f s of CPU)",
	       cpu);
	tap_ok(!worker_running(state), "and not once it is gone");

	journal_close_all();
	tap_remove_tree(dir);
	free(state);
	free(log);
	free(slurm_conf);
	free(conf_path);
	return tap_done();
}
