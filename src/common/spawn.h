/* spawn.h: run a helper program (adcli, ldapsearch, ...) safely.
 *
 * The program is run by absolute path with an argv we build (never a
 * shell), a small fixed environment, and a deadline. A secret goes to the
 * child through a pipe only: on its stdin, or on file descriptor 3 for
 * tools that read a password file (ldapmodify -y /dev/fd/3). Its output is
 * captured, bounded, for the caller's error message.
 */
#ifndef SLURM_IDENTITY_SPAWN_H
#define SLURM_IDENTITY_SPAWN_H

#include <stddef.h>

#include "secret.h"
#include "xmalloc.h"

struct spawn {
	const char *path;		/* absolute path */
	const char *const *argv;	/* argv[0] .. NULL */
	const char *const *env;		/* extra "K=V" entries, NULL-terminated */
	const struct secret *stdin_secret;	/* then stdin_text, else /dev/null */
	const char *stdin_text;		/* non-secret input (LDIF) */
	const struct secret *fd3_secret;	/* readable as /dev/fd/3 */
	double timeout;			/* seconds; 0: 60 */
	const char *uts_hostname;	/* run under this host name (root) */
	size_t output_max;		/* bytes of output; 0: 64 KiB */
};

/* Run and wait. Returns the exit status (128+signal when killed, 124 on
 * timeout, 126 if the child could not be set up) or -1 if it could not
 * start or wrote more than output_max (err says why: a cut-off answer is
 * never taken for the whole one). out receives stdout and stderr. */
int spawn_run(const struct spawn *s, struct strbuf *out, char *err,
	      size_t errlen);

/* The first non-empty line of text, trimmed, for one-line errors. */
void spawn_first_line(const char *text, char *buf, size_t len);

#endif
