/* slurm_compat.c: the differences between libslurm releases, in one place. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "slurm_compat.h"
#include "xmalloc.h"

void compat_set_reason_uid(update_node_msg_t *msg)
{
#ifdef HAVE_UPDATE_NODE_MSG_T_REASON_UID
	msg->reason_uid = getuid();
#else
	(void)msg;
#endif
}

bool compat_have_instance_fields(void)
{
#if defined(HAVE_UPDATE_NODE_MSG_T_INSTANCE_ID) && \
	defined(HAVE_NODE_INFO_T_INSTANCE_ID)
	return true;
#else
	return false;
#endif
}

bool compat_set_instance(update_node_msg_t *msg, const char *id,
			 const char *type)
{
#ifdef HAVE_UPDATE_NODE_MSG_T_INSTANCE_ID
	msg->instance_id = (char *)id;
	msg->instance_type = (char *)type;
	return true;
#else
	(void)msg;
	(void)id;
	(void)type;
	return false;
#endif
}

void compat_node_instance(const node_info_t *ni, char *id, size_t idlen,
			  char *type, size_t typelen)
{
#ifdef HAVE_NODE_INFO_T_INSTANCE_ID
	snprintf(id, idlen, "%s", ni->instance_id ? ni->instance_id : "");
	snprintf(type, typelen, "%s", ni->instance_type ? ni->instance_type : "");
#else
	(void)ni;
	snprintf(id, idlen, "%s", "");
	snprintf(type, typelen, "%s", "");
#endif
}

char *compat_hostlist_ranged(struct hostlist *hl)
{
	size_t len = 1024;
	char *buf = xmalloc(len);

	/* -1 means the buffer was too small: grow and try again. */
	while (slurm_hostlist_ranged_string(hl, len, buf) < 0) {
		len *= 2;
		buf = xrealloc(buf, len);
	}
	return buf;
}

void compat_free_ctl_conf(slurm_conf_t *cf)
{
#if HAVE_DECL_SLURM_FREE_CONF
	slurm_free_conf(cf);
#else
	slurm_free_ctl_conf(cf);
#endif
}
