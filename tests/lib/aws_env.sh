# aws_env.sh: the AWS side of an integration test, all on loopback.
#
# moto_server with IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT: the setup
# calls are the only unauthenticated ones), the fake OpsWorks endpoint, and
# three IAM users: "cloud" (the test's launcher, ec2:*, and reading join
# secrets to attack them), "controller" and
# "node" with exactly the policies `slurm-identity policy` prints for the
# configuration in $CLUSTER_DIR/etc/identity.conf. The fake OpsWorks checks
# the same policies and botocore signatures. Writes $CLUSTER_DIR/aws-env.json
# and the controller's AWS config file ($CLUSTER_DIR/etc/aws.config).
#
# AWS_ENV_KMS_KEYS and AWS_ENV_PARAMETERS (JSON lists in moto_setup.py's
# spec format) add keys and SSM parameters.
#
# Sourced after cluster.sh; needs moto.sh beside it.

. "$top_srcdir/tests/lib/moto.sh"

AWS_ENV_ACCOUNT=123456789012
AWS_ENV_REGION=us-east-1

aws_env_policy() {
	# aws_env_policy ROLE: what the product says ROLE needs.
	SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/identity.conf \
	SLURM_CONF=$CLUSTER_DIR/etc/slurm.conf AWS_REGION=$AWS_ENV_REGION AWS_EC2_METADATA_DISABLED=true \
		"$top_builddir/slurm-identity" policy --role "$1" \
		--account "$AWS_ENV_ACCOUNT"
}

aws_env_start() {
	local d=$CLUSTER_DIR py stack=${AWS_ENV_STACK_ID:-}
	py=$(command -v python3)
	mkdir -p "$d/aws" "$d/log"
	[ -n "$stack" ] || stack=$("$py" -c 'import uuid; print(uuid.uuid4())')
	echo "$stack" >"$d/aws/stack_id"

	openssl genrsa -out "$d/aws/imds-signing.pem" 2048 2>/dev/null &&
		openssl rsa -in "$d/aws/imds-signing.pem" -pubout \
			-out "$d/aws/imds-signing.pub" 2>/dev/null || return 1

	aws_env_policy controller >"$d/aws/controller-policy.json" || return 1
	aws_env_policy node >"$d/aws/node-policy.json" || return 1
	cat >"$d/aws/spec.json" <<EOC
{
  "users": [
    {"name": "cloud", "policy": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["ec2:*", "secretsmanager:GetSecretValue",
        "secretsmanager:ListSecrets"], "Resource": "*"}]}},
    {"name": "controller", "policy": $(cat "$d/aws/controller-policy.json")},
    {"name": "node", "policy": $(cat "$d/aws/node-policy.json")}
  ],
  "kms_keys": ${AWS_ENV_KMS_KEYS:-[]}, "parameters": ${AWS_ENV_PARAMETERS:-[]}
}
EOC
	moto_start "$d/aws/moto" || return 1
	"$py" "$top_srcdir/tests/lib/moto_setup.py" \
		--endpoint "http://127.0.0.1:$(cat "$d/aws/moto/port")" \
		--region "$AWS_ENV_REGION" --spec "$d/aws/spec.json" --widen-resources \
		--out "$d/aws/setup.json" >"$d/log/moto-setup.log" 2>&1 || {
		cat "$d/log/moto-setup.log" | sed 's/^/# /'; return 1; }

	# The fake OpsWorks knows the same keys and policies.
	"$py" - "$d" <<'EOP' || return 1
import json, os, sys
d = sys.argv[1]
setup = json.load(open(os.path.join(d, "aws/setup.json")))
spec = json.load(open(os.path.join(d, "aws/spec.json")))
policies = {u["name"]: u.get("policy") for u in spec["users"]}
creds = {}
for name, u in setup["users"].items():
    creds[u["access_key_id"]] = {"secret": u["secret_access_key"], "policy": policies.get(name)}
