/* mountinfo.h: the mount a path lives on, from /proc/self/mountinfo, for
 * what `check` says of StateDir's storage. */
#ifndef SLURM_IDENTITY_MOUNTINFO_H
#define SLURM_IDENTITY_MOUNTINFO_H

#include <stdbool.h>
#include <stdio.h>

struct mount_entry {
	char point[4096];	/* where it is mounted */
	char fstype[64];	/* "nfs4", "ext4", "lustre", ... */
	char source[1024];	/* "server:/export", "/dev/sda1" */
	char options[1024];	/* per-mount options: "rw,noatime" */
	char super[2048];	/* the filesystem's own: "vers=4.2,..." */
};

/* The mount holding path (an absolute, resolved path): the entry of in
 * (mountinfo(5) lines) whose mount point is the longest prefix of path.
 * 0, or -1 if none matches or a line cannot be read (err says which). */
int mountinfo_find(FILE *in, const char *path, struct mount_entry *out,
		   char *err, size_t errlen);

/* Does the comma-separated list hold option (name, or name=value when
 * option has no '='; then *value gets what follows '=')? */
bool mount_option(const char *list, const char *option, char *value,
		  size_t valuelen);

#endif
