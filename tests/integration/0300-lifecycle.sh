#!/bin/bash
# 0300-lifecycle.sh: nodes power up, register, run a job, power down and
# deregister, on a real slurmctld/slurmd with IAM enforcement everywhere
# (moto for EC2/STS, the fake OpsWorks for its API), the IAM users holding
# exactly what `slurm-identity policy` prints.
# Also: repeated and needless hooks are harmless and make no extra calls.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"

opsworks_cluster_test lifecycle 3

calls() { opsworks_fake GET /_fake/calls | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }
registered() { opsworks_fake GET /_fake/registry | python3 -c 'import json,sys; print(" ".join(sorted(i["Hostname"] for i in json.load(sys.stdin))))'; }
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }

t0=$(date +%s)
job=$(sbatch -N2 -w n[1-2] --parsable --wrap 'hostname; sleep 1' -o "$CLUSTER_DIR/job-%j.out")
ok $? "sbatch -N2 on powered-down nodes ($job)"
wait_for '[ "$(job_state $job)" = COMPLETED ]' 120
ok $? "job ran to completion ($(job_state $job), $(( $(date +%s) - t0 ))s)" ||
	{ dump_logs 40; }
resumed_s=$(( $(date +%s) - t0 ))

[ "$(registered)" = "n1 n2" ]
ok $? "both nodes registered in the stack (registry: $(registered))"
# identity.conf names an AWS config file; the cloud's program must not get
# it (it would run with our credentials), nor a core limit it cannot raise.
grep -q "^chain-env: AWS_CONFIG_FILE=unset AWS_SHARED_CREDENTIALS_FILE=unset core-hard=$(ulimit -Hc)$" "$CLUSTER_DIR/log/cloud.log"
ok $? "the chained program got Slurm's environment and limits ($(grep -m1 '^chain-env' "$CLUSTER_DIR/log/cloud.log"))"
[ "$(calls RegisterInstance)" = 2 ]
ok $? "exactly one RegisterInstance per node ($(calls RegisterInstance))"
if [ "$(slurm_release)" -ge 2605 ]; then
	# 26.05: the hooks are PowerActions, "-c FILE" before the node list.
	grep -q "^ResumeProgram=idresume$" "$CLUSTER_DIR/etc/slurm.conf" &&
		grep -q "^PowerAction=idresume Location=slurmctld Program=\"$CLUSTER_DIR/sbin/slurm-identity-resume -c $CLUSTER_DIR/etc/identity.conf\"$" "$CLUSTER_DIR/etc/slurm.conf" &&
		grep -q "slurm-identity-resume\[[0-9]*\]: n\[1-2\]: resume done in" "$CLUSTER_DIR/log/identity.log"
	ok $? "the resume hook ran as a PowerAction with its options first ($(grep -m1 'resume done' "$CLUSTER_DIR/log/identity.log" | sed 's/.*: n/n/'))"
fi
if [ "$(slurm_release)" -ge 2311 ]; then
	# 23.11+: the instance in Slurm's own fields, Extra for the rest.
	scontrol show node n1 | grep -q 'Extra=identity=ready opsworks=' &&
		scontrol show node n1 | grep -q 'InstanceId=i-[0-9a-f]* InstanceType=t3.micro'
	ok $? "node record holds the identity (InstanceId, InstanceType, Extra)"
else
	scontrol show node n1 | grep -q 'Extra=identity=ready instance=i-[0-9a-f]* opsworks='
	ok $? "node record mirrors the identity (Extra)"
fi

st=$(SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/identity.conf "$top_builddir/slurm-identity" status 'n[1-3]' --json)
echo "$st" | python3 -c '
import json, sys
rows = {r["node"]: r for r in json.load(sys.stdin)}
native = int(sys.argv[1]) >= 2311
assert rows["n1"]["opsworks"].startswith("registered:"), rows["n1"]
assert rows["n1"]["instance"].startswith("i-"), rows["n1"]
assert rows["n1"]["instance_type"] == ("t3.micro" if native else "-"), rows["n1"]
assert rows["n3"]["opsworks"] == "-", rows["n3"]
' "$(slurm_release)"
ok $? "slurm-identity status shows the registrations (and n3 without)"
SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/identity.conf "$top_builddir/slurm-identity" status |
	sed 's/^/# /'

# A second job on the same, still powered-up nodes takes the fast path.
job2=$(sbatch -N2 -w n[1-2] --parsable --wrap true -o /dev/null)
wait_for '[ "$(job_state $job2)" = COMPLETED ]' 60
ok $? "second job on powered-up nodes completed"
[ "$(calls RegisterInstance)" = 2 ]
ok $? "prolog fast path: no new RegisterInstance ($(calls RegisterInstance))"