fd = os.open(os.path.join(d, "aws/opsworks-credentials.json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(creds, f)
EOP
	/usr/bin/python3 "$top_srcdir/tests/fakes/fake_opsworks.py" \
		--bind 127.0.0.1 --port 0 --port-file "$d/aws/opsworks.port" \
		--region "$AWS_ENV_REGION" --account "$AWS_ENV_ACCOUNT" \
		--credentials "$d/aws/opsworks-credentials.json" \
		--stack "$stack:sitest" --identity-pubkey "$d/aws/imds-signing.pub" \
		--log "$d/log/opsworks.log" >>"$d/log/opsworks.out" 2>&1 </dev/null &
	echo $! >"$d/aws/opsworks.pid"
	wait_for "[ -s '$d/aws/opsworks.port' ]" 20 || {
		echo "# fake OpsWorks did not start"; cat "$d/log/opsworks.out" | sed 's/^/# /'; return 1; }

	# The SSM managed-instance fake, in front of moto, when asked for.
	if [ -n "${AWS_ENV_SSM_FAKE:-}" ]; then
		/usr/bin/python3 "$top_srcdir/tests/fakes/fake_ssm.py" \
			--upstream "http://127.0.0.1:$(cat "$d/aws/moto/port")" \
			--credentials "$d/aws/opsworks-credentials.json" \
			--port-file "$d/aws/ssm.port" --region "$AWS_ENV_REGION" \
			--account "$AWS_ENV_ACCOUNT" --log "$d/log/ssm-fake.log" \
			>>"$d/log/ssm-fake.out" 2>&1 </dev/null &
		echo $! >"$d/aws/ssm.pid"
		wait_for "[ -s '$d/aws/ssm.port' ]" 20 || {
			echo "# fake SSM did not start"; sed 's/^/# /' "$d/log/ssm-fake.out"; return 1; }
	fi

	"$py" - "$d" "$AWS_ENV_REGION" "$AWS_ENV_ACCOUNT" "$stack" <<'EOP' || return 1
import json, os, sys
d, region, account, stack = sys.argv[1:5]
setup = json.load(open(os.path.join(d, "aws/setup.json")))
moto = "http://127.0.0.1:" + open(os.path.join(d, "aws/moto/port")).read().strip()
opsworks = "http://127.0.0.1:" + open(os.path.join(d, "aws/opsworks.port")).read().strip()
users = {n: {"key": u["access_key_id"], "secret": u["secret_access_key"]}
         for n, u in setup["users"].items()}
ssm_port = os.path.join(d, "aws/ssm.port")
ssm_fake = ("http://127.0.0.1:" + open(ssm_port).read().strip()) if os.path.exists(ssm_port) else None
env = {"region": region, "account": account, "stack_id": stack, "ssm_fake": ssm_fake,
       "moto_endpoint": moto, "opsworks_endpoint": opsworks,
       "image_id": setup.get("image_id", "ami-12c6146b"),
       "signing_key": os.path.join(d, "aws/imds-signing.pem"), "users": users}
def private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
private(os.path.join(d, "aws-env.json"), json.dumps(env, indent=1))
c = users["controller"]
lines = ["[default]", "region = " + region,
         "aws_access_key_id = " + c["key"], "aws_secret_access_key = " + c["secret"],
         "services = sitest", "", "[services sitest]"]
for svc, url in (("ec2", moto), ("sts", moto), ("ssm", ssm_fake or moto),
                 ("secrets_manager", moto), ("opsworks", opsworks)):
    lines += [svc + " =", "  endpoint_url = " + url]
private(os.path.join(d, "etc/aws.config"), "\n".join(lines) + "\n")
EOP
	# The controller's programs run as SlurmUser.
	cluster_own "$d/etc/aws.config"
	return 0
}

aws_env_stop() {
	local d=${CLUSTER_DIR:-}
	[ -n "$d" ] || return 0
	[ -f "$d/aws/opsworks.pid" ] && kill "$(cat "$d/aws/opsworks.pid")" 2>/dev/null
	[ -f "$d/aws/ssm.pid" ] && kill "$(cat "$d/aws/ssm.pid")" 2>/dev/null
	moto_stop "$d/aws/moto"
	return 0
}

# opsworks_fake GET|POST PATH [JSON]: the fake's control API.
opsworks_fake() {
	local port
	port=$(cat "$CLUSTER_DIR/aws/opsworks.port")
	if [ "$1" = POST ]; then
		curl -sf -X POST -H 'Content-Type: application/json' \
			-d "${3:-{\}}" "http://127.0.0.1:$port$2"
	else
		curl -sf "http://127.0.0.1:$port$2"
	fi
}

# opsworks_cluster_test NAME NODES [slurm.conf lines...]: the usual start of
# a lifecycle test: a cluster of NODES with the opsworks backend (and the
# others OPSWORKS_BACKENDS names: "opsworks,ssm"), the AWS endpoints,
# slurmctld running, and everything stopped at exit.
opsworks_cluster_test() {
	local name=$1 line
	[ "$(id -u)" = 0 ] || skip_all "needs root (slurmd, namespaces)"
	command -v slurmctld >/dev/null || skip_all "slurmctld not installed"
	CLUSTER_DIR=$(test_dir "$name")
	CLUSTER_NODES=$2
	shift 2
	trap opsworks_cluster_cleanup EXIT
	AWS_ENV_STACK_ID=$(python3 -c 'import uuid; print(uuid.uuid4())')
	cluster_configure "Backends=${OPSWORKS_BACKENDS:-opsworks}" "OpsWorksStackId=$AWS_ENV_STACK_ID" ||
		bail "cannot configure the cluster"
	for line in "$@"; do echo "$line" >>"$CLUSTER_DIR/etc/slurm.conf"; done
	# slurmctld first: policies name the cluster, and ClusterName comes
	# from it (identity.conf does not repeat it).
	cluster_start || bail "cannot start slurmctld"
	aws_env_start || bail "cannot start the AWS endpoints"
}

opsworks_cluster_cleanup() {
	scancel -u root 2>/dev/null
	cluster_stop
	aws_env_stop
	[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$CLUSTER_DIR"
}

# ec2_node_tags NODE: our tags (slurm-identity:*) on NODE's live instance,
# else on its last one, "k=v" sorted.
ec2_node_tags() {
	python3 - "$CLUSTER_DIR" "$1" <<'EOP'
import json, sys, boto3
d, node = sys.argv[1:3]
e = json.load(open(d + "/aws-env.json"))
u = e["users"]["cloud"]
ec2 = boto3.client("ec2", endpoint_url=e["moto_endpoint"], region_name=e["region"],
                   aws_access_key_id=u["key"], aws_secret_access_key=u["secret"])
r = ec2.describe_instances(Filters=[{"Name": "tag:test-cloud:node", "Values": [node]}])
insts = [i for res in r["Reservations"] for i in res["Instances"]]
# The live instance if there is one (LaunchTime has whole seconds only).
live = [i for i in insts if i["State"]["Name"] in ("pending", "running")]
insts = live or insts
insts.sort(key=lambda i: i["LaunchTime"])
tags = {t["Key"]: t["Value"] for t in insts[-1].get("Tags", [])} if insts else {}
print(" ".join("%s=%s" % kv for kv in sorted(tags.items()) if kv[0].startswith("slurm-identity:")))
EOP
}
