#!/bin/bash
# halt-node.sh DIR NODE: the instance is gone: slurmd killed, IMDS gone,
# its local disk (identity state, keys) lost.
set -u
d=$1 n=$2
nd=$d/nodes/$n
uts_of() { readlink "/proc/$1/ns/uts" 2>/dev/null; }
# The instance is its own UTS namespace (boot-node.sh): slurmd, the job
# steps it started (slurmstepd outlives a killed slurmd) and their tasks.
uts=""
[ -s "$d/run/slurmd-$n.pid" ] && uts=$(uts_of "$(cat "$d/run/slurmd-$n.pid")")
for f in "$nd/slurmd.pid" "$d/run/slurmd-$n.pid" "$nd/imds.pid"; do
	[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	rm -f "$f"
done
# A dead instance leaves nothing running: a killed slurmd leaves its
# slurmstepd behind (orphaned, in the test directory). Only that
# namespace, never our own. (What brought a halted, downed node back to
# service was not these but its slurmd's last answers, which slurmctld
# applied late: see node_not_responding in cluster.sh.)
# A process forked while a pass reads /proc escapes that pass (a stepd
# starting a task, say): pass again until one finds nothing there.
if [ -n "$uts" ] && [ "$uts" != "$(uts_of $$)" ]; then
	for pass in $(seq 50); do
		found=0
		for p in /proc/[0-9]*; do
			p=${p#/proc/}
			[ "$(uts_of "$p")" = "$uts" ] && kill -9 "$p" 2>/dev/null && found=1
		done
		[ $found = 0 ] && break
		sleep 0.1
	done
fi
# Its disk: the node's own StateDir (boot-node.sh).
rm -rf "$nd/state"
exit 0
