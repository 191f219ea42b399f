/* secret.c: self-wiping secret buffers. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>


#include "secret.h"
#include "xmalloc.h"

struct secret {
	unsigned char *data;
	size_t len;
};

/* len bytes from the kernel's random source. */
static int random_bytes(unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* Keep a secret's pages out of swap where RLIMIT_MEMLOCK allows; a
 * refusal is not an error (the limit is the administrator's call). */
static void lock_pages(const void *p, size_t len)
{
	(void)mlock(p, len);
}

struct secret *secret_new(const void *data, size_t len)
{
	struct secret *s = xmalloc(sizeof(*s));

	/* One spare NUL byte so callers that need C strings need no copy. */
	s->data = xmalloc(len + 1);
	lock_pages(s->data, len + 1);
	memcpy(s->data, data, len);
	s->data[len] = '\0';
	s->len = len;
	return s;
}

struct secret *secret_from_string(const char *str)
{
	return secret_new(str, strlen(str));
}

struct secret *secret_random_password(size_t len)
{
	/* No quote, backslash or shell metacharacters: the password may pass
	 * through tools that split or escape. 64 symbols (base64url's) give 6
	 * bits each, and a random byte's low 6 bits pick one without bias
	 * (a modulo by any other count favours the first symbols). */
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	_Static_assert(sizeof(alphabet) - 1 == 64, "64 symbols");
	unsigned char *raw = xmalloc(len);
	struct secret *s;
	size_t i;

	if (random_bytes(raw, len) < 0) {
		free(raw);
		return NULL;
	}
	s = xmalloc(sizeof(*s));
	s->data = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		s->data[i] = (unsigned char)alphabet[raw[i] & 63];
	s->data[len] = '\0';
	s->len = len;
	explicit_bzero(raw, len);
	free(raw);
	return s;
}

struct secret *secret_dup(const struct secret *s)
{
	return secret_new(s->data, s->len);
}

void secret_free(struct secret *s)
{
	if (!s)
		return;
	explicit_bzero(s->data, s->len + 1);
	(void)munlock(s->data, s->len + 1);
	free(s->data);
	free(s);
}

struct secret *secret_read_fd(int fd, size_t max, char *err, size_t errlen)
{
	size_t cap = 4096, len = 0;
	unsigned char *buf = xmalloc(cap + 1);
	struct secret *s;

	lock_pages(buf, cap + 1);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			/* Grow by hand: realloc would leave an unwiped copy. */
			unsigned char *bigger;

			if (cap >= max) {
				snprintf(err, errlen, "larger than %zu bytes", max);
				goto fail;
			}
			bigger = xmalloc(cap * 2 + 1);
			lock_pages(bigger, cap * 2 + 1);
			memcpy(bigger, buf, len);
			explicit_bzero(buf, cap + 1);
			(void)munlock(buf, cap + 1);
			free(buf);
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto fail;
		}
		len += (size_t)n;
		if (len > max) {
			snprintf(err, errlen, "larger than %zu bytes", max);
			goto fail;
		}
	}
	buf[len] = '\0';
	s = xmalloc(sizeof(*s));
	s->data = buf;
	s->len = len;
	/* secret_free wipes len + 1 bytes: wipe the spare capacity now. */
	explicit_bzero(buf + len + 1, cap - len);
	return s;
fail:
	explicit_bzero(buf, cap + 1);
	(void)munlock(buf, cap + 1);
	free(buf);
	return NULL;
}

int secret_next_line(const struct secret *text, size_t *pos, char *line,
		     size_t linemax)
{
	const unsigned char *p, *end;
	size_t n;

	if (*pos >= text->len)
		return 0;
	p = text->data + *pos;
	end = memchr(p, '\n', text->len - *pos);
	n = end ? (size_t)(end - p) : text->len - *pos;
	if (memchr(p, '\0', n))
		return -2;
	if (n >= linemax)
		return -1;
	memcpy(line, p, n);
	line[n] = '\0';
	*pos += n + (end ? 1 : 0);
	return 1;
}

size_t secret_len(const struct secret *s)
{
	return s->len;
}

const unsigned char *secret_bytes(const struct secret *s)
{
	return s->data;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int secret_write_fd(const struct secret *s, int fd, bool newline)
{
	if (write_all(fd, s->data, s->len) < 0)
		return -1;
	if (newline && write_all(fd, (const unsigned char *)"\n", 1) < 0)
		return -1;
	return 0;
}

/* The core size limit we were given, for the programs we run. */
static struct rlimit given_core;
static bool core_saved;

void secret_protect_process(void)
{
	struct rlimit rl;

	/* Soft limit only: a lowered hard limit could not be raised again
	 * by the programs we chain, which are not ours to restrict. */
	if (getrlimit(RLIMIT_CORE, &given_core) == 0) {
		core_saved = true;
		rl.rlim_cur = 0;
		rl.rlim_max = given_core.rlim_max;
		setrlimit(RLIMIT_CORE, &rl);
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void secret_unprotect_for_exec(void)
{
	/* execve makes the process dumpable again by itself. */
	if (core_saved)
		setrlimit(RLIMIT_CORE, &given_core);
}
