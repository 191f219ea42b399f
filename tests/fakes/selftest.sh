#!/bin/bash
# selftest.sh: prove the fakes against clients we did not write.
#
# fake_imds.py is driven with curl and openssl (token flow, refusals,
# credentials, a signature and PKCS7 that verify); fake_opsworks.py with
# Debian's aws-cli 2.9 (/usr/bin/aws, which still has `opsworks`) and, for
# what aws-cli refuses to send, raw requests signed by botocore
# (signed_call.py). Prints TAP; exits non-zero when a check fails. Stops
# only the processes it started. KEEP=1 keeps the work directory.
set -u
[ -n "${SI_UNIT_ONLY:-}" ] && { echo "1..0 # SKIP SI_UNIT_ONLY is set"; exit 0; }
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
started=$(date +%s.%N)

if [ ! -x /usr/bin/aws ] || ! $PY -c 'import botocore' 2>/dev/null; then
	echo "1..0 # SKIP Debian's awscli and python3-botocore are needed"
	exit 0
fi
for tool in curl openssl; do
	command -v $tool >/dev/null || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done

D=$(mktemp -d /tmp/fakes-selftest.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] && echo "# kept $D" || rm -rf "$D"
}
trap cleanup EXIT

n=0 failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
wait_port() { # wait_port FILE: the port, once the server wrote it
	local i
	for i in $(seq 100); do [ -s "$1" ] && { cat "$1"; return 0; }; sleep 0.05; done
	return 1
}
json_get() { # json_get EXPR < JSON: print a Python expression over the document `j`
	python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

# ---------------------------------------------------------------------------
# fake_imds.py
# ---------------------------------------------------------------------------
iid=i-0abc1234def567890
stack=11111111-2222-3333-4444-555555555555
openssl genrsa -out "$D/imds-key.pem" 2048 2>/dev/null
openssl rsa -in "$D/imds-key.pem" -pubout -out "$D/imds-pub.pem" 2>/dev/null
imds_config() { # imds_config [imdsv1]
	cat >"$D/imds.json.new" <<EOC
{"instance_id": "$iid", "region": "us-east-1", "availability_zone": "us-east-1b",
 "account_id": "123456789012", "private_ip": "10.1.2.3", "local_hostname": "n1",
 "instance_type": "c5.large", "image_id": "ami-0123456789abcdef0", "role_name": "node-role",
 "credentials": {"AccessKeyId": "ASIAFAKENODE", "SecretAccessKey": "node-secret",
                 "Token": "node-token", "Expiration": "2099-01-01T00:00:00Z"},
 "imdsv1": ${1:-false}}
EOC
	mv "$D/imds.json.new" "$D/imds.json"
}
imds_config
python3 "$HERE/fake_imds.py" --bind 127.0.0.1 --port 0 --port-file "$D/imds.port" \
	--config "$D/imds.json" --signing-key "$D/imds-key.pem" 2>"$D/imds.log" &
pids+=($!)
imds=http://127.0.0.1:$(wait_port "$D/imds.port") || { echo "Bail out! fake_imds did not start"; exit 1; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
TTL=X-aws-ec2-metadata-token-ttl-seconds
TOK=X-aws-ec2-metadata-token

[ "$(code -X PUT "$imds/latest/api/token")" = 400 ] &&
	[ "$(code -X PUT -H "$TTL: 21601" "$imds/latest/api/token")" = 400 ] &&
	[ "$(code -X PUT -H "$TTL: 0" "$imds/latest/api/token")" = 400 ]
ok $? "imds: a token needs a TTL header in 1..21600"
[ "$(code -X PUT -H "$TTL: 60" -H 'X-Forwarded-For: 10.0.0.1' "$imds/latest/api/token")" = 403 ]
ok $? "imds: a token request that came through a proxy (X-Forwarded-For) is refused"
[ "$(code "$imds/latest/meta-data/instance-id")" = 401 ] &&
	[ "$(code -H "$TOK: forged" "$imds/latest/meta-data/instance-id")" = 401 ]
ok $? "imds: 401 without a token and with a forged one"
curl -s -D "$D/h" -X PUT -H "$TTL: 300" "$imds/latest/api/token" >"$D/token"
token=$(cat "$D/token")
got=$(curl -s -H "$TOK: $token" "$imds/latest/meta-data/instance-id")
[ "$got" = "$iid" ] && grep -qi "^$TTL: 300" "$D/h" &&
	[ "$(curl -s -H "$TOK: $token" "$imds/latest/meta-data/placement/region")" = us-east-1 ]
ok $? "imds: token flow: PUT then GET with the token ($got)"
curl -s -H "$TOK: $token" "$imds/latest/meta-data/iam/security-credentials/" >"$D/role"
curl -s -H "$TOK: $token" "$imds/latest/meta-data/iam/security-credentials/node-role" >"$D/creds"
[ "$(cat "$D/role")" = node-role ] && json_get '(j["Code"], j["Type"], j["AccessKeyId"], j["Token"], j["Expiration"])' \
	<"$D/creds" | grep -qx "('Success', 'AWS-HMAC', 'ASIAFAKENODE', 'node-token', '2099-01-01T00:00:00Z')"
ok $? "imds: the role and its credentials JSON ($(tr -d '\n ' <"$D/creds" | cut -c1-80)...)"
[ "$(code -H "$TOK: $token" "$imds/latest/meta-data/public-ipv4")" = 404 ]
ok $? "imds: no public-ipv4 for an instance without one: 404"
curl -s -H "$TOK: $token" "$imds/latest/dynamic/instance-identity/document" >"$D/document"
curl -s -H "$TOK: $token" "$imds/latest/dynamic/instance-identity/signature" >"$D/signature"
base64 -d "$D/signature" >"$D/signature.bin" &&
	openssl dgst -sha256 -verify "$D/imds-pub.pem" -signature "$D/signature.bin" "$D/document" >/dev/null &&
	json_get 'j["instanceId"], j["accountId"], j["version"]' <"$D/document" | grep -qx "$iid 123456789012 2017-09-30"
ok $? "imds: the identity document's RSA-SHA256 signature verifies with openssl"
{ echo "-----BEGIN PKCS7-----"; curl -s -H "$TOK: $token" "$imds/latest/dynamic/instance-identity/pkcs7"
  echo; echo "-----END PKCS7-----"; } >"$D/pkcs7"
curl -s "$imds/_fake/certificate" >"$D/cert.pem"
openssl smime -verify -in "$D/pkcs7" -inform PEM -content "$D/document" -certfile "$D/cert.pem" \
	-noverify >/dev/null 2>"$D/smime.err"
ok $? "imds: the PKCS7 signature verifies as AWS documents it (openssl smime -verify)"
imds_config true
[ "$(curl -s "$imds/latest/meta-data/local-ipv4")" = 10.1.2.3 ] &&
	[ "$(code -H "$TOK: forged" "$imds/latest/meta-data/local-ipv4")" = 401 ]
ok $? "imds: imdsv1 in the config (re-read per request) allows token-less GETs; a bad token is still 401"
imds_config
short=$(curl -s -X PUT -H "$TTL: 1" "$imds/latest/api/token")
[ "$(code -H "$TOK: $short" "$imds/latest/meta-data/instance-id")" = 200 ] && sleep 1.1 &&
	[ "$(code -H "$TOK: $short" "$imds/latest/meta-data/instance-id")" = 401 ]
ok $? "imds: a token stops working when its TTL runs out"
curl -s -X POST -d '{"fail_token": 1}' "$imds/_fake/faults" >/dev/null
[ "$(code -X PUT -H "$TTL: 60" "$imds/latest/api/token")" = 500 ] &&
	[ "$(code -X PUT -H "$TTL: 60" "$imds/latest/api/token")" = 200 ]
ok $? "imds: fault fail_token: the next token request gets 500, then it works"
curl -s -X POST -d '{"status": 503, "status_count": 1}' "$imds/_fake/faults" >/dev/null
[ "$(code -H "$TOK: $token" "$imds/latest/meta-data/instance-id")" = 503 ] &&
	[ "$(code -H "$TOK: $token" "$imds/latest/meta-data/instance-id")" = 200 ]
ok $? "imds: fault status: the next GET gets the injected status"
calls=$(curl -s "$imds/_fake/calls")
echo "$calls" | json_get 'j["PUT token"], j["401"], j["GET /latest/meta-data/instance-id"]' | grep -qx "3 4 4"
ok $? "imds: /_fake/calls counts tokens issued, 401s and GETs by path ($calls)"

# ---------------------------------------------------------------------------
# fake_opsworks.py
# ---------------------------------------------------------------------------
other=99999999-8888-7777-6666-555555555555
cat >"$D/creds.json" <<EOC
{"AKIDADMIN": {"secret": "admin-secret", "policy": null},
 "ASIASESSION": {"secret": "session-secret", "token": "the-session-token", "policy": null},
 "AKIDREADER": {"secret": "reader-secret", "policy": {"Version": "2012-10-17", "Statement": [
   {"Sid": "ReadOnly", "Effect": "Allow", "Action": "opsworks:describe*", "Resource": "*"}]}},
 "AKIDDENIED": {"secret": "denied-secret", "policy": {"Version": "2012-10-17", "Statement": [
   {"Effect": "Allow", "Action": "opsworks:*", "Resource": "*"},
   {"Effect": "Deny", "Action": ["opsworks:RegisterInstance"],
    "Resource": "arn:aws:opsworks:us-east-1:123456789012:stack/$stack/"}]}},
 "AKIDOTHER": {"secret": "other-secret", "policy": {"Version": "2012-10-17", "Statement": [
   {"Effect": "Allow", "Action": ["opsworks:DescribeStacks", "opsworks:RegisterInstance"],
    "Resource": "arn:aws:opsworks:us-east-1:123456789012:stack/$other/"}]}}}
EOC
$PY "$HERE/fake_opsworks.py" --bind 127.0.0.1 --port 0 --port-file "$D/ow.port" \
	--region us-east-1 --account 123456789012 --credentials "$D/creds.json" \
	--stack "$stack:selftest" --stack "$other:other" --identity-pubkey "$D/imds-pub.pem" \
	--log "$D/opsworks.log" 2>"$D/opsworks.err" &
pids+=($!)
ow=http://127.0.0.1:$(wait_port "$D/ow.port") || { echo "Bail out! fake_opsworks did not start"; exit 1; }

# aws KEY SECRET opsworks-command args...: Debian's aws-cli against the fake.
aws_as() {
	local key=$1 secret=$2
	shift 2
	AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_DEFAULT_REGION=us-east-1 \
		AWS_CONFIG_FILE=${AWS_CONFIG_FILE:-/dev/null} AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		AWS_PAGER= AWS_MAX_ATTEMPTS=${AWS_MAX_ATTEMPTS:-1} AWS_RETRY_MODE=standard \
		/usr/bin/aws --endpoint-url "$ow" --cli-read-timeout 10 opsworks "$@"
}
admin() { aws_as AKIDADMIN admin-secret "$@"; }
raw() { $PY "$HERE/signed_call.py" --endpoint "$ow" "$@" 2>/dev/null; }
ctl() { curl -sf -X "$1" -d "${3:-{\}}" "$ow$2"; }
fails_with() { # fails_with CODE FILE: the command failed and said CODE
	[ "$status" != 0 ] && grep -q "$1" "$2"
}

admin describe-stacks --stack-ids "$stack" >"$D/out" 2>&1
json_get 'j["Stacks"][0]["Name"], j["Stacks"][0]["Arn"]' <"$D/out" |
	grep -qx "selftest arn:aws:opsworks:us-east-1:123456789012:stack/$stack/"
ok $? "opsworks: aws-cli describe-stacks: name and ARN"

aws_as AKIDADMIN admin-secret describe-stacks --no-sign-request >"$D/out" 2>&1
status=$?; fails_with MissingAuthenticationTokenException "$D/out" &&
	curl -s -D "$D/h" -o /dev/null -X POST -H 'Content-Type: application/x-amz-json-1.1' \
		-H 'X-Amz-Target: OpsWorks_20130218.DescribeStacks' -d '{}' "$ow/" &&
	grep -qi '^x-amzn-RequestId: [0-9a-f-]\{36\}' "$D/h" && grep -qi '^Date: ' "$D/h" &&
	head -1 "$D/h" | grep -q ' 400 '
ok $? "opsworks: an unsigned request: 400 MissingAuthenticationTokenException, with x-amzn-RequestId and Date"

python3 - "$D" "$stack" <<'EOP'
import json, sys
d, stack = sys.argv[1:3]
doc = open(d + "/document").read()
sig = open(d + "/signature").read()
def write(name, document, signature, stack_id=stack):
    json.dump({"StackId": stack_id, "Hostname": "n1", "PrivateIp": "10.1.2.3",
               "RsaPublicKeyFingerprint": "12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0",
               "InstanceIdentity": {"Document": document, "Signature": signature}},
              open(d + "/" + name, "w"))
write("register.json", doc, sig)
write("tampered.json", doc.replace("10.1.2.3", "10.9.9.9"), sig)
write("nostack.json", doc, sig, "00000000-0000-0000-0000-000000000000")
EOP
admin register-instance --cli-input-json "file://$D/register.json" >"$D/out" 2>&1
oid=$(json_get 'j["InstanceId"]' <"$D/out")
ok $? "opsworks: register-instance with IMDS's signed identity document ($oid)"
ctl GET /_fake/registry | json_get '[(r["Ec2InstanceId"], r["Hostname"], r["StackId"], r["Status"],
	r["PrivateIp"], bool(r["RsaPublicKeyFingerprint"]), bool(r["RegisteredAt"])) for r in j]' |
	grep -qx "\[('$iid', 'n1', '$stack', 'registered', '10.1.2.3', True, True)\]"
