#!/bin/bash
# 0320-reconcile.sh: what escapes the hooks is caught by reconcile.
#  - the suspend hook killed (-9) mid-batch: the next reconcile removes
#    the registrations it journaled, and settles the journal;
#  - a node killed (-9) and its instance terminated behind Slurm's back:
#    reconcile deregisters it; with EC2 unreachable it removes nothing of
#    a live node ("could not look" is not "gone"); a registration of some
#    other cluster is never touched;
#    an instance EC2 does not know is gone only after Ec2NotFoundGrace
#    (EC2 is eventually consistent), counted across reconcile runs.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"

opsworks_cluster_test reconcile 2
export SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/identity.conf
reconcile() { "$top_builddir/slurm-identity" reconcile "$@" 2>>"$CLUSTER_DIR/log/reconcile.err"; }
registered() { opsworks_fake GET /_fake/registry | python3 -c 'import json,sys; print(" ".join(sorted(i["Hostname"] for i in json.load(sys.stdin))))'; }
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }

job=$(sbatch -N2 --parsable --wrap 'sleep 1' -o /dev/null)
wait_for '[ "$(job_state $job)" = COMPLETED ]' 120 && [ "$(registered)" = "n1 n2" ]
ok $? "two nodes up and registered ($(registered))" || dump_logs 30

# 1. The worker killed mid-batch.
# DeregisterInstance hangs (then fails): the worker is caught mid-call.
q=$CLUSTER_DIR/identity/queue
opsworks_fake POST /_fake/faults '{"latency_ms": 8000, "error_5xx": 1000, "operations": ["DeregisterInstance"]}' >/dev/null
wait_for "ls $q/*.batch >/dev/null 2>&1 && ! flock -n $q/.worker.lock true" 90
ok $? "suspend hook journaled the batch and a worker holds the queue"
wait_for "grep -q 'DeregisterInstance' '$CLUSTER_DIR/log/opsworks.log'" 30
pid=$(cat "$q/.worker.lock" 2>/dev/null)
[ -n "$pid" ] && tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "SLURM_CONF=$CLUSTER_DIR/etc/slurm.conf" &&
	kill -9 "$pid"
ok $? "worker killed with SIGKILL mid-call (pid ${pid:-none})"
wait_for '[ "$(node_state n1)" = idle~ ] && [ "$(node_state n2)" = idle~ ]' 60
ok $? "Slurm powered the nodes down anyway"
[ "$(registered)" = "n1 n2" ]
ok $? "registrations leaked for now ($(registered))"
opsworks_fake POST /_fake/faults '{}' >/dev/null

out=$(reconcile --dry-run)
[ "$(echo "$out" | grep -c '^would deregister opsworks n[12] .*: node powered down$')" = 2 ] &&
	[ "$(registered)" = "n1 n2" ]
