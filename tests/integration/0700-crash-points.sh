#!/bin/bash
# 0700-crash-points.sh: kill -9 anywhere loses nothing and removes nothing
# that runs. A real slurmctld holds 21 CLOUD nodes: n1-n20 powered down
# (being suspended), n21 powering up (a node Slurm is bringing back, named
# in the same batch, as a late or repeated suspend would). Each trial plants
# all 21 registrations, runs slurm-identity-suspend or -resume-fail on
# n[1-21] and kills it, or the worker it started, at one point of its run
# (the endpoint answers in 150 ms, MaxConcurrency=2, so the worker's run is
# a couple of seconds wide and calls are in flight at most points). Then
# one reconcile. Every trial must end with n1-n20 gone and n21 registered.
# Backends: OpsWorks (the strict fake), SSM (moto's EC2 tags) and, where a
# Samba AD DC can run, AD (computer accounts and their join secrets).
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/samba.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (slurmctld)"
command -v slurmctld >/dev/null || skip_all "slurmctld not installed"
CLUSTER_DIR=$(test_dir crash)
D=$CLUSTER_DIR
pids=""
cleanup() {
	local p
	for p in $pids; do kill "$p" 2>/dev/null; done
	samba_stop
	cluster_stop
	[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"
}
trap cleanup EXIT
py=$(python3 -c 'import sys; print(sys.executable)')
munge_ensure || bail "munge"
cluster_configure_cloud_only crash 21 || bail "cannot configure"
cluster_start || bail "cannot start slurmctld"
scontrol update nodename=n21 state=power_up
wait_for '[ "$(node_state n21)" = "idle#" ]' 30
ok $? "n21 is powering up ($(node_state n21)); n1-n20 powered down ($(node_state n1))"

# The endpoints, without IAM (signatures and policies are other tests').
echo '{"AKIDCRASH": {"secret": "crash", "policy": null}}' >"$D/creds.json"
/usr/bin/python3 "$top_srcdir/tests/fakes/fake_opsworks.py" --bind 127.0.0.1 --port 0 \
	--port-file "$D/opsworks.port" --credentials "$D/creds.json" \
	--stack s-crash:crash 2>"$D/log/opsworks.err" &
pids="$pids $!"
. "$top_srcdir/tests/lib/moto.sh"
moto_start "$D/moto" 100000000 >/dev/null || bail "moto"
pids="$pids $(cat "$D/moto/pid")"
# SSM's managed-instance calls (moto has none), the rest forwarded to moto.
/usr/bin/python3 "$top_srcdir/tests/fakes/fake_ssm.py" --upstream "$(cat "$D/moto/endpoint")" \
	--credentials "$D/creds.json" --port-file "$D/ssm.port" 2>"$D/log/ssm.err" &
pids="$pids $!"
wait_for "[ -s '$D/opsworks.port' ] && [ -s '$D/ssm.port' ]" 20 || bail "fakes"
ow=http://127.0.0.1:$(cat "$D/opsworks.port")
export AWS_ENDPOINT_URL_OPSWORKS=$ow AWS_ENDPOINT_URL_EC2=$(cat "$D/moto/endpoint") \
	AWS_ENDPOINT_URL_SSM=http://127.0.0.1:$(cat "$D/ssm.port") AWS_REGION=us-east-1 \
	AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID=AKIDCRASH \
	AWS_SECRET_ACCESS_KEY=crash
export AWS_ENDPOINT_URL=$(cat "$D/moto/endpoint")	# Secrets Manager, KMS
backends=${CRASH_BACKENDS:-opsworks ssm}
# AD: a Samba AD DC, the domain password in moto's SSM as a KMS
# SecureString (as 0500 has it).
if [ -z "${CRASH_BACKENDS:-}" ] && command -v samba >/dev/null &&
	command -v adcli >/dev/null && command -v ldapsearch >/dev/null &&
	[ -d /usr/share/samba/setup ] && samba_ports_free; then
	samba_start "$D/dc" || bail "cannot start the Samba AD DC"
	"$py" - "$SAMBA_DOMAIN" 3<<<"$SAMBA_ADMIN_PASSWORD" <<'EOP' || bail "cannot store the domain password"
import boto3, os, sys
kms = boto3.client("kms", region_name="us-east-1")
key = kms.create_key()["KeyMetadata"]["KeyId"]
kms.create_alias(AliasName="alias/crash-ad", TargetKeyId=key)
ssm = boto3.client("ssm", region_name="us-east-1")
ssm.put_parameter(Name="/crash/ad/domain", Type="String", Value=sys.argv[1])
ssm.put_parameter(Name="/crash/ad/password", Type="SecureString", KeyId="alias/crash-ad",
                  Value=os.fdopen(3).readline().rstrip("\n"))
EOP
	backends="$backends ad"
else
	echo "# no Samba AD DC here (or CRASH_BACKENDS set): backends $backends"
fi
fake() { curl -sf -X "$1" ${3:+-H 'Content-Type: application/json' -d "$3"} "$ow$2"; }

# What is registered, per backend: the nodes, sorted, on one line.
opsworks_nodes() { fake GET /_fake/registry | "$py" -c 'import json,sys; print(" ".join(sorted(i["Hostname"] for i in json.load(sys.stdin))))'; }
ssm_nodes() {
	"$py" - <<'EOP'
import boto3, os
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL_EC2"], region_name="us-east-1")
r = ec2.describe_instances(Filters=[{"Name": "tag:slurm-identity:cluster", "Values": ["crash"]},
                                    {"Name": "instance-state-name", "Values": ["running"]}])
print(" ".join(sorted(t["Value"] for res in r["Reservations"] for i in res["Instances"]
                      for t in i.get("Tags", []) if t["Key"] == "slurm-identity:node")))
EOP
}
# AD: nodes with a computer account or a join secret left.
ad_nodes() {
	{
		samba_computers | tr ' A-Z' '\na-z'
		echo
		"$py" - <<'EOP'
import boto3
sm = boto3.client("secretsmanager", region_name="us-east-1")
for s in sm.list_secrets()["SecretList"]:
    if s["Name"].startswith("slurm-identity/crash/join/"):
        print(s["Name"].rsplit("/", 1)[1])
EOP
	} | grep . | sort -u | tr '\n' ' ' | sed 's/ $//'
}
plant() { # plant BACKEND: all 21 nodes registered
	if [ "$1" = ad ]; then
		# The controller's own resume makes the accounts it records.
		"$top_builddir/slurm-identity-resume" 'n[1-21]' >"$D/plant.out" 2>&1 ||
			echo "# plant: $(tail -1 "$D/plant.out")"
	elif [ "$1" = opsworks ]; then
		fake POST /_fake/reset >/dev/null
		fake POST /_fake/faults '{"latency_ms": 150}' >/dev/null
		"$py" - "$ow" <<'EOP'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); c = http.client.HTTPConnection(u.hostname, u.port)
for i in range(1, 22):
    c.request("POST", "/_fake/register", json.dumps({"StackId": "s-crash", "Hostname": "n%d" % i,
              "Ec2InstanceId": "i-%017x" % i}), {"Content-Type": "application/json"})
    c.getresponse().read()
EOP
	else
		"$py" - <<'EOP'
import boto3, os
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL_EC2"], region_name="us-east-1")
old = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
       if i["State"]["Name"] == "running"]
