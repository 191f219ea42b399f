#!/bin/bash
# watch.sh [N...]: `slurm-identity watch` at scale, against a real
# slurmctld holding N CLOUD nodes whose power programs are not ours
# (ResumeProgram=/bin/true) and the OpsWorks fake answering in 50 ms per
# call, MaxConcurrency=16, WatchPeriod=5 (the default). Each node is up
# (powering up in Slurm) with a registration and the Extra our prolog
# writes. Then:
#   idle: the watcher's CPU per look over 60 s in which nothing changes
#         (24.11 and later: an incremental load, which slurmctld answers
#         with "no change"; Slurm 22.05 loads the whole table each look,
#         as it does not mark power changes), and its RSS;
#   change: all N nodes are powered down at once (power_down_force); the
#         time from the command until Slurm shows every node powering
#         down or powered down ("slurm"), and from then until the fake
#         holds no registration ("gone": the look that sees them, the
#         worker's calls). bound = N x 50 ms / 16 (the API's), the target
#         1.2 x bound + 2 s + the watch period.
# Prints numbers; not a test. As root, on loopback only. Default N: 100
# 1000 10000. BUILD names the build tree (default _build).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/_build}
sizes=${*:-100 1000 10000}
py=$(python3 -c 'import sys; print(sys.executable)')
D=$(mktemp -d /tmp/si-bench-watch.XXXXXX)
chmod 755 "$D"
pids="" wpid=""
cleanup() {
	local p
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
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

echo '{"AKIDBENCH": {"secret": "bench", "policy": null}}' >"$D/creds.json"
/usr/bin/python3 "$top/tests/fakes/fake_opsworks.py" --bind 127.0.0.1 --port 0 \
	--port-file "$D/opsworks.port" --credentials "$D/creds.json" \
	--stack s-bench:bench 2>"$D/opsworks.err" &
pids="$pids $!"
for i in $(seq 100); do [ -s "$D/opsworks.port" ] && break; sleep 0.1; done
ow=http://127.0.0.1:$(cat "$D/opsworks.port")
export AWS_ENDPOINT_URL_OPSWORKS=$ow AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench
# EC2 is not asked: the sweep's EC2 check is not what is measured.
export AWS_ENDPOINT_URL_EC2=http://127.0.0.1:9

fake() { curl -sf -X "$1" ${3:+-H 'Content-Type: application/json' -d "$3"} "$ow$2"; }
registered() { fake GET /_fake/count; }
plant() { # N registrations n1..nN, without EC2 ids
	"$py" - "$ow" "$1" <<'EOP'
import http.client, json, sys, urllib.parse
url, n = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection(url.hostname, url.port)
for i in range(1, n + 1):
    c.request("POST", "/_fake/register", json.dumps({"StackId": "s-bench", "Hostname": "n%d" % i}),
              {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
EOP
}
count_state() { # nodes whose state has flag $1 (POWERING_UP, ...)
	scontrol show node -o 2>/dev/null | grep -c "State=[A-Z+_]*$1"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

printf '%-7s %-8s %12s %9s %9s %9s %8s %9s\n' N release "idle cpu/look" "RSS MiB" slurm gone bound target
for n in $sizes; do
	[ -f "$D/run/slurmctld.pid" ] && kill "$(cat "$D/run/slurmctld.pid")" 2>/dev/null &&
		wait_for "! kill -0 $(cat "$D/run/slurmctld.pid") 2>/dev/null" 30
	rm -rf "$D/state" "$D/identity" "$D/etc" "$D/log"
	mkdir -p "$D/identity" && chmod 700 "$D/identity"
	cluster_configure_cloud_only bench "$n" || exit 1
	# Powered-down CLOUD nodes listed; no rate limit on power changes.
	printf '%s\n' "PrivateData=cloud" "ResumeRate=0" "SuspendRate=0" >>"$D/etc/slurm.conf"
	printf '%s\n' "Backends=opsworks" "OpsWorksStackId=s-bench" \
		"StateDir=$D/identity" "LogFile=$D/log/identity.log" "MaxConcurrency=16" \
		"RequestTimeout=10" "WatchPeriod=5" >"$D/etc/identity.conf"
	export SLURM_CONF=$D/etc/slurm.conf SLURM_IDENTITY_CONF=$D/etc/identity.conf
	slurmctld -f "$SLURM_CONF" -i
	wait_for 'scontrol ping 2>/dev/null | grep -q UP' 60 || exit 1
	scontrol update nodename="n[1-$n]" state=power_up
	wait_for "[ \$(count_state POWERING_UP) = $n ]" 600 ||
		{ echo "bench: $n nodes did not power up"; exit 1; }
	scontrol update nodename="n[1-$n]" \
		extra="identity=ready instance=- opsworks=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	fake POST /_fake/reset >/dev/null
	plant "$n" || exit 1
	fake POST /_fake/faults '{"latency_ms": 50}' >/dev/null
	"$build/slurm-identity" watch </dev/null >>"$D/log/watch.out" 2>&1 &
	wpid=$!
	# Active, and its start sweep done (it removes nothing: all are up).
	wait_for "grep -q '^last_sweep=[1-9]' '$D/identity/watch/status' 2>/dev/null" 600 ||
		{ echo "bench: the watcher did not start"; exit 1; }
	release=$(sed -n 's/.*watch: Slurm \([0-9.]*\) does not mark.*/\1 (full)/p' "$D/log/identity.log" | head -1)
	[ -n "$release" ] || release=$(scontrol --version | awk '{ print $2 }' | cut -d. -f1-2)
	sleep 6	# past the look that followed the sweep
	c0=$(cpu_ticks "$wpid")
	sleep 60	# a span to measure in: 12 looks with nothing changed
	c1=$(cpu_ticks "$wpid")
	per_look=$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.1f ms", (b - a) / hz * 1000 / 12 }')
	rss=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$wpid/status")
	[ "$(registered)" = "$n" ] || echo "  (the watcher removed $(( n - $(registered) )) of the nodes it saw up)"
	t0=$(date +%s.%N)
	scontrol update nodename="n[1-$n]" state=power_down_force
	wait_for "[ \"\$(scontrol show node -o | grep -c -E 'State=[A-Z+_]*(POWERED_DOWN|POWERING_DOWN)')\" = $n ]" 600 ||
		{ echo "bench: Slurm did not power the $n nodes down"; exit 1; }
	t1=$(date +%s.%N)
	wait_for '[ "$(registered)" = 0 ]' 3600 ||
		{ echo "bench: $(registered) registrations left"; exit 1; }
	t2=$(date +%s.%N)
	bound=$(awk -v n="$n" 'BEGIN { printf "%.1f", n * 0.05 / 16 }')
	printf '%-7s %-8s %12s %9s %8.1fs %8.1fs %7ss %8.1fs\n' "$n" "$release" "$per_look" "$rss" \
		"$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$bound" \
		"$(awk -v b="$bound" 'BEGIN { print 1.2 * b + 2 + 5 }')"
	kill "$wpid"
	wait "$wpid" 2>/dev/null
	wpid=""
	wait_for worker_idle 120
done
