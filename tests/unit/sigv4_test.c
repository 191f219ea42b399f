/* sigv4_test.c: our SigV4 signer against the official AWS test suite and
 * the worked example of the AWS documentation.
 *
 * The vectors (aws-c-auth's aws-signing-test-suite, header signing) are
 * read from $SHARED_DIR/sigv4-vectors/v4; without them those cases skip.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/aws/clock.h"
#include "common/aws/sigv4.h"
#include "tap.h"

static char *read_file(const char *dir, const char *name)
{
	char path[1024];
	struct strbuf sb;
	char buf[4096];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "r");
	if (!fp)
		return NULL;
	strbuf_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(&sb, buf, n);
	fclose(fp);
	return strbuf_detach(&sb);
}

struct parsed_request {
	char method[16];
	char *path;
	char *query;
	struct sigv4_header headers[32];
	char *names[32];
	char *values[32];
	size_t count;
	char *body;
};

/* request.txt: request line, "Name:value" lines (continuations start with
 * white space), a blank line, the body. */
static int parse_request(char *text, struct parsed_request *r)
{
	char *line, *save = NULL, *target, *q, *sp;
	char *body = strstr(text, "\n\n");

	memset(r, 0, sizeof(*r));
	if (body) {
		*body = '\0';
		r->body = body + 2;
	} else {
		r->body = "";
	}
	line = strtok_r(text, "\n", &save);
	if (!line || !(sp = strchr(line, ' ')))
		return -1;
	snprintf(r->method, sizeof(r->method), "%.*s", (int)(sp - line), line);
	target = sp + 1;
	sp = strrchr(target, ' ');
	if (sp)
		*sp = '\0';
	q = strchr(target, '?');
	if (q) {
		*q = '\0';
		r->query = q + 1;
	}
	r->path = target;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *colon;

		if ((line[0] == ' ' || line[0] == '\t') && r->count > 0) {
			char *joined = xasprintf("%s\n%s", r->values[r->count - 1], line);

			free(r->values[r->count - 1]);
			r->values[r->count - 1] = joined;
			continue;
		}
		colon = strchr(line, ':');
		if (!colon || r->count >= 30)
			return -1;
		r->names[r->count] = xstrndup(line, (size_t)(colon - line));
		r->values[r->count] = xstrdup(colon + 1);
		r->count++;
	}
	return 0;
}

static void free_request(struct parsed_request *r)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		free(r->names[i]);
		free(r->values[i]);
	}
}

static void add_header(struct parsed_request *r, const char *name,
		       const char *value)
{
	r->names[r->count] = xstrdup(name);
	r->values[r->count] = xstrdup(value);
	r->count++;
}