ok $? "opsworks: the registry holds the instance"
admin register-instance --cli-input-json "file://$D/register.json" >"$D/out" 2>&1
status=$?; fails_with 'ValidationException.*already registered' "$D/out"
ok $? "opsworks: registering the same EC2 instance again: ValidationException"
admin register-instance --cli-input-json "file://$D/tampered.json" >"$D/out" 2>&1
status=$?; fails_with 'ValidationException.*Signature does not verify' "$D/out"
ok $? "opsworks: a document altered after signing: ValidationException"
admin register-instance --cli-input-json "file://$D/nostack.json" >"$D/out" 2>&1
status=$?; fails_with 'ResourceNotFoundException' "$D/out"
ok $? "opsworks: registering into a stack that does not exist: ResourceNotFoundException"
admin describe-instances --stack-id "$stack" >"$D/out" 2>&1 &&
	json_get '[(i["InstanceId"], i["Ec2InstanceId"], i["Hostname"], i["Status"], i["RegisteredBy"]) for i in j["Instances"]]' \
		<"$D/out" | grep -qx "\[('$oid', '$iid', 'n1', 'registered', 'arn:aws:iam::123456789012:user/AKIDADMIN')\]" &&
	admin describe-instances --instance-ids "$oid" | json_get 'len(j["Instances"])' | grep -qx 1
