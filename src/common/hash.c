/* hash.c: 64-bit FNV-1a. */
#include "config.h"

#include "hash.h"

uint64_t hash_string(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}
