/* args.h: spank_identity.so arguments from plugstack.conf.
 *
 *   required spank_identity.so [statedir=PATH] [wait=SECONDS]
 *       [home=create|off] [home_base=DIR] [home_mode=OCTAL] [skel=DIR]
 *
 * Parsed strictly in every context that needs them (they are different
 * processes): an unknown key or a bad value fails plugin loading, so a
 * broken plugstack.conf is seen at slurmd start and in srun.
 */
#ifndef SPANK_IDENTITY_ARGS_H
#define SPANK_IDENTITY_ARGS_H

#include <stdbool.h>
#include <sys/types.h>

#define ARG_PATH_MAX 1024

struct spank_identity_args {
	char state_dir[ARG_PATH_MAX];
	int wait_seconds;	/* how long a step waits for identity */
	bool create_home;
	char home_base[ARG_PATH_MAX];
	mode_t home_mode;
	char skel[ARG_PATH_MAX];
};

/* Is home one we manage: exactly one component below home_base
 * (/home/alice for home_base=/home; not /home2/x, /home/grp/x)? Other
 * homes are left alone, neither created nor refused. */
bool args_home_managed(const struct spank_identity_args *a, const char *home);

/* 0, or -1 with a message in err. */
int args_parse(int argc, char **argv, struct spank_identity_args *a,
	       char *err, size_t errlen);

#endif
