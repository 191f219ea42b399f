/* resume.c: slurm-identity-resume, slurm.conf's ResumeProgram. */
#include "config.h"

#include "hooks.h"

int main(int argc, char **argv)
{
	return hook_main(HOOK_RESUME, argc, argv);
}