ok $? "opsworks: describe-instances by stack and by instance id"
admin describe-instances >"$D/out" 2>&1
status=$?; fails_with ValidationException "$D/out" &&
	admin describe-instances --stack-id "$stack" --instance-ids "$oid" >"$D/out" 2>&1
status=$?; fails_with ValidationException "$D/out"
ok $? "opsworks: describe-instances needs exactly one of StackId, LayerId, InstanceIds"
admin deregister-instance --instance-id "$oid" >"$D/out" 2>&1 &&
	[ "$(ctl GET /_fake/registry)" = "[]" ]
ok $? "opsworks: deregister-instance empties the registry"
admin deregister-instance --instance-id "$oid" >"$D/out" 2>&1
status=$?; fails_with ResourceNotFoundException "$D/out"
ok $? "opsworks: deregistering an unknown instance: ResourceNotFoundException"

aws_as AKIDADMIN wrong-secret describe-stacks >"$D/out" 2>&1
status=$?; fails_with 'InvalidSignatureException.*signature we calculated does not match' "$D/out"
ok $? "opsworks: a wrong secret: InvalidSignatureException (botocore recomputed the signature)"
aws_as AKIDNOBODY whatever describe-stacks >"$D/out" 2>&1
status=$?; fails_with UnrecognizedClientException "$D/out"
ok $? "opsworks: an unknown access key: UnrecognizedClientException"
AWS_SESSION_TOKEN=the-session-token aws_as ASIASESSION session-secret describe-stacks >"$D/out" 2>&1 &&
	AWS_SESSION_TOKEN=stolen aws_as ASIASESSION session-secret describe-stacks >"$D/out" 2>&1
