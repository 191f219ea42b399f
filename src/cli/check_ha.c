/* check_ha.c: with two or more SlurmctldHost, StateDir must be storage
 * every controller mounts, whose locks hold across hosts, and Slurm's
 * heartbeat must be readable by SlurmUser (check_ha.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "common/ctld_ha.h"
#include "common/mountinfo.h"
#include "check_ha.h"

/* Filesystems of one host's disks or memory: nothing another host sees. */
static bool local_fs(const char *type)
{
	static const char *const local[] = { "ext2", "ext3", "ext4", "xfs",
		"btrfs", "tmpfs", "zfs", "overlay", "f2fs", "jfs", "reiserfs",
		NULL };
	size_t i;

	for (i = 0; local[i]; i++)
		if (strcmp(type, local[i]) == 0)
			return true;
	return false;
}

/* Do locks on this mount reach the other controllers? */
static void check_locks(const struct mount_entry *m, bool shared_fs,
			const struct check_report *r)
{
	char v[64];

	if (strcmp(m->fstype, "nfs") == 0 || strcmp(m->fstype, "nfs4") == 0) {
		if (mount_option(m->super, "local_lock", v, sizeof(v)) &&
		    strcmp(v, "none") != 0) {
			r->fail("failover: StateDir's NFS mount %s has local_lock=%s: its locks stay on this host and two controllers' workers could run at once; mount it without local_lock (or local_lock=none)",
				m->point, v);
			return;
		}
		if (mount_option(m->super, "nolock", NULL, 0)) {
			r->fail("failover: StateDir's NFS mount %s has nolock: its locks stay on this host; mount it without nolock",
				m->point);
			return;
		}
		if (!mount_option(m->super, "vers", v, sizeof(v)))
			snprintf(v, sizeof(v), "?");
		if (v[0] == '4')
			r->pass("failover: StateDir is on NFS %s (%s): the server holds its locks for every host; a dead host's are let go after the server's lease (nfsv4leasetime, 90 s by default)",
				v, m->source);
		else
			r->pass("failover: StateDir is on NFS %s (%s): locks through lockd; rpc-statd must run on every controller",
				v, m->source);
		return;
	}
	if (strcmp(m->fstype, "lustre") == 0) {
		if (mount_option(m->options, "flock", NULL, 0) ||
		    mount_option(m->super, "flock", NULL, 0))
			r->pass("failover: StateDir is on Lustre mounted with flock: locks hold across clients");
		else
			r->fail("failover: StateDir is on Lustre %s without -o flock (localflock or none): locks do not hold across hosts; mount it with -o flock",
				m->point);
		return;
	}
	if (local_fs(m->fstype)) {
		/* Only where every controller runs on this one kernel (a test
		 * rig): the same filesystem as StateSaveLocation, unshared. */
		if (shared_fs)
			r->warn("failover: StateDir is on a local %s filesystem (%s), as StateSaveLocation is: locks hold only between processes of this host, so every controller must run here",
				m->fstype, m->point);
		return;
	}
	r->warn("failover: cannot tell whether locks on StateDir's %s filesystem (%s) hold across hosts; they must (slurm-identity.conf(5), FAILOVER)",
		m->fstype, m->point);
}

void check_ha(const struct identity_conf *conf, const struct check_report *r)
{
	struct ctld_ha ha;
	struct mount_entry m;
	struct stat sd, ss;
	char err[512], why[512], real[PATH_MAX], save[4096], *slash;
	enum ctld_ha_verdict v;
	bool same;
	FILE *f;
	int i;

	if (ctld_ha_load(&ha, err, sizeof(err)) < 0) {
		r->warn("failover: %s: not checked", err);
		return;
	}
	if (ha.count < 2) {
		r->pass("failover: one SlurmctldHost: StateDir needs no sharing");
		return;
	}
	if (ha.self < 0) {
		r->pass("failover: this host is none of the %d SlurmctldHost (%s, %s...): a watcher here follows no heartbeat and acts alone (run one such watcher per StateDir); run check on each controller too",
			ha.count, ha.hosts[0], ha.hosts[1]);
		return;
	}
	v = ctld_ha_verdict(&ha, why, sizeof(why));
	if (v == CTLD_HA_CANNOT_TELL && strstr(why, "SlurmUser"))
		r->fail("failover: %s: the watcher and the worker act only while Slurm's heartbeat names this host", why);
	else if (v == CTLD_HA_CANNOT_TELL)
		r->warn("failover: %s", why);
	else
		r->pass("failover: %d controllers; Slurm's heartbeat: %s", ha.count,
			why);
	/* StateSaveLocation: the heartbeat's directory. */
	snprintf(save, sizeof(save), "%s", ha.heartbeat);
	slash = strrchr(save, '/');
	if (slash)
		*slash = '\0';
	if (stat(conf->state_dir, &sd) < 0) {
		r->fail("failover: StateDir %s: %s", conf->state_dir,
			strerror(errno));
		return;
	}
	same = stat(save, &ss) == 0 && ss.st_dev == sd.st_dev;
	if (!realpath(conf->state_dir, real) ||
	    !(f = fopen("/proc/self/mountinfo", "r"))) {
		r->warn("failover: cannot tell what StateDir %s is stored on: %s",
			conf->state_dir, strerror(errno));
		return;
	}
	i = mountinfo_find(f, real, &m, err, sizeof(err));
	fclose(f);
	if (i < 0) {
		r->warn("failover: cannot tell what StateDir %s is stored on: %s",
			conf->state_dir, err);
		return;
	}
	if (local_fs(m.fstype) && !same) {
		r->fail("failover: StateDir %s is on a local %s filesystem, StateSaveLocation %s is not on it: the other controllers would find no journal and no queue; put StateDir on the storage StateSaveLocation is on",
			conf->state_dir, m.fstype, save);
		return;
	}
	if (same)
		r->pass("failover: StateDir is on StateSaveLocation's filesystem (%s %s), which every controller reaches",
			m.fstype, m.point);
	check_locks(&m, same, r);
	if (conf->request_timeout * 2 >= ha.timeout)
		r->warn("failover: RequestTimeout=%d is not below half of SlurmctldTimeout=%d: a call sent just before this host lost control could still be in flight when a backup takes over",
			conf->request_timeout, ha.timeout);
}
