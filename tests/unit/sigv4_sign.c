/* sigv4_sign.c: sign requests described on stdin, for the botocore oracle.
 *
 * Each input line is a JSON object {method, path, query, headers: [[name,
 * value], ...], body, region, service, amz_date, secret}; each output line
 * is our hex signature. sigv4_botocore.py compares them with botocore.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/aws/sigv4.h"

static const char *str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, stdin) > 0) {
		struct strbuf creq, sh, sts;
		struct sigv4_header headers[64];
		struct sigv4_request r;
		struct secret *key;
		json_error_t jerr;
		json_t *in = json_loads(line, 0, &jerr), *h, *pair;
		char sig[65];
		size_t i, n = 0;

		if (!in) {
			fprintf(stderr, "sigv4_sign: bad input: %s\n", jerr.text);
			return 2;
		}
		h = json_object_get(in, "headers");
		json_array_foreach(h, i, pair) {
			if (n == 64)
				break;
			headers[n].name = json_string_value(json_array_get(pair, 0));
			headers[n].value = json_string_value(json_array_get(pair, 1));
			n++;
		}
		memset(&r, 0, sizeof(r));
		r.method = str(in, "method");
		r.path = str(in, "path");
		r.query = str(in, "query");
		r.headers = headers;
		r.header_count = n;
		r.payload = str(in, "body");
		r.payload_len = strlen(str(in, "body"));
		r.region = str(in, "region");
		r.service = str(in, "service");
		r.amz_date = str(in, "amz_date");
		r.normalize_path = true;
		key = secret_from_string(str(in, "secret"));
		strbuf_init(&creq);
		strbuf_init(&sh);
		strbuf_init(&sts);
		sigv4_canonical_request(&r, &creq, &sh);
		sigv4_string_to_sign(&r, creq.data, &sts);
		sigv4_signature(&r, key, sts.data, sig);
		printf("%s\n", sig);
		strbuf_free(&creq);
		strbuf_free(&sh);
		strbuf_free(&sts);
		secret_free(key);
		json_decref(in);
	}
	free(line);
	return 0;
}
