/* spawn.c: fork, exec and feed a helper program. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws/clock.h"
#include "spawn.h"

/* Seconds a helper program may run when its caller sets no timeout. */
#define SPAWN_DEFAULT_TIMEOUT 60

#define OUTPUT_MAX (64 * 1024)	/* unless the caller says */
#define ENV_MAX 16

/* Move fd out of the way of 0-3, so that dup2 onto its target always
 * makes a new descriptor (dup2 onto itself would keep close-on-exec). */
static int high(int fd)
{
	return fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 10) : -1;
}

static void child(const struct spawn *s, int in_fd, int fd3, int out_fd)
{
	const char *env[ENV_MAX + 2];
	size_t n = 0;
	int in, out, f3;

	/* No HOME, and LDAPNOINIT: the OpenLDAP library in a helper reads
	 * no ldap.conf, no ldaprc (it looks in the working directory and the
	 * home) and no LDAP* variables. */
	env[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	env[n++] = "LDAPNOINIT=1";
	for (size_t i = 0; s->env && s->env[i] && n < ENV_MAX; i++)
		env[n++] = s->env[i];
	env[n] = NULL;

	in = high(in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY | O_CLOEXEC));
	out = high(out_fd);
	f3 = high(fd3);
	if (in < 0 || out < 0 || (fd3 >= 0 && f3 < 0) || dup2(in, 0) < 0 ||
	    dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	if (f3 >= 0 ? dup2(f3, 3) < 0 : (close(3), 0))
		_exit(126);
	closefrom(4);
	/* A fixed working directory: nothing in the caller's (a user's /tmp
	 * or home) is read as configuration. */
	if (chdir("/") < 0)
		_exit(126);
	if (s->uts_hostname &&
	    (unshare(CLONE_NEWUTS) < 0 ||
	     sethostname(s->uts_hostname, strlen(s->uts_hostname)) < 0))
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	execve(s->path, (char *const *)s->argv, (char *const *)env);
	_exit(127);
}

/* Fill a pipe with a secret; it is small, so it fits the pipe buffer and
 * the child reads it at leisure. */
static int secret_pipe(const struct secret *sec, char *err, size_t errlen)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (secret_len(sec) > 60000 || secret_write_fd(sec, p[1], false) < 0) {
		snprintf(err, errlen, "cannot pass input to the helper");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	return p[0];
}

int spawn_run(const struct spawn *s, struct strbuf *out, char *err,
	      size_t errlen)
{
	double timeout = s->timeout > 0 ? s->timeout : SPAWN_DEFAULT_TIMEOUT;
	double deadline = clock_monotonic() + timeout;
	int in_fd = -1, fd3 = -1, op[2] = { -1, -1 }, status = 0, rc = -1;
	size_t output_max = s->output_max ? s->output_max : OUTPUT_MAX;
	bool timed_out = false, eof = false, too_long = false;
	pid_t pid;

	strbuf_reset(out);
	if (!s->path || s->path[0] != '/') {
		snprintf(err, errlen, "helper %s: not an absolute path",
			 s->path ? s->path : "(none)");
		return -1;
	}
	if (access(s->path, X_OK) < 0) {
		snprintf(err, errlen, "helper %s: %s", s->path, strerror(errno));
		return -1;
	}
	if (s->stdin_secret &&
	    (in_fd = secret_pipe(s->stdin_secret, err, errlen)) < 0)
		goto out;
	if (s->fd3_secret && (fd3 = secret_pipe(s->fd3_secret, err, errlen)) < 0)
		goto out;
	if (pipe2(op, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(s, in_fd, fd3, op[1]);
	close(op[1]);
	op[1] = -1;

	while (!eof) {
		struct pollfd pfd = { op[0], POLLIN, 0 };
		double left = deadline - clock_monotonic();
		char buf[4096];
		ssize_t r;

		if (left <= 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!pfd.revents)
			continue;
		r = read(op[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			eof = true;
		else if (out->len + (size_t)r <= output_max)
			strbuf_append(out, buf, (size_t)r);
		else
			too_long = true;	/* read on, so it can finish */
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		snprintf(err, errlen, "%s timed out after %.0f s", s->argv[0],
			 timeout);
		rc = 124;
	} else if (too_long) {
		snprintf(err, errlen, "%s wrote more than %zu bytes; its answer is not used",
			 s->argv[0], output_max);
		rc = -1;
	} else if (WIFEXITED(status)) {
		rc = WEXITSTATUS(status);
		if (rc == 127)
			snprintf(err, errlen, "cannot execute %s", s->path);
		else if (rc == 126)
			snprintf(err, errlen, "cannot set up %s", s->argv[0]);
	} else {
		rc = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		snprintf(err, errlen, "%s killed by signal %d", s->argv[0],
			 rc - 128);
	}
out:
	if (in_fd >= 0)
		close(in_fd);
	if (fd3 >= 0)
		close(fd3);
	if (op[0] >= 0)
		close(op[0]);
	if (op[1] >= 0)
		close(op[1]);
	return rc;
}

void spawn_first_line(const char *text, char *buf, size_t len)
{
	const char *p = text ? text : "";

	buf[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, "\n");
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		if (*str_trim(line)) {
			snprintf(buf, len, "%s", str_trim(line));
			return;
		}
		p += n + (p[n] == '\n');
	}
}
