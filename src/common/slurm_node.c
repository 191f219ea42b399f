/* slurm_node.c: node records through libslurm. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include "hostlist.h"
#include "nameset.h"
#include "slurm_compat.h"
#include "slurm_node.h"
#include "xmalloc.h"

static bool initialized;

bool libslurm_conf_here(char *path, size_t pathlen)
{
	const char *conf = getenv("SLURM_CONF");
	struct stat st;

	if (!conf || !*conf)
		conf = SLURM_CONF_DIR "/slurm.conf";
	if (path && pathlen)
		snprintf(path, pathlen, "%s", conf);
	return stat(conf, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(conf, R_OK) == 0;
}

void libslurm_open(void)
{
	if (!initialized) {
		slurm_init(NULL);
		initialized = true;
	}
}

void libslurm_close(void)
{
	if (initialized) {
		slurm_fini();
		initialized = false;
	}
}

/* sinfo-like: base state, then ~ # % for power and +DRAIN. */
static void describe_state(uint32_t st, char *out, size_t len)
{
	static const char *base[] = { "unknown", "down", "idle", "allocated",
				      "error", "mixed", "future" };
	uint32_t b = st & NODE_STATE_BASE;
	const char *power = "";

	if (st & NODE_STATE_POWERING_UP)
		power = "#";
	else if (st & NODE_STATE_POWERING_DOWN)
		power = "%";
	else if (st & NODE_STATE_POWERED_DOWN)
		power = "~";
	snprintf(out, len, "%s%s%s", b < 7 ? base[b] : "unknown", power,
		 (st & NODE_STATE_DRAIN) ? "+drain" : "");
}

/* slurmctld hides powered-down CLOUD nodes from node listings unless
 * PrivateData=cloud is set (their records come back without a name), but
 * partitions still name them: a node a partition lists and the node
 * listing hides is a cloud node that is powered down. */
static void add_hidden_nodes(struct slurm_node_set *set)
{
	partition_info_msg_t *parts = NULL;
	struct node_list hidden = { NULL, 0 };
	struct name_set seen;
	size_t i;

	if (slurm_load_partitions((time_t)0, &parts, SHOW_ALL) != SLURM_SUCCESS)
		return;
	name_set_init(&seen);
	for (i = 0; i < set->count; i++)
		name_set_add(&seen, set->nodes[i].name, i);
	for (i = 0; i < parts->record_count; i++) {
		struct hostlist *hl;
		char *host;

		if (!parts->partition_array[i].nodes)
			continue;
		hl = slurm_hostlist_create(parts->partition_array[i].nodes);
		while (hl && (host = slurm_hostlist_shift(hl))) {
			if (!name_set_find(&seen, host, NULL) &&
			    strlen(host) < sizeof(set->nodes[0].name)) {
				node_list_add(&hidden, host);
				name_set_add(&seen, hidden.names[hidden.count - 1], 0);
			}
			free(host);
		}
		slurm_hostlist_destroy(hl);
	}
	name_set_free(&seen);
	slurm_free_partition_info_msg(parts);
	if (!hidden.count)
		return;
	set->nodes = xrealloc(set->nodes, (set->count + hidden.count + 1) *
						  sizeof(*set->nodes));
	for (i = 0; i < hidden.count; i++) {
		struct slurm_node *n = &set->nodes[set->count++];

		memset(n, 0, sizeof(*n));
		snprintf(n->name, sizeof(n->name), "%s", hidden.names[i]);
		n->powered_down = true;
		snprintf(n->state, sizeof(n->state), "cloud~");
		n->extra = xstrdup("");
		n->reason = xstrdup("");
		n->comment = xstrdup("");
	}
	node_list_free(&hidden);
}

/* The set from a node listing (set empty on entry). */
static void set_fill(struct slurm_node_set *set, const node_info_msg_t *msg)
{
	uint32_t i;

	set->nodes = xcalloc(msg->record_count + 1, sizeof(*set->nodes));
	for (i = 0; i < msg->record_count; i++) {
		node_info_t *ni = &msg->node_array[i];
		struct slurm_node *n;
		uint32_t st = ni->node_state;
		if (!ni->name)
			continue;
		n = &set->nodes[set->count++];
		snprintf(n->name, sizeof(n->name), "%s", ni->name);
		n->powering_up = st & NODE_STATE_POWERING_UP;
		n->powered_down = (st & NODE_STATE_POWERED_DOWN) && !n->powering_up;
		n->powering_down = st & NODE_STATE_POWERING_DOWN;
		n->drained = st & NODE_STATE_DRAIN;
		n->down = (st & NODE_STATE_BASE) == NODE_STATE_DOWN;
		describe_state(st, n->state, sizeof(n->state));
		snprintf(n->addr, sizeof(n->addr), "%s",
			 ni->node_addr ? ni->node_addr : "");
		compat_node_instance(ni, n->instance_id, sizeof(n->instance_id),
				     n->instance_type, sizeof(n->instance_type));
		n->extra = xstrdup(ni->extra ? ni->extra : "");
		n->reason = xstrdup(ni->reason ? ni->reason : "");
		n->comment = xstrdup(ni->comment ? ni->comment : "");
	}
	add_hidden_nodes(set);
	/* The array no longer moves: index it. */
	name_set_init(&set->index);
	for (i = 0; i < set->count; i++)
		name_set_add(&set->index, set->nodes[i].name, i);
	set->last_update = msg->last_update;
}

