/* backend.h: the one interface every identity system implements.
 *
 * A backend lists what is registered, removes registrations, prepares nodes
 * on the controller before they boot, and registers a node from the node
 * itself. Adding a backend is one file, one line in backend.c's table
 * (which is where Backends= names come from) and its keys in conf.c's
 * key table; what the keys must hold together is the backend's validate.
 */
#ifndef SLURM_IDENTITY_BACKEND_H
#define SLURM_IDENTITY_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "common/aws/client.h"
#include "common/conf.h"
#include "common/iam_policy.h"
#include "common/journal.h"
#include "common/program.h"

/* Room for each backend's own state in a context, by its place in the
 * table. */
#define BACKEND_SLOTS 8

struct backend;

struct backend_context {
	const struct identity_conf *conf;
	struct aws_client *aws;
	double deadline;	/* clock_monotonic() time, 0 for none */
	/* Asked before each batch of directory writes (NULL: none); the
	 * AWS client has its own. */
	aws_gate_fn gate;
	/* What a backend keeps between calls (AD: the domain and its
	 * password), made by the backend on first use; see free_state. */
	void *state[BACKEND_SLOTS];
};

/* Where backend b keeps its state in ctx. */
void **backend_state(struct backend_context *ctx, const struct backend *b);
/* Free what backends keep in ctx (the AD backend wipes the password). */
void backend_context_clear(struct backend_context *ctx);

/* One registration as the identity system sees it. */
struct registration {
	char node[65];		/* Slurm node name it belongs to, "" if none */
	char instance_id[32];	/* EC2 instance id, "" if unknown */
	char id[128];		/* the backend's own id */
	char detail[128];	/* for printing: status, hostname, ... */
	bool removed;		/* set by remove() on success or "not found" */
	char error[256];	/* set by remove() on failure */
};

/* What a node knows about itself, from IMDS. */
struct node_identity {
	char node[65];
	char instance_id[32];
	char instance_type[32];	/* "" if the document has none */
	char region[32];
	char private_ip[64];
	char public_ip[64];
	char hostname[256];
	char *document;		/* instance identity document (JSON) */
	char *signature;	/* its signature (base64) */
};

/* Where a backend's findings for `slurm-identity check` go: what passed
 * ("ok: ..."), what failed (one line, and the command fails), what works
 * but weakens security. */
struct check_report {
	void (*pass)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	void (*fail)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	void (*warn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

struct backend {
	const char *name;	/* as Backends= names it */
	/* The node's registration needs its IMDS identity document. */
	bool needs_imds;
	/* Journal key holding this backend's id for a node ("opsworks.id"). */
	const char *id_key;
	/* Controller: everything registered that may be ours (on failure
	 * *regs is NULL and *count 0). */
	int (*list)(struct backend_context *ctx, struct registration **regs,
		    size_t *count, char *err, size_t errlen);
	/* Controller, on resume, before the nodes boot (NULL: nothing to
	 * do): regs carry the node names; sets id once the registration
	 * exists (a computer account), and error if a step failed (its join
	 * secret): both may be set. */
	void (*prepare)(struct backend_context *ctx, struct registration *regs,
			size_t count);
	/* Controller, once the instance a prepared node boots on is known
	 * from a source AWS vouches for (JoinSecretBinding): bind what
	 * prepare made to it; regs carry node, instance_id and, in detail,
	 * the instance's ARN; sets error on failure (NULL: nothing to bind). */
	void (*bind)(struct backend_context *ctx, struct registration *regs,
		     size_t count);
	/* Controller: remove regs (in parallel); sets removed/error each. */
	void (*remove)(struct backend_context *ctx, struct registration *regs,
		       size_t count);
	/* Node: register this node; records its id in state. */
	int (*register_node)(struct backend_context *ctx,
			     const struct node_identity *me,
			     struct journal_entry *state, char *why,
			     size_t whylen);
	/* Node, in the epilog, without network (NULL: nothing to check):
	 * is what the registration left on this node still there? 0, or -1
	 * with why. */
	int (*node_check)(const struct journal_entry *state, char *why,
			  size_t whylen);
	/* Every program, once identity.conf is read (NULL: nothing needed):
	 * 0, or -1 with why naming the missing setting ("OpsWorksStackId is
	 * not set"). */
	int (*validate)(const struct identity_conf *conf, char *why,
			size_t whylen);
	/* Free what the backend kept in its context slot (NULL: nothing). */
	void (*free_state)(void *state);
	/* `slurm-identity check` (NULL: nothing to say): the settings alone,
	 * without network; then probes that write nothing. */
	void (*check_settings)(const struct identity_conf *conf,
			       const struct check_report *r);
	void (*check)(struct backend_context *ctx, const struct check_report *r);
	/* `slurm-identity policy`: append the IAM statements role needs for
	 * this backend, scoped to region and account (NULL: none). */
	void (*policy)(const struct identity_conf *conf, enum policy_role role,
		       const char *region, const char *account,
		       json_t *statements);
};

/* Backends= against the table, then each named backend's validate:
 * 0, or -1 with a "file:line: ..." message. Every program that uses
 * backends calls it after reading identity.conf. */
int backends_validate(const struct identity_conf *conf, char *err,
		      size_t errlen);
/* program_start for a program that uses backends: identity.conf read,
 * then backends_validate; -1 with err, already logged. */
int backends_program_start(struct program *p, const char *name,
			   const char *conf_path, unsigned flags, char *err,
			   size_t errlen);
/* The backends conf names, in the table's order (never the file's, so
 * that a queued batch's backend numbers keep their meaning). */
size_t backends_enabled(const struct identity_conf *conf,
			const struct backend **out, size_t max);
/* Whether conf names b. */
bool backend_enabled(const struct identity_conf *conf, const struct backend *b);

extern const struct backend opsworks_backend;
extern const struct backend ad_backend;
extern const struct backend ssm_backend;

#endif
