#!/bin/bash
# 0410-unresolved-user.sh: a job whose user resolves on the controller but
# not on the node is the job's fault: the node is not drained, the prolog
# logs it, and the job fails at its steps, the SPANK plugin telling the
# user why (here with home creation off: the check is the gate's, not the
# home's). The node's own /etc/passwd, in its mount namespace, lacks the
# user.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"

P=$(test_dir unresolvedcfg)
user=si-erin
# The node must stay up (and keep its namespace) through the test.
export CLUSTER_SUSPEND_TIME=600
opsworks_cluster_test unresolved 1 "PlugStackConfig=$P/plugstack.conf"
plugin=$(cluster_spank_plugin "$P") || bail "copy the plugin"
echo "required $plugin statedir=$CLUSTER_DIR/identity home=off wait=2" >"$P/plugstack.conf"
userdel "$user" >/dev/null 2>&1
useradd -M -U -s /bin/sh "$user" || bail "useradd $user"
uid=$(id -u "$user")
cleanup() {
	userdel "$user" >/dev/null 2>&1
	rm -rf "$P"
	opsworks_cluster_cleanup
}
trap cleanup EXIT
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }

# Power the node up with a job of root's.
job=$(sbatch --parsable -o /dev/null --wrap true)
wait_for '[ "$(job_state $job)" = COMPLETED ]' 180
ok $? "the node came up and ran a job ($(job_state $job))" || { dump_logs 30; tap_done; exit 1; }
wait_for '[ -s "$CLUSTER_DIR/nodes/n1/slurmd.pid" ]' 10
slurmd_pid=$(cat "$CLUSTER_DIR/nodes/n1/slurmd.pid")
grep -v "^$user:" /etc/passwd >"$CLUSTER_DIR/passwd.node"
chmod 644 "$CLUSTER_DIR/passwd.node"
nsenter -t "$slurmd_pid" -m mount --bind "$CLUSTER_DIR/passwd.node" /etc/passwd &&
	getent passwd "$user" >/dev/null && ! nsenter -t "$slurmd_pid" -m getent passwd "$user" >/dev/null
ok $? "$user resolves on the controller, not on the node" || bail "cannot hide the user from the node"

mkdir -p "$CLUSTER_DIR/out" && chmod 1777 "$CLUSTER_DIR/out"
job=$(cd /tmp && runuser -u "$user" -- env SLURM_CONF="$SLURM_CONF" \
	sbatch --parsable -o "$CLUSTER_DIR/out/job.out" --wrap "echo BATCHRAN")
wait_for "grep -q 'job $job: ' '$CLUSTER_DIR/log/identity.log'" 60
wait_for '[ "$(job_state $job)" = FAILED ] || [ "$(job_state $job)" = COMPLETED ] || [ -n "$(sinfo -h -n n1 -o %T | grep drain)" ]' 60
[ "$(job_state $job)" = FAILED ]
ok $? "the job failed ($(job_state $job))"
state=$(node_state n1)
case $state in *drain*) false ;; *) true ;; esac
ok $? "the node is not drained ($state; reason: $(sinfo -h -n n1 -o %E))"
grep -q "n1: error: job $job: user: uid $uid does not resolve: the job's steps are refused; the node stays in service$" \
	"$CLUSTER_DIR/log/identity.log"
ok $? "the prolog logs it ($(grep "job $job" "$CLUSTER_DIR/log/identity.log" | tail -1))"
! grep -q BATCHRAN "$CLUSTER_DIR/out/job.out" 2>/dev/null &&
	grep -q "^identity: your user (uid $uid) does not resolve on this node$" "$CLUSTER_DIR/out/job.out"
ok $? "the user is told why ($(head -1 "$CLUSTER_DIR/out/job.out" 2>/dev/null))"
# A job of a user the node knows still runs there.
job=$(sbatch --parsable -o /dev/null --wrap true)
wait_for '[ "$(job_state $job)" = COMPLETED ] || [ "$(job_state $job)" = FAILED ]' 60
[ "$(job_state $job)" = COMPLETED ]
ok $? "the next job runs on the node ($(job_state $job))"
tap_done
