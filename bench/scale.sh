#!/bin/bash
# scale.sh [N...]: the suspend path at scale, against a real slurmctld
# holding N powered-down CLOUD nodes and the OpsWorks fake answering in
# 50 ms per call, unthrottled and throttled at 20 calls per second, with
# MaxConcurrency=16 and MaxRequestRate unset (adaptive). Then the practice
# we replace, a per-minute cron script with the AWS CLI, at N = 100, 200.
# The 20 TPS run is made twice per N: the second starts from the rate the
# first worker learned (StateDir/queue/.rates).
# Prints numbers; not a test. As root, on loopback only. Default N: 100
# 1000 10000. Nodes are realistic by default (PrivateData=cloud, Extra as
# our prolog writes it); BENCH_NODES=bare leaves them as slurm.conf does.
#
# BENCH_MODES lists the runs per N (default "none 20 20": unthrottled, then
# 20 TPS twice); a mode run again says "again" (for "none none", the second
# event finds the lock files the first one made, as a cluster's would).
# BENCH_KEEP_LOGS=DIR keeps each run's identity.log there; with
# BENCH_DEBUG=verbose it holds each chunk's timing.
#
# Rows "reconcile": `slurm-identity reconcile` finding N leaks (its CPU/RSS
# in the hook column). Mode 20r (row "20 TPS+recon", in BENCH_MODES only
# when asked): the 20 TPS run with `slurm-identity reconcile` started when
# a tenth of the nodes are gone, as its timer would during a long batch;
# calls/node then shows whether a node was deregistered twice.
#
# Columns: hook = time until slurm-identity-suspend returned; gone = time
# from the hook's start until the backend held none of the N; bound = the
# physical bound (N x 50 ms / 16, or N / 20 TPS); calls/node = OpsWorks
# calls made per node; throttled = ThrottlingException answers; CPU and
# max RSS of the hook and of the worker; endpoint = CPU seconds the
# OpsWorks fake (one Python process, SigV4 checked by botocore) spent on
# the run: where it nears "gone", the fake is what bounds it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/_build}
sizes=${*:-100 1000 10000}
py=$(python3 -c 'import sys; print(sys.executable)')
D=$(mktemp -d /tmp/si-bench.XXXXXX)
[ -n "${BENCH_KEEP_LOGS:-}" ] && mkdir -p "$BENCH_KEEP_LOGS"
chmod 755 "$D"
pids=""
cleanup() {
	local p
	for p in $pids; do kill "$p" 2>/dev/null; done
	[ -f "$D/run/slurmctld.pid" ] && kill "$(cat "$D/run/slurmctld.pid")" 2>/dev/null
	[ -s "$D/munge.started" ] && kill "$(cat "$D/munge.started")" 2>/dev/null
	sleep 1
	rm -rf "$D"
}
trap cleanup EXIT
CLUSTER_DIR=$D top_srcdir=$top top_builddir=$build
. "$top/tests/lib/cluster.sh"
munge_ensure || { echo "bench: munge failed"; exit 1; }

# The OpsWorks fake, without IAM (the policy is not what is measured).
echo '{"AKIDBENCH": {"secret": "bench", "policy": null}}' >"$D/creds.json"
/usr/bin/python3 "$top/tests/fakes/fake_opsworks.py" --bind 127.0.0.1 --port 0 \
	--port-file "$D/opsworks.port" --credentials "$D/creds.json" \
	--stack s-bench:bench 2>"$D/opsworks.err" &
fake_pid=$!
pids="$pids $fake_pid"
for i in $(seq 100); do [ -s "$D/opsworks.port" ] && break; sleep 0.1; done
ow=http://127.0.0.1:$(cat "$D/opsworks.port")
export AWS_ENDPOINT_URL_OPSWORKS=$ow AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench

