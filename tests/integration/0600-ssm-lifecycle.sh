#!/bin/bash
# 0600-ssm-lifecycle.sh: the Session Manager backend on a real
# slurmctld/slurmd. Each launched instance's SSM agent registers with the
# SSM fake (managed-instance calls, held to the SSM model; everything else
# forwarded to moto) a few seconds after boot. Three jobs at once:
#   n[1-2]  EC2 instances: the prolog waits for Online, tags them with
#           node and cluster (EC2 CreateTags); suspend removes the tags;
#   n3      its agent never comes Online: drained with "identity: ssm:";
#   n4      a hybrid (on-premises) node, mi-...: tagged through SSM, and
#           deregistered from SSM on suspend.
# All with IAM enforcement and exactly the printed policies.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (slurmd, namespaces)"
command -v slurmctld >/dev/null || skip_all "slurmctld not installed"
CLUSTER_DIR=$(test_dir ssm)
CLUSTER_NODES=4 CLUSTER_SUSPEND_TIME=5 CLUSTER_SUSPEND_TIMEOUT=8
d=$CLUSTER_DIR
trap opsworks_cluster_cleanup EXIT
AWS_ENV_SSM_FAKE=1
cluster_configure "Backends=ssm" "SsmOnlineTimeout=20" \
	"SsmRegistrationFile=$d/nodes/%n/ssm-registration" \
	"SsmActivationIds=0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5" || bail "cannot configure"
echo "SchedulerParameters=nohold_on_prolog_fail" >>"$d/etc/slurm.conf"
cluster_start || bail "cannot start slurmctld"
aws_env_start || bail "cannot start the AWS endpoints"
export SLURM_IDENTITY_CONF=$d/etc/identity.conf

