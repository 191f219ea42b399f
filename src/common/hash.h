/* hash.h: a string hash for tables and lock placement. */
#ifndef SLURM_IDENTITY_HASH_H
#define SLURM_IDENTITY_HASH_H

#include <stdint.h>

/* 64-bit FNV-1a of the NUL-terminated string s. */
uint64_t hash_string(const char *s);

#endif
