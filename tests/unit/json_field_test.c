/* json_field_test.c: a string member read one way: absent, not a string,
 * too long all read as not there; nothing is cut to fit. */
#include "config.h"

#include <string.h>

#include "common/json_field.h"
#include "tap.h"

int main(void)
{
	json_t *o = json_pack("{s:s, s:i, s:n, s:s, s:s}", "id", "i-0123",
			      "n", 7, "null", "exact", "abcdefg", "long",
			      "abcdefgh");
	json_t *a = json_array();
	char out[8];

	tap_is_str(json_field(o, "id"), "i-0123", "a string member");
	tap_ok(json_field(o, "missing") == NULL, "an absent one is NULL");
	tap_ok(json_field(o, "n") == NULL, "a number is not a string");
	tap_ok(json_field(o, "null") == NULL, "nor is null");
	tap_ok(json_field(a, "id") == NULL, "an array has no members");
	tap_ok(json_field(NULL, "id") == NULL, "nor has NULL");

	tap_ok(json_field_copy(o, "id", out, sizeof(out)) &&
		       strcmp(out, "i-0123") == 0,
	       "copied when it fits (%s)", out);
	tap_ok(json_field_copy(o, "exact", out, sizeof(out)) &&
		       strcmp(out, "abcdefg") == 0,
	       "one byte short of the buffer still fits (%s)", out);
	strcpy(out, "junk");
	tap_ok(!json_field_copy(o, "long", out, sizeof(out)) && out[0] == '\0',
	       "too long: not there, and nothing of it kept (not cut to fit)");
	strcpy(out, "junk");
	tap_ok(!json_field_copy(o, "missing", out, sizeof(out)) && out[0] == '\0',
	       "absent: empty");
	strcpy(out, "junk");
	tap_ok(!json_field_copy(o, "n", out, sizeof(out)) && out[0] == '\0',
	       "not a string: empty");
	tap_ok(!json_field_copy(o, "id", out, 0), "no room at all: false");
	json_decref(o);
	json_decref(a);
	return tap_done();
}