if old:
    ec2.terminate_instances(InstanceIds=old)
for n in range(1, 22):
    iid = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[iid], Tags=[{"Key": "slurm-identity:node", "Value": "n%d" % n},
                                           {"Key": "slurm-identity:cluster", "Value": "crash"}])
EOP
	fi
}

all_but_n21="n1 n10 n11 n12 n13 n14 n15 n16 n17 n18 n19 n2 n20 n3 n4 n5 n6 n7 n8 n9"
points=0 leaks=0 wrong=0 killed_in_flight=0
for backend in $backends; do
	# The worker's run: ~2 s against the slow fake OpsWorks, ~0.3 s
	# against moto's EC2: kill points spread over each.
	case $backend in
	opsworks) extra="OpsWorksStackId=s-crash" step=0.2 ;;
	ssm) extra="SsmOnlineTimeout=20" step=0.025 ;;
	ad) extra="DomainNameParameter=/crash/ad/domain
DomainPasswordParameter=/crash/ad/password
DomainController=127.0.0.1
ComputerOU=$SAMBA_OU
LdapTlsReqCert=never" step= ;;
	esac
	printf '%s\n' "Backends=$backend" "$extra" "StateDir=$D/identity-$backend" \
		"LogFile=$D/log/identity-$backend.log" "MaxConcurrency=2" "RequestTimeout=10" \
		>"$D/etc/identity-$backend.conf"
	export SLURM_CONF=$D/etc/slurm.conf SLURM_IDENTITY_CONF=$D/etc/identity-$backend.conf
	q=$D/identity-$backend/queue
	nodes_now() { case $backend in opsworks) opsworks_nodes ;; ssm) ssm_nodes ;; ad) ad_nodes ;; esac; }
	if [ -z "$step" ]; then
		# The worker's run against the DC, measured once: kill points
		# spread over it.
		plant "$backend"
		[ "$(nodes_now)" = "$(seq -f 'n%g' 1 21 | sort | tr '\n' ' ' | sed 's/ $//')" ]
		ok $? "$backend: the controller's resume planted 21 registrations ($(nodes_now | wc -w))"
		t0=$(date +%s.%N)
		"$top_builddir/slurm-identity-suspend" 'n[1-20]' >/dev/null 2>&1
		wait_for "flock -n '$q/.worker.lock' true && [ \"\$(nodes_now)\" = n21 ]" 60
		ok $? "$backend: a suspend without a kill removes n1-n20 ($(nodes_now))"
		step=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { s = (b - a) / 11; printf "%.3f", s < 0.02 ? 0.02 : s }')
		echo "# $backend: the worker's run takes about $(awk -v s="$step" 'BEGIN { print s * 11 }') s"
	fi
	# Kill points: the hook at 0-12 ms (journal, fork), the worker over its
	# run (locks, Slurm check, listing, removals in flight), by turns
	# suspend and resume-fail.
	for k in $(seq 0 ${CRASH_LAST:-15}); do
		hook=slurm-identity-suspend
		[ $((k % 2)) = 1 ] && hook=slurm-identity-resume-fail
		plant "$backend"
		rm -f "$q"/*.batch 2>/dev/null
		"$top_builddir/$hook" 'n[1-21]' >/dev/null 2>&1 &
		hpid=$!
		if [ "$k" -lt 5 ]; then
			sleep "0.00$((k * 3))"
			kill -9 "$hpid" 2>/dev/null
			what="$hook at $((k * 3)) ms"
		else
			wait "$hpid"
			at=$(awk -v k="$k" -v s="$step" 'BEGIN { printf "%.3f", s / 2 + (k - 5) * s }')
			sleep "$at"
			wpid=$(cat "$q/.worker.lock" 2>/dev/null)
			if [ -n "$wpid" ] && ! flock -n "$q/.worker.lock" true; then
				kill -9 "$wpid"
				killed_in_flight=$((killed_in_flight + 1))
				what="worker at $at s"
			else
				what="worker (already done)"
			fi
		fi
		wait "$hpid" 2>/dev/null
		points=$((points + 1))
		"$top_builddir/slurm-identity" reconcile >"$D/reconcile.out" 2>&1
		# A worker the kill did not reach finishes its batch.
		wait_for "flock -n '$q/.worker.lock' true" 60
		now=$(nodes_now)
		case " $now " in *" n21 "*) ;; *) wrong=$((wrong + 1)); echo "# $backend $what: n21 was removed" ;; esac
		left=$(echo "$now" | tr ' ' '\n' | grep -c -v '^n21$' | tr -d ' ')
		[ -z "$now" ] && left=0
		[ "$now" = n21 ] || { [ "$left" -gt 0 ] && leaks=$((leaks + left)) &&
			echo "# $backend $what: left $now ($(tail -1 "$D/reconcile.out"))"; }
	done
done
echo "# crash points: $points (worker killed mid-run at $killed_in_flight of them), leaks $leaks, wrong removals $wrong"
[ "$points" -ge 30 ] && [ "$killed_in_flight" -ge 10 ]
ok $? "at least 30 kill points, hooks and workers, on $backends ($points, $killed_in_flight mid-run)"
[ "$leaks" = 0 ]
ok $? "no registration left after one reconcile ($leaks)"
[ "$wrong" = 0 ]
ok $? "no registration of a node Slurm is powering up removed ($wrong)"
tap_done
