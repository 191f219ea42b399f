/* journal.h: what we intend to do and have done per node, on disk.
 *
 * One small file per node and role under StateDir ("controller/n1",
 * "node/n1"), Key=Value lines, replaced atomically (write, fsync, rename,
 * fsync the directory) so kill -9 at any instant leaves either the old or
 * the new record. A per-node lock file serialises concurrent hooks.
 */
#ifndef SLURM_IDENTITY_JOURNAL_H
#define SLURM_IDENTITY_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#define JOURNAL_MAX_FIELDS 32

struct journal_field {
	char *key;
	char *value;
};

struct journal_entry {
	char node[65];
	struct journal_field fields[JOURNAL_MAX_FIELDS];
	size_t count;
};

/* Create StateDir/role (0700) if needed, check it and hold it open:
 * StateDir must be ours, not a symlink and not writable by group or other,
 * every directory above it owned by root or us and not writable by others
 * (sticky excepted); role the same. Everything below is done relative to
 * the descriptor opened here. */
int journal_init(const char *state_dir, const char *role, char *err,
		 size_t errlen);
/* The checked, open StateDir/role (created if needed), for files of our
 * own there (the resume copies); not to be closed by the caller. */
int journal_dir_fd(const char *state_dir, const char *role, char *err,
		   size_t errlen);
/* A small file of our own in StateDir/role (a batch, learned rates): read
 * whole into a new NUL-terminated buffer of at most max bytes; NULL with
 * *absent set (err untouched) if there is none, else NULL with err set.
 * Written by atomic replacement, mode 0600. */
char *journal_file_read(const char *state_dir, const char *role,
			const char *name, size_t max, size_t *len, bool *absent,
			char *err, size_t errlen);
int journal_file_write(const char *state_dir, const char *role,
		       const char *name, const char *data, size_t len,
		       char *err, size_t errlen);
/* Close what journal_init opened (at exit; valgrind). */
void journal_close_all(void);
/* Read; a missing file gives an empty entry and returns 1. */
int journal_read(const char *state_dir, const char *role, const char *node,
		 struct journal_entry *e, char *err, size_t errlen);
int journal_write(const char *state_dir, const char *role,
		  const struct journal_entry *e, char *err, size_t errlen);
int journal_remove(const char *state_dir, const char *role, const char *node,
		   char *err, size_t errlen);
/* journal_remove without syncing the directory, for many records in a
 * row; journal_sync once after them. (A removal lost in a crash leaves a
 * record that says more work is due: reconcile settles it.) */
int journal_forget(const char *state_dir, const char *role, const char *node,
		   char *err, size_t errlen);
void journal_sync(const char *state_dir, const char *role);
/* Node names that have a record under role (caller frees with
 * journal_list_free). */
int journal_list(const char *state_dir, const char *role, char ***nodes,
		 size_t *count, char *err, size_t errlen);
void journal_list_free(char **nodes, size_t count);
/* The names in StateDir/role that keep() accepts (free with
 * journal_list_free); a missing directory has none. */
int journal_dir_list(const char *state_dir, const char *role,
		     bool (*keep)(const char *name), char ***names, size_t *count,
		     char *err, size_t errlen);

/* Where a node's record stands ("phase=" in the file). The controller
 * writes resuming and pending; the node writes registering, failed and
 * ready. */
enum journal_phase {
	JOURNAL_PHASE_NONE,		/* no phase recorded */
	JOURNAL_PHASE_RESUMING,		/* resumed; prepared for its boot */
	JOURNAL_PHASE_PENDING,		/* removals still to do */
	JOURNAL_PHASE_REGISTERING,	/* the node is registering */
	JOURNAL_PHASE_FAILED,		/* the node's registration failed */
	JOURNAL_PHASE_READY,		/* the node is registered */
	JOURNAL_PHASE_UNKNOWN,		/* a word we do not know */
};

enum journal_phase journal_phase(const struct journal_entry *e);
void journal_set_phase(struct journal_entry *e, enum journal_phase phase);
/* The word in the file ("pending"); "" for none, "unknown". */
const char *journal_phase_name(enum journal_phase phase);

const char *journal_get(const struct journal_entry *e, const char *key);
void journal_set(struct journal_entry *e, const char *key, const char *value);
void journal_setf(struct journal_entry *e, const char *key, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));
void journal_unset(struct journal_entry *e, const char *key);
void journal_entry_init(struct journal_entry *e, const char *node);
void journal_entry_clear(struct journal_entry *e);

/* Per-node lock: returns an fd to pass to journal_unlock, or -1. With
 * wait_ms 0 it does not block (-1 and errno EWOULDBLOCK when held). */
int journal_lock(const char *state_dir, const char *role, const char *node,
		 int wait_ms);
void journal_unlock(int fd);

#endif
