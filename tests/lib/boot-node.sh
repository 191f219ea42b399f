#!/bin/bash
# boot-node.sh DIR NODE: boot NODE's slurmd as a fresh "instance".
#
# Own UTS namespace (hostname = node), time namespace (boot time = now, or
# slurmctld refuses the node; the caller waited 2 s after the power-up
# request), mount namespace (this node's AWS config and its own local
# StateDir, nodes/NODE/state, bind-mounted over the shared paths
# identity.conf names: the controller's StateDir is SlurmUser's, a node's
# is root's, on its own disk). Powered programs
# inherit a blocked SIGTERM from slurmctld; tests stop nodes with SIGKILL.
set -u
d=$1 n=$2
nd=$d/nodes/$n
mkdir -p "$nd" "$nd/state" "$d/spool/$n"
chmod 700 "$nd/state"
up=$(cut -d. -f1 /proc/uptime)
# Inside the release matrix's chroot the root is not a mount point and
# "private" fails; run.sh made every mount private already.
prop=private
[ -n "${SI_IN_CHROOT:-}" ] && prop=unchanged
setsid unshare --uts --mount --propagation $prop --time --boottime -"$up" -- \
	sh -c "hostname $n && mount --bind '$nd/aws.config' '$d/etc/aws.config' && \
	       mount --bind '$nd/state' '$d/identity' && \
	       exec slurmd -D -f '$d/etc/slurm.conf' -N $n" \
	>>"$d/log/slurmd-$n.out" 2>&1 </dev/null &
echo $! >"$nd/slurmd.pid"
# Return only once slurmd runs: slurmctld (24.11) kills the power program's
# process group when it exits, and a node process that has not reached
# its own session by then dies with it, silently.
for i in $(seq 1 300); do
	[ -s "$d/run/slurmd-$n.pid" ] && exit 0
	kill -0 "$(cat "$nd/slurmd.pid")" 2>/dev/null || break
	sleep 0.1
done
echo "boot-node: slurmd for $n did not start" >&2
exit 1
