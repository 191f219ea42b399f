#!/bin/bash
# 0170-iam-conditions.sh: the policies `slurm-identity policy` prints,
# evaluated with their resources and conditions by an IAM evaluator we did
# not write (@cloud-copilot/iam-simulate, through tests/iam/evaluate.mjs):
# every call the product makes is allowed with the context AWS sends, and
# each foreign resource (another stack, cluster, parameter, key, a
# sibling's managed instance, the domain password by any path) is denied.
# moto, which runs the flows under the same policies (0300, 0500, 0600),
# ignores conditions and most resources; this test is where they count.
set -u
. "$top_srcdir/tests/lib/tap.sh"

sim_dir=${SI_IAM_SIMULATE_DIR:-/var/cache/slurm-identity/iam-simulate}
missing=""
command -v node >/dev/null || missing="node is not installed"
[ -n "$missing" ] || [ -f "$sim_dir/node_modules/@cloud-copilot/iam-simulate/package.json" ] ||
	missing="@cloud-copilot/iam-simulate is not in $sim_dir (tests/install-deps.sh installs it)"
if [ -n "$missing" ]; then
	# CI must not pass without the evaluator.
	[ "${CI:-}" = true ] && bail "$missing"
	skip_all "$missing"
fi

D=$(test_dir iam)
trap '[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"' EXIT

account=123456789012
region=us-east-1
cluster=hpc1
stack=2f18b4cb-4de5-4429-a149-ff7da9f0d8ee
password_key=1234abcd-12ab-34cd-56ef-1234567890ab
secret_key=5678abcd-12ab-34cd-56ef-1234567890cd
cat >"$D/identity.conf" <<EOF
ClusterName=$cluster
Region=$region
Backends=opsworks,ad,ssm
OpsWorksStackId=$stack
DomainNameParameter=/hpc/ad/domain
DomainPasswordParameter=/hpc/ad/join-password
DomainPasswordKmsKeyId=$password_key
JoinSecretKmsKeyId=$secret_key
EOF
chmod 644 "$D/identity.conf"

for role in controller node; do
	SLURM_CONF=/dev/null AWS_EC2_METADATA_DISABLED=true \
		"$top_builddir/slurm-identity" -c "$D/identity.conf" policy \
		--role $role --account $account >"$D/$role.json" 2>"$D/$role.err"
	ok $? "policy --role $role prints a policy" || sed 's/^/# /' "$D/$role.err"
	python3 -m json.tool "$D/$role.json" >/dev/null
	ok $? "the $role policy is valid JSON"
done

# The same with each join secret bound to its instance.
sed 's/^JoinSecretKmsKeyId=.*/&\nJoinSecretBinding=nodeaddr/' "$D/identity.conf" >"$D/bound.conf"
SLURM_CONF=/dev/null AWS_EC2_METADATA_DISABLED=true \
	"$top_builddir/slurm-identity" -c "$D/bound.conf" policy \
	--role node --account $account >"$D/bound.json" 2>"$D/bound.err"
ok $? "policy --role node with JoinSecretBinding=nodeaddr" || sed 's/^/# /' "$D/bound.err"

# Another policy attached beside the node's (ReadOnlyAccess, say): the
# explicit Deny on the domain password must hold against it.
cat >"$D/broad-read.json" <<'EOF'
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
 "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory",
  "ssm:GetParametersByPath", "ssm:AddTagsToResource", "kms:Decrypt"],
 "Resource": "*"}]}
EOF

arn=arn:aws
stack_arn=$arn:opsworks:$region:$account:stack/$stack/
other_stack=$arn:opsworks:$region:$account:stack/0bd2e8b4-7b3c-4f0e-8a36-2a5a2a6f1c11/
param=$arn:ssm:$region:$account:parameter
secret=$arn:secretsmanager:$region:$account:secret
key=$arn:kms:$region:$account:key
instance=$arn:ec2:$region:$account:instance
managed=$arn:ssm:$region:$account:managed-instance
controller=$arn:sts::$account:assumed-role/slurm-identity-controller/i-0c0c0c0c0c0c0c0c0
node_i=i-0123456789abcdef0
node=$arn:sts::$account:assumed-role/slurm-identity-node/$node_i
node_mi=mi-0123456789abcdef0
sibling_mi=mi-0fedcba9876543210
hybrid=$arn:sts::$account:assumed-role/slurm-identity-node/$node_mi