job_field() { scontrol show job "$1" 2>/dev/null | grep -o "$2=[^ ]*" | head -1 | cut -d= -f2; }
ssm_fake() { curl -sf ${2:+-X POST -H 'Content-Type: application/json' -d "$2"} "$(python3 -c "import json; print(json.load(open('$d/aws-env.json'))['ssm_fake'])")$1"; }
ec2_tags() { ec2_node_tags "$1"; }
managed() { ssm_fake /_fake/managed | python3 -c "
import json, sys
for m in json.load(sys.stdin):
    if m['InstanceId'].startswith('$1'):
        print(m['InstanceId'], m['PingStatus'], ' '.join('%s=%s' % kv for kv in sorted(m['Tags'].items())))"; }

"$top_builddir/slurm-identity" check >"$d/check.out" 2>&1
ok $? "slurm-identity check passes: $(grep '^ok: ssm' "$d/check.out" | sed 's/^ok: //' | paste -sd ';')"
grep -q '^ok: ssm: ec2 DescribeTags allowed (0 instance(s) tagged for cluster' "$d/check.out"
ok $? "check asks EC2 for the tagged instances with the controller's policy (DescribeTags)"

# Someone else's hybrid server, registered with another activation: ids
# and tags that name it are claims the controller must not act on.
victim=mi-0123456789abcdef0
ssm_fake /_fake/agent "{\"InstanceId\": \"$victim\", \"ComputerName\": \"payroll\", \"ActivationId\": \"99999999-8888-4777-8666-555555555555\"}" >/dev/null

touch "$d/hybrid-n4"
# n2's agent is slow: Online 12 s after its prolog first asks (a delay
# from launch would race the node's boot time).
echo look+12 >"$d/agent-delay-n2"
ssm_fake /_fake/silence '{"ComputerNames": ["n3"]}' >/dev/null
t0=$(date +%s)
# Long enough that n1 (whose batch script starts after its own prolog) is
# still up when n2's slow agent comes Online.
a=$(sbatch -N2 -w 'n[1-2]' --parsable -o /dev/null --wrap 'sleep 30')
b=$(sbatch -N1 -w n3 --parsable -o /dev/null --wrap true)
c=$(sbatch -N1 -w n4 --parsable -o /dev/null --wrap 'sleep 25')
wait_for '[ "$(job_field $a JobState)" = RUNNING ] && [ "$(job_field $c JobState)" = RUNNING ]' 120
ok $? "jobs on n[1-2] and hybrid n4 running ($(( $(date +%s) - t0 ))s)" || dump_logs 30
# A job shows RUNNING while the last prologs may still be waiting: look at
# each node's tags once its prolog says it tagged them.
wait_for 'grep -q "n1: ssm: i-[0-9a-f]* Online after .*, tagged" "$d/log/identity.log"' 90
tags1=$(ec2_tags n1)
wait_for 'grep -q "n2: ssm: i-[0-9a-f]* Online after .*, tagged" "$d/log/identity.log"' 90
tags2=$(ec2_tags n2)
[ "$tags1" = "slurm-identity:cluster=sitest slurm-identity:node=n1" ] &&
	[ "$tags2" = "slurm-identity:cluster=sitest slurm-identity:node=n2" ]
ok $? "EC2 instances tagged with node and cluster once Online (n1: $tags1; n2: $tags2)"
# What a node's root or an operator can write into Extra.
scontrol update nodename=n1 extra="identity=ready instance=- ssm=$victim"
waited=$(grep "n2: ssm: i-[0-9a-f]* Online after [0-9.]* s, tagged slurm-identity:node=n2" "$d/log/identity.log" |
	sed 's/.*Online after \([0-9]*\).*/\1/')
[ -n "$waited" ] && [ "$waited" -ge 11 ] && [ "$waited" -le 20 ]
ok $? "the prolog waited for n2's slow agent to come Online (${waited:-?} s)"
managed mi- | grep -v "^$victim " | grep -q " Online slurm-identity:cluster=sitest slurm-identity:node=n4$"
ok $? "hybrid node tagged through SSM AddTagsToResource ($(managed mi-))"
scontrol show node n4 | grep -q "Extra=identity=ready .*ssm=mi-"
ok $? "node record mirrors the managed instance id"
# Drained and power-cycled at once: the reason stays in n3's Comment.
n3_why() { node_comment n3; }
wait_for "n3_why | grep -q '^identity: ssm: '" 120
ok $? "an agent that never comes Online gets the node drained: $(n3_why)" || dump_logs 20
n3_why | grep -q -E 'not Online as an SSM managed instance after ([12][0-9]|3[0-9]) s \(agent ConnectionLost\)'
ok $? "within SsmOnlineTimeout, saying what the agent last reported"
"$top_builddir/slurm-identity" status n3 --json |
	python3 -c 'import json,sys; r = json.load(sys.stdin)[0]; assert (r["reason"] or "").startswith("identity: ssm: "), r'
ok $? "slurm-identity status shows why n3 was cycled"
scancel "$b"

wait_for '[ "$(job_field $a JobState)" = COMPLETED ] && [ "$(job_field $c JobState)" = COMPLETED ]' 60
ok $? "jobs completed"
wait_for '[ "$(node_state n1)" = idle~ ] && [ "$(node_state n2)" = idle~ ] && [ "$(node_state n4)" = idle~ ]' 120
ok $? "nodes powered down"
[ -z "$(ec2_tags n1)" ] && [ -z "$(ec2_tags n2)" ] &&
	grep -q "n1: ssm: tags removed from i-" "$d/log/identity.log" &&
	grep -q "n2: ssm: tags removed from i-" "$d/log/identity.log"
ok $? "tags removed on suspend, by DeleteTags ('$(ec2_tags n1)')"
[ -z "$(managed mi- | grep -v "^$victim ")" ]
ok $? "hybrid node deregistered from SSM (DeregisterManagedInstance)"
grep -q "n4: ssm: managed instance mi-[0-9a-f]* deregistered" "$d/log/identity.log"
ok $? "and the log says so"
managed "$victim" | grep -q "^$victim " && ! grep -q "deregistered.*$victim\|$victim deregistered" "$d/log/identity.log"
ok $? "an id planted in a suspended node's Extra was not acted on ($victim still registered)"
# With the node's own credentials (exactly the printed node policy), tag
# the foreign server as powered-down n4 of this cluster.
python3 - "$d" "$victim" <<'EOP'
import json, sys, boto3
d, victim = sys.argv[1:3]
e = json.load(open(d + "/aws-env.json"))
u = e["users"]["node"]
ssm = boto3.client("ssm", endpoint_url=e["ssm_fake"], region_name=e["region"],
                   aws_access_key_id=u["key"], aws_secret_access_key=u["secret"])
ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=victim,
                         Tags=[{"Key": "slurm-identity:node", "Value": "n4"},
                               {"Key": "slurm-identity:cluster", "Value": "sitest"}])
EOP
ok $? "a node can tag a foreign hybrid server with our tags (the tag is only a claim)"
"$top_builddir/slurm-identity" reconcile >"$d/reconcile.out" 2>&1
grep -q "^reconcile: 0 registrations, 0 leaks" "$d/reconcile.out"
ok $? "reconcile finds nothing left ($(tail -1 "$d/reconcile.out"))"
managed "$victim" | grep -q "^$victim " &&
	grep -q "ssm: $victim is tagged as node n4 of this cluster, but its activation 99999999-8888-4777-8666-555555555555 is not in SsmActivationIds; left alone" "$d/log/identity.log"
ok $? "and leaves the foreign server registered, saying why"
calls=$(ssm_fake /_fake/calls)
echo "# SSM fake calls: $calls"
echo "$calls" | python3 -c 'import json,sys; c=json.load(sys.stdin); assert c.get("DescribeInstanceInformation",0) >= 3 and c.get("DeregisterManagedInstance") == 1, c'
ok $? "the managed-instance calls went to the SSM fake, validated against the SSM model"
python3 -c "
import json; p = json.load(open('$d/aws/node-policy.json'))
acts = {a for s in p['Statement'] for a in s['Action']}
assert {'ssmmessages:OpenDataChannel', 'ec2messages:GetMessages', 'ssm:UpdateInstanceInformation'} <= acts, acts
tag = [s for s in p['Statement'] if s['Sid'] == 'SlurmIdentitySsmTagSelf'][0]
assert tag['Condition']['StringEquals']['aws:ARN'] == '\${ec2:SourceInstanceARN}', tag"
ok $? "the node policy has the managed-instance core actions and may tag only itself"
tap_done
