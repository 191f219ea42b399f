# backends.sh: the three backends' endpoints, for tests that drive the
# controller's programs directly against a cloud-only slurmctld (0700,
# 0710). OpsWorks is the strict fake, SSM is moto with the SSM fake in
# front (managed-instance calls), and, where a Samba AD DC can run, AD with
# the domain password in moto's SSM as a KMS SecureString (as 0500 has it).
# No IAM here: signatures and policies are other tests'.
#
# Needs D (the test's directory, with D/etc and D/log), py, top_srcdir and
# top_builddir; sources moto.sh and samba.sh itself.
#
#   backends_start NAME   starts the endpoints for cluster NAME; sets
#                         `backends` (opsworks ssm [ad]; BACKENDS in the
#                         environment picks a subset; the DC is started
#                         only for ad),
#                         `ow` (the OpsWorks fake's URL), appends to `pids`
#                         and exports the AWS_* variables.
#   backends_stop         stops what backends_start started (by pid).
#   backends_conf BACKEND [LINE...]
#                         writes D/etc/identity-BACKEND.conf (StateDir
#                         D/identity-BACKEND, SlurmUser's: the hooks run as
#                         root act as SlurmUser; LogFile D/log/identity-BACKEND.log,
#                         MaxConcurrency BK_CONCURRENCY, default 2; AD's
#                         DomainController BK_DC, default 127.0.0.1;
#                         DomainUser BK_USER, default the delegated
#                         SAMBA_JOIN_USER, its password in the SSM parameter
#                         BK_PASSWORD_PARAMETER) plus
#                         LINEs, and
#                         exports SLURM_IDENTITY_CONF and SLURM_CONF.
#   backends_plant BACKEND [N]
#                         registers n1-nN, default n1-n21 (OpsWorks: calls
#                         answered in 150 ms from then on; AD: the
#                         controller's own slurm-identity-resume makes the
#                         accounts).
#   opsworks_register FIRST LAST
#                         registers n[FIRST-LAST] in the OpsWorks fake's
#                         stack as they are, with no reset or latency.
#   backends_nodes BACKEND
#                         the registered nodes, sorted, on one line (AD:
#                         nodes with an account or a join secret left).
#   opsworks_fake METHOD PATH [JSON]
#                         the OpsWorks fake's control API.
. "$top_srcdir/tests/lib/moto.sh"
. "$top_srcdir/tests/lib/samba.sh"

backends_start() {
	local name=${1:?backends_start NAME}

	bk_name=$name
	echo '{"AKIDBK": {"secret": "bk", "policy": null}}' >"$D/creds.json"
	/usr/bin/python3 "$top_srcdir/tests/fakes/fake_opsworks.py" --bind 127.0.0.1 --port 0 \
		--port-file "$D/opsworks.port" --credentials "$D/creds.json" \
		--stack "s-$name:$name" 2>"$D/log/opsworks.err" &
	pids="${pids:-} $!"
	moto_start "$D/moto" 100000000 >/dev/null || return 1
	pids="$pids $(cat "$D/moto/pid")"
	/usr/bin/python3 "$top_srcdir/tests/fakes/fake_ssm.py" --upstream "$(cat "$D/moto/endpoint")" \
		--credentials "$D/creds.json" --port-file "$D/ssm.port" 2>"$D/log/ssm.err" &
	pids="$pids $!"
	wait_for "[ -s '$D/opsworks.port' ] && [ -s '$D/ssm.port' ]" 20 || return 1
	ow=http://127.0.0.1:$(cat "$D/opsworks.port")
	export AWS_ENDPOINT_URL_OPSWORKS=$ow AWS_ENDPOINT_URL_EC2=$(cat "$D/moto/endpoint") \
		AWS_ENDPOINT_URL_SSM=http://127.0.0.1:$(cat "$D/ssm.port") AWS_REGION=us-east-1 \
		AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
		AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID=AKIDBK \
		AWS_SECRET_ACCESS_KEY=bk
	export AWS_ENDPOINT_URL=$(cat "$D/moto/endpoint")	# Secrets Manager, KMS
	backends=${BACKENDS:-opsworks ssm ad}
	case " $backends " in
	*" ad "*) backends=$(echo " $backends " | sed 's/ ad / /; s/^ *//; s/ *$//') ;;
	*) return 0 ;;
	esac
	if command -v samba >/dev/null &&
		command -v adcli >/dev/null && command -v ldapsearch >/dev/null &&
		[ -d /usr/share/samba/setup ] && samba_ports_free; then
		samba_start "$D/dc" || return 1
		"$py" - "$SAMBA_DOMAIN" "$name" 3<<<"$SAMBA_JOIN_PASSWORD" <<'EOP' || return 1
import boto3, os, sys
domain, name = sys.argv[1], sys.argv[2]
kms = boto3.client("kms", region_name="us-east-1")
key = kms.create_key()["KeyMetadata"]["KeyId"]
kms.create_alias(AliasName="alias/%s-ad" % name, TargetKeyId=key)
ssm = boto3.client("ssm", region_name="us-east-1")
ssm.put_parameter(Name="/%s/ad/domain" % name, Type="String", Value=domain)
ssm.put_parameter(Name="/%s/ad/password" % name, Type="SecureString",
                  KeyId="alias/%s-ad" % name, Value=os.fdopen(3).readline().rstrip("\n"))
EOP
		backends="$backends ad"
	else
		echo "# no Samba AD DC here: backends $backends"
	fi
}

backends_stop() {
	samba_stop
}

opsworks_fake() {
	curl -sf -X "$1" ${3:+-H 'Content-Type: application/json' -d "$3"} "$ow$2"
}

