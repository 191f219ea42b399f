/* log.c: syslog and LogFile output. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

static const char *level_names[] = {
	"quiet", "fatal", "error", "info", "verbose", "debug", "debug2",
	"debug3",
};

static struct {
	char program[64];
	char context[256];
	int level;
	int fd;
	bool use_syslog;
	bool to_stderr;
} logger = { "slurm-identity", "", LOG_LEVEL_INFO, -1, false, true };

int log_level_parse(const char *s)
{
	size_t i;
	char *end;
	long n;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 0 || n > LOG_LEVEL_DEBUG3)
		return -1;
	return (int)n;
}

void log_init(const char *program)
{
	snprintf(logger.program, sizeof(logger.program), "%s", program);
}

int log_open(const char *logfile, int level, bool use_syslog, bool to_stderr)
{
	log_close();
	logger.level = level;
	logger.to_stderr = to_stderr;
	if (logfile && *logfile) {
		int fd = open(logfile,
			      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				      O_NOFOLLOW,
			      0640);

		if (fd < 0)
			return -1;
		logger.fd = fd;
	}
	logger.use_syslog = use_syslog || !(logfile && *logfile);
	if (logger.use_syslog)
		openlog(logger.program, LOG_PID, LOG_DAEMON);
	return 0;
}

void log_close(void)
{
	if (logger.fd >= 0)
		close(logger.fd);
	logger.fd = -1;
	if (logger.use_syslog)
		closelog();
	logger.use_syslog = false;
}

void log_set_context(const char *nodes)
{
	snprintf(logger.context, sizeof(logger.context), "%s",
		 nodes ? nodes : "");
}

int log_get_level(void)
{
	return logger.level;
}

static int syslog_priority(int level)
{
	switch (level) {
	case LOG_LEVEL_FATAL:
		return LOG_CRIT;
	case LOG_LEVEL_ERROR:
		return LOG_ERR;
	case LOG_LEVEL_INFO:
		return LOG_INFO;
	case LOG_LEVEL_VERBOSE:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

/* Control characters from the network must not forge log lines. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void log_vwrite(int level, const char *fmt, va_list ap)
{
	struct strbuf msg, line;
	struct timeval tv;
	struct tm tm;
	char stamp[64];

	if (level > logger.level)
		return;
	strbuf_init(&msg);
	if (logger.context[0])
		strbuf_printf(&msg, "%s: ", logger.context);
	if (level == LOG_LEVEL_ERROR)
		strbuf_puts(&msg, "error: ");
	else if (level >= LOG_LEVEL_DEBUG)
		strbuf_printf(&msg, "%s: ", level_names[level]);
	strbuf_vprintf(&msg, fmt, ap);
	sanitize(msg.data);

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	strbuf_init(&line);
	strbuf_printf(&line, "[%s.%03ld] %s[%ld]: %s\n", stamp,
		      (long)(tv.tv_usec / 1000), logger.program,
		      (long)getpid(), msg.data);
	if (logger.fd >= 0) {
		/* One write(2) per line: O_APPEND keeps concurrent hooks'
		 * lines whole. */
		ssize_t ignored = write(logger.fd, line.data, line.len);
		(void)ignored;
	}
	if (logger.use_syslog)
		syslog(syslog_priority(level), "%s", msg.data);
	if (logger.to_stderr)
		fprintf(stderr, "%s: %s\n", logger.program, msg.data);
	strbuf_free(&line);
	strbuf_free(&msg);
}

/* Each keeps errno: callers log and then report strerror(errno). */
void log_error(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_info(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_verbose(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_VERBOSE, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
	errno = saved;
}