: >"$D/cases"
c() {
	# c EXPECT POLICIES PRINCIPAL ACTION RESOURCE CONTEXT DESCRIPTION
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$D/cases"
}
via() { printf '{"kms:ViaService": "%s.%s.amazonaws.com", "kms:CallerAccount": "%s"}' "$1" "$region" "$account"; }
our_tags='"aws:TagKeys": ["slurm-identity:node", "slurm-identity:cluster"], "aws:RequestTag/slurm-identity:node": "n1", "aws:RequestTag/slurm-identity:cluster": "'$cluster'"'
src_i='"ec2:SourceInstanceARN": "'$instance/$node_i'"'
src_mi='"ssm:SourceInstanceARN": "'$managed/$node_mi'"'

# The controller: OpsWorks on its stack only.
for a in DescribeInstances DeregisterInstance DescribeStacks; do
	c Allowed controller "$controller" opsworks:$a "$stack_arn" '{}' "controller: opsworks:$a on the configured stack"
	c Denied controller "$controller" opsworks:$a "$other_stack" '{}' "controller: opsworks:$a on another stack"
done
c Allowed controller "$controller" ec2:DescribeInstances '*' '{}' "controller: ec2:DescribeInstances (no resource-level permissions)"
# AD: exactly the two parameters, their key only through SSM.
c Allowed controller "$controller" ssm:GetParameters "$param/hpc/ad/domain" '{}' "controller: ssm:GetParameters on DomainNameParameter"
c Allowed controller "$controller" ssm:GetParameters "$param/hpc/ad/join-password" '{}' "controller: ssm:GetParameters on DomainPasswordParameter"
c Denied controller "$controller" ssm:GetParameters "$param/hpc/ad/other" '{}' "controller: ssm:GetParameters on a parameter outside the two named"
c Denied controller "$controller" ssm:GetParameter "$param/hpc/ad/join-password" '{}' "controller: ssm:GetParameter (not what it calls) on the password"
c Denied controller "$controller" ssm:GetParametersByPath "$param/hpc/ad" '{"ssm:Recursive": "true"}' "controller: ssm:GetParametersByPath /hpc/ad"
c Allowed controller "$controller" kms:Decrypt "$key/$password_key" "$(via ssm)" "controller: kms:Decrypt of the password key via SSM"
c Denied controller "$controller" kms:Decrypt "$key/$password_key" "{\"kms:CallerAccount\": \"$account\"}" "controller: kms:Decrypt of the password key not via SSM"
c Denied controller "$controller" kms:Decrypt "$key/$password_key" "$(via s3)" "controller: kms:Decrypt of the password key via S3"
c Denied controller "$controller" kms:Decrypt "$key/0000abcd-12ab-34cd-56ef-1234567890ef" "$(via ssm)" "controller: kms:Decrypt of another key via SSM"
for a in CreateSecret PutSecretValue TagResource DeleteSecret; do
	c Allowed controller "$controller" secretsmanager:$a "$secret:slurm-identity/$cluster/join/n1-AbCdEf" '{}' "controller: secretsmanager:$a on a join secret of this cluster"