ok $? "reconcile --dry-run reports both and changes nothing"
ls "$q"/*.batch >/dev/null 2>&1
ok $? "the batch is still journaled"
out=$(reconcile)
ok $? "reconcile succeeds"
echo "$out" | sed 's/^/# /'
echo "$out" | grep -q '^queued: 2 node(s) of batches no worker finished, done now (0 pending)$' &&
	[ -z "$(registered)" ] && ! ls "$q"/*.batch >/dev/null 2>&1
ok $? "reconcile finished the killed worker's batch: both registrations removed"
! grep -qs 'phase=' "$CLUSTER_DIR"/identity/controller/n1 "$CLUSTER_DIR"/identity/controller/n2
ok $? "journal settled"
out=$(reconcile)
echo "$out" | grep -q '^reconcile: 0 registrations, 0 leaks, 0 removed, 0 failed'
ok $? "a second reconcile finds nothing to do"

# 2. A node and its instance die behind Slurm's back. The job is not
# requeued when its node dies: a requeued job wants n1 again, and Slurm
# would power n1 up for it later in the test (a new life, registered
# again; seen in a full run).
job=$(sbatch -N1 -w n1 --no-requeue --parsable --wrap 'sleep 600' -o /dev/null)
wait_for '[ "$(job_state $job)" = RUNNING ] && [ "$(registered)" = n1 ]' 120
ok $? "a long job runs on a registered n1"
opsworks_fake POST /_fake/register '{"Hostname": "othercluster-7", "Ec2InstanceId": "i-0aaaaaaaaaaaaaaaa", "StackId": "'"$AWS_ENV_STACK_ID"'"}' >/dev/null
"$top_srcdir/tests/lib/halt-node.sh" "$CLUSTER_DIR" n1
python3 "$top_srcdir/tests/lib/cloud.py" --dir "$CLUSTER_DIR" terminate n1 >/dev/null
ok $? "n1's slurmd killed -9 and its instance terminated"
# While Slurm still has n1 up, nothing is removed, whatever EC2 says.
out=$(reconcile)
echo "$out" | grep -q ', 0 removed' && [ "$(registered)" = "n1 othercluster-7" ] &&
	grep -q "n1: reconcile: node is allocated now; opsworks .* stays$" "$CLUSTER_DIR/log/identity.log"
ok $? "a node Slurm reports as up is never deregistered, even with its instance terminated"
# What Slurm does once slurmd stops answering: it finds the node not
# responding, and after SlurmdTimeout marks it DOWN (done here at once).
# Not DOWN before the "*": Slurm >= 23.11 takes in a node's answers in a
# pass of its own, after the fact, and n1's answers to its job's launch
# could land after the DOWN and return it to service (ReturnToService=2).
node_not_responding n1 "$job"
ok $? "Slurm finds n1 not responding ($(node_state n1))"
scontrol update nodename=n1 state=down reason="instance lost"

out=$(AWS_ENDPOINT_URL_EC2=http://127.0.0.1:9 reconcile)
echo "$out" | grep -q '^warning: ec2: ' && [ "$(registered)" = "n1 othercluster-7" ]
ok $? "EC2 unreachable: warned, nothing removed from a node Slurm thinks is up"
# A second registration of n1, with an instance EC2 has never heard of
# (as a just-launched one can be: EC2 is eventually consistent).
opsworks_fake POST /_fake/register '{"Hostname": "n1", "Ec2InstanceId": "i-0bbbbbbbbbbbbbbbb", "StackId": "'"$AWS_ENV_STACK_ID"'"}' >/dev/null
echo "Ec2NotFoundGrace=4" >>"$CLUSTER_DIR/etc/identity.conf"
out=$(reconcile)
echo "$out" | sed 's/^/# /'
echo "$out" | grep -q "^deregistered opsworks n1 .*: instance terminated$"
ok $? "reconcile deregistered the dead node (n1 $(node_state n1) in Slurm)"
echo "$out" | grep -q ', 1 foreign$'
ok $? "the other cluster's registration is counted as foreign"
echo "$out" | grep -q '^waiting: n1 .*: instance i-0bbbbbbbbbbbbbbbb not found for [0-3] s; gone after 4 s (Ec2NotFoundGrace)$' &&
	[ "$(registered)" = "n1 othercluster-7" ]
ok $? "an instance EC2 does not know is not taken as gone at once ($(registered))"
grep -q '^i-0bbbbbbbbbbbbbbbb [0-9]*$' "$CLUSTER_DIR/identity/controller/.ec2-missing"
ok $? "its first sighting is kept in StateDir for the next run"
# Reconcile again until the grace has passed (the timer would, less often).
for i in $(seq 60); do
	out=$(reconcile)
	echo "$out" | grep -q '^deregistered opsworks n1 ' && break
	sleep 1
done
echo "$out" | sed 's/^/# /'
echo "$out" | grep -Eq '^deregistered opsworks n1 .*: instance not found for ([4-9]|[1-9][0-9]+) s$'
ok $? "once not found for the grace, it is gone and deregistered"
! grep -qs 'i-0bbbbbbbbbbbbbbbb' "$CLUSTER_DIR/identity/controller/.ec2-missing"
ok $? "and forgotten from the sightings"
[ "$(registered)" = "othercluster-7" ]
ok $? "the other cluster's registration is untouched ($(registered))"

# 3. An id planted in a node's Extra or, on 23.11+, its InstanceId (anyone
# with node root or operator rights can) is not what its suspend removes.
foreign=$(opsworks_fake GET /_fake/registry | python3 -c 'import json,sys; print([i["InstanceId"] for i in json.load(sys.stdin) if i["Hostname"] == "othercluster-7"][0])')
job=$(sbatch -N1 -w n2 --parsable --wrap 'sleep 1' -o /dev/null)
wait_for '[ "$(job_state $job)" = COMPLETED ]' 120 && [ "$(registered)" = "n2 othercluster-7" ]
ok $? "n2 up and registered again ($(registered))"
lines_before=$(wc -l <"$CLUSTER_DIR/log/identity.log")
scontrol update nodename=n2 extra="identity=ready instance=- opsworks=$foreign"
# On 23.11+ the node record's InstanceId is a claim too (an operator can
# set it): plant the other cluster's instance there as well.
foreign_ec2=i-0aaaaaaaaaaaaaaaa
if [ "$(slurm_release)" -ge 2311 ]; then
	scontrol update nodename=n2 instanceid=$foreign_ec2 &&
		scontrol show node n2 | grep -q "InstanceId=$foreign_ec2"
	ok $? "23.11+: n2's InstanceId claims the other cluster's instance $foreign_ec2"
fi
wait_for '[ "$(node_state n2)" = idle~ ] && [ "$(registered)" = othercluster-7 ]' 90
ok $? "n2's suspend removed n2's own registration only ($(registered))"
# (Section 2's reconcile named the other cluster's registration: only
# what was logged since the plant counts.)
! tail -n +$((lines_before + 1)) "$CLUSTER_DIR/log/identity.log" | grep -q -e "$foreign" -e "$foreign_ec2"
ok $? "and never acted on the planted ids $foreign, $foreign_ec2" ||
	tail -n +$((lines_before + 1)) "$CLUSTER_DIR/log/identity.log" | grep -e "$foreign" -e "$foreign_ec2" | head -3 | sed 's/^/# /' 

# 4. StateDir trouble is never silence: with the queue and journal made
# immutable (as a read-only file system would be), the suspend hook says
# so, fails, and still removes the registration.
job=$(sbatch -N1 -w n2 --parsable --wrap 'sleep 1' -o /dev/null)
wait_for '[ "$(job_state $job)" = COMPLETED ]' 120 && [ "$(registered)" = "n2 othercluster-7" ]
ok $? "n2 up and registered once more ($(registered))"
if chattr +i "$CLUSTER_DIR/identity/queue" "$CLUSTER_DIR/identity/controller" 2>/dev/null; then
	wait_for '[ "$(node_state n2)" = idle~ ] && [ "$(registered)" = othercluster-7 ]' 90
	ok $? "with StateDir unwritable, n2's registration was still removed ($(registered))"
	grep -q "n2: error: deregister: StateDir: cannot journal the batch: .*; deregistering now, without a journal" \
		"$CLUSTER_DIR/log/identity.log" &&
		grep -q "n2: suspend done in [0-9]* ms (exit 1)" "$CLUSTER_DIR/log/identity.log"
	ok $? "and the hook said why and exited non-zero"
	chattr -i "$CLUSTER_DIR/identity/queue" "$CLUSTER_DIR/identity/controller"
else
	ok 0 "# SKIP no immutable attribute on this file system"
	ok 0 "# SKIP no immutable attribute on this file system"
fi

tap_done
