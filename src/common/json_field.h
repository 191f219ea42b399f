/* json_field.h: one string member of a JSON object, read one way
 * everywhere: absent, not a string and too long are all "not there", so
 * an id is never silently cut to fit a buffer. */
#ifndef SLURM_IDENTITY_JSON_FIELD_H
#define SLURM_IDENTITY_JSON_FIELD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* obj's member key if it is a string; NULL if obj is not an object, or
 * the member is absent or not a string. */
const char *json_field(const json_t *obj, const char *key);
/* Copy obj's string member key into out[len]: true if it is there and
 * fits; otherwise out is "" and false. */
bool json_field_copy(const json_t *obj, const char *key, char *out,
		     size_t len);

#endif
