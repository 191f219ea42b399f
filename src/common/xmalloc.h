/* xmalloc.h: allocation that cannot return NULL, and a growable string. */
#ifndef SLURM_IDENTITY_XMALLOC_H
#define SLURM_IDENTITY_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Out of memory is not an error any caller can handle: these abort. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strip leading and trailing white space in place; returns the start. */
char *str_trim(char *s);

/* Free *ptr and set it to NULL. */
void xfree_ptr(void *ptr_to_ptr);

/* A growable, always NUL-terminated byte buffer. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
};

void strbuf_init(struct strbuf *sb);
void strbuf_append(struct strbuf *sb, const char *data, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void strbuf_reset(struct strbuf *sb);
/* Hand the buffer to the caller (never NULL) and reset sb. */
char *strbuf_detach(struct strbuf *sb);
/* Wipe (the buffer may have held a secret) and free. */
void strbuf_free(struct strbuf *sb);

#endif