status=$?; fails_with UnrecognizedClientException "$D/out" &&
	aws_as ASIASESSION session-secret describe-stacks >"$D/out" 2>&1
status=$?; fails_with UnrecognizedClientException "$D/out"
ok $? "opsworks: session credentials work only with their token"
raw --key AKIDADMIN --secret admin-secret --clock-skew -1200 >"$D/out"
grep -q '^400 InvalidSignatureException Signature expired' "$D/out" &&
	raw --key AKIDADMIN --secret admin-secret --clock-skew 1200 | grep -q '^400 InvalidSignatureException Signature not yet current' &&
	raw --key AKIDADMIN --secret admin-secret --clock-skew -600 | grep -q '^200 '
ok $? "opsworks: a clock 20 minutes off is refused, 10 minutes is not ($(cat "$D/out"))"
ctl POST /_fake/faults '{"clock_offset_s": 1200}' >/dev/null
raw --key AKIDADMIN --secret admin-secret >"$D/out"
date_ahead=$(curl -sI "$ow/_fake/count" | sed -n 's/^Date: //Ip' | tr -d '\r')
ctl POST /_fake/faults '{}' >/dev/null
grep -q '^400 InvalidSignatureException Signature expired' "$D/out" &&
	[ $(( $(date -d "$date_ahead" +%s) - $(date +%s) )) -ge 1190 ]
