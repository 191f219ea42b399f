/* pipeline.h: chunks of work in three steps, the slow middle one kept
 * busy: while chunk k is in its middle step (the calls), a helper thread
 * finishes chunk k-1 and makes chunk k+1 ready. */
#ifndef SLURM_IDENTITY_PIPELINE_H
#define SLURM_IDENTITY_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

/* Chunk k's state lives in slot k % PIPELINE_SLOTS: no two chunks in the
 * pipeline at once share one. */
#define PIPELINE_SLOTS 3

struct pipeline_steps {
	/* Take the chunk's locks and check it (helper thread or caller). */
	void (*prepare)(void *arg, size_t chunk);
	/* The calls (always the caller's thread). */
	void (*act)(void *arg, size_t chunk);
	/* Record what came of it and let go (helper thread or caller). */
	void (*settle)(void *arg, size_t chunk);
	void *arg;
};

/* Runs chunks 0 .. nchunks-1 through the three steps, overlapped: two
 * chunks hold what prepare took at once (the soft open-file limit is
 * raised for their descriptors, up to the hard one); when that limit
 * cannot be had, one chunk at a time. */
void pipeline_run(const struct pipeline_steps *steps, size_t nchunks,
		  size_t files_per_chunk);

#endif
