/* sigv4.c: SigV4 canonical requests and signatures. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "sigv4.h"

static void to_hex(const unsigned char *bytes, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[bytes[i] >> 4];
		hex[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	hex[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];

	SHA256(data, len, digest);
	to_hex(digest, sizeof(digest), hex);
}

void sigv4_format_date(long long t, char out[17])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

void sigv4_uri_encode(struct strbuf *out, const char *s, size_t len,
		      bool keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			strbuf_putc(out, (char)c);
		} else {
			char esc[3] = { '%', digits[c >> 4], digits[c & 0xf] };

			strbuf_append(out, esc, 3);
		}
	}
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode (and '+' stays '+': it is not a space in SigV4). */
static char *uri_decode(const char *s, size_t len, size_t *outlen)
{
	char *out = xmalloc(len + 1);
	size_t i, j = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 &&
		    hex_value(s[i + 2]) >= 0) {
			out[j++] = (char)(hex_value(s[i + 1]) * 16 +
					  hex_value(s[i + 2]));
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	*outlen = j;
	return out;
}

/* Remove dot segments and empty segments, as non-S3 services expect. */
static char *normalize_path(const char *path)
{
	size_t len = strlen(path), nseg = 0, i;
	char **segs = xcalloc(len + 1, sizeof(*segs));
	char *copy = xstrdup(path), *save = NULL, *tok;
	bool trailing = len > 1 && path[len - 1] == '/';
	struct strbuf out;

	for (tok = strtok_r(copy, "/", &save); tok;
	     tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			if (nseg > 0)
				nseg--;
			continue;
		}
		segs[nseg++] = tok;
	}
	strbuf_init(&out);
	for (i = 0; i < nseg; i++) {
		strbuf_putc(&out, '/');
		strbuf_puts(&out, segs[i]);
	}
	if (nseg == 0 || trailing)
		strbuf_putc(&out, '/');
	free(segs);
	free(copy);
	return strbuf_detach(&out);
}

struct query_param {
	char *key;		/* encoded */
	char *value;		/* encoded */
};

static int compare_params(const void *a, const void *b)
{
	const struct query_param *pa = a, *pb = b;
	int c = strcmp(pa->key, pb->key);

	return c ? c : strcmp(pa->value, pb->value);
}