fake() { # fake METHOD PATH [JSON]
	curl -sf -X "$1" ${3:+-H 'Content-Type: application/json' -d "$3"} "$ow$2"
}
plant() { # plant N [noec2]: N registrations n1..nN in the stack, on one connection
	"$py" - "$ow" "$1" "${2:-}" <<'EOP'
import http.client, json, sys, urllib.parse
url, n = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection(url.hostname, url.port)
for i in range(1, n + 1):
    reg = {"StackId": "s-bench", "Hostname": "n%d" % i}
    if sys.argv[3] != "noec2":
        reg["Ec2InstanceId"] = "i-%017x" % i
    body = json.dumps(reg)
    c.request("POST", "/_fake/register", body, {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
EOP
}
registered() { fake GET /_fake/count; }

cluster_for() { # cluster_for N: slurmctld with N powered-down CLOUD nodes
	local n=$1
	[ -f "$D/run/slurmctld.pid" ] && kill "$(cat "$D/run/slurmctld.pid")" 2>/dev/null &&
		wait_for "! kill -0 $(cat "$D/run/slurmctld.pid") 2>/dev/null" 30
	rm -rf "$D/state" "$D/identity" "$D/etc" "$D/log"
	mkdir -p "$D/identity"
	chmod 700 "$D/identity"
	cluster_configure_cloud_only bench "$n" || return 1
	# Realistic nodes (BENCH_NODES=bare: as slurm.conf leaves them): the
	# controller lists powered-down CLOUD nodes (PrivateData=cloud) and
	# each carries the Extra our prolog writes, as a cluster's would
	# after its nodes ran.
	[ "${BENCH_NODES:-realistic}" = realistic ] &&
		echo "PrivateData=cloud" >>"$D/etc/slurm.conf"
	printf '%s\n' "Backends=opsworks" "OpsWorksStackId=s-bench" \
		"StateDir=$D/identity" "LogFile=$D/log/identity.log" "MaxConcurrency=16" \
		"RequestTimeout=10" "DebugLevel=${BENCH_DEBUG:-info}" >"$D/etc/identity.conf"
	export SLURM_CONF=$D/etc/slurm.conf SLURM_IDENTITY_CONF=$D/etc/identity.conf
	slurmctld -f "$SLURM_CONF" -i
	wait_for 'scontrol ping 2>/dev/null | grep -q UP' 60 || return 1
	[ "${BENCH_NODES:-realistic}" = realistic ] || return 0
	scontrol update nodename="n[1-$n]" \
		extra="identity=ready instance=i-0123456789abcdef0 opsworks=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
}

fake_cpu() { # CPU seconds the OpsWorks fake has used so far
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$fake_pid/stat"
}

worker_stat() { # worker_stat: "cpu_user+cpu_sys maxrss_kB" of the last worker
	sed -n 's/.*queue empty, exiting (cpu \([0-9.]*\) s user, \([0-9.]*\) s system, max rss \([0-9]*\) kB).*/\1 \2 \3/p' \
		"$D/log/identity.log" | tail -1 | awk '{ printf "%.2f %d", $1 + $2, $3 / 1024 }'
}

printf '%-7s %-13s %7s %8s %8s %10s %9s %14s %14s %9s\n' N API hook gone bound calls/node throttled "hook cpu/MiB" "worker cpu/MiB" "endpoint"
for n in $sizes; do
	cluster_for "$n" || { echo "bench: slurmctld with $n nodes did not start"; exit 1; }
	seen=" "
	for mode in ${BENCH_MODES:-none 20 20}; do
		again=""
		case $seen in *" $mode "*) again=" again" ;; esac
		fake POST /_fake/reset >/dev/null
		if [ "$mode" = none ]; then
			fake POST /_fake/faults '{"latency_ms": 50}' >/dev/null
			bound=$(awk -v n="$n" 'BEGIN { printf "%.1f", n * 0.05 / 16 }')
		elif [ "$mode" = 20r ]; then
			fake POST /_fake/faults '{"latency_ms": 50, "throttle_above_rps": 20}' >/dev/null
			bound=$(awk -v n="$n" 'BEGIN { printf "%.1f", n / 20 }')
		else
			fake POST /_fake/faults '{"latency_ms": 50, "throttle_above_rps": 20}' >/dev/null
			bound=$(awk -v n="$n" 'BEGIN { printf "%.1f", n / 20 }')
		fi
		plant "$n" || { echo "bench: planting failed"; exit 1; }
		: >"$D/log/identity.log"
		fake_cpu0=$(fake_cpu)
		t0=$(date +%s.%N)
		/usr/bin/time -f '%e %U %S %M' -o "$D/hook.time" \
			"$build/slurm-identity-suspend" "n[1-$n]"
		t1=$(date +%s.%N)
		# 20r: reconcile runs, as its timer would, while the worker
		# is a tenth of the way through the batch.
		if [ "$mode" = 20r ]; then
			while [ "$(registered)" -gt $((n - n / 10)) ]; do sleep 0.2; done
			"$build/slurm-identity" reconcile >"$D/overlap.out" 2>&1
		fi
		while [ "$(registered)" != 0 ]; do sleep 0.2; done
		t2=$(date +%s.%N)
		wait_for worker_idle 60
		fake_cpu1=$(fake_cpu)
		calls=$(fake GET /_fake/calls)
		read -r hook_e hook_u hook_s hook_m <"$D/hook.time"
		printf '%-7s %-13s %6.2fs %7.1fs %7ss %10s %9s %14s %14s %8ss\n' "$n" \
			"$(case $mode in none) echo "unthrottled$again" ;; 20r) echo "20 TPS+recon" ;; *) echo "20 TPS$again" ;; esac)" \
			"$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t0" | bc)" "$bound" \
			"$(echo "$calls" | "$py" -c "import json,sys; c=json.load(sys.stdin); print('%.3f' % ((c.get('DeregisterInstance',0)+c.get('DescribeInstances',0)+sum(c.get('_rejected',{}).values()))/$n))")" \
			"$(echo "$calls" | "$py" -c 'import json,sys; print(json.load(sys.stdin).get("_rejected",{}).get("ThrottlingException",0))')" \
			"$(awk -v u="$hook_u" -v s="$hook_s" -v m="$hook_m" 'BEGIN { printf "%.2fs/%d", u + s, m / 1024 }')" \
			"$(worker_stat | awk '{ printf "%ss/%d", $1, $2 }')" \
			"$(echo "$fake_cpu1 - $fake_cpu0" | bc)"
		[ -n "${BENCH_KEEP_LOGS:-}" ] && cp "$D/log/identity.log" "$BENCH_KEEP_LOGS/identity-$n-$mode${again:+-again}.log"
		seen="$seen$mode "
	done
	# Reconcile of N leaks (powered-down nodes still registered), as the
	# timer would find them after a crash. Planted without EC2 ids, so
	# the run is OpsWorks calls only (bound N x 50 ms / 16 + one listing).
	if [ "${BENCH_RECONCILE:-1}" = 1 ]; then
		fake POST /_fake/reset >/dev/null
		fake POST /_fake/faults '{"latency_ms": 50}' >/dev/null
		plant "$n" noec2 || { echo "bench: planting failed"; exit 1; }
		t0=$(date +%s.%N)
		/usr/bin/time -f '%e %U %S %M' -o "$D/rec.time" \
			"$build/slurm-identity" reconcile >"$D/rec.out" 2>&1
		t1=$(date +%s.%N)
		left=$(registered)
		calls=$(fake GET /_fake/calls)
		read -r rec_e rec_u rec_s rec_m <"$D/rec.time"
		printf '%-7s %-13s %6s  %7.1fs %7ss %10s %9s %14s %14s\n' "$n" "reconcile" "-" \
			"$(echo "$t1 - $t0" | bc)" \
			"$(awk -v n="$n" 'BEGIN { printf "%.1f", n * 0.05 / 16 }')" \
			"$(echo "$calls" | "$py" -c "import json,sys; c=json.load(sys.stdin); print('%.3f' % ((c.get('DeregisterInstance',0)+c.get('DescribeInstances',0)+sum(c.get('_rejected',{}).values()))/$n))")" \
			"$(echo "$calls" | "$py" -c 'import json,sys; print(json.load(sys.stdin).get("_rejected",{}).get("ThrottlingException",0))')" \
			"$(awk -v u="$rec_u" -v s="$rec_s" -v m="$rec_m" 'BEGIN { printf "%.2fs/%d", u + s, m / 1024 }')" "-"
		[ "$left" = 0 ] || echo "  (reconcile left $left registered: $(tail -1 "$D/rec.out"))"
	fi
