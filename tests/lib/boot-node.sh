#!/bin/bash
# boot-node.sh DIR NODE: boot NODE's slurmd as a fresh "instance".
#
# Own UTS namespace (hostname = node), time namespace (boot time = now, or
# slurmctld refuses the node), mount namespace (this node's AWS config
# bind-mounted over the shared path identity.conf names). Powered programs
# inherit a blocked SIGTERM from slurmctld; tests stop nodes with SIGKILL.
set -u
d=$1 n=$2
nd=$d/nodes/$n
mkdir -p "$nd" "$d/spool/$n"
sleep 1
up=$(cut -d. -f1 /proc/uptime)
setsid unshare --uts --mount --propagation private --time --boottime -"$up" -- \
	sh -c "hostname $n && mount --bind '$nd/aws.config' '$d/etc/aws.config' && \
	       exec slurmd -D -f '$d/etc/slurm.conf' -N $n" \
	>>"$d/log/slurmd-$n.out" 2>&1 </dev/null &
echo $! >"$nd/slurmd.pid"
