#!/bin/bash
# aws-parallel.sh [CALLS]: throughput of the AWS client against the fake
# OpsWorks with 50 ms of injected latency per call, by MaxConcurrency.
# Prints numbers; not a test.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/_build}
calls=${1:-256}
d=$(mktemp -d)
echo '{"AKIDBENCH": {"secret": "bench", "policy": null}}' >"$d/creds.json"
/usr/bin/python3 "$top/tests/fakes/fake_opsworks.py" --port 0 --port-file "$d/port" \
	--credentials "$d/creds.json" --stack s-1:bench 2>/dev/null &
pid=$!
trap 'kill $pid; rm -rf "$d"' EXIT
for i in $(seq 100); do [ -s "$d/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$d/port")
curl -s -X POST -d '{"latency_ms": 50}' "$url/_fake/faults" >/dev/null
export AWS_ENDPOINT_URL_OPSWORKS=$url AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench
for c in 1 4 16 64; do
	out=$("$build/tests/integration/aws_client_driver" --concurrency "$c" parallel-stacks "$calls" s-1)
	secs=$(echo "$out" | sed -n 's/.*seconds \([0-9.]*\).*/\1/p')
	echo "MaxConcurrency=$c: $calls calls in $secs s ($(awk -v n="$calls" -v s="$secs" 'BEGIN{printf "%.0f", n/s}') calls/s)"
done
