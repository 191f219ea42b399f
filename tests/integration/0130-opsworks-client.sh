#!/bin/bash
# 0130-opsworks-client.sh: the fake OpsWorks against an independent client
# (Debian's aws-cli 2.9, which still has `aws opsworks`), then our client's
# transport against it: calls in parallel over one multi handle, the
# per-API rate limit, standard-mode retries on throttling, 5xx, resets and
# garbage bodies, clock skew for every call in flight, the retry quota,
# and policy enforcement.
set -u
. "$top_srcdir/tests/lib/tap.sh"

[ -x /usr/bin/aws ] || skip_all "Debian's awscli (aws opsworks) not installed"
/usr/bin/python3 -c 'import botocore' 2>/dev/null || skip_all "python3-botocore not installed"
D=$(test_dir opsworks)
fake_pid=
trap '[ -n "$fake_pid" ] && kill $fake_pid; [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"' EXIT
driver=$top_builddir/tests/integration/aws_client_driver
stack=11111111-2222-3333-4444-555555555555

cat >"$D/creds.json" <<EOC
{"AKIDADMIN": {"secret": "admin-secret", "policy": null},
 "AKIDNODE": {"secret": "node-secret", "policy": {"Version": "2012-10-17", "Statement": [
   {"Effect": "Allow", "Action": "opsworks:RegisterInstance",
    "Resource": "arn:aws:opsworks:us-east-1:123456789012:stack/$stack/"}]}}}
EOC
/usr/bin/python3 "$top_srcdir/tests/fakes/fake_opsworks.py" --port 0 --port-file "$D/port" \
	--credentials "$D/creds.json" --stack "$stack:demo" --log "$D/fake.log" 2>"$D/fake.err" &
fake_pid=$!
for i in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$D/port")
ctl() { curl -sf -X "$1" -d "${3:-{\}}" "$url$2"; }
awsow() { AWS_ACCESS_KEY_ID=$1 AWS_SECRET_ACCESS_KEY=$2 AWS_DEFAULT_REGION=us-east-1 \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER= \
	/usr/bin/aws --endpoint-url "$url" opsworks "${@:3}"; }

# The fake, seen by aws-cli.
awsow AKIDADMIN admin-secret describe-stacks --stack-ids "$stack" >"$D/out" 2>&1 &&
	grep -q '"Name": "demo"' "$D/out"
ok $? "aws-cli describe-stacks against the fake"
doc='{"instanceId": "i-0123456789abcdef0", "region": "us-east-1"}'
awsow AKIDADMIN admin-secret register-instance --stack-id "$stack" --hostname n1 \
	--instance-identity "Document='$doc',Signature=x" >"$D/out" 2>&1 &&
	grep -q '"InstanceId"' "$D/out"
ok $? "aws-cli register-instance"
awsow AKIDADMIN wrong register-instance --stack-id "$stack" >"$D/out" 2>&1
[ $? != 0 ] && grep -q InvalidSignatureException "$D/out"
ok $? "a wrong secret is refused by botocore's own check"
awsow AKIDNODE node-secret describe-stacks --stack-ids "$stack" >"$D/out" 2>&1
[ $? != 0 ] && grep -q AccessDeniedException "$D/out"
ok $? "an action outside the key's policy is refused"
awsow AKIDADMIN admin-secret register-instance --stack-id "$stack" --hostname "$(printf 'x%.0s' $(seq 1 10))" \
	--instance-identity "Document='{}'" >"$D/out" 2>&1
[ $? != 0 ] && grep -q ValidationException "$D/out"
ok $? "a request the model or the fake's checks reject: ValidationException"

# Our client.
export AWS_ENDPOINT_URL_OPSWORKS=$url AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ACCESS_KEY_ID=AKIDADMIN AWS_SECRET_ACCESS_KEY=admin-secret
num() { echo "$1" | sed -n "s/.* $2 \([0-9.]*\).*/\1/p"; }