done
c Denied controller "$controller" secretsmanager:CreateSecret "$secret:slurm-identity/other/join/n1-AbCdEf" '{}' "controller: secretsmanager:CreateSecret on another cluster's join path"
c Denied controller "$controller" secretsmanager:PutSecretValue "$secret:slurm-identity/$cluster/admin-AbCdEf" '{}' "controller: secretsmanager:PutSecretValue outside the join path"
c Denied controller "$controller" secretsmanager:GetSecretValue "$secret:slurm-identity/$cluster/join/n1-AbCdEf" '{}' "controller: secretsmanager:GetSecretValue (the node's, not the controller's)"
for a in GenerateDataKey Decrypt; do
	c Allowed controller "$controller" kms:$a "$key/$secret_key" "$(via secretsmanager)" "controller: kms:$a of the join-secret key via Secrets Manager"
	c Denied controller "$controller" kms:$a "$key/$secret_key" "$(via ssm)" "controller: kms:$a of the join-secret key via SSM"
done
# SSM: find, untag our two keys only, deregister this cluster's hybrids.
c Allowed controller "$controller" ssm:DescribeInstanceInformation '*' '{}' "controller: ssm:DescribeInstanceInformation"
c Allowed controller "$controller" ec2:DescribeTags '*' '{}' "controller: ec2:DescribeTags (no resource-level permissions)"
c Allowed controller "$controller" ec2:DeleteTags "$instance/$node_i" '{"aws:TagKeys": ["slurm-identity:node", "slurm-identity:cluster"]}' "controller: ec2:DeleteTags of our two keys"
c Denied controller "$controller" ec2:DeleteTags "$instance/$node_i" '{"aws:TagKeys": ["slurm-identity:node", "Name"]}' "controller: ec2:DeleteTags of another key"
c Allowed controller "$controller" ssm:ListTagsForResource "$managed/$node_mi" '{}' "controller: ssm:ListTagsForResource on a managed instance"
c Allowed controller "$controller" ssm:DeregisterManagedInstance "$managed/$node_mi" "{\"ssm:resourceTag/slurm-identity:cluster\": \"$cluster\"}" "controller: ssm:DeregisterManagedInstance of this cluster's node"
c Denied controller "$controller" ssm:DeregisterManagedInstance "$managed/$sibling_mi" '{"ssm:resourceTag/slurm-identity:cluster": "other"}' "controller: ssm:DeregisterManagedInstance of another cluster's node"
c Denied controller "$controller" ssm:DeregisterManagedInstance "$managed/$sibling_mi" '{}' "controller: ssm:DeregisterManagedInstance of an untagged node"
c Denied controller "$controller" ssm:AddTagsToResource "$managed/$node_mi" "{$our_tags}" "controller: ssm:AddTagsToResource (tags are the node's to set)"

# The node: register in its stack, read and delete its join secret.
c Allowed node "$node" opsworks:RegisterInstance "$stack_arn" "{$src_i}" "node: opsworks:RegisterInstance in the configured stack"
c Denied node "$node" opsworks:RegisterInstance "$other_stack" "{$src_i}" "node: opsworks:RegisterInstance in another stack"
c Denied node "$node" opsworks:DeregisterInstance "$stack_arn" "{$src_i}" "node: opsworks:DeregisterInstance (node credentials cannot remove identities)"
for a in GetSecretValue DeleteSecret; do
	c Allowed node "$node" secretsmanager:$a "$secret:slurm-identity/$cluster/join/n1-AbCdEf" "{$src_i}" "node: secretsmanager:$a on a join secret of this cluster"
