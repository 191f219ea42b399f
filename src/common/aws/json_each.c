/* json_each.c: one top-level array of a JSON reply, an element at a time.
 *
 * Only the boundaries of values are found here; every value itself is
 * parsed by jansson, which checks it strictly. The walk runs twice: the
 * first pass parses and drops each value, so the callback never sees the
 * beginning of a reply whose end is broken.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "json_each.h"

static size_t skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
			   s[i] == '\r'))
		i++;
	return i;
}

/* One past the end of the value that starts at s[i], or 0 if it does not
 * end within s. Brackets are only counted, outside strings. */
static size_t value_end(const char *s, size_t i, size_t len)
{
	size_t depth = 0;
	bool in_string = false;

	if (i >= len)
		return 0;
	if (s[i] != '{' && s[i] != '[' && s[i] != '"') {
		/* A number or a literal: up to the next delimiter. */
		while (i < len && s[i] != ',' && s[i] != ']' && s[i] != '}' &&
		       s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		       s[i] != '\r')
			i++;
		return i;
	}
	for (; i < len; i++) {
		char ch = s[i];

		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"') {
				in_string = false;
				if (depth == 0)
					return i + 1;
			}
			continue;
		}
		if (ch == '"') {
			in_string = true;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return 0;	/* closes what never opened */
			if (--depth == 0)
				return i + 1;
		}
	}
	return 0;
}

static json_t *load(const char *s, size_t from, size_t to, char *err,
		    size_t errlen)
{
	json_error_t jerr;
	json_t *v = json_loadb(s + from, to - from, JSON_DECODE_ANY, &jerr);

	if (!v)
		snprintf(err, errlen, "bad JSON at byte %zu: %s",
			 from + (jerr.position > 0 ? (size_t)jerr.position : 0),
			 jerr.text);
	return v;
}

/* The elements of the array s[i..end); delivered only if deliver. */
static int walk_array(const char *s, size_t i, size_t end,
		      struct json_each *each, bool deliver, char *err,
		      size_t errlen)
{
	i = skip_ws(s, i + 1, end);
	if (i < end && s[i] == ']' && i + 1 == end)
		return 0;
	for (;;) {
		size_t e = value_end(s, i, end);
		json_t *item;
		int rc = 0;

		if (!e) {
			snprintf(err, errlen, "%s: element at byte %zu does not end",
				 each->key, i);
			return -1;
		}
		item = load(s, i, e, err, errlen);
		if (!item)
			return -1;
		if (deliver)
			rc = each->fn(item, each->arg);
		json_decref(item);
		if (rc != 0) {
			snprintf(err, errlen, "%s: element at byte %zu refused",
				 each->key, i);
			return -1;
		}
		i = skip_ws(s, e, end);
		if (i < end && s[i] == ',') {
			i = skip_ws(s, i + 1, end);
			continue;
		}
		if (i < end && s[i] == ']' && i + 1 == end)
			return 0;
		snprintf(err, errlen, "%s: expected ',' or ']' at byte %zu",
			 each->key, i);
		return -1;
	}
}

static int walk(const char *s, size_t len, struct json_each *each,
		json_t *rest, char *err, size_t errlen)
{
	bool deliver = rest != NULL, found = false;
	size_t i = skip_ws(s, 0, len);

	if (i >= len || s[i] != '{') {
		snprintf(err, errlen, "reply is not a JSON object");
		return -1;
	}
	i = skip_ws(s, i + 1, len);
	if (i < len && s[i] == '}')
		i++;
	else
		for (;;) {
			size_t kend, vend;
			json_t *key, *value;
			bool streamed;

			if (i >= len || s[i] != '"' || !(kend = value_end(s, i, len))) {
				snprintf(err, errlen, "expected a member name at byte %zu", i);
				return -1;
			}
			key = load(s, i, kend, err, errlen);
			if (!key)
				return -1;
			i = skip_ws(s, kend, len);
			if (i >= len || s[i] != ':' ||
			    !(vend = value_end(s, (i = skip_ws(s, i + 1, len)), len))) {
				snprintf(err, errlen, "member %s has no value",
					 json_string_value(key));
				json_decref(key);
				return -1;
			}
			streamed = strcmp(json_string_value(key), each->key) == 0 &&
				   s[i] == '[';
			if (streamed && found) {
				snprintf(err, errlen, "%s appears twice", each->key);
				json_decref(key);
				return -1;
			}
			if (streamed) {
				found = true;
				if (walk_array(s, i, vend, each, deliver, err, errlen) < 0) {
					json_decref(key);
					return -1;
				}
			} else {
				value = load(s, i, vend, err, errlen);
				if (!value) {
					json_decref(key);
					return -1;
				}
				if (rest)
					json_object_set_new(rest, json_string_value(key), value);
				else
					json_decref(value);
			}
			json_decref(key);
			i = skip_ws(s, vend, len);
			if (i < len && s[i] == ',') {
				i = skip_ws(s, i + 1, len);
				continue;
			}
			if (i < len && s[i] == '}') {
				i++;
				break;
			}
			snprintf(err, errlen, "expected ',' or '}' at byte %zu", i);
			return -1;
		}
	if (skip_ws(s, i, len) != len) {
		snprintf(err, errlen, "data after the reply at byte %zu", i);
		return -1;
	}
	each->found = found;
	return 0;
}

int json_each_reply(const char *s, size_t len, struct json_each *each,
		    json_t **rest, char *err, size_t errlen)
{
	*rest = NULL;
	each->found = false;
	if (walk(s, len, each, NULL, err, errlen) < 0)
		return -1;
	*rest = json_object();
	if (walk(s, len, each, *rest, err, errlen) < 0) {
		json_decref(*rest);
		*rest = NULL;
		return -1;
	}
	return 0;
}