int nodes_load(struct slurm_node_set *set, char *err, size_t errlen)
{
	node_info_msg_t *msg = NULL;

	memset(set, 0, sizeof(*set));
	name_set_init(&set->index);
	libslurm_open();
	if (slurm_load_node((time_t)0, &msg, SHOW_ALL) != SLURM_SUCCESS) {
		snprintf(err, errlen, "cannot load Slurm node states: %s",
			 slurm_strerror(errno));
		return -1;
	}
	set_fill(set, msg);
	slurm_free_node_info_msg(msg);
	return 0;
}

int nodes_refresh(struct slurm_node_set *set, char *err, size_t errlen)
{
	node_info_msg_t *msg = NULL;

	if (!set->last_update)
		return nodes_load(set, err, errlen);
	libslurm_open();
	if (slurm_load_node(set->last_update, &msg, SHOW_ALL) != SLURM_SUCCESS) {
		if (errno == SLURM_NO_CHANGE_IN_DATA)
			return 0;	/* nothing sent: the set is current */
		snprintf(err, errlen, "cannot load Slurm node states: %s",
			 slurm_strerror(errno));
		return -1;
	}
	nodes_free(set);
	set_fill(set, msg);
	slurm_free_node_info_msg(msg);
	return 0;
}

const struct slurm_node *nodes_find(const struct slurm_node_set *set,
				    const char *name)
{
	size_t i;

	return name_set_find(&set->index, name, &i) ? &set->nodes[i] : NULL;
}

void nodes_free(struct slurm_node_set *set)
{
	size_t i;

	for (i = 0; i < set->count; i++) {
		free(set->nodes[i].extra);
		free(set->nodes[i].reason);
		free(set->nodes[i].comment);
	}
	free(set->nodes);
	set->nodes = NULL;
	set->count = 0;
	set->last_update = 0;
	name_set_free(&set->index);
}

static int update(update_node_msg_t *msg, const char *what, char *err,
		  size_t errlen)
{
	libslurm_open();
	if (slurm_update_node(msg) != SLURM_SUCCESS) {
		snprintf(err, errlen, "cannot %s %s: %s", what, msg->node_names,
			 slurm_strerror(errno));
		return -1;
	}
	return 0;
}

int nodes_drain(const char *nodes, const char *reason, char *err, size_t errlen)
{
	update_node_msg_t msg;

	slurm_init_update_node_msg(&msg);
	msg.node_names = (char *)nodes;
	msg.node_state = NODE_STATE_DRAIN;
	msg.reason = (char *)reason;
	msg.comment = (char *)reason;
	compat_set_reason_uid(&msg);
	return update(&msg, "drain", err, errlen);
}

int nodes_set_extra(const char *nodes, const char *extra, char *err,
		    size_t errlen)
{
	update_node_msg_t msg;

	slurm_init_update_node_msg(&msg);
	msg.node_names = (char *)nodes;
	msg.extra = (char *)extra;
	return update(&msg, "set Extra of", err, errlen);
}

/* Does node's Comment hold an "identity: ..." failure of ours? */
static bool identity_comment(const char *node)
{
	node_info_msg_t *msg = NULL;
	bool ours = false;

	if (slurm_load_node_single(&msg, (char *)node, SHOW_ALL) != SLURM_SUCCESS)
		return false;
	if (msg->record_count == 1 && msg->node_array[0].comment)
		ours = strncmp(msg->node_array[0].comment, "identity:", 9) == 0;
	slurm_free_node_info_msg(msg);
	return ours;
}

