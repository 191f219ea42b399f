/* program.h: what every slurm-identity program does first.
 *
 * Find and load identity.conf, open the log, point the AWS layer at the
 * configured shared files, and create the AWS client when first needed.
 */
#ifndef SLURM_IDENTITY_PROGRAM_H
#define SLURM_IDENTITY_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/client.h"
#include "conf.h"

struct program {
	const char *name;
	char *conf_path;
	struct identity_conf conf;
	bool conf_loaded;
	struct aws_client *aws;
};

enum program_flags {
	/* Also log to stderr: a person runs it. */
	PROGRAM_INTERACTIVE = 1 << 0,
	/* A controller program: run as root, it becomes the owner of
	 * StateDir (SlurmUser) before it opens or writes anything there or
	 * in LogFile, so that nothing it leaves is root's where the hooks,
	 * which slurmctld runs as SlurmUser, must read and replace it. */
	PROGRAM_AS_STATE_OWNER = 1 << 1,
};

/* flags: enum program_flags. conf_path NULL: the default path. On
 * failure the error is logged (syslog) and returned in err. */
int program_start(struct program *p, const char *name, const char *conf_path,
		  unsigned flags, char *err, size_t errlen);
struct aws_client *program_aws(struct program *p, char *err, size_t errlen);
/* Close the AWS client and its connections (a long-running program that
 * forks holds none across the fork: the child would share them); the next
 * program_aws() makes a new one. */
void program_aws_drop(struct program *p);
/* ClusterName (our marks and tags name it): identity.conf's, else
 * slurmctld's. -1 with err if there is none. */
int program_need_cluster_name(struct program *p, char *err, size_t errlen);
void program_end(struct program *p);
/* The environment the program was started with, without the AWS_* file
 * settings program_start adds for our own use: for programs we chain. */
char *const *program_given_environ(void);

#endif