backends_conf() {
	local backend=${1:?backends_conf BACKEND} extra

	shift
	case $backend in
	opsworks) extra="OpsWorksStackId=s-$bk_name" ;;
	ssm) extra="SsmOnlineTimeout=20" ;;
	ad) extra="DomainNameParameter=/$bk_name/ad/domain
DomainPasswordParameter=${BK_PASSWORD_PARAMETER:-/$bk_name/ad/password}
DomainUser=${BK_USER:-$SAMBA_JOIN_USER}
DomainController=${BK_DC:-127.0.0.1}
ComputerOU=$SAMBA_OU
LdapTlsReqCert=never" ;;
	esac
	# SlurmUser's, as slurmctld's hooks need it: the hooks this test
	# runs as root act as SlurmUser.
	install -d -m 0700 -o "$CLUSTER_SLURM_USER" "$D/identity-$backend" &&
		touch "$D/log/identity-$backend.log" &&
		chown "$CLUSTER_SLURM_USER" "$D/log/identity-$backend.log" || return 1
	printf '%s\n' "Backends=$backend" "$extra" "StateDir=$D/identity-$backend" \
		"LogFile=$D/log/identity-$backend.log" "MaxConcurrency=${BK_CONCURRENCY:-2}" "RequestTimeout=10" \
		"$@" >"$D/etc/identity-$backend.conf"
	export SLURM_CONF=$D/etc/slurm.conf SLURM_IDENTITY_CONF=$D/etc/identity-$backend.conf
}

backends_plant() {
	local n=${2:-21}

	case $1 in
	ad)
		"$top_builddir/slurm-identity-resume" "n[1-$n]" >"$D/plant.out" 2>&1 ||
			echo "# plant: $(tail -1 "$D/plant.out")"
		# The resume queued them: its worker makes the accounts.
		wait_for "worker_idle '$D/identity-ad'" 120 ||
			echo "# plant: the worker did not finish"
		;;
	opsworks)
		opsworks_fake POST /_fake/reset >/dev/null
		opsworks_fake POST /_fake/faults '{"latency_ms": 150}' >/dev/null
		opsworks_register 1 "$n"
		;;
	ssm)
		"$py" - "$bk_name" "$n" <<'EOP'
import boto3, os, sys
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL_EC2"], region_name="us-east-1")
old = [i["InstanceId"] for p in ec2.get_paginator("describe_instances").paginate(
           Filters=[{"Name": "instance-state-name", "Values": ["running"]}], MaxResults=1000)
       for r in p["Reservations"] for i in r["Instances"]]
for i in range(0, len(old), 1000):
    ec2.terminate_instances(InstanceIds=old[i:i + 1000])
n = int(sys.argv[2])
ids = []
while len(ids) < n:	# 500 a call: moto takes minutes over 10,000 in one
    k = min(500, n - len(ids))
    ids += [i["InstanceId"] for i in
            ec2.run_instances(ImageId="ami-12345678", MinCount=k, MaxCount=k)["Instances"]]
for node, iid in enumerate(ids, 1):
    ec2.create_tags(Resources=[iid], Tags=[{"Key": "slurm-identity:node", "Value": "n%d" % node}])
for i in range(0, n, 1000):	# the same value on all: 1,000 a call
    ec2.create_tags(Resources=ids[i:i + 1000],
                    Tags=[{"Key": "slurm-identity:cluster", "Value": sys.argv[1]}])
EOP
		;;
	esac
}

opsworks_register() {
	"$py" - "$ow" "$bk_name" "$1" "$2" <<'EOP'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); c = http.client.HTTPConnection(u.hostname, u.port)
for i in range(int(sys.argv[3]), int(sys.argv[4]) + 1):
    c.request("POST", "/_fake/register", json.dumps({"StackId": "s-" + sys.argv[2],
              "Hostname": "n%d" % i, "Ec2InstanceId": "i-%017x" % i}),
              {"Content-Type": "application/json"})
    c.getresponse().read()
EOP
}

backends_nodes() {
	case $1 in
	opsworks)
		opsworks_fake GET /_fake/registry |
			"$py" -c 'import json,sys; print(" ".join(sorted(i["Hostname"] for i in json.load(sys.stdin))))'
		;;
	ssm)
		"$py" - "$bk_name" <<'EOP'
import boto3, os, sys
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL_EC2"], region_name="us-east-1")
# By DescribeTags, as the product lists: moto matches a tag filter of
# DescribeInstances by scanning every tag for every instance.
def tagged(key):
    return {t["ResourceId"]: t["Value"] for p in ec2.get_paginator("describe_tags").paginate(
                Filters=[{"Name": "resource-type", "Values": ["instance"]},
                         {"Name": "key", "Values": [key]}], MaxResults=1000) for t in p["Tags"]}
ours = [i for i, v in tagged("slurm-identity:cluster").items() if v == sys.argv[1]]
node = tagged("slurm-identity:node")
running = set()
for k in range(0, len(ours), 1000):
    for r in ec2.describe_instances(InstanceIds=ours[k:k + 1000])["Reservations"]:
        running.update(i["InstanceId"] for i in r["Instances"] if i["State"]["Name"] == "running")
print(" ".join(sorted(node[i] for i in running if i in node)))
EOP
		;;
	ad)
		{
			samba_computers | tr ' A-Z' '\na-z'
			echo
			"$py" - "$bk_name" <<'EOP'
import boto3, sys
sm = boto3.client("secretsmanager", region_name="us-east-1")
prefix = "slurm-identity/%s/join/" % sys.argv[1]
for page in sm.get_paginator("list_secrets").paginate():
    for s in page["SecretList"]:
        if s["Name"].startswith(prefix):
            print(s["Name"].rsplit("/", 1)[1])
EOP
		} | grep . | sort -u | tr '\n' ' ' | sed 's/ $//'
		;;
	esac
}
