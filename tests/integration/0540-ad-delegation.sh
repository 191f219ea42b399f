#!/bin/bash
# 0540-ad-delegation.sh: Active Directory with least privilege, as AWS
# Managed Microsoft AD forces it (no domain admin; rights delegated over an
# OU). A real Samba AD DC; the controller binds as svc-hpc-join, which holds
# exactly what `slurm-identity policy --role directory` prints, applied by
# running that output (tests/lib/samba.sh). A real slurmctld holds CLOUD
# nodes; the hooks run as root and act as SlurmUser.
#  - check asks the DC, without writing, what the account may do; it warns
#    when DomainUser is a domain admin; it names the right an account lacks;
#  - resume makes the accounts and suspend removes them as that account,
#    which cannot make a computer outside the OU;
#  - an account of ours the delegated account may not delete (Administrator
#    denied it): refused, said plainly, left alone, pending until gone;
#  - full control of the OU subtree (AWS Managed AD's delegated admin):
#    the same lifecycle;
#  - an account without the delegation: resume's creation and suspend's
#    removal are refused by the DC, loudly (the right named in the log and
#    in status), the node stays pending, and once the rights are granted
#    (the printed script, for that account) the worker's retry removes it.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/backends.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (slurmctld)"
command -v slurmctld >/dev/null || skip_all "slurmctld not installed"
command -v samba >/dev/null && command -v adcli >/dev/null || skip_all "no Samba AD DC here"
CLUSTER_DIR=$(test_dir addeleg)
D=$CLUSTER_DIR
pids=""
cleanup() {
	local p
	for p in $pids; do kill "$p" 2>/dev/null; done
	backends_stop
	cluster_stop
	[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"
}
trap cleanup EXIT
py=$(python3 -c 'import sys; print(sys.executable)')
munge_ensure || bail "munge"
cluster_configure_cloud_only addeleg 4 || bail "cannot configure"
cluster_start || bail "cannot start slurmctld"
BACKENDS=ad backends_start addeleg || bail "cannot start the endpoints"
case " $backends " in *" ad "*) ;; *) bail "no DC: $backends" ;; esac
log=$D/log/identity-ad.log
q=$D/identity-ad/queue
# st ARGS...: samba-tool against the test's DC, as Administrator.
st() { samba-tool "$@" -H ldap://127.0.0.1 -U Administrator --password="$SAMBA_ADMIN_PASSWORD"; }
sid_of() { st user show "$1" --attributes=objectSid 2>/dev/null | sed -n 's/^objectSid: //p'; }
# dir_user NAME: a directory user NAME with no rights of its own, its
# password (also in $pw) in the SSM parameter /addeleg/ad/NAME-password,
# where the controller reads its DomainUser's.
dir_user() {
	pw="Pw-$(openssl rand -hex 10)!"
	st user create "$1" "$pw" >/dev/null 2>&1 &&
		"$py" - "$1" "$pw" <<'EOP'
import boto3, sys
boto3.client("ssm", region_name="us-east-1").put_parameter(
    Name="/addeleg/ad/%s-password" % sys.argv[1], Type="SecureString",
    KeyId="alias/addeleg-ad", Value=sys.argv[2])
EOP
}

grep -q '^samba-tool dsacl set --objectdn="$ou" --sddl="(OA;CI;CCDC;bf967a86-0de6-11d0-a285-00aa003049e2;;$sid)"$' \
	"$SAMBA_DIR/delegation.sh" && [ "$(grep -c '^samba-tool dsacl set ' "$SAMBA_DIR/delegation.sh")" = 5 ]
ok $? "the DC's $SAMBA_JOIN_USER holds what policy --role directory printed: $(grep -c '^samba-tool dsacl set ' "$SAMBA_DIR/delegation.sh") ACEs, applied as printed"

# check, as the delegated account: allowed to create, no admin warning.
backends_conf ad DebugLevel=verbose
"$top_builddir/slurm-identity" check >"$D/check1.out" 2>&1
grep -q "^ok: ad: $SAMBA_JOIN_USER may create computer objects in $SAMBA_OU$" "$D/check1.out" &&
	! grep -q "domain admin" "$D/check1.out" && ! grep -q '^slurm-identity: check: ad: ' "$D/check1.out"
ok $? "check: $SAMBA_JOIN_USER may create computer objects in the OU, is no domain admin" ||
	sed 's/^/# /' "$D/check1.out"

# check as the domain's Administrator: it works, and is warned about.
printf '%s\n' "ClusterName=addeleg" "Backends=ad" "DomainName=$SAMBA_DOMAIN" \
	"DomainUser=Administrator" "DomainPassword=$SAMBA_ADMIN_PASSWORD" \
	"DomainController=127.0.0.1" "ComputerOU=$SAMBA_OU" "LdapTlsReqCert=never" \
	"StateDir=$D/identity-ad" >"$D/etc/admin.conf"
chmod 600 "$D/etc/admin.conf"
"$top_builddir/slurm-identity" -c "$D/etc/admin.conf" check >"$D/check-admin.out" 2>&1
grep -q "^slurm-identity: check: warning: ad: DomainUser Administrator is a domain admin (" "$D/check-admin.out"
ok $? "check warns when DomainUser is a domain admin ($(grep -o 'is a domain admin ([^)]*)' "$D/check-admin.out"))"
! grep -q -F "$SAMBA_ADMIN_PASSWORD" "$D/check-admin.out" "$log"
ok $? "and prints its password nowhere"

# No DomainUser at all: refused, with the way out, not Administrator.
sed '/^DomainUser=/d' "$SLURM_IDENTITY_CONF" >"$D/etc/nouser.conf"
"$top_builddir/slurm-identity" -c "$D/etc/nouser.conf" check >"$D/check-nouser.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "^slurm-identity: check: ad: DomainUser= is not set: .*policy --role directory" "$D/check-nouser.out"
ok $? "no DomainUser: check fails and says what to set (exit $rc)" || sed 's/^/# /' "$D/check-nouser.out"

# The lifecycle, bound as the delegated account.
"$top_builddir/slurm-identity-resume" 'n[1-3]' >"$D/resume.out" 2>&1
wait_for "worker_idle '$D/identity-ad'" 60
[ "$(samba_computers)" = "N1 N2 N3" ] && grep -q "ad: bound to ldaps://127.0.0.1 as $SAMBA_JOIN_USER@" "$log"
ok $? "resume as $SAMBA_JOIN_USER made the accounts ($(samba_computers))" ||
	grep -E 'error|bound' "$log" | tail -5 | sed 's/^/# /'
"$top_builddir/slurm-identity" check >"$D/check2.out" 2>&1
grep -q "^ok: ad: $SAMBA_JOIN_USER may write what the controller writes on its accounts" "$D/check2.out"
ok $? "check: on its accounts it may write what the controller writes (the DC's allowedAttributesEffective)" ||
	grep ad: "$D/check2.out" | sed 's/^/# /'
# A new life for n1: the reset path (Reset Password, our mark).
"$top_builddir/slurm-identity-resume" n1 >/dev/null 2>&1
wait_for "worker_idle '$D/identity-ad'" 60
grep -q 'n1: ad: computer N1:[0-9a-f]* reset for a new instance$' "$log"
ok $? "resume of n1 again reset its account as $SAMBA_JOIN_USER"
# The delegation is scoped: nothing outside the OU.
printf 'dn: CN=OUTSIDE,CN=Computers,%s\nchangetype: add\nobjectClass: computer\nsAMAccountName: OUTSIDE$\nuserAccountControl: 4096\n\n' \
	"$SAMBA_BASE_DN" >"$D/outside.ldif"
LDAPTLS_REQCERT=never ldapmodify -x -H ldaps://127.0.0.1 -D "$SAMBA_JOIN_USER@$SAMBA_REALM" \
	-y <(printf '%s' "$SAMBA_JOIN_PASSWORD") -f "$D/outside.ldif" >"$D/outside.out" 2>&1
rc=$?
[ "$rc" = 50 ] && [ -z "$(samba_ldap -b "CN=OUTSIDE,CN=Computers,$SAMBA_BASE_DN" -s base dn 2>/dev/null)" ]
ok $? "$SAMBA_JOIN_USER cannot make a computer outside the OU (ldapmodify exit $rc: $(grep -o 'Insufficient access' "$D/outside.out" | head -1))"
"$top_builddir/slurm-identity-suspend" 'n[1-3]' >/dev/null 2>&1
wait_for "worker_idle '$D/identity-ad' && [ -z \"\$(samba_computers)\" ]" 60
ok $? "suspend as $SAMBA_JOIN_USER removed the accounts (left: $(samba_computers))"

# A computer object the delegated account may not delete: ours by name,
# place and mark, but Administrator denied that account delete and tree
# delete on it. The removal is refused, said plainly, the account left
# alone and nothing else harmed; once Administrator deletes it, the
# worker's retry finds it gone.
"$top_builddir/slurm-identity-resume" 'n[2-3]' >/dev/null 2>&1
wait_for "worker_idle '$D/identity-ad' && [ \"\$(samba_computers)\" = 'N2 N3' ]" 60
st dsacl set --objectdn="CN=N2,$SAMBA_OU" --sddl="(D;;SDDT;;;$(sid_of "$SAMBA_JOIN_USER"))" >/dev/null 2>&1
ok $? "Administrator denies $SAMBA_JOIN_USER the deletion of N2"
: >"$log"
"$top_builddir/slurm-identity-suspend" 'n[2-3]' >/dev/null 2>&1
wait_for "grep -q '$SAMBA_JOIN_USER may not delete CN=N2,$SAMBA_OU' '$log' && [ \"\$(samba_computers)\" = N2 ]" 60
ok $? "its removal is refused and said so ($(grep -o "$SAMBA_JOIN_USER may not delete CN=N2[^;]*" "$log" | head -1 | cut -c1-90)); N3 removed"
wait_for "grep -qx 'phase=pending' '$D/identity-ad/controller/n2'" 30
ok $? "n2 stays pending, N2 left alone"
LDAPTLS_REQCERT=never ldapdelete -x -H ldaps://127.0.0.1 -D "Administrator@$SAMBA_REALM" \
	-y <(printf '%s' "$SAMBA_ADMIN_PASSWORD") "CN=N2,$SAMBA_OU" >/dev/null 2>&1
wait_for "worker_idle '$D/identity-ad' && ! grep -qx 'phase=pending' '$D/identity-ad/controller/n2'" 120
ok $? "Administrator deleted it: the worker's retry found it gone, n2 settled"

# Full control of the OU subtree, as AWS Managed Microsoft AD's delegated
# admin holds over its OU: the same lifecycle works bound as that.
dir_user svc-ou-admin && full_pw=$pw &&
	st dsacl set --objectdn="$SAMBA_OU" --sddl="(A;CI;GA;;;$(sid_of svc-ou-admin))" >/dev/null 2>&1
ok $? "svc-ou-admin: full control of the OU subtree, nothing outside"
BK_USER=svc-ou-admin BK_PASSWORD_PARAMETER=/addeleg/ad/svc-ou-admin-password backends_conf ad DebugLevel=verbose
"$top_builddir/slurm-identity-resume" 'n[1-2]' >/dev/null 2>&1
wait_for "worker_idle '$D/identity-ad' && [ \"\$(samba_computers)\" = 'N1 N2' ]" 60 &&
	"$top_builddir/slurm-identity-resume" n1 >/dev/null 2>&1 &&
	wait_for "worker_idle '$D/identity-ad'" 60 &&
	grep -q 'n1: ad: computer N1:[0-9a-f]* reset for a new instance$' "$log"
ok $? "as svc-ou-admin: accounts made and one reset ($(samba_computers))"
"$top_builddir/slurm-identity-suspend" 'n[1-2]' >/dev/null 2>&1
wait_for "worker_idle '$D/identity-ad' && [ -z \"\$(samba_computers)\" ]" 60
ok $? "as svc-ou-admin: and removed (left: $(samba_computers))"
"$top_builddir/slurm-identity" check >"$D/check-full.out" 2>&1
grep -q "^ok: ad: svc-ou-admin may create computer objects in $SAMBA_OU$" "$D/check-full.out" &&
	! grep -q "domain admin" "$D/check-full.out"
ok $? "check: svc-ou-admin may create there, and is no domain admin"

# An account without the delegation.
dir_user svc-none && none_pw=$pw
ok $? "svc-none: a directory user with no rights over the OU"
# n4's account exists (made as the delegated account); then the
# controller binds as svc-none.
"$top_builddir/slurm-identity-resume" n4 >/dev/null 2>&1
wait_for "worker_idle '$D/identity-ad' && [ \"\$(samba_computers)\" = N4 ]" 60
BK_USER=svc-none BK_PASSWORD_PARAMETER=/addeleg/ad/svc-none-password backends_conf ad DebugLevel=verbose
"$top_builddir/slurm-identity" check >"$D/check-none.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "^slurm-identity: check: ad: svc-none may not create computer objects in $SAMBA_OU (the DC's allowedChildClassesEffective lacks computer)" "$D/check-none.out" &&
	grep -q "^slurm-identity: check: ad: svc-none may not write description on CN=N4,$SAMBA_OU: it needs to write description" "$D/check-none.out"
ok $? "check names what svc-none lacks, without writing (exit $rc)" || grep ad: "$D/check-none.out" | sed 's/^/# /'
# Creation refused: the node's record names the right.
"$top_builddir/slurm-identity-resume" n2 >/dev/null 2>&1
wait_for "worker_idle '$D/identity-ad'" 60
grep -q "^error=ad: prepare: .*svc-none may not create or reset accounts in $SAMBA_OU: needs Create Computer objects" "$D/identity-ad/controller/n2"
ok $? "resume as svc-none: refused, the record names the right ($(sed -n 's/^error=//p' "$D/identity-ad/controller/n2" | cut -c1-100))"
# Removal refused: loud, pending, retried.
: >"$log"
"$top_builddir/slurm-identity-suspend" n4 >/dev/null 2>&1
wait_for "grep -q 'svc-none may not delete CN=N4,$SAMBA_OU: needs Delete and Delete Subtree' '$log'" 60
ok $? "suspend as svc-none: the DC refuses, the log names the right ($(grep -o 'ldap delete: [^:]*' "$log" | head -1))"
wait_for "grep -qx 'phase=pending' '$D/identity-ad/controller/n4'" 30 && [ "$(samba_computers)" = N4 ]
ok $? "n4 stays pending, its account kept for the retry"
"$top_builddir/slurm-identity" status n4 >"$D/status.out" 2>&1
grep -q "svc-none may not delete CN=N4" "$D/status.out"
ok $? "status shows the refusal ($(grep -o 'svc-none may not .*' "$D/status.out" | cut -c1-100))"
# Granted: the worker's next try (it retries for half an hour) removes it.
sed -i 's/^DomainUser=.*/DomainUser=svc-none/' "$SAMBA_DIR/delegate.conf"
SLURM_CONF=/dev/null "$top_builddir/slurm-identity" -c "$SAMBA_DIR/delegate.conf" \
	policy --role directory >"$D/delegate-none.sh" 2>&1 &&
	PATH=$SAMBA_DIR/bin:$PATH sh "$D/delegate-none.sh" >"$D/delegate-none.out" 2>&1
ok $? "the printed delegation granted to svc-none"
wait_for "worker_idle '$D/identity-ad' && [ -z \"\$(samba_computers)\" ]" 120
ok $? "once granted, the worker's retry removed n4's account (left: $(samba_computers))" ||
	tail -5 "$log" | sed 's/^/# /'
! grep -qx 'phase=pending' "$D/identity-ad/controller/n4" 2>/dev/null
ok $? "and n4 is no longer pending"
! grep -q -F -e "$SAMBA_JOIN_PASSWORD" -e "$none_pw" -e "$full_pw" "$log" "$D"/*.out
ok $? "no password of the directory accounts in the log or any output"

# A join secret Secrets Manager does not delete (no answer): the account is
# gone, the node stays pending naming the secret, and the worker's retry
# deletes it once Secrets Manager answers again.
BK_USER=svc-ou-admin BK_PASSWORD_PARAMETER=/addeleg/ad/svc-ou-admin-password backends_conf ad DebugLevel=verbose
"$top_builddir/slurm-identity-resume" n3 >/dev/null 2>&1
wait_for "worker_idle '$D/identity-ad' && [ \"\$(samba_computers)\" = N3 ]" 60
sed -i -e 's/^RequestTimeout=.*/RequestTimeout=2/' "$D/etc/identity-ad.conf"
echo "MaxAttempts=1" >>"$D/etc/identity-ad.conf"
: >"$D/gate"
/usr/bin/python3 "$top_srcdir/tests/lib/gate_proxy.py" --listen 127.0.0.1:0 \
	--upstream "$(echo "$AWS_ENDPOINT_URL" | sed 's|^http://||; s|/.*||')" \
	--gate "$D/gate" --held "$D/held" --port-file "$D/proxy.port" 2>>"$D/log/proxy.err" &
pids="$pids $!"
wait_for "[ -s '$D/proxy.port' ]" 20
: >"$log"
AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$(cat "$D/proxy.port") \
	"$top_builddir/slurm-identity-suspend" n3 >/dev/null 2>&1
wait_for "grep -q 'n3: ad: deregister N3:[0-9a-f]* failed: account deleted, join secret slurm-identity/addeleg/join/n3 not: ' '$log'" 60 &&
	wait_for "grep -qx 'phase=pending' '$D/identity-ad/controller/n3'" 30 && [ -z "$(samba_computers)" ]
ok $? "DeleteSecret unanswered: the account is gone, n3 stays pending naming its secret ($(grep -o 'join secret [^ ]* not: .*' "$log" | head -1 | cut -c1-90))"
rm -f "$D/gate"
wait_for "worker_idle '$D/identity-ad' && ! grep -qx 'phase=pending' '$D/identity-ad/controller/n3' 2>/dev/null" 120
ok $? "Secrets Manager answers again: the worker's retry deleted the secret, n3 no longer pending"
"$py" - <<'EOP'
import boto3, sys
sm = boto3.client("secretsmanager", region_name="us-east-1")
names = [s["Name"] for p in sm.get_paginator("list_secrets").paginate() for s in p["SecretList"]]
sys.exit(1 if "slurm-identity/addeleg/join/n3" in names else 0)
EOP
ok $? "n3's join secret is gone from Secrets Manager"

# Join secrets bound to their instances (JoinSecretBinding=tag:KEY, the
# tag the cloud's launcher sets): n3's one instance gets its secret tagged
# with its ARN, so the node policy's condition lets only that instance read
# it (0170 evaluates that condition); n2, claimed by two instances, stays
# unbound and the log says so.
rm -f "$D/gate"
BK_USER=svc-ou-admin BK_PASSWORD_PARAMETER=/addeleg/ad/svc-ou-admin-password \
	backends_conf ad DebugLevel=verbose JoinSecretBinding=tag:test:node
read -r i3 i2a i2b <<<"$("$py" - <<'EOP'
import boto3, os
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL_EC2"], region_name="us-east-1")
def run(node):
    i = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[i], Tags=[{"Key": "test:node", "Value": node}])
    return i
print(run("n3"), run("n2"), run("n2"))
EOP
)"
scontrol update nodename=n2,n3 state=power_up
wait_for '[ "$(node_state n3)" = "idle#" ] && [ "$(node_state n2)" = "idle#" ]' 30
: >"$log"
"$top_builddir/slurm-identity-resume" 'n[2-3]' >/dev/null 2>&1
wait_for "grep -q 'n3: ad: join secret bound to $i3' '$log'" 60
ok $? "n3's join secret bound to its one instance ($i3)" || tail -5 "$log" | sed 's/^/# /'
tags() {
	"$py" - "$1" <<'EOP'
import boto3, sys
sm = boto3.client("secretsmanager", region_name="us-east-1")
t = {x["Key"]: x["Value"] for x in sm.describe_secret(SecretId=sys.argv[1]).get("Tags", [])}
print(t.get("slurm-identity:instance", "-"))
EOP
}
[ "$(tags slurm-identity/addeleg/join/n3)" = "arn:aws:ec2:us-east-1:123456789012:instance/$i3" ]
ok $? "its tag names that instance's ARN ($(tags slurm-identity/addeleg/join/n3))"
wait_for "grep -q 'n2: 2 instances match tag:test:node=n2' '$log'" 30 &&
	[ "$(tags slurm-identity/addeleg/join/n2)" = - ]
ok $? "n2, claimed by two instances, stays unbound, said in the log ($(grep -o 'n2: 2 instances match [^(]*' "$log" | head -1))"
# A resume again: the secret is unbound before its new value is written,
# then bound again.
: >"$log"
"$top_builddir/slurm-identity-resume" n3 >/dev/null 2>&1
wait_for "grep -q 'n3: ad: join secret bound to $i3' '$log'" 60 &&
	[ "$(grep -o 'secretsmanager \(TagResource\|PutSecretValue\) ok' "$log" | awk '{print $2}' | tr '\n' ' ')" = "TagResource PutSecretValue TagResource " ]
ok $? "a new life of n3: its secret unbound, then given its new value, then bound again ($(grep -o 'secretsmanager \(TagResource\|PutSecretValue\) ok' "$log" | awk '{print $2}' | tr '\n' ' '))"
"$top_builddir/slurm-identity" check >"$D/check-bound.out" 2>&1
grep -q "^ok: ad: join secrets bound to their instances (JoinSecretBinding=tag:test:node)" "$D/check-bound.out"
ok $? "check says the secrets are bound"
scontrol update nodename=n2,n3 state=power_down_force
tap_done