static void run_case(const char *dir, const char *name)
{
	char *ctx_text = read_file(dir, "context.json");
	char *req_text = read_file(dir, "request.txt");
	char *want_creq = read_file(dir, "header-canonical-request.txt");
	char *want_sts = read_file(dir, "header-string-to-sign.txt");
	char *want_sig = read_file(dir, "header-signature.txt");
	struct strbuf creq, signed_headers, sts;
	struct parsed_request pr;
	struct sigv4_request r;
	struct secret *key = NULL;
	json_t *ctx = NULL, *creds;
	json_error_t jerr;
	char amz_date[17], sig[65], label[256];
	const char *token;
	size_t i;

	strbuf_init(&creq);
	strbuf_init(&signed_headers);
	strbuf_init(&sts);
	memset(&pr, 0, sizeof(pr));
	if (!ctx_text || !req_text || !want_creq || !want_sts || !want_sig) {
		tap_ok(0, "%s: vector files readable", name);
		goto out;
	}
	ctx = json_loads(ctx_text, 0, &jerr);
	if (!ctx) {
		tap_ok(0, "%s: context.json parses", name);
		goto out;
	}
	if (!json_is_true(json_object_get(ctx, "normalize"))) {
		snprintf(label, sizeof(label),
			 "%s: S3-style unnormalized paths; our services normalize",
			 name);
		tap_skip(label);
		goto out;
	}
	if (parse_request(req_text, &pr) < 0) {
		tap_ok(0, "%s: request.txt parses", name);
		goto out;
	}
	sigv4_format_date(clock_parse_iso8601(json_string_value(
				  json_object_get(ctx, "timestamp"))),
			  amz_date);
	add_header(&pr, "X-Amz-Date", amz_date);
	creds = json_object_get(ctx, "credentials");
	token = json_string_value(json_object_get(creds, "token"));
	if (token && !json_is_true(json_object_get(ctx, "omit_session_token")))
		add_header(&pr, "X-Amz-Security-Token", token);
	if (json_is_true(json_object_get(ctx, "sign_body"))) {
		char hash[65];

		sigv4_sha256_hex(pr.body, strlen(pr.body), hash);
		add_header(&pr, "X-Amz-Content-Sha256", hash);
	}
	for (i = 0; i < pr.count; i++) {
		pr.headers[i].name = pr.names[i];
		pr.headers[i].value = pr.values[i];
	}
	memset(&r, 0, sizeof(r));
	r.method = pr.method;
	r.path = pr.path;
	r.query = pr.query;
	r.headers = pr.headers;
	r.header_count = pr.count;
	r.payload = pr.body;
	r.payload_len = strlen(pr.body);
	r.region = json_string_value(json_object_get(ctx, "region"));
	r.service = json_string_value(json_object_get(ctx, "service"));
	r.amz_date = amz_date;
	r.normalize_path = true;
	key = secret_from_string(json_string_value(
		json_object_get(creds, "secret_access_key")));

	sigv4_canonical_request(&r, &creq, &signed_headers);
	sigv4_string_to_sign(&r, creq.data, &sts);
	sigv4_signature(&r, key, sts.data, sig);
	snprintf(label, sizeof(label), "%s: canonical request", name);
	tap_is_str(creq.data, want_creq, label);
	snprintf(label, sizeof(label), "%s: string to sign", name);
	tap_is_str(sts.data, want_sts, label);
	snprintf(label, sizeof(label), "%s: signature", name);
	tap_is_str(sig, want_sig, label);
out:
	secret_free(key);
	free_request(&pr);
	json_decref(ctx);
	strbuf_free(&creq);
	strbuf_free(&signed_headers);
	strbuf_free(&sts);
	free(ctx_text);
	free(req_text);
	free(want_creq);
	free(want_sts);
	free(want_sig);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_vectors(void)
{
	const char *shared = getenv("SHARED_DIR");
	char base[1024];
	char *names[128];
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;

	snprintf(base, sizeof(base), "%s/sigv4-vectors/v4",
		 shared ? shared : "../shared");
	d = opendir(base);
	if (!d) {
		tap_skip("official SigV4 vectors not found (set SHARED_DIR)");
		return;
	}
	while ((de = readdir(d)) && n < 128)
		if (de->d_name[0] != '.')
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), compare_names);
	tap_ok(n >= 30, "found %zu vector cases", n);
	for (i = 0; i < n; i++) {
		char dir[1400];

		snprintf(dir, sizeof(dir), "%s/%s", base, names[i]);
		run_case(dir, names[i]);
		free(names[i]);
	}
}

/* The example in the AWS General Reference ("Create a signed AWS API
 * request"): IAM ListUsers, 2015-08-30. */
static void documented_example(void)
{
	struct sigv4_header h[3] = {
		{ "Host", "iam.amazonaws.com" },
		{ "Content-Type",
		  "application/x-www-form-urlencoded; charset=utf-8" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	struct sigv4_request r = { 0 };
	struct secret *key =
		secret_from_string("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	struct strbuf auth;

	r.method = "GET";
	r.path = "/";
	r.query = "Action=ListUsers&Version=2010-05-08";
	r.headers = h;
	r.header_count = 3;
	r.payload = "";
	r.region = "us-east-1";
	r.service = "iam";
	r.amz_date = "20150830T123600Z";
	r.normalize_path = true;
	strbuf_init(&auth);
	sigv4_authorization(&r, "AKIDEXAMPLE", key, &auth);
	tap_is_str(auth.data,
		   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
		   "SignedHeaders=content-type;host;x-amz-date, "
		   "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		   "documented IAM ListUsers example");
	strbuf_free(&auth);
	secret_free(key);
}

static void encoding(void)
{
	struct strbuf sb;

	strbuf_init(&sb);
	sigv4_uri_encode(&sb, "a b+c/~d=e&\xe1\x88\xb4", 14, false);
	tap_is_str(sb.data, "a%20b%2Bc%2F~d%3De%26%E1%88%B4",
		   "URI encoding: space, plus, slash, UTF-8");
	strbuf_reset(&sb);
	sigv4_uri_encode(&sb, "/a b/", 5, true);
	tap_is_str(sb.data, "/a%20b/", "path encoding keeps slashes");
	strbuf_free(&sb);
}

int main(void)
{
	documented_example();
	encoding();
	run_vectors();
	return tap_done();
}
