#!/bin/bash
# 0100-moto-sigv4.sh: our SigV4 and AWS client against moto_server with IAM
# enforcement: long-term and assumed-role credentials accepted on STS (Query),
# SSM (JSON 1.1, a KMS SecureString) and EC2 (Query, batched); a wrong
# secret rejected with SignatureDoesNotMatch; an action outside the policy
# rejected with AccessDenied; both reported in one line.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/moto.sh"

command -v moto_server >/dev/null || skip_all "moto_server not installed"
D=$(test_dir moto)
trap 'moto_stop "$D/moto"; [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"' EXIT
driver=$top_builddir/tests/integration/aws_client_driver
cli=$top_builddir/slurm-identity

cat >"$D/spec.json" <<'EOC'
{
  "kms_keys": [{"alias": "alias/slurm-identity"}],
  "parameters": [
    {"name": "/slurm-identity/DomainPassword", "type": "SecureString",
     "value": "Adm1n-P@ss word", "key": "alias/slurm-identity"},
    {"name": "/slurm-identity/DomainName", "type": "String", "value": "test.domain"},
    {"name": "/slurm-identity/Other", "type": "String", "value": "not yours"}
  ],
  "instances": [{"count": 3}],
  "users": [
    {"name": "app", "policy": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": "*"},
      {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"},
      {"Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"},
      {"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "sts:AssumeRole"], "Resource": "*"}]}},
    {"name": "limited", "policy": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["sts:GetCallerIdentity"], "Resource": "*"}]}}
  ],
  "roles": [
    {"name": "app-role", "trust": "app", "policy": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["ssm:GetParameters", "kms:Decrypt", "ec2:DescribeInstances",
                                    "sts:GetCallerIdentity"], "Resource": "*"}]}}
  ]
}
EOC
moto_start "$D/moto" || bail "moto_server did not start"
endpoint=http://127.0.0.1:$(cat "$D/moto/port")
python3 "$top_srcdir/tests/lib/moto_setup.py" --endpoint "$endpoint" \
	--region us-east-1 --spec "$D/spec.json" --out "$D/out.json" >"$D/setup.log" 2>&1 ||
	{ sed 's/^/# /' "$D/setup.log"; bail "moto setup failed"; }
get() { python3 -c "import json,sys; d=json.load(open('$D/out.json')); print($1)"; }

export AWS_ENDPOINT_URL=$endpoint AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ACCESS_KEY_ID=$(get "d['users']['app']['access_key_id']")
export AWS_SECRET_ACCESS_KEY=$(get "d['users']['app']['secret_access_key']")

out=$("$driver" sts 2>&1)
echo "$out" | grep -q '^arn arn:aws:iam::123456789012:user/app$'
ok $? "STS GetCallerIdentity accepted with long-term keys ($(echo "$out" | head -1))"

want=$(printf '%s' 'Adm1n-P@ss word' | sha256sum | cut -d' ' -f1)
out=$("$driver" ssm-get /slurm-identity/DomainPassword /slurm-identity/DomainName 2>&1)
echo "$out" | grep -q "^/slurm-identity/DomainPassword SecureString sha256=$want$"
ok $? "SSM GetParameters decrypts the KMS SecureString"
echo "$out" | grep -q "^/slurm-identity/DomainName String "
ok $? "both parameters in one GetParameters call"
! echo "$out" | grep -q 'Adm1n'
ok $? "the secret value is never printed"

ids=$(get "' '.join(d['instances'])")
out=$("$driver" ec2-describe $ids i-0123456789abcdef0 2>&1)
[ "$(echo "$out" | grep -c ' running$')" = 3 ]
ok $? "EC2 DescribeInstances describes our instances"
echo "$out" | grep -q '^missing i-0123456789abcdef0$'
ok $? "an id EC2 does not know is reported missing, not as an error"
# 650 ids: four calls of up to 200, streamed; our three spread over them
# among 647 that EC2 does not know.
unknown=$(python3 -c 'print(" ".join("i-%017x" % (0xabc0000 + i) for i in range(647)))')
set -- $unknown
out=$("$driver" ec2-describe $1 ${ids%% *} ${*:2:300} $(echo "$ids" | cut -d' ' -f2) \
	${*:302:300} $(echo "$ids" | cut -d' ' -f3) ${*:602} 2>&1)
[ "$(echo "$out" | grep -c ' running$')" = 3 ] &&
	[ "$(echo "$out" | grep -c '^missing ')" = 647 ] &&
	echo "$out" | grep -q '^described 3 missing 647 '
ok $? "650 ids in batches: all three found, 647 missing ($(echo "$out" | tail -1))"

# Session credentials from AssumeRole.
read -r skey ssecret stoken < <(python3 - "$endpoint" <<EOP
import boto3, sys
sts = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="$AWS_ACCESS_KEY_ID", aws_secret_access_key="$AWS_SECRET_ACCESS_KEY")
c = sts.assume_role(RoleArn="$(get "d['roles']['app-role']['arn']")", RoleSessionName="si-test")["Credentials"]
print(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
EOP
)
out=$(AWS_ACCESS_KEY_ID=$skey AWS_SECRET_ACCESS_KEY=$ssecret AWS_SESSION_TOKEN=$stoken "$driver" sts 2>&1)
echo "$out" | grep -q '^arn arn:aws:sts::123456789012:assumed-role/app-role/si-test$'
ok $? "assumed-role session credentials accepted ($(echo "$out" | head -1))"
out=$(AWS_ACCESS_KEY_ID=$skey AWS_SECRET_ACCESS_KEY=$ssecret AWS_SESSION_TOKEN=$stoken \
	"$driver" ssm-get /slurm-identity/DomainPassword 2>&1)