done

# The practice we replace: every minute, list the stack, ask EC2 about each
# instance, deregister the terminated ones, one AWS CLI call at a time.
if [ -x /usr/bin/aws ] && [ "${BENCH_CRON:-1}" = 1 ]; then
	. "$top/tests/lib/moto.sh"
	# EC2 without IAM: a count of unauthenticated calls never reached.
	moto_start "$D/moto" 100000000 >/dev/null || { echo "bench: moto failed"; exit 1; }
	pids="$pids $(cat "$D/moto/pid")"
	ec2=http://127.0.0.1:$(cat "$D/moto/port")
	echo
	printf '%-7s %-30s %10s %12s %10s\n' N practice "one run" "gone (worst)" calls/node
	for n in 100 200; do
		fake POST /_fake/reset >/dev/null
		fake POST /_fake/faults '{"latency_ms": 50}' >/dev/null
		"$py" - "$ec2" "$ow" "$n" <<'EOP'
import boto3, http.client, json, sys, urllib.parse
ec2_url, ow, n = sys.argv[1], urllib.parse.urlparse(sys.argv[2]), int(sys.argv[3])
ec2 = boto3.client("ec2", endpoint_url=ec2_url, region_name="us-east-1",
                   aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench")
ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12345678", MinCount=n,
                                                  MaxCount=n)["Instances"]]
ec2.terminate_instances(InstanceIds=ids)
c = http.client.HTTPConnection(ow.hostname, ow.port)
for k, iid in enumerate(ids, 1):
    c.request("POST", "/_fake/register", json.dumps({"StackId": "s-bench", "Hostname": "n%d" % k,
              "Ec2InstanceId": iid}), {"Content-Type": "application/json"})
    c.getresponse().read()
EOP
		t0=$(date +%s.%N)
		AWS_ENDPOINT_URL_EC2=$ec2 sh "$top/bench/cron-practice.sh" s-bench "$ow" "$ec2" >"$D/cron.out" 2>&1
		t1=$(date +%s.%N)
		left=$(registered)
		run=$(echo "$t1 - $t0" | bc)
		printf '%-7s %-30s %9.1fs %11.1fs %10s\n' "$n" "cron + aws CLI (every 60 s)" "$run" \
			"$(echo "60 + $run" | bc)" \
			"$(awk -v n="$n" 'BEGIN { printf "%.2f", (2 * n + 1) / n }')"
		[ "$left" = 0 ] || echo "  (the run left $left registered: $(tail -1 "$D/cron.out"))"
	done
fi