ok $? "opsworks: clock_offset_s 1200: our clock's signatures expired, Date 20 minutes ahead ($date_ahead)"

aws_as AKIDREADER reader-secret register-instance --cli-input-json "file://$D/register.json" >"$D/out" 2>&1
status=$?; fails_with 'AccessDeniedException.*opsworks:RegisterInstance' "$D/out" &&
	aws_as AKIDREADER reader-secret describe-stacks >/dev/null 2>&1
ok $? "opsworks: a policy allowing opsworks:describe* only: RegisterInstance gets AccessDeniedException"
aws_as AKIDDENIED denied-secret register-instance --cli-input-json "file://$D/register.json" >"$D/out" 2>&1
status=$?; fails_with 'AccessDeniedException.*explicit deny' "$D/out" &&
	aws_as AKIDDENIED denied-secret describe-stacks >/dev/null 2>&1
ok $? "opsworks: an explicit Deny wins over opsworks:*"
aws_as AKIDOTHER other-secret describe-stacks --stack-ids "$stack" >"$D/out" 2>&1
status=$?; fails_with AccessDeniedException "$D/out" &&
	aws_as AKIDOTHER other-secret describe-stacks | json_get '[s["StackId"] for s in j["Stacks"]]' | grep -qx "\['$other'\]"
ok $? "opsworks: a policy scoped to another stack's ARN: denied here, and DescribeStacks lists only that stack"