int nodes_set_identity(const char *node, const char *extra,
		       const char *instance_id, const char *instance_type,
		       bool *native, char *err, size_t errlen)
{
	update_node_msg_t msg;

	slurm_init_update_node_msg(&msg);
	msg.node_names = (char *)node;
	msg.extra = (char *)extra;
	*native = instance_id[0] &&
		  compat_set_instance(&msg, instance_id, instance_type);
	/* A good registration ends the story of the last failure. */
	if (identity_comment(node))
		msg.comment = "";
	return update(&msg, "record the identity of", err, errlen);
}

bool nodes_have_instance_fields(void)
{
	return compat_have_instance_fields();
}

int nodes_power_down(const char *nodes, const char *reason, char *err,
		     size_t errlen)
{
	update_node_msg_t msg;

	slurm_init_update_node_msg(&msg);
	msg.node_names = (char *)nodes;
	msg.node_state = NODE_STATE_POWER_DOWN | NODE_STATE_POWER_DRAIN;
	msg.reason = (char *)reason;
	/* Slurm drops the reason once the node is powered down; the
	 * comment stays until the next good registration clears it. */
	msg.comment = (char *)reason;
	compat_set_reason_uid(&msg);
	return update(&msg, "power down", err, errlen);
}

char *ctld_cluster_name(char *err, size_t errlen)
{
	slurm_conf_t *cf = NULL;
	char *name = NULL;

	libslurm_open();
	if (slurm_load_ctl_conf((time_t)0, &cf) != SLURM_SUCCESS) {
		snprintf(err, errlen, "%s", slurm_strerror(errno));
		return NULL;
	}
	if (cf->cluster_name && *cf->cluster_name)
		name = xstrdup(cf->cluster_name);
	else
		snprintf(err, errlen, "slurmctld has no ClusterName");
	compat_free_ctl_conf(cf);
	return name;
}

int ctld_slurm_user(unsigned *uid, char *name, size_t namelen, char *err,
		    size_t errlen)
{
	slurm_conf_t *cf = NULL;

	libslurm_open();
	if (slurm_load_ctl_conf((time_t)0, &cf) != SLURM_SUCCESS) {
		snprintf(err, errlen, "%s", slurm_strerror(errno));
		return -1;
	}
	*uid = (unsigned)cf->slurm_user_id;
	snprintf(name, namelen, "%s",
		 cf->slurm_user_name ? cf->slurm_user_name : "?");
	compat_free_ctl_conf(cf);
	return 0;
}

int ctld_suspend_timeout(char *err, size_t errlen)
{
	slurm_conf_t *cf = NULL;
	int timeout;

	libslurm_open();
	if (slurm_load_ctl_conf((time_t)0, &cf) != SLURM_SUCCESS) {
		snprintf(err, errlen, "%s", slurm_strerror(errno));
		return -1;
	}
	timeout = (int)cf->suspend_timeout;
	compat_free_ctl_conf(cf);
	if (timeout <= 0) {
		snprintf(err, errlen, "SuspendTimeout is %d", timeout);
		return -1;
	}
	return timeout;
}

int ctld_power_programs(char *resume, size_t resumelen, char *suspend,
			size_t suspendlen, char *err, size_t errlen)
{
	slurm_conf_t *cf = NULL;

	libslurm_open();
	if (slurm_load_ctl_conf((time_t)0, &cf) != SLURM_SUCCESS) {
		snprintf(err, errlen, "%s", slurm_strerror(errno));
		return -1;
	}
	snprintf(resume, resumelen, "%s", cf->resume_program ? cf->resume_program : "");
	snprintf(suspend, suspendlen, "%s", cf->suspend_program ? cf->suspend_program : "");
	compat_free_ctl_conf(cf);
	return 0;
}

int ctld_release(char *err, size_t errlen)
{
	slurm_conf_t *cf = NULL;
	unsigned major = 0, minor = 0;
	int n;

	libslurm_open();
	if (slurm_load_ctl_conf((time_t)0, &cf) != SLURM_SUCCESS) {
		snprintf(err, errlen, "%s", slurm_strerror(errno));
		return -1;
	}
	n = cf->version ? sscanf(cf->version, "%u.%u", &major, &minor) : 0;
	if (n != 2 || minor > 99)
		snprintf(err, errlen, "slurmctld's version \"%s\" is not MAJOR.MINOR",
			 cf->version ? cf->version : "");
	compat_free_ctl_conf(cf);
	return n == 2 && minor <= 99 ? (int)(major * 100 + minor) : -1;
}

bool node_extra_get(const char *extra, const char *key, char *out,
		    size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = extra;

	while (p && *p) {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, " ");

			snprintf(out, outlen, "%.*s", (int)n, v);
			return true;
		}
		p = strchr(p, ' ');
	}
	return false;
}