# SlurmUser (slurm here) runs the hooks: the programs run as root by an
# admin act as StateDir's owner (nothing they leave is root's), and check
# says whether that user has what it needs, and what to do when not.
if [ "$CLUSTER_SLURM_USER" != root ]; then
	[ "$(stat -c %U "$CLUSTER_DIR/identity/controller")" = "$CLUSTER_SLURM_USER" ] &&
		! find "$CLUSTER_DIR/identity" "$CLUSTER_DIR/log/identity.log" -user root | grep -q .
	ok $? "StateDir and LogFile hold nothing of root's after hooks, status and policy run as root ($(find "$CLUSTER_DIR/identity" "$CLUSTER_DIR/log/identity.log" -user root | head -3 | tr '\n' ' '))"
	SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/identity.conf "$top_builddir/slurm-identity" check \
		>"$CLUSTER_DIR/check.out" 2>&1
	rc=$?
	[ $rc = 0 ] && grep -qx "ok: SlurmUser $CLUSTER_SLURM_USER owns StateDir $CLUSTER_DIR/identity and can use the files it names" "$CLUSTER_DIR/check.out"
	ok $? "check, run as root, checks as SlurmUser and passes (exit $rc)" ||
		sed 's/^/# /' "$CLUSTER_DIR/check.out"
	mkdir -m 700 "$CLUSTER_DIR/rootstate"
	sed "s|^StateDir=.*|StateDir=$CLUSTER_DIR/rootstate|" "$CLUSTER_DIR/etc/identity.conf" >"$CLUSTER_DIR/etc/rootstate.conf"
	SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/rootstate.conf "$top_builddir/slurm-identity" check \
		>"$CLUSTER_DIR/check.out" 2>&1
	rc=$?
	[ $rc = 1 ] && grep -qx "slurm-identity: check: StateDir $CLUSTER_DIR/rootstate is owned by uid 0, but the hooks run as SlurmUser $CLUSTER_SLURM_USER (uid $(id -u "$CLUSTER_SLURM_USER")): chown -R $CLUSTER_SLURM_USER $CLUSTER_DIR/rootstate" "$CLUSTER_DIR/check.out"
	ok $? "check names a StateDir that is root's and says what to do (exit $rc)" ||
		sed 's/^/# /' "$CLUSTER_DIR/check.out"
	chown "$CLUSTER_SLURM_USER" "$CLUSTER_DIR/rootstate"
	chmod 600 "$CLUSTER_DIR/etc/aws.config"
	chown root "$CLUSTER_DIR/etc/aws.config"
	SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/rootstate.conf "$top_builddir/slurm-identity" check \
		>"$CLUSTER_DIR/check.out" 2>&1
	rc=$?
	chown "$CLUSTER_SLURM_USER" "$CLUSTER_DIR/etc/aws.config"
	[ $rc = 1 ] && grep -q "^slurm-identity: check: .*$CLUSTER_DIR/etc/aws.config.*Permission denied" "$CLUSTER_DIR/check.out"
	ok $? "check names an AWS config file SlurmUser cannot read (exit $rc)" ||
		sed 's/^/# /' "$CLUSTER_DIR/check.out"
fi

# Resume hook for nodes already up and registered (as after a slurmctld
# restart), without the cloud chain: nothing to call.
sed '/^Chain/d' "$CLUSTER_DIR/etc/identity.conf" >"$CLUSTER_DIR/etc/nochain.conf"
extra_before=$(scontrol show node n1 | grep -o 'Extra=[^ ]*')
SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/nochain.conf \
	"$top_builddir/slurm-identity-resume" 'n[1-2]'
ok $? "resume of registered nodes succeeds"
wait_for worker_idle 60
ok $? "the worker it started did the batch it queued"
# What a resume could wrongly do to a live node: remove or redo its
# registration, or clear what its node record says of it.
[ "$(calls RegisterInstance)" = 2 ] && [ "$(calls DeregisterInstance)" = 0 ] &&
	[ "$(registered)" = "n1 n2" ] &&
	[ "$(scontrol show node n1 | grep -o 'Extra=[^ ]*')" = "$extra_before" ] &&
	grep -qx 'phase=resuming' "$CLUSTER_DIR/identity/controller/n1"
ok $? "resume of registered nodes changes nothing: both registered, no call, Extra kept ($extra_before)"

