/* pipeline.c: prepare, act, settle over chunks, with the acting kept
 * busy. The steps of one chunk always run in order; the helper thread
 * only ever runs settle(k-1) then prepare(k+1) while the caller runs
 * act(k), so the steps share nothing but what the caller made safe. */
#include "config.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>

#include "common/log.h"
#include "pipeline.h"

/* Two chunks' descriptors at once, beside the calls' sockets: make room
 * under the soft open-file limit (up to the hard one), or say no. */
static bool room_for_two_chunks(size_t files_per_chunk)
{
	rlim_t want = 2 * (rlim_t)files_per_chunk + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return false;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return true;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
		log_verbose("open-file limit %ju: chunks go one at a time",
			    (uintmax_t)rl.rlim_max);
		return false;
	}
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

struct helper_turn {
	const struct pipeline_steps *steps;
	size_t settle, prepare;		/* chunk numbers; SIZE_MAX: none */
};

static void *helper_run(void *arg)
{
	const struct helper_turn *turn = arg;

	if (turn->settle != SIZE_MAX)
		turn->steps->settle(turn->steps->arg, turn->settle);
	if (turn->prepare != SIZE_MAX)
		turn->steps->prepare(turn->steps->arg, turn->prepare);
	return NULL;
}

void pipeline_run(const struct pipeline_steps *steps, size_t nchunks,
		  size_t files_per_chunk)
{
	bool overlap;
	size_t k;

	if (nchunks == 0)
		return;
	overlap = nchunks > 1 && room_for_two_chunks(files_per_chunk);
	/* One malloc arena: what the helper allocates for a moment (Slurm's
	 * whole node table, per chunk) reuses the caller's free memory
	 * instead of growing a second arena. */
	if (overlap)
		mallopt(M_ARENA_MAX, 1);
	steps->prepare(steps->arg, 0);
	for (k = 0; k < nchunks; k++) {
		struct helper_turn turn = {
			steps, overlap && k > 0 ? k - 1 : SIZE_MAX,
			k + 1 < nchunks ? k + 1 : SIZE_MAX
		};
		pthread_t helper;

		if (!overlap) {
			steps->act(steps->arg, k);
			steps->settle(steps->arg, k);
			if (turn.prepare != SIZE_MAX)
				steps->prepare(steps->arg, turn.prepare);
			continue;
		}
		if (pthread_create(&helper, NULL, helper_run, &turn) == 0) {
			steps->act(steps->arg, k);
			pthread_join(helper, NULL);
		} else {
			helper_run(&turn);
			steps->act(steps->arg, k);
		}
	}
	if (overlap)
		steps->settle(steps->arg, nchunks - 1);
}