printf '[default]\nparameter_validation = false\n' >"$D/novalidate.config"
AWS_CONFIG_FILE=$D/novalidate.config admin register-instance --cli-input-json '{"Hostname": "n1"}' >"$D/out" 2>&1
status=$?; fails_with "ValidationException.*'StackId'.*must not be null" "$D/out"
ok $? "opsworks: a missing required member (aws-cli validation off): ValidationException names StackId"
raw --key AKIDADMIN --secret admin-secret --operation RegisterInstance \
	'{"StackId": "'$stack'", "InstanceIdentity": {"Document": "{}", "Sig": "x"}}' >"$D/out"
grep -q "^400 ValidationException .*Unknown member 'InstanceIdentity.Sig'" "$D/out"
ok $? "opsworks: an unknown member: ValidationException names it"
raw --key AKIDADMIN --secret admin-secret --operation RegisterInstance \
	'{"StackId": "'$stack'", "Hostname": 5}' >"$D/out"
grep -q "^400 ValidationException .*'Hostname'.*must be a string" "$D/out" &&
	raw --key AKIDADMIN --secret admin-secret --operation DescribeStacks '{"StackIds": "'$stack'"}' |
		grep -q "^400 ValidationException .*'StackIds'.*must be a list"
ok $? "opsworks: a member of the wrong type: ValidationException names it"
raw --key AKIDADMIN --secret admin-secret '{"StackIds": [' | grep -q '^400 SerializationException' &&
	raw --key AKIDADMIN --secret admin-secret --content-type application/json | grep -q '^400 SerializationException'
ok $? "opsworks: a body that is not JSON, or the wrong Content-Type: SerializationException"
raw --key AKIDADMIN --secret admin-secret --operation CreateStack '{}' | grep -q '^400 UnknownOperationException' &&
	raw --key AKIDADMIN --secret admin-secret --target Nonsense_20991231.Foo | grep -q '^400 UnknownOperationException' &&
	raw --key AKIDADMIN --secret admin-secret --operation DescribeStackProvisioningParameters \
		'{"StackId": "'$stack'"}' | grep -q '^200 .*AgentInstallerUrl'
ok $? "opsworks: an operation outside the five: UnknownOperationException"

ctl POST /_fake/faults '{"throttle_above_rps": 0}' >/dev/null
admin describe-stacks >"$D/out" 2>&1
status=$?; fails_with ThrottlingException "$D/out"
ok $? "opsworks: fault throttle_above_rps: aws-cli sees ThrottlingException"
ctl POST /_fake/faults '{"throttle_above_rps": 3}' >/dev/null
raw --key AKIDADMIN --secret admin-secret --repeat 8 >"$D/out"
[ "$(grep -c '^200 ' "$D/out")" = 3 ] && [ "$(grep -c '^400 ThrottlingException' "$D/out")" = 5 ]
ok $? "opsworks: more than 3 requests within a second: the 4th on are throttled"
ctl POST /_fake/faults '{"error_5xx": 1}' >/dev/null
admin describe-stacks >"$D/out" 2>&1
status=$?; fails_with InternalFailure "$D/out" && admin describe-stacks >/dev/null 2>&1
ok $? "opsworks: fault error_5xx: the next request gets 500 InternalFailure, then it works"
ctl POST /_fake/faults '{"error_5xx": 2}' >/dev/null
before=$(ctl GET /_fake/calls | json_get 'j["_rejected"]["InternalFailure"]')
AWS_MAX_ATTEMPTS=3 admin describe-stacks >"$D/out" 2>&1 &&
	[ "$(ctl GET /_fake/calls | json_get 'j["_rejected"]["InternalFailure"]')" = $((before + 2)) ]
ok $? "opsworks: aws-cli's standard retries get through two 5xx answers"
ctl POST /_fake/faults '{"error_5xx": 1, "error_5xx_status": 503}' >/dev/null
raw --key AKIDADMIN --secret admin-secret | grep -q '^503 ServiceUnavailable'
ok $? "opsworks: error_5xx_status 503: ServiceUnavailable"
ctl POST /_fake/faults '{"error_5xx": 5, "operations": ["RegisterInstance"]}' >/dev/null
admin describe-stacks >/dev/null 2>&1 &&
	raw --key AKIDADMIN --secret admin-secret --operation RegisterInstance '{"StackId": "x"}' |
		grep -q '^500 InternalFailure'
