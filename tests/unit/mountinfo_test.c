/* mountinfo_test.c: the mount StateDir lives on, from mountinfo(5) lines,
 * and the options `check` reads of it. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/mountinfo.h"
#include "tap.h"

static const char table[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
	"30 22 0:25 / /run rw,nosuid,nodev - tmpfs tmpfs rw,size=1000k,mode=755\n"
	"40 22 0:40 /export /shared rw,relatime shared:7 - nfs4 fs1:/export rw,vers=4.2,rsize=1048576,hard,proto=tcp,timeo=600,local_lock=none,addr=10.0.0.5\n"
	"41 40 0:41 / /shared/old rw - nfs fs2:/old rw,vers=3,nolock,local_lock=all,addr=10.0.0.6\n"
	"42 22 0:42 / /lus rw - lustre 10.0.0.7@tcp:/fs rw,flock\n"
	"43 22 0:43 / /with\\040space rw - xfs /dev/sdb rw\n";

static int find(const char *path, struct mount_entry *e, char *err, size_t len)
{
	FILE *f = fmemopen((void *)table, sizeof(table) - 1, "r");
	int rc = mountinfo_find(f, path, e, err, len);

	fclose(f);
	return rc;
}

int main(void)
{
	struct mount_entry e;
	char err[256], v[64];

	tap_ok(find("/var/spool/slurm-identity", &e, err, sizeof(err)) == 0 &&
		       strcmp(e.point, "/") == 0 && strcmp(e.fstype, "ext4") == 0,
	       "a path on the root filesystem: / ext4");
	tap_ok(find("/shared/identity", &e, err, sizeof(err)) == 0 &&
		       strcmp(e.point, "/shared") == 0 && strcmp(e.fstype, "nfs4") == 0 &&
		       strcmp(e.source, "fs1:/export") == 0,
	       "under an NFS mount: that mount (%s %s)", e.point, e.fstype);
	tap_ok(find("/shared", &e, err, sizeof(err)) == 0 && strcmp(e.point, "/shared") == 0,
	       "the mount point itself");
	tap_ok(find("/sharedx/a", &e, err, sizeof(err)) == 0 && strcmp(e.point, "/") == 0,
	       "/sharedx is not under /shared");
	tap_ok(find("/shared/old/x", &e, err, sizeof(err)) == 0 &&
		       strcmp(e.point, "/shared/old") == 0 && strcmp(e.fstype, "nfs") == 0,
	       "the deepest mount wins (%s)", e.point);
	tap_ok(mount_option(e.super, "nolock", NULL, 0) &&
		       mount_option(e.super, "local_lock", v, sizeof(v)) && strcmp(v, "all") == 0,
	       "options: nolock, local_lock=%s", v);
	tap_ok(mount_option(e.super, "vers", v, sizeof(v)) && strcmp(v, "3") == 0 &&
		       !mount_option(e.super, "vers=4", NULL, 0) && !mount_option(e.super, "lock", NULL, 0),
	       "vers=3; \"lock\" is not \"nolock\"");
	tap_ok(find("/lus/a", &e, err, sizeof(err)) == 0 && mount_option(e.super, "flock", NULL, 0),
	       "lustre mounted with flock");
	tap_ok(find("/with space/d", &e, err, sizeof(err)) == 0 && strcmp(e.fstype, "xfs") == 0,
	       "escaped mount points (\\040) are read as they are");
	{
		static const char bad[] = "22 1 8:1 / / rw ext4 /dev/sda1 rw\n";
		FILE *f = fmemopen((void *)bad, sizeof(bad) - 1, "r");

		tap_ok(mountinfo_find(f, "/", &e, err, sizeof(err)) < 0 &&
			       strstr(err, "line 1"),
		       "a line without the separator is refused (%s)", err);
		fclose(f);
	}
	return tap_done();
}