echo "$out" | grep -q "sha256=$want"
ok $? "session credentials sign JSON 1.1 calls too"

# Tampered: wrong secret.
out=$(AWS_SECRET_ACCESS_KEY=wrong"$AWS_SECRET_ACCESS_KEY" "$driver" sts 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q 'sts GetCallerIdentity: SignatureDoesNotMatch'
ok $? "wrong secret: STS says SignatureDoesNotMatch ($out)"
out=$(AWS_SECRET_ACCESS_KEY=wrong"$AWS_SECRET_ACCESS_KEY" "$driver" ssm-get /slurm-identity/DomainName 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'ssm GetParameters: \(SignatureDoesNotMatch\|InvalidSignatureException\)'
ok $? "wrong secret: SSM refuses the signature ($out)"
out=$(AWS_SECRET_ACCESS_KEY=wrong"$AWS_SECRET_ACCESS_KEY" "$driver" ec2-describe $ids 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'ec2 DescribeInstances: \(SignatureDoesNotMatch\|AuthFailure\)'
ok $? "wrong secret: EC2 refuses the signature ($out)"
out=$(AWS_SESSION_TOKEN=$stoken AWS_ACCESS_KEY_ID=$skey AWS_SECRET_ACCESS_KEY=x$ssecret "$driver" sts 2>&1)
[ $? -ne 0 ]
ok $? "tampered session credentials refused"

# Outside the policy (moto evaluates actions; resource scoping of SSM is
# not enforced by moto, so the scoped policies are proven on OpsWorks).
lkey=$(get "d['users']['limited']['access_key_id']")
lsecret=$(get "d['users']['limited']['secret_access_key']")
out=$(AWS_ACCESS_KEY_ID=$lkey AWS_SECRET_ACCESS_KEY=$lsecret "$driver" ssm-get /slurm-identity/Other 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'ssm GetParameters: AccessDenied'
ok $? "SSM action outside the policy: AccessDenied ($out)"
out=$(AWS_ACCESS_KEY_ID=$lkey AWS_SECRET_ACCESS_KEY=$lsecret "$driver" ec2-describe $ids 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'ec2 DescribeInstances: \(AccessDenied\|UnauthorizedOperation\)'
ok $? "EC2 action outside the policy: refused ($out)"

# The admin CLI reports the same in one line. (No domain controller runs
# here, so its probe is the one failure; 0500 checks against a real DC.
# 127.0.0.9: where no other test's DC can answer.) The default LdapCaFile
# is the system bundle, which check warns about on a line of its own:
# failures are the other lines.
cat >"$D/identity.conf" <<'EOC'
ClusterName=moto
Backends=ad
DomainNameParameter=/slurm-identity/DomainName
DomainPasswordParameter=/slurm-identity/DomainPassword
DomainUser=svc-hpc-join
DomainController=127.0.0.9
EOC
failures() { grep -v -c '^slurm-identity: check: warning: ' "$D/check.err"; }
chmod 644 "$D/identity.conf"
"$cli" -c "$D/identity.conf" check >"$D/check.out" 2>"$D/check.err"
[ $? = 1 ] && [ "$(failures)" = 1 ] &&
	grep -q "^slurm-identity: check: warning: LdapCaFile=.* is the whole system CA bundle" "$D/check.err" &&
	grep -q "^slurm-identity: check: ad: ldaps://127.0.0.9: ldap [a-z]*: .*Can't contact LDAP server" "$D/check.err" &&
	grep -q '^ok: ec2: DescribeInstances allowed' "$D/check.out"
ok $? "slurm-identity check passes every AWS probe with the right keys ($(cat "$D/check.err"))"
grep -q '^ok: identity arn:aws:iam::123456789012:user/app' "$D/check.out"
ok $? "check prints the identity it runs as"
grep -q '^ok: ad: parameter /slurm-identity/DomainPassword readable (SecureString)' "$D/check.out"
ok $? "check reads the SecureString without printing it"
AWS_SECRET_ACCESS_KEY=bad "$cli" -c "$D/identity.conf" check >"$D/check.out" 2>"$D/check.err"
rc=$?
[ $rc = 1 ] && [ "$(failures)" = 1 ] &&
	grep -q '^slurm-identity: check: identity: sts GetCallerIdentity: SignatureDoesNotMatch' "$D/check.err"
ok $? "check with a bad secret: exit 1, one line ($(cat "$D/check.err"))"
AWS_ACCESS_KEY_ID=$lkey AWS_SECRET_ACCESS_KEY=$lsecret \
	"$cli" -c "$D/identity.conf" check >"$D/check.out" 2>"$D/check.err"
rc=$?
[ $rc = 1 ] && [ "$(failures)" = 2 ] &&
	[ "$(grep -c '^slurm-identity: check: .*AccessDenied' "$D/check.err")" = 2 ]
ok $? "check without permission: exit 1, one line per refused probe (ad, ec2)"
tap_done
