/* atomic.h: replace a small file so that a crash at any instant leaves
 * either the old or the new content (write, fsync, rename, fsync dir). */
#ifndef SLURM_IDENTITY_ATOMIC_H
#define SLURM_IDENTITY_ATOMIC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int atomic_write_file(const char *path, const char *data, size_t len,
		      mode_t mode, char *err, size_t errlen);

/* The same inside an open directory: name is a plain file name in dirfd,
 * nothing is resolved by path again. */
int atomic_write_at(int dirfd, const char *name, const char *data, size_t len,
		    mode_t mode, char *err, size_t errlen);

/* Read the small file name in dirfd (never through a symlink) into a new
 * NUL-terminated buffer, at most max bytes (*len). NULL with *missing set
 * if there is no such file; NULL with err for any other failure. */
char *atomic_read_at(int dirfd, const char *name, size_t max, size_t *len,
		     bool *missing, char *err, size_t errlen);

#endif
