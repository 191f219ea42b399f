/* gate.h: is this node's identity ready? One small local file read. */
#ifndef SPANK_IDENTITY_GATE_H
#define SPANK_IDENTITY_GATE_H

#include <stddef.h>

/* 0 ready; -1 not ready, with the reason in why. */
int gate_check(const char *state_dir, char *why, size_t whylen);

#endif