done
c Denied node "$node" secretsmanager:GetSecretValue "$secret:slurm-identity/other/join/n1-AbCdEf" "{$src_i}" "node: secretsmanager:GetSecretValue on another cluster's join secret"
c Denied node "$node" secretsmanager:GetSecretValue "$secret:slurm-identity/$cluster/admin-AbCdEf" "{$src_i}" "node: secretsmanager:GetSecretValue outside the join path"
c Denied node "$node" secretsmanager:CreateSecret "$secret:slurm-identity/$cluster/join/n2-AbCdEf" "{$src_i}" "node: secretsmanager:CreateSecret (the controller's)"
c Allowed node "$node" kms:Decrypt "$key/$secret_key" "$(via secretsmanager)" "node: kms:Decrypt of the join-secret key via Secrets Manager"
c Denied node "$node" kms:Decrypt "$key/$secret_key" "{\"kms:CallerAccount\": \"$account\"}" "node: kms:Decrypt of the join-secret key not via Secrets Manager"
c Denied node "$node" kms:Decrypt "$key/$password_key" "$(via ssm)" "node: kms:Decrypt of the password key via SSM"
c Denied node "$node" kms:GenerateDataKey "$key/$secret_key" "$(via secretsmanager)" "node: kms:GenerateDataKey (the controller's)"
# Bound join secrets (JoinSecretBinding): only the one tagged with the
# instance the credentials come from.
bound_to() { printf '"aws:ResourceTag/slurm-identity:instance": "%s"' "$1"; }
for a in GetSecretValue DeleteSecret; do
	c Allowed bound "$node" secretsmanager:$a "$secret:slurm-identity/$cluster/join/n1-AbCdEf" "{$src_i, $(bound_to "$instance/$node_i")}" "bound node: secretsmanager:$a on the join secret bound to its instance"
	c Denied bound "$node" secretsmanager:$a "$secret:slurm-identity/$cluster/join/n2-AbCdEf" "{$src_i, $(bound_to "$instance/i-0fedcba9876543210")}" "bound node: secretsmanager:$a on a sibling's bound join secret"
done
c Denied bound "$node" secretsmanager:GetSecretValue "$secret:slurm-identity/$cluster/join/n2-AbCdEf" "{$src_i}" "bound node: secretsmanager:GetSecretValue on a join secret not bound yet"
c Denied bound "$node" secretsmanager:GetSecretValue "$secret:slurm-identity/$cluster/join/n1-AbCdEf" "{$src_i, $(bound_to none)}" "bound node: secretsmanager:GetSecretValue on a join secret unbound for its next life"
# SSM: the agent's core calls, the Online wait, its own tags.
c Allowed node "$node" ssm:UpdateInstanceInformation "$instance/$node_i" "{$src_i}" "node: ssm:UpdateInstanceInformation (agent core)"
c Allowed node "$node" ssmmessages:CreateControlChannel '*' "{$src_i}" "node: ssmmessages:CreateControlChannel (agent core)"
c Allowed node "$node" ec2messages:GetMessages '*' "{$src_i}" "node: ec2messages:GetMessages (agent core)"
c Allowed node "$node" ssm:DescribeInstanceInformation '*' "{$src_i}" "node: ssm:DescribeInstanceInformation (the Online wait)"
c Denied node "$node" ec2:CreateTags "$instance/i-0fedcba9876543210" "{$src_i, $our_tags}" "node: ec2:CreateTags on a sibling instance"
c Denied node "$node" ec2:DeleteTags "$instance/$node_i" "{$src_i, \"aws:TagKeys\": [\"slurm-identity:node\"]}" "node: ec2:DeleteTags (the controller's)"
c Allowed node "$hybrid" ssm:AddTagsToResource "$managed/$node_mi" "{$src_mi, $our_tags}" "hybrid node: ssm:AddTagsToResource on its own, still untagged, managed instance"
c Allowed node "$hybrid" ssm:AddTagsToResource "$managed/$node_mi" "{$src_mi, $our_tags, \"aws:ResourceTag/slurm-identity:node\": \"n1\", \"aws:ResourceTag/slurm-identity:cluster\": \"$cluster\"}" "hybrid node: ssm:AddTagsToResource again with the same values (a retried registration)"
c Denied node "$hybrid" ssm:AddTagsToResource "$managed/$sibling_mi" "{$src_mi, $our_tags, \"aws:ResourceTag/slurm-identity:node\": \"n2\", \"aws:ResourceTag/slurm-identity:cluster\": \"$cluster\"}" "hybrid node: ssm:AddTagsToResource re-tagging a sibling's managed instance"
c Denied node "$hybrid" ssm:AddTagsToResource "$managed/$sibling_mi" "{$src_mi, $our_tags, \"aws:ResourceTag/slurm-identity:node\": \"n1\", \"aws:ResourceTag/slurm-identity:cluster\": \"other\"}" "hybrid node: ssm:AddTagsToResource moving another cluster's managed instance into ours"
c Denied node "$hybrid" ssm:AddTagsToResource "$managed/$node_mi" "{$src_mi, \"aws:TagKeys\": [\"Name\"], \"aws:RequestTag/Name\": \"x\"}" "hybrid node: ssm:AddTagsToResource with a key not ours"
c Denied node "$hybrid" ssm:AddTagsToResource "$param/hpc/ad/domain" "{$src_mi, $our_tags}" "hybrid node: ssm:AddTagsToResource on a parameter"
c Denied node "$hybrid" ssm:DeregisterManagedInstance "$managed/$sibling_mi" "{$src_mi, \"ssm:resourceTag/slurm-identity:cluster\": \"$cluster\"}" "hybrid node: ssm:DeregisterManagedInstance of a sibling"
# The domain password, by every read, through any enclosing path, even
# with a broad read policy attached beside the node's.
for a in GetParameter GetParameters GetParameterHistory; do
	c ExplicitlyDenied node,broad "$node" ssm:$a "$param/hpc/ad/join-password" "{$src_i}" "node (+ broad read policy): ssm:$a on the domain password"
