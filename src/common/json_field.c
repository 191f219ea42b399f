/* json_field.c: one string member of a JSON object (json_field.h). */
#include "config.h"

#include <string.h>

#include "json_field.h"

const char *json_field(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool json_field_copy(const json_t *obj, const char *key, char *out,
		     size_t len)
{
	const char *v = json_field(obj, key);
	size_t n;

	if (len == 0)
		return false;
	out[0] = '\0';
	if (!v || (n = strlen(v)) >= len)
		return false;
	memcpy(out, v, n + 1);
	return true;
}
