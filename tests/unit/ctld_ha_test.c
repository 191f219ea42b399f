/* ctld_ha_test.c: which controller is in control, from Slurm's heartbeat
 * file (16 bytes, time and index big endian) and slurm.conf's
 * SlurmctldHost list. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ctld_ha.h"
#include "tap.h"

static char dir[] = "/tmp/ctld_ha_test.XXXXXX";

/* A heartbeat file as slurmctld writes it; len < 16 cuts it short. */
static void beat_file(uint64_t when, uint64_t index, size_t len)
{
	unsigned char b[16];
	char path[256];
	int i, fd;

	for (i = 0; i < 8; i++) {
		b[i] = (unsigned char)(when >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(index >> (56 - 8 * i));
	}
	snprintf(path, sizeof(path), "%s/heartbeat", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, b, len) != (ssize_t)len)
		tap_ok(0, "cannot write %s", path);
	close(fd);
}

int main(void)
{
	const char *two[] = { "ctl-a", "ctl-b" }, *one[] = { "ctl-a" };
	struct ctld_ha ha;
	char why[512];
	time_t beat = 0;
	int index = -1;

	if (!mkdtemp(dir))
		return 1;

	ctld_ha_set(&ha, one, 1, "ctl-a", "ctl-a.example", 120, dir);
	tap_ok(ctld_ha_verdict(&ha, why, sizeof(why)) == CTLD_HA_ONE,
	       "one SlurmctldHost: no heartbeat needed (%s)", why);

	ctld_ha_set(&ha, two, 2, "ctl-b", "ctl-b.example", 120, dir);
	tap_ok(ha.self == 1, "this host is found by its short name (#%d)", ha.self + 1);
	ctld_ha_set(&ha, two, 2, "x", "ctl-a", 120, dir);
	tap_ok(ha.self == 0, "or by its full name, as slurmctld finds itself");
	ctld_ha_set(&ha, two, 2, "login1", "login1.example", 120, dir);
	tap_ok(ha.self == -1 && ctld_ha_verdict(&ha, why, sizeof(why)) == CTLD_HA_ONE &&
		       strstr(why, "none of the 2 SlurmctldHost"),
	       "a host not among SlurmctldHost (a login node's watcher) follows no heartbeat (%s)",
	       why);

	ctld_ha_set(&ha, two, 2, "ctl-a", "ctl-a", 120, dir);
	tap_ok(ctld_ha_verdict(&ha, why, sizeof(why)) == CTLD_HA_CANNOT_TELL &&
		       strstr(why, "no controller in control has written one yet"),
	       "no heartbeat file: cannot tell, and says why (%s)", why);

	beat_file(1700000000, 1, 16);
	tap_ok(ctld_ha_read_heartbeat(ha.heartbeat, &beat, &index, why, sizeof(why)) == 0 &&
		       beat == 1700000000 && index == 1,
	       "the heartbeat is read as slurmctld wrote it (1700000000, #2)");
	beat_file(1700000000, 1, 12);
	tap_ok(ctld_ha_read_heartbeat(ha.heartbeat, &beat, &index, why, sizeof(why)) < 0 &&
		       strstr(why, "12 of 16 bytes"),
	       "a short heartbeat is refused (%s)", why);

	tap_ok(ctld_ha_judge(&ha, 1000, 0, 1030, why, sizeof(why)) == CTLD_HA_IN_CONTROL,
	       "our index, 30 s old (one beat at SlurmctldTimeout=120): in control (%s)", why);
	tap_ok(ctld_ha_judge(&ha, 1000, 0, 1060, why, sizeof(why)) == CTLD_HA_IN_CONTROL,
	       "60 s old: still in control (half of SlurmctldTimeout)");
	tap_ok(ctld_ha_judge(&ha, 1000, 0, 1061, why, sizeof(why)) == CTLD_HA_NOT_IN_CONTROL &&
		       strstr(why, "last beat 61 s ago"),
	       "61 s old: this host stops, well before a backup may take over at 120 s (%s)",
	       why);
	tap_ok(ctld_ha_judge(&ha, 1000, 1, 1001, why, sizeof(why)) == CTLD_HA_NOT_IN_CONTROL &&
		       strstr(why, "ctl-b is in control"),
	       "the other controller's index: not in control (%s)", why);
	tap_ok(ctld_ha_judge(&ha, 1000, 5, 1001, why, sizeof(why)) == CTLD_HA_CANNOT_TELL,
	       "an index beyond SlurmctldHost: cannot tell (%s)", why);
	ctld_ha_set(&ha, two, 2, "ctl-a", "ctl-a", 10, dir);
	tap_ok(ctld_ha_judge(&ha, 1000, 0, 1005, why, sizeof(why)) == CTLD_HA_IN_CONTROL &&
		       ctld_ha_judge(&ha, 1000, 0, 1006, why, sizeof(why)) ==
			       CTLD_HA_NOT_IN_CONTROL,
	       "SlurmctldTimeout=10: in control up to 5 s after a beat, not at 6");

	{
		char path[256];

		snprintf(path, sizeof(path), "%s/heartbeat", dir);
		unlink(path);
		rmdir(dir);
	}
	return tap_done();
}