done
for p in /hpc/ad /hpc/ad/ /hpc /hpc/ /; do
	# "/" is "parameter/", an ARN the simulator has no format for.
	expect=ExplicitlyDenied
	[ "$p" = / ] && expect=ExplicitlyDenied!
	for r in true false; do
		c $expect node,broad "$node" ssm:GetParametersByPath "$param${p}" "{$src_i, \"ssm:Recursive\": \"$r\"}" "node (+ broad read policy): ssm:GetParametersByPath $p (Recursive=$r)"
	done
done
c Allowed node "$node" ssm:GetParameter "$param/hpc/ad/domain" "{$src_i}" "node: ssm:GetParameter of another parameter (AmazonSSMManagedInstanceCore does)"
c Denied node "$node" ssm:PutParameter "$param/hpc/ad/join-password" "{$src_i}" "node: ssm:PutParameter on the domain password"

start=$(date +%s.%N)
node "$top_srcdir/tests/iam/evaluate.mjs" --dir "$sim_dir" --account $account \
	--policy controller="$D/controller.json" --policy node="$D/node.json" \
	--policy broad="$D/broad-read.json" --policy bound="$D/bound.json" \
	--wildcards controller,node <"$D/cases" >"$D/verdicts" 2>"$D/evaluate.err"
rc=$?
end=$(date +%s.%N)
[ $rc -le 1 ] && [ "$(grep -c -E '^(PASS|FAIL)' "$D/verdicts")" = "$(grep -c . "$D/cases")" ]
ok $? "the evaluator judged all $(grep -c . "$D/cases") cases (exit $rc, $(echo "$end - $start" | bc) s)" ||
	sed 's/^/# /' "$D/evaluate.err"
while IFS="$(printf '\t')" read -r verdict got desc why; do
	case $verdict in
	PASS) ok 0 "$desc: $got ($why)" ;;
	FAIL) ok 1 "$desc: $got ($why)" ;;
	WILD)
		# The agent's core set is AWS's managed policy, as AWS words it.
		case $got in node:SlurmIdentitySessionManagerCore) continue ;; esac
		ok 1 "statement $got has Resource \"*\" though $desc can be scoped" ;;
	esac
done <"$D/verdicts"

# What the evaluator cannot decide: aws:ARN (undocumented) is unknown to
# it, so the node tagging its own EC2 instance is stated, not proven.
echo "ok $((TAP_N += 1)) - node: ec2:CreateTags on its own instance (aws:ARN = \${ec2:SourceInstanceARN}) # SKIP the evaluator does not know aws:ARN"

tap_done