static void canonical_query(const char *query, struct strbuf *out)
{
	struct query_param *params;
	size_t n = 0, cap = 1, i;
	const char *p;

	if (!query || !*query)
		return;
	for (p = query; *p; p++)
		if (*p == '&')
			cap++;
	params = xcalloc(cap, sizeof(*params));
	p = query;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len, dlen;
		char *decoded;
		struct strbuf enc;

		if (len > 0) {
			strbuf_init(&enc);
			decoded = uri_decode(p, klen, &dlen);
			sigv4_uri_encode(&enc, decoded, dlen, false);
			free(decoded);
			params[n].key = strbuf_detach(&enc);
			decoded = eq ? uri_decode(eq + 1, len - klen - 1, &dlen)
				     : xstrdup("");
			if (!eq)
				dlen = 0;
			sigv4_uri_encode(&enc, decoded, dlen, false);
			free(decoded);
			params[n].value = strbuf_detach(&enc);
			n++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	qsort(params, n, sizeof(*params), compare_params);
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_putc(out, '&');
		strbuf_puts(out, params[i].key);
		strbuf_putc(out, '=');
		strbuf_puts(out, params[i].value);
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
}

struct canon_header {
	char *name;		/* lower case */
	struct strbuf value;	/* trimmed, folded, joined with ',' */
};

static int compare_headers(const void *a, const void *b)
{
	const struct canon_header *ha = a, *hb = b;

	return strcmp(ha->name, hb->name);
}

/* Trim and collapse runs of white space (line folds included) to one. */
static void append_folded(struct strbuf *out, const char *v)
{
	bool space = false, any = false;

	for (; *v; v++) {
		if (isspace((unsigned char)*v)) {
			space = true;
			continue;
		}
		if (space && any)
			strbuf_putc(out, ' ');
		strbuf_putc(out, *v);
		space = false;
		any = true;
	}
}

static void canonical_headers(const struct sigv4_request *r,
			      struct strbuf *out, struct strbuf *signed_headers)
{
	struct canon_header *h = xcalloc(r->header_count + 1, sizeof(*h));
	size_t n = 0, i, j;

	for (i = 0; i < r->header_count; i++) {
		char *name = xstrdup(r->headers[i].name);
		char *c;

		for (c = name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		for (j = 0; j < n; j++)
			if (strcmp(h[j].name, name) == 0)
				break;
		if (j == n) {
			h[n].name = name;
			strbuf_init(&h[n].value);
			n++;
		} else {
			free(name);
			strbuf_putc(&h[j].value, ',');
		}
		append_folded(&h[j].value, r->headers[i].value);
	}
	qsort(h, n, sizeof(*h), compare_headers);
	for (i = 0; i < n; i++) {
		strbuf_printf(out, "%s:%s\n", h[i].name,
			      h[i].value.data ? h[i].value.data : "");
		if (i)
			strbuf_putc(signed_headers, ';');
		strbuf_puts(signed_headers, h[i].name);
		free(h[i].name);
		strbuf_free(&h[i].value);
	}
	free(h);
}

void sigv4_canonical_request(const struct sigv4_request *r,
			     struct strbuf *canonical,
			     struct strbuf *signed_headers)
{
	char payload_hash[65];
	char *path;

	strbuf_printf(canonical, "%s\n", r->method);
	path = r->normalize_path ? normalize_path(r->path) : xstrdup(r->path);
	sigv4_uri_encode(canonical, path, strlen(path), true);
	free(path);
	strbuf_putc(canonical, '\n');
	canonical_query(r->query, canonical);
	strbuf_putc(canonical, '\n');
	canonical_headers(r, canonical, signed_headers);
	strbuf_putc(canonical, '\n');
	strbuf_puts(canonical, signed_headers->data ? signed_headers->data : "");
	strbuf_putc(canonical, '\n');
	sigv4_sha256_hex(r->payload ? r->payload : "", r->payload_len,
			 payload_hash);
	strbuf_puts(canonical, payload_hash);
}

void sigv4_string_to_sign(const struct sigv4_request *r,
			  const char *canonical, struct strbuf *out)
{
	char hash[65];

	sigv4_sha256_hex(canonical, strlen(canonical), hash);
	strbuf_printf(out, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s",
		      r->amz_date, r->amz_date, r->region, r->service, hash);
}

static void hmac(const void *key, size_t keylen, const char *data,
		 unsigned char out[32])
{
	unsigned int outlen = 32;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data,
	     strlen(data), out, &outlen);
}

void sigv4_signature(const struct sigv4_request *r, const struct secret *key,
		     const char *string_to_sign, char hex[65])
{
	size_t keylen = secret_len(key) + 4;
	unsigned char *k = xmalloc(keylen);
	unsigned char a[32], b[32];
	char date[9];

	memcpy(k, "AWS4", 4);
	memcpy(k + 4, secret_bytes(key), secret_len(key));
	snprintf(date, sizeof(date), "%.8s", r->amz_date);
	hmac(k, keylen, date, a);
	hmac(a, sizeof(a), r->region, b);
	hmac(b, sizeof(b), r->service, a);
	hmac(a, sizeof(a), "aws4_request", b);
	hmac(b, sizeof(b), string_to_sign, a);
	to_hex(a, sizeof(a), hex);
	OPENSSL_cleanse(k, keylen);
	OPENSSL_cleanse(b, sizeof(b));
	free(k);
}

void sigv4_authorization(const struct sigv4_request *r,
			 const char *access_key_id, const struct secret *key,
			 struct strbuf *out)
{
	struct strbuf canonical, signed_headers, sts;
	char signature[65];

	strbuf_init(&canonical);
	strbuf_init(&signed_headers);
	strbuf_init(&sts);
	sigv4_canonical_request(r, &canonical, &signed_headers);
	sigv4_string_to_sign(r, canonical.data, &sts);
	sigv4_signature(r, key, sts.data, signature);
	strbuf_printf(out,
		      "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
		      access_key_id, r->amz_date, r->region, r->service,
		      signed_headers.data, signature);
	strbuf_free(&canonical);
	strbuf_free(&signed_headers);
	strbuf_free(&sts);
}
