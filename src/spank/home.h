/* home.h: create a job user's missing home directory, safely. */
#ifndef SPANK_IDENTITY_HOME_H
#define SPANK_IDENTITY_HOME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "args.h"

/* Make home (which must be home_base/<name>) for uid:gid from the
 * skeleton, if missing. *created tells whether it did. A symlink or a
 * non-directory in its place is refused, never followed. Returns 0, or -1
 * with the reason in err. Runs as root. */
int home_ensure(const struct spank_identity_args *a, const char *home,
		uid_t uid, gid_t gid, bool *created, char *err, size_t errlen);

#endif