ok $? "opsworks: faults limited to named operations leave the others alone"
ctl POST /_fake/faults '{"reset": 1}' >/dev/null
admin describe-stacks >"$D/out" 2>&1
status=$?; [ $status != 0 ] && grep -qi 'connection' "$D/out" && admin describe-stacks >/dev/null 2>&1
ok $? "opsworks: fault reset: the connection is dropped without an answer ($(tail -1 "$D/out"))"
ctl POST /_fake/faults '{"garbage": 1}' >/dev/null
curl -s -X POST -d '{}' "$ow/" >"$D/out"
[ "$(tr -d '\0' <"$D/out")" = "<html>this is not JSON</html>" ] && admin describe-stacks >/dev/null 2>&1
ok $? "opsworks: fault garbage: a 200 whose body is not JSON"
ctl POST /_fake/faults '{"latency_ms": 400}' >/dev/null
secs=$($PY "$HERE/signed_call.py" --endpoint "$ow" --key AKIDADMIN --secret admin-secret 2>&1 >/dev/null |
	sed -n 's/^# \([0-9.]*\) s$/\1/p')
awk -v s="$secs" 'BEGIN { exit !(s >= 0.4 && s < 5) }'
ok $? "opsworks: fault latency_ms delays the answer ($secs s)"
# A client that gives up before its answer (curl -m 0.2 against 400 ms):
# the fake's write hits a closed socket; that is a log line, not a bug.
curl -s -m 0.2 -X POST -H 'X-Amz-Target: OpsWorks_20130218.DescribeStacks' -d '{}' "$ow/" >/dev/null 2>&1
wait_gone() { for i in $(seq 50); do grep -q "went away mid-request" "$D/opsworks.log" && return 0; sleep 0.1; done; return 1; }
wait_gone && ! grep -q 'Traceback\|BUG' "$D/opsworks.err" "$D/opsworks.log"
ok $? "opsworks: a client gone before its answer is a log line, no traceback ($(grep -c 'went away' "$D/opsworks.log") line)"
ctl POST /_fake/faults '{}' >/dev/null
ctl POST /_fake/faults '{"latency": 1}' >/dev/null
[ $? != 0 ] && [ "$(ctl GET /_fake/faults)" = "{}" ]
ok $? "opsworks: {} clears the faults; a misspelt fault is refused"

ctl POST /_fake/stacks '{"StackId": "s-planted", "Name": "planted"}' >/dev/null &&
	ctl POST /_fake/register '{"StackId": "s-planted", "Ec2InstanceId": "i-0aaaaaaaaaaaaaaaa", "Hostname": "leak-1"}' \
		>"$D/out" && pid=$(json_get 'j["InstanceId"]' <"$D/out") &&
	admin describe-instances --stack-id s-planted | json_get '[(i["InstanceId"], i["Hostname"]) for i in j["Instances"]]' |
		grep -qx "\[('$pid', 'leak-1')\]"
ok $? "opsworks: /_fake/stacks and /_fake/register plant a stack and a registration that the API shows"
calls=$(ctl GET /_fake/calls)
echo "$calls" | json_get 'j["DescribeStacks"] > 5, j["RegisterInstance"], j["_rejected"]["AccessDeniedException"], j["_rejected"]["connection_reset"]' |
	grep -qx "True 4 3 1"
ok $? "opsworks: /_fake/calls counts calls that passed authentication and validation, and rejections by code"
ctl POST /_fake/reset >/dev/null
[ "$(ctl GET /_fake/registry)" = "[]" ] && ctl GET /_fake/calls | grep -qx '{"_rejected": {}}' &&
	admin describe-stacks --stack-ids s-planted >/dev/null
ok $? "opsworks: /_fake/reset clears registry and counters, keeps the stacks"
! grep -q 'BUG' "$D/opsworks.log" "$D/opsworks.err"
ok $? "opsworks: no reply failed the model's output shapes"

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed in $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s"
[ $failed = 0 ]
