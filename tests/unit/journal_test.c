/* journal_test.c: per-node records: round trip, hostile values, listing,
 * locking. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/journal.h"
#include "common/xmalloc.h"
#include "tap.h"

/* How many .nodes.*.lock files the role has, -1 if one is not 0600. */
static int lock_files(const char *dir)
{
	char *path = xasprintf("%s/controller", dir);
	DIR *d = opendir(path);
	struct dirent *de;
	struct stat st;
	int n = 0;

	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, ".nodes.", 7) != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    (st.st_mode & 0777) != 0600)
			n = -1;
		else if (n >= 0)
			n++;
	}
	if (d)
		closedir(d);
	free(path);
	return n;
}

/* 1 when a child process cannot take node's lock, 0 when it can. */
static int lock_held_elsewhere(const char *dir, const char *node)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int fd = journal_lock(dir, "controller", node, 0);

		_exit(fd >= 0 ? 0 : errno == EWOULDBLOCK ? 1 : 2);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int main(void)
{
	char dir[] = "/tmp/journal_test.XXXXXX", err[512];
	struct journal_entry e, r;
	char **nodes = NULL, *path;
	size_t n = 0;
	struct stat st;
	int fd, fd2;

	if (!mkdtemp(dir))
		return 1;
	tap_is_int(journal_init(dir, "controller", err, sizeof(err)), 0, "init");
	path = xasprintf("%s/controller", dir);
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700,
	       "role directory is 0700");
	free(path);

	journal_entry_init(&e, "n1");
	journal_set(&e, "phase", "pending");
	journal_set(&e, "opsworks.id", "abc");
	journal_set(&e, "error", "line one\nphase=ready");
	journal_setf(&e, "count", "%d", 3);
	journal_set(&e, "phase", "deregistering");
	tap_is_int(journal_write(dir, "controller", &e, err, sizeof(err)), 0, "write");
	tap_is_int(journal_read(dir, "controller", "n1", &r, err, sizeof(err)), 0, "read back");
	tap_is_str(journal_get(&r, "phase"), "deregistering", "last set wins");
	tap_is_str(journal_get(&r, "opsworks.id"), "abc", "dotted key");
	tap_is_str(journal_get(&r, "error"), "line one phase=ready",
		   "a newline in a value cannot forge a field");
	tap_is_str(journal_get(&r, "count"), "3", "formatted value");
	tap_ok(journal_get(&r, "updated") != NULL, "write stamps the time");
	journal_unset(&r, "opsworks.id");
	tap_ok(journal_get(&r, "opsworks.id") == NULL, "unset");
	journal_entry_clear(&r);
	journal_entry_clear(&e);

	tap_is_int(journal_read(dir, "controller", "n9", &r, err, sizeof(err)), 1,
		   "a missing record is empty, not an error");
	tap_is_int(journal_read(dir, "controller", "../etc", &r, err, sizeof(err)), -1,
		   "a path as node name is refused");
	journal_entry_init(&e, "-rf");
	tap_is_int(journal_write(dir, "controller", &e, err, sizeof(err)), -1,
		   "an option-like node name is refused");
	journal_entry_clear(&e);

	fd = journal_lock(dir, "controller", "n1", 0);
	tap_ok(fd >= 0, "lock taken");
	fd2 = journal_lock(dir, "controller", "n1", 0);
	tap_ok(fd2 < 0 && errno == EWOULDBLOCK, "second lock refused without waiting");
	journal_unlock(fd);
	fd2 = journal_lock(dir, "controller", "n1", 100);
	tap_ok(fd2 >= 0, "lock free again after unlock");
	fd = journal_lock(dir, "controller", "n2", 0);
	tap_ok(fd >= 0, "another node's lock is its own");
	journal_unlock(fd);
	tap_ok(lock_held_elsewhere(dir, "n1") == 1,
	       "held in another process as well");
	tap_ok(lock_held_elsewhere(dir, "n2") == 0,
	       "which can take another node's");
	journal_unlock(fd2);
	tap_ok(lock_held_elsewhere(dir, "n1") == 0,
	       "and n1's once it is unlocked");
	tap_ok(journal_lock(dir, "controller", "../n1", 0) < 0,
	       "a path as node name is refused a lock");
	tap_ok(lock_files(dir) == 2,
	       "n1 and n2 locked in lock files of the role, mode 0600");
	path = xasprintf("%s/controller/.n1.lock", dir);
	tap_ok(access(path, F_OK) < 0 && errno == ENOENT,
	       "and no file per node");
	free(path);

	journal_entry_init(&e, "n2.example");
	journal_set(&e, "phase", "resuming");
	journal_write(dir, "controller", &e, err, sizeof(err));
	journal_entry_clear(&e);
	path = xasprintf("%s/controller/n3.tmp.123", dir);
	fclose(fopen(path, "w"));
	tap_is_int(journal_list(dir, "controller", &nodes, &n, err, sizeof(err)), 0, "list");
	tap_is_int((long)n, 2, "lists records only (no lock or temporary files)");
	journal_list_free(nodes, n);
	unlink(path);
	free(path);

	tap_is_int(journal_remove(dir, "controller", "n1", err, sizeof(err)), 0, "remove");
	tap_is_int(journal_remove(dir, "controller", "n1", err, sizeof(err)), 0,
		   "removing twice is harmless");

	/* StateDir checked like MUNGE checks its directories. */
	{
		char *open_dir = xasprintf("%s/open", dir), *bad = xasprintf("%s/bad", dir);
		char *sub = xasprintf("%s/bad/state", dir), *target = xasprintf("%s/elsewhere", dir);
		char *link = xasprintf("%s/state2", dir), *resume = xasprintf("%s/state2/resume", dir);

		mkdir(open_dir, 0700);
		chmod(open_dir, 0777);
		tap_ok(journal_init(open_dir, "controller", err, sizeof(err)) < 0 &&
			       strstr(err, "is writable by group or other (mode 0777): make it 0700"),
		       "a 0777 StateDir is refused: %s", err);
		mkdir(bad, 0700);
		chmod(bad, 0777);
		mkdir(sub, 0700);
		tap_ok(journal_init(sub, "controller", err, sizeof(err)) < 0 &&
			       strstr(err, "is insecure: writable by group or other (mode 0777)"),
		       "a StateDir below a world-writable directory is refused: %s", err);
		/* resume is a symlink to a directory of someone else's choice. */
		mkdir(target, 0700);
		mkdir(link, 0700);
		tap_ok(symlink(target, resume) == 0, "plant a symlink as StateDir/resume");
		tap_ok(journal_dir_fd(link, "resume", err, sizeof(err)) < 0 &&
			       strstr(err, "not a directory (a symlink?)"),
		       "it is refused, not followed: %s", err);
		journal_close_all();
		free(open_dir);
		free(bad);
		free(sub);
		free(target);
		free(link);
		free(resume);
	}
	/* Swapped after the check: the open descriptor still names the
	 * directory that was checked. */
	{
		char *sd = xasprintf("%s/state3", dir), *ctl = xasprintf("%s/state3/controller", dir);
		char *moved = xasprintf("%s/state3/moved", dir), *other = xasprintf("%s/other", dir);
		char *rec = xasprintf("%s/state3/moved/n5", dir), *leak = xasprintf("%s/other/n5", dir);

		mkdir(sd, 0700);
		tap_is_int(journal_init(sd, "controller", err, sizeof(err)), 0, "init a StateDir");
		mkdir(other, 0700);
		tap_ok(rename(ctl, moved) == 0 && symlink(other, ctl) == 0,
		       "swap StateDir/controller for a symlink");
		journal_entry_init(&e, "n5");
		journal_set(&e, "phase", "pending");
		tap_is_int(journal_write(sd, "controller", &e, err, sizeof(err)), 0,
			   "write after the swap");
		journal_entry_clear(&e);
		tap_ok(access(rec, F_OK) == 0 && access(leak, F_OK) != 0,
		       "the record went into the directory checked, not the symlink's target");
		journal_close_all();
		free(sd);
		free(ctl);
		free(moved);
		free(other);
		free(rec);
		free(leak);
	}
	journal_close_all();
	tap_remove_tree(dir);
	/* Phases: each word read back as written; the word an earlier
	 * suspend wrote is work still to do; a word we do not know is
	 * neither. */
	{
		static const enum journal_phase phases[] = {
			JOURNAL_PHASE_RESUMING, JOURNAL_PHASE_PENDING,
			JOURNAL_PHASE_REGISTERING, JOURNAL_PHASE_FAILED,
			JOURNAL_PHASE_READY,
		};
		struct journal_entry p;
		size_t k;

		journal_entry_init(&p, "n1");
		tap_is_int(journal_phase(&p), JOURNAL_PHASE_NONE,
			   "phase: none recorded");
		for (k = 0; k < sizeof(phases) / sizeof(phases[0]); k++) {
			journal_set_phase(&p, phases[k]);
			tap_ok(journal_phase(&p) == phases[k] &&
				       strcmp(journal_get(&p, "phase"),
					      journal_phase_name(phases[k])) == 0,
			       "phase: %s written and read back",
			       journal_phase_name(phases[k]));
		}
		tap_is_str(journal_phase_name(JOURNAL_PHASE_PENDING), "pending",
			   "phase: the file's word for pending");
		journal_set(&p, "phase", "deregistering");
		tap_is_int(journal_phase(&p), JOURNAL_PHASE_PENDING,
			   "phase: an earlier suspend's deregistering is pending");
		journal_set(&p, "phase", "Pending");
		tap_is_int(journal_phase(&p), JOURNAL_PHASE_UNKNOWN,
			   "phase: words are exact (Pending is unknown)");
		journal_set_phase(&p, JOURNAL_PHASE_NONE);
		tap_ok(journal_get(&p, "phase") == NULL,
		       "phase: none removes the field");
		journal_entry_clear(&p);
	}
	return tap_done();
}
