/* status.c: one row per node: Slurm state, instance, each backend's
 * state, since when, and the last error. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "backends/backend.h"
#include "common/hostlist.h"
#include "common/log.h"
#include "common/nameset.h"
#include "common/program.h"
#include "common/slurm_node.h"
#include "common/xmalloc.h"
#include "controller/controller.h"
#include "controller/watch.h"
#include "status.h"

static void format_time(const char *epoch, char *out, size_t len)
{
	time_t t = epoch ? (time_t)strtoll(epoch, NULL, 10) : 0;
	struct tm tm;

	if (t <= 0) {
		snprintf(out, len, "-");
		return;
	}
	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* What one backend's state is for a node, from the journal, and what the
 * node itself claims in Extra (shown, never acted on). */
static void registration_state(const struct backend *b,
			       const struct slurm_node *sn,
			       const struct journal_entry *e, bool have_record,
			       char *out, size_t len)
{
	enum journal_phase phase = have_record ? journal_phase(e)
					       : JOURNAL_PHASE_NONE;
	const char *jid = have_record ? journal_get(e, b->id_key) : NULL;
	char id[128] = "";

	if (phase == JOURNAL_PHASE_PENDING && jid)
		snprintf(out, len, "pending:%s", jid);
	else if (sn && node_extra_get(sn->extra, b->name, id, sizeof(id)) && id[0])
		snprintf(out, len, "registered:%s", id);
	else if (phase == JOURNAL_PHASE_RESUMING)
		snprintf(out, len, "resuming");
	else
		snprintf(out, len, "-");
}

/* value of key in "k=v" lines, copied to out ("" if absent). */
static void line_value(const char *text, const char *key, char *out,
		       size_t len)
{
	size_t klen = strlen(key);
	const char *p = text;

	out[0] = '\0';
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			snprintf(out, len, "%.*s", (int)(n - klen - 1), p + klen + 1);
			return;
		}
		p = nl ? nl + 1 : NULL;
	}
}

static long long ago(const char *epoch)
{
	long long t = strtoll(epoch, NULL, 10);

	return t > 0 ? (long long)time(NULL) - t : -1;
}

/* One line on the watcher, from what it last wrote: nothing if none ever
 * ran here. Shown even when Slurm does not answer (the watcher says for
 * how long it has not). */
static void print_watch(const struct identity_conf *conf)
{
	char err[512], look[32], since[32], sweep[256], error[512], esince[32];
	pid_t pid = watch_active_pid(conf->state_dir);
	bool absent = false;
	size_t len;
	char *text = journal_file_read(conf->state_dir, WATCH_ROLE, "status",
				       8192, &len, &absent, err, sizeof(err));

	if (!text) {
		if (!absent)
			log_error("status: %s", err);
		return;
	}
	line_value(text, "last_look", look, sizeof(look));
	line_value(text, "last_sweep", since, sizeof(since));
	line_value(text, "sweep", sweep, sizeof(sweep));
	line_value(text, "error", error, sizeof(error));
	line_value(text, "error_since", esince, sizeof(esince));
	if (pid)
		printf("watch: active (pid %ld); Slurm answered %lld s ago; last sweep %lld s ago: %s\n",
		       (long)pid, ago(look), ago(since), sweep[0] ? sweep : "-");
	else
		printf("watch: not running (last look at Slurm %lld s ago)\n",
		       ago(look));
	if (error[0])
		printf("watch: error for %lld s: %s\n", ago(esince), error);
	free(text);
}

