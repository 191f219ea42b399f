#!/bin/bash
# 0110-imds-credentials.sh: credentials from the instance role through
# IMDSv2 (token, then GETs), used against moto with IAM enforcement; the
# region from IMDS; and the environment and shared files before IMDS.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/moto.sh"

command -v moto_server >/dev/null || skip_all "moto_server not installed"
D=$(test_dir imds)
imds_pid=
trap '[ -n "$imds_pid" ] && kill $imds_pid; moto_stop "$D/moto"; [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"' EXIT
driver=$top_builddir/tests/integration/aws_client_driver

cat >"$D/spec.json" <<'EOC'
{"users": [{"name": "launcher", "policy": {"Version": "2012-10-17", "Statement": [
   {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": "*"}]}}],
 "roles": [{"name": "node-role", "trust": "launcher", "policy": {"Version": "2012-10-17",
   "Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"}]}}],
 "instances": [{"count": 1}]}
EOC
moto_start "$D/moto" || bail "moto_server did not start"
endpoint=http://127.0.0.1:$(cat "$D/moto/port")
python3 "$top_srcdir/tests/lib/moto_setup.py" --endpoint "$endpoint" --spec "$D/spec.json" \
	--out "$D/out.json" >"$D/setup.log" 2>&1 || bail "moto setup failed"

# The instance role's session credentials, as IMDS hands them out.
python3 - "$endpoint" "$D" <<'EOP' || bail "assume-role failed"
import boto3, json, sys
endpoint, d = sys.argv[1:3]
out = json.load(open(d + "/out.json"))
u = out["users"]["launcher"]
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=u["access_key_id"], aws_secret_access_key=u["secret_access_key"])
c = sts.assume_role(RoleArn=out["roles"]["node-role"]["arn"], RoleSessionName=out["instances"][0])["Credentials"]
cfg = {"instance_id": out["instances"][0], "region": "us-east-1", "role_name": "node-role",
       "credentials": {"AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                       "Token": c["SessionToken"], "Expiration": c["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ")}}
json.dump(cfg, open(d + "/imds.json", "w"))
EOP
openssl genrsa -out "$D/key.pem" 2048 2>/dev/null
python3 "$top_srcdir/tests/fakes/fake_imds.py" --port 0 --port-file "$D/imds.port" \
	--config "$D/imds.json" --signing-key "$D/key.pem" 2>"$D/imds.log" &
imds_pid=$!
for i in $(seq 50); do [ -s "$D/imds.port" ] && break; sleep 0.1; done
imds=http://127.0.0.1:$(cat "$D/imds.port")

curl -s -o /dev/null -w '%{http_code}' "$imds/latest/meta-data/instance-id" | grep -q 401
ok $? "the IMDS endpoint refuses a GET without a token (IMDSv2 only)"

env -i PATH="$PATH" AWS_ENDPOINT_URL="$endpoint" AWS_EC2_METADATA_SERVICE_ENDPOINT="$imds" \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	"$driver" sts >"$D/out" 2>"$D/err"
ok $? "STS call signed with instance-role credentials from IMDS ($(cat "$D/err"))"
grep -q "^arn arn:aws:sts::123456789012:assumed-role/node-role/" "$D/out"
ok $? "moto sees the assumed role ($(head -1 "$D/out"))"
grep -q "^source instance role node-role$" "$D/out"
ok $? "credential source named"
calls=$(curl -s "$imds/_fake/calls")
echo "$calls" | python3 -c 'import json,sys; c=json.load(sys.stdin); sys.exit(0 if c.get("PUT token")==1 and c.get("GET /latest/meta-data/placement/region")==1 else 1)'
ok $? "one token for all IMDS reads; region read from IMDS ($calls)"

env -i PATH="$PATH" AWS_ENDPOINT_URL="$endpoint" AWS_EC2_METADATA_SERVICE_ENDPOINT="$imds" \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	"$driver" ec2-describe "$(python3 -c "import json; print(json.load(open('$D/out.json'))['instances'][0])")" \
	>"$D/out" 2>"$D/err"
[ $? = 0 ] && grep -q ' running$' "$D/out"
ok $? "EC2 call in the region IMDS named, answered by moto ($(cat "$D/err"))"

printf '[default]\nregion = us-east-1\naws_access_key_id = AKIDBOGUS\naws_secret_access_key = nope\n' >"$D/config"
env -i PATH="$PATH" AWS_ENDPOINT_URL="$endpoint" AWS_EC2_METADATA_SERVICE_ENDPOINT="$imds" \
	AWS_CONFIG_FILE="$D/config" AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	"$driver" sts >"$D/out" 2>"$D/err"
[ $? != 0 ] && grep -q 'InvalidClientTokenId\|SignatureDoesNotMatch' "$D/err"
ok $? "the shared config file comes before IMDS ($(cat "$D/err"))"

curl -s -X POST -d '{"fail_token": 5}' "$imds/_fake/faults" >/dev/null
env -i PATH="$PATH" AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$endpoint" AWS_EC2_METADATA_SERVICE_ENDPOINT="$imds" \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	"$driver" sts >"$D/out" 2>"$D/err"
[ $? != 0 ] && grep -q 'token: HTTP 500' "$D/err"
ok $? "IMDS token failure reported ($(cat "$D/err"))"
tap_done
