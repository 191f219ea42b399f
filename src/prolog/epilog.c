/* epilog.c: slurm-identity-epilog, slurm.conf's Epilog on compute nodes.
 *
 * Re-checks, locally and without network, that the node's identity is still
 * there: its record is ready for this boot and each backend finds what
 * its registration left (OpsWorks: the agent's key). A lost identity
 * drains the node so no further job lands on it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "common/log.h"
#include "common/slurm_node.h"
#include "node.h"

int main(int argc, char **argv)
{
	struct program prog;
	struct journal_entry e;
	char node[65], err[1024], reason[512];
	const struct backend *backends[BACKEND_SLOTS];
	size_t i, n;
	int rc = 0, found;

	if (argc > 1) {
		fprintf(stderr, "Usage: slurm-identity-epilog\n"
				"Run by slurmd as Epilog; see slurm-identity(8).\n");
		return strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	journal_entry_init(&e, "");
	if (backends_program_start(&prog, "slurm-identity-epilog", NULL,
				   isatty(2) ? PROGRAM_INTERACTIVE : 0, err,
				   sizeof(err)) < 0) {
		rc = 1;
		goto out;
	}
	if (!prog.conf.backends ||
	    node_own_name(node, sizeof(node), err, sizeof(err)) < 0)
		goto out;
	log_set_context(node);
	/* We drain with our own reason and exit 0: a failing epilog would
	 * have slurmd replace it with "Epilog error". */
	found = journal_read(prog.conf.state_dir, NODE_ROLE, node, &e, err,
			     sizeof(err));
	if (found < 0) {
		log_error("%s", err);
		goto out;
	}
	if (found == 1) {
		/* The prolog makes the record before any job runs; none means
		 * the prolog did not run here or the state was lost. */
		node_drain(node, "epilog: no identity record (prolog not run: is PrologFlags=Alloc set?)");
		goto out;
	}
	if (!node_record_ready(&e)) {
		const char *phase = journal_get(&e, "phase");

		/* A failed registration was drained by the prolog with its
		 * own reason: keep that reason. */
		if (!phase || strcmp(phase, "failed") != 0)
			node_drain(node, "epilog: identity record is not ready for this boot");
		goto out;
	}
	n = backends_enabled(&prog.conf, backends, BACKEND_SLOTS);
	for (i = 0; i < n; i++) {
		char why[256];

		if (!backends[i]->node_check ||
		    backends[i]->node_check(&e, why, sizeof(why)) == 0)
			continue;
		snprintf(reason, sizeof(reason), "%s: epilog: %s",
			 backends[i]->name, why);
		node_drain(node, reason);
		break;
	}
out:
	journal_entry_clear(&e);
	program_end(&prog);
	libslurm_close();
	return rc;
}
