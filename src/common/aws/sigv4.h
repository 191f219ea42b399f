/* sigv4.h: AWS Signature Version 4 over OpenSSL HMAC-SHA256.
 *
 * Our own signer because Debian 12's libcurl mis-signs several cases. It is
 * checked against the official test vectors and botocore in tests/unit.
 */
#ifndef SLURM_IDENTITY_SIGV4_H
#define SLURM_IDENTITY_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "common/secret.h"
#include "common/xmalloc.h"

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;
	const char *path;	/* as sent on the wire, e.g. "/" */
	const char *query;	/* as sent, without '?'; NULL or "" if none */
	const struct sigv4_header *headers;	/* all signed; include host */
	size_t header_count;
	const void *payload;
	size_t payload_len;
	const char *region;
	const char *service;
	const char *amz_date;	/* "20150830T123600Z", also in headers */
	bool normalize_path;	/* every service but S3 */
};

/* Fills canonical request; signed_headers gets "host;x-amz-date". */
void sigv4_canonical_request(const struct sigv4_request *r,
			     struct strbuf *canonical,
			     struct strbuf *signed_headers);
void sigv4_string_to_sign(const struct sigv4_request *r,
			  const char *canonical, struct strbuf *out);
/* Hex signature (64 chars + NUL) of string_to_sign. */
void sigv4_signature(const struct sigv4_request *r, const struct secret *key,
		     const char *string_to_sign, char hex[65]);
/* The whole Authorization header value. */
void sigv4_authorization(const struct sigv4_request *r,
			 const char *access_key_id, const struct secret *key,
			 struct strbuf *out);

/* Hex SHA-256 of data (65 bytes with NUL). */
void sigv4_sha256_hex(const void *data, size_t len, char hex[65]);
/* RFC 3986 encoding as SigV4 wants it: unreserved kept, rest %XX. */
void sigv4_uri_encode(struct strbuf *out, const char *s, size_t len,
		      bool keep_slash);
/* "20150830T123600Z" for t (UTC). */
void sigv4_format_date(long long t, char out[17]);

#endif
