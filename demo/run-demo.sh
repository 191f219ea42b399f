#!/bin/bash
# run-demo.sh: the local demo cluster, end to end, on this machine.
#
# Installs what it needs (Debian 12, root), builds slurm-identity, starts a
# real slurmctld whose ResumeProgram/SuspendProgram are ours, chained to a
# local "cloud" that boots one real slurmd per node and creates the EC2
# instance in moto_server; OpsWorks is the project's fake (AWS retired the
# service). Submits a job and shows, through sinfo and the logs, the nodes
# powering up, registering, running, powering down and deregistering.
# With --ad, a local Active Directory domain (a real Samba AD DC) joins in:
# each node gets a computer account while it runs, gone after power-down.
# Stops everything it started.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
[ "$(id -u)" = 0 ] || { echo "run-demo: run as root (it starts slurmd and munge)"; exit 1; }
AD=
case "${1:-}" in
--ad) AD=1 ;;
"") ;;
*) echo "usage: $0 [--ad]"; exit 2 ;;
esac

sh tests/install-deps.sh || exit 1
if [ ! -x _build/slurm-identity ]; then
	echo "== building"
	autoreconf -fi >/dev/null 2>&1 && mkdir -p _build &&
		(cd _build && ../configure -q) && make -C _build -s -j"$(nproc)" >/dev/null ||
		{ echo "run-demo: build failed"; exit 1; }
fi
export top_srcdir=$top top_builddir=$top/_build
. tests/lib/cluster.sh
. tests/lib/aws_env.sh
. tests/lib/samba.sh

CLUSTER_DIR=$(mktemp -d /tmp/slurm-identity-demo.XXXXXX)
chmod 755 "$CLUSTER_DIR"
CLUSTER_NODES=2
CLUSTER_SUSPEND_TIME=${DEMO_SUSPEND_TIME:-15}
cleanup() {
	echo "== stopping everything the demo started"
	cluster_stop
	aws_env_stop
	samba_stop
	echo "(logs kept in $CLUSTER_DIR/log)"
}
trap cleanup EXIT

show() {
	echo "-- $(date +%T) sinfo:"
	sinfo -N -o '  %N %t %E' | sed 's/^/  /'
	echo "   OpsWorks registry: $(opsworks_fake GET /_fake/registry |
		python3 -c 'import json,sys; print(", ".join(i["Hostname"]+"="+i["InstanceId"][:8] for i in json.load(sys.stdin)) or "empty")')"
	[ -n "$AD" ] && echo "   AD computers in $SAMBA_OU: $(c=$(samba_computers); echo "${c:-none}")"
	return 0
}

AWS_ENV_STACK_ID=$(python3 -c 'import uuid; print(uuid.uuid4())')
if [ -n "$AD" ]; then
	echo "== provisioning and starting a Samba AD DC (TEST.DOMAIN on loopback)"
	samba_start "$CLUSTER_DIR/dc" || exit 1
	ad_aws_env
	# shellcheck disable=SC2046
	cluster_configure "Backends=opsworks,ad" "OpsWorksStackId=$AWS_ENV_STACK_ID" \
		$(ad_identity_conf) || exit 1
else
	cluster_configure "Backends=opsworks" "OpsWorksStackId=$AWS_ENV_STACK_ID" || exit 1
fi
# Show powered-down cloud nodes in sinfo (Slurm hides them otherwise).
echo "PrivateData=cloud" >>"$CLUSTER_DIR/etc/slurm.conf"
echo "== starting slurmctld ($CLUSTER_DIR/etc/slurm.conf)"
cluster_start || exit 1
echo "== starting moto_server (IAM enforced) and the OpsWorks endpoint"
aws_env_start || exit 1
echo "== IAM policy the controller runs with (slurm-identity policy --role controller):"
sed 's/^/   /' "$CLUSTER_DIR/aws/controller-policy.json"
echo "== slurm-identity check (as the controller):"
SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/identity.conf SLURM_CONF=$CLUSTER_DIR/etc/slurm.conf \
	"$top_builddir/slurm-identity" check 2>&1 | sed 's/^/   /'
show
echo "== sbatch -N2 --wrap 'hostname'"
job=$(sbatch -N2 --parsable --wrap 'hostname' -o "$CLUSTER_DIR/job-%j.out")
for i in $(seq 1 60); do
	state=$(scontrol show job "$job" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
	[ $((i % 5)) = 1 ] && show
	[ "$state" = COMPLETED ] && break
	sleep 1
done
echo "== job $job: $state; output:"; sed 's/^/   /' "$CLUSTER_DIR"/job-"$job".out
echo "== slurm-identity status:"
SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/identity.conf "$top_builddir/slurm-identity" status | sed 's/^/   /'
show
echo "== waiting for SuspendTime ($CLUSTER_SUSPEND_TIME s) to power the nodes down"
for i in $(seq 1 90); do
	s1=$(node_state n1) s2=$(node_state n2)
	[ "$s1" = idle~ ] && [ "$s2" = idle~ ] && break
	sleep 1
done
# The suspend hook returned at once; its worker deregisters in the
# background: wait for it to finish.
wait_for worker_idle 60
show
echo "== identity log ($CLUSTER_DIR/log/identity.log):"
grep -E 'registered|deregistered|identity removed|resume: nodes|done in|queued' \
	"$CLUSTER_DIR/log/identity.log" | sed 's/^/   /'
echo "== slurm-identity reconcile:"
SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/identity.conf "$top_builddir/slurm-identity" reconcile 2>/dev/null |
	sed 's/^/   /'
