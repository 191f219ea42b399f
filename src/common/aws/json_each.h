/* json_each.h: one top-level array of a JSON reply, an element at a time.
 *
 * A DescribeInstances of a 10,000-instance stack is 5 MB of JSON that
 * jansson turns into 28 MB of objects. Read this way, only one element is
 * held at a time; the other members of the reply are kept as usual.
 */
#ifndef SLURM_IDENTITY_AWS_JSON_EACH_H
#define SLURM_IDENTITY_AWS_JSON_EACH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct json_each {
	const char *key;	/* the top-level member whose array is streamed */
	/* Called for each element, in order, only once the whole reply is
	 * known to be well formed; the element is freed after the call. A
	 * non-zero return stops the walk and fails the reply. */
	int (*fn)(json_t *item, void *arg);
	void *arg;
	bool found;		/* set: the member was there and an array */
};

/* Walk the JSON object in s[0..len): each element of each->key's array
 * goes to each->fn; every other member is put in *rest (a new object).
 * Returns 0, or -1 with err set (and fn not called, unless fn failed). */
int json_each_reply(const char *s, size_t len, struct json_each *each,
		    json_t **rest, char *err, size_t errlen);

#endif
