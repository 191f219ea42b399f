/* log.h: logging to syslog and/or a LogFile, with Slurm-like timestamps.
 *
 * Every line names the program and, once set, the node or hostlist it is
 * about. There is deliberately no way to log a struct secret.
 */
#ifndef SLURM_IDENTITY_LOG_H
#define SLURM_IDENTITY_LOG_H

#include <stdbool.h>

/* The levels of slurm.conf's SlurmctldDebug, in the same order. */
enum log_level {
	LOG_LEVEL_QUIET = 0,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_INFO,
	LOG_LEVEL_VERBOSE,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_DEBUG2,
	LOG_LEVEL_DEBUG3,
};

/* Parse "info", "debug2", ... or a number 0-7; -1 if unknown. */
int log_level_parse(const char *s);

/* Before log_open() (or if it never runs) lines go to stderr only. */
void log_init(const char *program);
/* logfile may be NULL; syslog is used when logfile is NULL or use_syslog.
 * to_stderr also copies lines to stderr (interactive commands).
 * Returns -1 (errno set) if logfile cannot be opened. */
int log_open(const char *logfile, int level, bool use_syslog, bool to_stderr);
void log_close(void);
/* The node(s) every following line is about; NULL clears. */
void log_set_context(const char *nodes);
int log_get_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
