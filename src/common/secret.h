/* secret.h: a buffer for passwords and keys that wipes itself and has no
 * printing path.
 *
 * Nothing here formats a secret into text: the only ways out are
 * secret_bytes() for HMAC keys and secret_write_fd() for a child's stdin.
 */
#ifndef SLURM_IDENTITY_SECRET_H
#define SLURM_IDENTITY_SECRET_H

#include <stdbool.h>
#include <stddef.h>

struct secret;

struct secret *secret_new(const void *data, size_t len);
struct secret *secret_from_string(const char *s);
/* Random printable password of len characters (AD one-time passwords). */
struct secret *secret_random_password(size_t len);
struct secret *secret_dup(const struct secret *s);
void secret_free(struct secret *s);

size_t secret_len(const struct secret *s);
const unsigned char *secret_bytes(const struct secret *s);
/* Write the secret (and a newline if newline) to fd; 0 or -1 with errno. */
int secret_write_fd(const struct secret *s, int fd, bool newline);

/* All of fd, at most max bytes, read with read(2) (no stdio buffer keeps a
 * copy) into memory that is wiped when freed and locked where the limit
 * allows: for files that hold secrets. NULL with err on a read error or a
 * larger file. */
struct secret *secret_read_fd(int fd, size_t max, char *err, size_t errlen);
/* Copy the next line of text (without its newline) into line, advancing
 * *pos: 1, 0 at the end, -1 if longer than linemax - 1, -2 if it holds a
 * NUL byte. The caller wipes line. */
int secret_next_line(const struct secret *text, size_t *pos, char *line,
		     size_t linemax);

/* Keep secrets out of core dumps and ptrace: call first thing in main. */
void secret_protect_process(void);
/* In a child about to exec a program that is not ours: give back the core
 * limit secret_protect_process found. */
void secret_unprotect_for_exec(void);

#endif
