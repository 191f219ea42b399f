/* suspend.c: slurm-identity-suspend, slurm.conf's SuspendProgram. */
#include "config.h"

#include "hooks.h"

int main(int argc, char **argv)
{
	return hook_main(HOOK_SUSPEND, argc, argv);
}
