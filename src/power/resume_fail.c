/* resume_fail.c: slurm-identity-resume-fail, slurm.conf's ResumeFailProgram. */
#include "config.h"

#include "hooks.h"

int main(int argc, char **argv)
{
	return hook_main(HOOK_RESUME_FAIL, argc, argv);
}