# The epilog finds the identity lost (the OpsWorks key gone from the
# node's disk): it drains the node with a reason that says so, and the
# job itself is not failed.
key=$(sed -n 's/^opsworks.key=//p' "$CLUSTER_DIR/nodes/n2/state/node/n2")
key=$CLUSTER_DIR/nodes/n2/state/${key#"$CLUSTER_DIR/identity/"}
[ -f "$key" ] && rm -f "$key"
job3=$(sbatch -N1 -w n2 --parsable --wrap true -o /dev/null)
# Each on its own deadline: on a loaded machine the job's completion can
# trail the drain by a while (a CI run saw both just past one shared 60 s).
wait_for "sinfo -h -R -n n2 -o '%E' | grep -qx 'identity: opsworks: epilog: key file missing'" 90 &&
	wait_for '[ "$(job_state "$job3")" = COMPLETED ]' 90
ok $? "epilog: a lost key drains the node ($(sinfo -h -R -n n2 -o '%E'); job $(job_state "$job3"))"
scontrol update nodename=n2 state=resume

t1=$(date +%s)
wait_for '[ "$(node_state n1)" = idle~ ] && [ "$(node_state n2)" = idle~ ]' 120
ok $? "nodes powered down after SuspendTime ($(node_state n1), $(node_state n2))"
wait_for '[ -z "$(registered)" ]' 30 && wait_for worker_idle 30
ok $? "registry empty after suspend, worker done (registry: '$(registered)')"
[ "$(calls DeregisterInstance)" = 2 ]
ok $? "exactly one DeregisterInstance per node ($(calls DeregisterInstance))"
suspended_s=$(( $(date +%s) - t1 ))
grep -q "opsworks: deregistered .* (request [0-9a-zA-Z-]*, [0-9]* ms)" "$CLUSTER_DIR/log/identity.log"
ok $? "log names node, backend, request id and latency"
# Over the directory, not a glob: an empty or missing one must not pass
# for a settled one.
[ -d "$CLUSTER_DIR/identity/controller" ] &&
	! grep -rqs '^phase=pending' "$CLUSTER_DIR/identity/controller"
ok $? "controller journal settled (nothing pending)"
! scontrol show node n1 | grep -q 'Extra=identity' &&
	! scontrol show node n1 | grep -q 'InstanceId=i-'
ok $? "per-life fields cleared on suspend (Extra, InstanceId)"

# Each host writes its own textfile (MetricsFile=...-%n.prom): the nodes
# count registrations, the controller deregistrations.
prom=$CLUSTER_DIR/log/identity-$(hostname -s).prom
for n in n1 n2; do
	grep -q '^slurm_identity_registrations_total{backend="opsworks"} 1$' "$CLUSTER_DIR/log/identity-$n.prom" &&
		grep -q '^slurm_identity_call_seconds_count{backend="opsworks",op="register"} 1$' "$CLUSTER_DIR/log/identity-$n.prom"
	ok $? "$n's Prometheus textfile counts its registration and its latency"
done
grep -q '^slurm_identity_deregistrations_total{backend="opsworks"} 2$' "$prom" &&
	grep -q '^# TYPE slurm_identity_call_seconds histogram$' "$prom" &&
	grep -q '^slurm_identity_pending_nodes 0$' "$prom"
ok $? "the controller's Prometheus textfile counts deregistrations, latency, pending"
sed 's/^/# /' "$prom" | grep -v bucket

# Suspend again, and suspend a node that never registered: no error and no
# extra deregistration.
before=$(calls DeregisterInstance)
SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/nochain.conf \
	"$top_builddir/slurm-identity-suspend" 'n[1-3]'
ok $? "suspend of deregistered and never-registered nodes succeeds"
# The hook hands the batch to the worker: count once it is done.
wait_for worker_idle 60 && [ "$(calls DeregisterInstance)" = "$before" ]
ok $? "no duplicate DeregisterInstance ($(calls DeregisterInstance))"
# No AWS secret key (controller's, node role's) in logs, state or journal.
leaked=0
for secret in $(python3 -c "import json; e=json.load(open('$CLUSTER_DIR/aws-env.json')); print(' '.join(u['secret'] for u in e['users'].values()))"); do
	grep -rqF -- "$secret" "$CLUSTER_DIR/log" "$CLUSTER_DIR/identity" && leaked=1
done
[ $leaked = 0 ]
ok $? "no secret key in any log, journal or state file"
echo "# timings: power-up to job done ${resumed_s}s, suspend wait ${suspended_s}s"
echo "# calls: $(opsworks_fake GET /_fake/calls)"
tap_done