int status_run(const char *conf_path, const char *hostlist, bool json)
{
	struct program prog;
	struct slurm_node_set slurm = { 0 };
	struct node_list want = { NULL, 0 };
	struct name_set wanted = { 0 };
	const struct backend *backends[8];
	size_t nb, i, b;
	json_t *rows = json_array();
	char err[1024];
	int rc = 1;

	if (backends_program_start(&prog, "slurm-identity", conf_path,
				   PROGRAM_INTERACTIVE | PROGRAM_AS_STATE_OWNER, err,
				   sizeof(err)) < 0)
		goto out;
	log_open(NULL, LOG_LEVEL_ERROR, false, true);
	if (hostlist && node_list_expand(hostlist, &want, err, sizeof(err)) < 0) {
		log_error("status: %s", err);
		goto out;
	}
	name_set_init(&wanted);
	for (i = 0; i < want.count; i++)
		name_set_add(&wanted, want.names[i], i);
	if (!json)
		print_watch(&prog.conf);
	if (nodes_load(&slurm, err, sizeof(err)) < 0) {
		log_error("status: %s", err);
		goto out;
	}
	nb = backends_enabled(&prog.conf, backends, 8);
	if (!json) {
		printf("%-16s %-16s %-20s %-12s", "NODE", "STATE", "INSTANCE",
		       "TYPE");
		for (b = 0; b < nb; b++)
			printf(" %-46s", backends[b]->name);
		printf(" %-19s %s\n", "SINCE", "ERROR");
	}
	for (i = 0; i < slurm.count; i++) {
		const struct slurm_node *sn = &slurm.nodes[i];
		struct journal_entry e;
		bool have = journal_read(prog.conf.state_dir, CONTROLLER_ROLE,
					 sn->name, &e, err, sizeof(err)) == 0;
		char instance[32] = "-", since[32], state[192];
		const char *error = have ? journal_get(&e, "error") : NULL;
		const char *reason = NULL;
		json_t *row;

		if (hostlist && !name_set_find(&wanted, sn->name, NULL)) {
			journal_entry_clear(&e);
			continue;
		}
		if (sn->instance_id[0])
			snprintf(instance, sizeof(instance), "%s", sn->instance_id);
		else if (!node_extra_get(sn->extra, "instance", instance,
					 sizeof(instance)))
			snprintf(instance, sizeof(instance), "-");
		format_time(have ? journal_get(&e, "updated") : NULL, since,
			    sizeof(since));
		/* Why the node itself failed: Slurm's reason, or, once the
		 * node was power-cycled and lost it, the comment that keeps
		 * it until the next good registration. Shown beside a
		 * pending removal's error, not hidden by it. */
		if (strncmp(sn->reason, "identity:", 9) == 0)
			reason = sn->reason;
		else if (strncmp(sn->comment, "identity:", 9) == 0)
			reason = sn->comment;
		row = json_object();
		json_object_set_new(row, "node", json_string(sn->name));
		json_object_set_new(row, "slurm_state", json_string(sn->state));
		json_object_set_new(row, "instance", json_string(instance));
		json_object_set_new(row, "instance_type",
				    json_string(sn->instance_type[0] ? sn->instance_type : "-"));
		if (!json)
			printf("%-16s %-16s %-20s %-12s", sn->name, sn->state,
			       instance, sn->instance_type[0] ? sn->instance_type : "-");
		for (b = 0; b < nb; b++) {
			registration_state(backends[b], sn, &e, have, state,
				      sizeof(state));
			json_object_set_new(row, backends[b]->name, json_string(state));
			if (!json)
				printf(" %-46s", state);
		}
		json_object_set_new(row, "since", json_string(since));
		json_object_set_new(row, "error", error ? json_string(error)
						: reason ? json_string(reason)
							 : json_null());
		json_object_set_new(row, "reason", reason ? json_string(reason)
							  : json_null());
		if (!json)
			printf(" %-19s %s%s%s\n", since,
			       error ? error : reason ? reason : "-",
			       error && reason ? "; node: " : "",
			       error && reason ? reason : "");
		json_array_append_new(rows, row);
		journal_entry_clear(&e);
	}
	if (json) {
		char *text = json_dumps(rows, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", text);
		free(text);
	}
	rc = 0;
out:
	json_decref(rows);
	name_set_free(&wanted);
	node_list_free(&want);
	nodes_free(&slurm);
	program_end(&prog);
	libslurm_close();
	return rc;
}
