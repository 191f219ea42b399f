/* hooks.h: ResumeProgram, SuspendProgram and ResumeFailProgram. */
#ifndef SLURM_IDENTITY_HOOKS_H
#define SLURM_IDENTITY_HOOKS_H

enum hook_kind {
	HOOK_RESUME,
	HOOK_SUSPEND,
	HOOK_RESUME_FAIL,
};

int hook_main(enum hook_kind kind, int argc, char **argv);

#endif