ctl POST /_fake/faults '{"latency_ms": 300}' >/dev/null
# A fixed rate far above what is sent: the adaptive rate's slow start
# (16 calls in the first second) is not what this measures.
out=$("$driver" --concurrency 16 --rate 1000 parallel-stacks 16 "$stack")
secs=$(num "$out" seconds)
awk -v s="$secs" 'BEGIN { exit !(s < 0.8) }'
ok $? "16 calls of 300 ms each run in parallel ($secs s: $out)"
out=$("$driver" --concurrency 16 parallel-stacks 16 "$stack")
secs=$(num "$out" seconds)
awk -v s="$secs" 'BEGIN { exit !(s >= 0.9 && s < 2.5) }'
ok $? "without MaxRequestRate a fresh client starts slow: 16 calls a second ($secs s)"
out=$("$driver" --concurrency 4 parallel-stacks 16 "$stack")
secs=$(num "$out" seconds)
awk -v s="$secs" 'BEGIN { exit !(s >= 1.15 && s < 2.5) }'
ok $? "MaxConcurrency=4 bounds calls in flight: 4 waves ($secs s)"
ctl POST /_fake/faults '{}' >/dev/null
out=$("$driver" --rate 10 parallel-stacks 25 "$stack")
secs=$(num "$out" seconds)
awk -v s="$secs" 'BEGIN { exit !(s >= 1.4 && s < 3.0) }'
ok $? "MaxRequestRate=10: 25 calls take about (25-10)/10 s ($secs s)"

ctl POST /_fake/faults '{"throttle_above_rps": 5}' >/dev/null
out=$("$driver" --attempts 5 parallel-stacks 12 "$stack")
rc=$?
[ $rc = 0 ] && [ "$(num "$out" ok)" = 12 ] && [ "$(num "$out" attempts)" -gt 12 ]
ok $? "throttling met with backoff and retries until all succeed ($out)"
ctl POST /_fake/faults '{"error_5xx": 2}' >/dev/null
out=$("$driver" opsworks-stack "$stack" 2>&1)
ok $? "two 5xx answers then success: the third attempt wins"
ctl POST /_fake/faults '{"error_5xx": 3}' >/dev/null
out=$("$driver" opsworks-stack "$stack" 2>&1)
[ $? != 0 ] && echo "$out" | grep -q 'opsworks DescribeStacks: InternalFailure'
ok $? "three 5xx answers: gives up after MaxAttempts=3 ($out)"
ctl POST /_fake/faults '{"reset": 1}' >/dev/null
"$driver" opsworks-stack "$stack" >/dev/null 2>&1
ok $? "a connection reset is retried"
ctl POST /_fake/faults '{"garbage": 1}' >/dev/null
out=$("$driver" opsworks-stack "$stack" 2>&1)
[ $? != 0 ] && echo "$out" | grep -q 'unreadable reply: reply is not a JSON object'
ok $? "a garbage body is reported, not trusted ($out)"
# The service's clock 20 minutes ahead: all 16 calls are signed with our
# clock and in flight when the first refusal comes back; each is retried
# once with the corrected offset, none fails.
ctl POST /_fake/faults '{"clock_offset_s": 1200, "latency_ms": 300}' >/dev/null
out=$("$driver" --verbose --concurrency 16 --rate 1000 parallel-stacks 16 "$stack" 2>"$D/skew.err")
[ $? = 0 ] && [ "$(num "$out" ok)" = 16 ] && [ "$(num "$out" attempts)" = 32 ] &&
	grep -q 'clock differs from opsworks by 1[12][0-9][0-9]s, correcting' "$D/skew.err"
ok $? "clock skew: every call in flight retried with the corrected offset ($out)"
ctl POST /_fake/faults '{"error_5xx": 100000}' >/dev/null
out=$("$driver" --attempts 10 parallel-stacks 60 "$stack" 2>/dev/null | tail -1)
[ "$(num "$out" attempts)" -le 160 ] && [ "$(num "$out" quota)" -lt 10 ]
ok $? "the retry quota stops a retry storm against a failing service ($out)"
ctl POST /_fake/faults '{}' >/dev/null
AWS_ACCESS_KEY_ID=AKIDNODE AWS_SECRET_ACCESS_KEY=node-secret "$driver" opsworks-stack "$stack" >"$D/out" 2>&1
[ $? != 0 ] && grep -q 'AccessDeniedException' "$D/out"
ok $? "policy enforced for our client too ($(cat "$D/out"))"
tap_done
