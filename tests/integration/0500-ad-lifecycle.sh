#!/bin/bash
# 0500-ad-lifecycle.sh: Active Directory computer accounts on a real Samba
# AD DC, driven by a real slurmctld/slurmd with moto IAM enforcement (the
# controller and node users hold exactly what `slurm-identity policy`
# prints). The domain password lives in moto's SSM as a KMS SecureString.
#
# 1. Ten power cycles (5 nodes, twice) through jobs: each node's account
#    exists and its keytab is valid while it runs, and is gone after
#    suspend; the OU ends empty.
# 2. The admin password never shows in any argv or environment (sampled
#    from /proc all along), logs, state or journal; a one-time password
#    works once only.
# 3. DC down during the join, then during resume: the node is drained with
#    an "identity: ad:" reason, and nothing is orphaned once the DC is back
#    and reconcile ran.
# 5. The node's policy cannot read the domain password (moto: AccessDenied).
# 7. An instance that never boots: slurmctld gives up at ResumeTimeout and
#    runs our ResumeFailProgram, which removes the account and join secret
#    that resume made for it.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"
. "$top_srcdir/tests/lib/samba.sh"

CLUSTER_SUSPEND_TIME=5 CLUSTER_SUSPEND_TIMEOUT=8 CLUSTER_RESUME_TIMEOUT=40
P=$(test_dir adspank)
H=$P/home
SAMBA_HOME_BASE=$H
ad_cluster_test adlife 5 SchedulerParameters=nohold_on_prolog_fail \
	"PlugStackConfig=$P/plugstack.conf"
d=$CLUSTER_DIR
sampler=
trap '[ -n "$sampler" ] && kill "$sampler" 2>/dev/null; ad_cluster_cleanup; rm -rf "$P"' EXIT
mkdir -p "$H" "$P/skel" "$P/victim"
chmod 755 "$P" "$H" "$P/victim"
echo 'export FROM_SKEL=1' >"$P/skel/.profile"
plugin=$(cluster_spank_plugin "$P") || bail "copy the plugin"
echo "required $plugin statedir=$d/identity home_base=$H skel=$P/skel wait=2" \
	>"$P/plugstack.conf"
samba_user alice 20001 && samba_user bob 20002 || bail "cannot create directory users"
export SLURM_IDENTITY_CONF=$d/etc/identity.conf
job_field() { scontrol show job "$1" 2>/dev/null | grep -o "$2=[^ ]*" | head -1 | cut -d= -f2; }
all_down() { local n; for n in "$@"; do [ "$(node_state $n)" = idle~ ] || return 1; done; }
# adcli testjoin finds the account by host name: run it as the node.
testjoin() {
	unshare --uts sh -c "hostname $(echo "$1" | tr a-z A-Z) && adcli testjoin \
		--domain=$SAMBA_DOMAIN --domain-controller=127.0.0.1 \
		--host-keytab='$d/nodes/$1/krb5.keytab'" >"$d/testjoin-$1.out" 2>&1 ||
		{ echo "# testjoin $1: $(tail -1 "$d/testjoin-$1.out")"; return 1; }
}

"$top_builddir/slurm-identity" check >"$d/check1.out" 2>&1
ok $? "slurm-identity check passes: $(grep '^ok: ad: ldaps' "$d/check1.out")"
sed 's/^/# /' "$d/check1.out"

# 4. spank_identity.so with directory users, on nodes still up after a
# round: alice (no home yet) gets one; bob's home path is a planted symlink.
as_user() { local u=$1; shift; (cd /tmp && runuser -u "$u" -- env SLURM_CONF="$SLURM_CONF" "$@"); }
spank_directory_users() {
	local a b
	getent passwd 'TEST\alice' >/dev/null
	ok $? "directory user resolves through winbind: $(getent passwd 'TEST\alice')"
	ln -s "$P/victim" "$H/bob"
	a=$(as_user 'TEST\alice' sbatch --parsable -w n1 -o /dev/null --wrap "touch $H/alice/ran")
	b=$(as_user 'TEST\bob' sbatch --parsable -w n2 -o /dev/null --wrap "touch $H/bob/ran")
	wait_for '[ "$(job_field $a JobState)" = COMPLETED ]' 90
	ok $? "a directory user's job ran ($(job_field $a JobState))"
	[ "$(stat -c '%u %a' "$H/alice" 2>&1)" = "20001 700" ] && [ -f "$H/alice/.profile" ] &&
		[ "$(stat -c %u "$H/alice/.profile")" = 20001 ] && [ -f "$H/alice/ran" ]
	ok $? "her home was created from the skeleton, owned by her, mode 0700 ($(stat -c '%u %a' "$H/alice" 2>&1))"
	wait_for '[ "$(job_field $b JobState)" = FAILED ] || [ "$(job_field $b JobState)" = COMPLETED ]' 60
	[ "$(job_field $b JobState)" = FAILED ] && [ ! -e "$P/victim/ran" ] &&
		[ "$(stat -c %U "$P/victim")" = root ]
	ok $? "a planted symlink at a home path is refused, not followed ($(job_field $b JobState))"
}

# The sampler watches every process from here on.
printf '%s\n' "$SAMBA_ADMIN_PASSWORD" "$SAMBA_JOIN_PASSWORD" >"$d/secrets.txt"
chmod 600 "$d/secrets.txt"
python3 "$top_srcdir/tests/lib/proc_sampler.py" "$d/secrets.txt" \
	"$d/sampler.json" "$d/sampler.stop" &
sampler=$!

# 1. Ten power cycles through jobs.
cycles=0
for round in 1 2; do
	t0=$(date +%s)
	job=$(sbatch -N5 -w 'n[1-5]' --parsable --wrap 'sleep 6' -o /dev/null)
	wait_for '[ "$(job_field $job JobState)" = RUNNING ]' 120
	ok $? "round $round: job $job running on 5 powered-up nodes ($(( $(date +%s) - t0 ))s)" ||
		dump_logs 30
	[ "$(samba_computers)" = "N1 N2 N3 N4 N5" ]
	ok $? "round $round: each running node has its computer account ($(samba_computers))"
	if [ "$round" = 1 ]; then
		# The cloud was asked for the instances before any account
		# existed: the resume queued the batch and started the chain
		# first; its worker made the accounts while they booted.
		chain=$(grep -m1 'resume\[.*chain: started .*cloud-resume' "$d/log/identity.log" | cut -c2-24)
		made=$(grep -m1 ': ad: computer N[0-9]*:[0-9a-f]* created$' "$d/log/identity.log" | cut -c2-24)
		[ -n "$chain" ] && [ -n "$made" ] && [[ "$chain" < "$made" ]]
		ok $? "round 1: the cloud's ResumeProgram started ($chain) before the first account was made ($made)"
	fi
	# A job shows RUNNING while the last prologs may still be joining
	# (and a node's keytab of its last life is still on the test's
	# disk): each prolog's join consumes and deletes its secret first.
	t2=$(date +%s)
	wait_for '[ -z "$(join_secrets)" ]' 120
	ok $? "round $round: every one-time join secret was consumed and deleted ($(join_secrets), $(( $(date +%s) - t2 ))s)"
	valid=0 t2=$(date +%s)
	for n in n1 n2 n3 n4 n5; do wait_for "testjoin $n" 15 && valid=$((valid + 1)); done
	[ $valid = 5 ]
	ok $? "round $round: adcli testjoin validates every node's keytab ($valid/5, $(( $(date +%s) - t2 ))s)"
	wait_for '[ "$(job_field $job JobState)" = COMPLETED ]' 60
	ok $? "round $round: job completed"
	[ $round = 2 ] && spank_directory_users
	t1=$(date +%s)
	wait_for 'all_down n1 n2 n3 n4 n5' 120 && wait_for '[ -z "$(samba_computers)" ]' 30
	ok $? "round $round: nodes suspended and their accounts deleted (OU: '$(samba_computers)', $(( $(date +%s) - t1 ))s)"
	cycles=$((cycles + 5))
done
"$top_builddir/slurm-identity" reconcile >"$d/reconcile1.out" 2>&1
grep -q "^reconcile: 0 registrations, 0 leaks" "$d/reconcile1.out" && [ -z "$(samba_computers)" ]
ok $? "after $cycles power cycles the OU holds no stale object ($(tail -1 "$d/reconcile1.out"))"
echo "# join+testjoin per node (ms): $(grep -o 'ad: registered in [0-9]* ms' "$d/log/identity.log" | grep -o '[0-9]*' | tr '\n' ' ')"

# 2. One-time passwords work once. Resume n5 by hand without the cloud
# chain (no instance boots), read its join secret as an attacker with
# Secrets Manager access would, and use it twice.
sed '/^Chain/d' "$d/etc/identity.conf" >"$d/etc/nochain.conf"
SLURM_IDENTITY_CONF=$d/etc/nochain.conf "$top_builddir/slurm-identity-resume" n5
wait_for worker_idle 60
[ "$(samba_computers)" = N5 ] && [ "$(join_secrets)" = slurm-identity/sitest/join/n5 ]
ok $? "the worker resume started created the account and the node's join secret"
otp=$(python3 - "$d" <<'EOP'
import json, sys, boto3
e = json.load(open(sys.argv[1] + "/aws-env.json"))
u = e["users"]["cloud"]
sm = boto3.client("secretsmanager", endpoint_url=e["moto_endpoint"], region_name=e["region"],
                  aws_access_key_id=u["key"], aws_secret_access_key=u["secret"])
v = json.loads(sm.get_secret_value(SecretId="slurm-identity/sitest/join/n5")["SecretString"])
assert v["node"] == "n5" and v["computer"] == "N5" and v["domain"] == "test.domain", v
print(v["otp"])
EOP
)
[ ${#otp} -ge 24 ]
ok $? "the join secret names node, computer and domain, with a ${#otp}-character password"
printf '%s\n' "$otp" >>"$d/secrets.txt"
adjoin() {
	printf '%s' "$otp" | adcli join --domain=$SAMBA_DOMAIN --domain-realm=$SAMBA_REALM \
		--domain-controller=127.0.0.1 --login-type=computer --stdin-password \
		--computer-name=N5 --host-fqdn=n5.test.domain --host-keytab="$d/otp-$1.keytab" 2>&1
}
adjoin first >"$d/join1.out"
ok $? "the one-time password joins once"
adjoin second >"$d/join2.out"
[ $? != 0 ] && grep -q "Preauthentication failed\|authenticate" "$d/join2.out"
ok $? "a second join with it fails: $(head -1 "$d/join2.out")"
SLURM_IDENTITY_CONF=$d/etc/nochain.conf "$top_builddir/slurm-identity-suspend" n5
wait_for worker_idle 60 && [ -z "$(samba_computers)" ] && [ -z "$(join_secrets)" ]
ok $? "suspend hook (its worker) deleted the account and the join secret"

# 3a. DC down during the join: the account and secret are made (the
# resume's worker makes them while the cloud boots the instance), then the
# cloud (its root side, the hypervisor's) takes the DC down before the
# node boots.
sed -i "3a [ -e '$d/stop-dc' ] && { for i in \$(seq 300); do ls '$d/identity/queue/'*.batch >/dev/null 2>&1 || break; sleep 0.2; done; kill \$(cat '$SAMBA_DIR/samba.pid'); rm -f '$d/stop-dc'; sleep 2; }" \
	"$d/bin/cloud-resume-root"
touch "$d/stop-dc"
job=$(sbatch -N1 -w n1 --parsable --wrap 'hostname' -o /dev/null)
# Drained and power-cycled at once (a poll of sinfo -R can miss that):
# the reason is kept in the node's Comment.
wait_for "node_comment n1 | grep -q '^identity: ad: '" 120
ok $? "DC down at join: node drained: $(node_comment n1)" || dump_logs 30
node_comment n1 | grep -q '^identity: ad: register: join N1: adcli join:'
ok $? "the reason names the backend, the step and adcli's error"
"$top_builddir/slurm-identity" status n1 --json |
	python3 -c 'import json,sys; r = json.load(sys.stdin)[0]; assert (r["reason"] or "").startswith("identity: ad: register: join N1: "), r'
ok $? "slurm-identity status shows why the node was cycled, beside its pending removal"
samba_run
ok $? "DC back"
wait_for '[ "$(job_field $job Restarts)" -ge 1 ] 2>/dev/null' 60
ok $? "job requeued (Restarts=$(job_field $job Restarts))"
scontrol update jobid="$job" StartTime=now 2>/dev/null
wait_for '[ "$(job_field $job JobState)" = COMPLETED ]' 150
ok $? "after a power cycle the job ran on a joined node ($(job_field $job JobState))" || dump_logs 30

# 3b. DC down during resume (the hooks by hand, as slurmctld runs them):
# no account can be made; the node's record says why; a suspend then
# cannot look and leaves the node pending; reconcile settles it once the
# DC is back. (Without a join secret the node would be drained exactly as
# in 3a; 0310 shows that path.)
wait_for 'all_down n1 n2 n3 n4 n5' 120
samba_stop
SLURM_IDENTITY_CONF=$d/etc/nochain.conf "$top_builddir/slurm-identity-resume" n4
wait_for worker_idle 120
grep -q "error=ad: prepare: ldap [a-z]*: .*Can't contact LDAP server" "$d/identity/controller/n4"
ok $? "DC down at resume: the node's record says why ($(grep -o 'error=.*' "$d/identity/controller/n4" | cut -c1-90))"
[ -z "$(join_secrets)" ]
ok $? "and no join secret was handed out"
SLURM_IDENTITY_CONF=$d/etc/nochain.conf "$top_builddir/slurm-identity-suspend" n4
wait_for 'grep -q "phase=pending" "$d/identity/controller/n4"' 60
ok $? "suspend with the DC down cannot look, so the node stays pending"
"$top_builddir/slurm-identity" check >"$d/check2.out" 2>"$d/check2.err"
[ $? = 1 ] && grep -q "Can't contact LDAP server" "$d/check2.err" &&
	grep -q '^fix: check DomainController=' "$d/check2.out"
ok $? "check fails on the DC with a remedy: $(cat "$d/check2.err") / $(grep '^fix' "$d/check2.out")"
samba_run
"$top_builddir/slurm-identity" reconcile >"$d/reconcile2.out" 2>&1
sed 's/^/# /' "$d/reconcile2.out"
# (The worker that found the DC down is retrying too: whichever is first.)
wait_for '[ -z "$(samba_computers)" ] && [ -z "$(join_secrets)" ] && [ ! -e "$d/identity/controller/n4" ]' 90
ok $? "once the DC is back and reconcile ran: no orphan account or secret, nothing pending ('$(samba_computers)' '$(join_secrets)')"
# A CA file that cannot be read: the error names the LDAP option that
# failed and the setting behind it.
sed -e '/^LdapTlsReqCert=/d' -e '/^LdapCaFile=/d' "$d/etc/identity.conf" >"$d/etc/badca.conf"
printf '%s\n' "LdapTlsReqCert=demand" "LdapCaFile=$d/no-such-ca.pem" >>"$d/etc/badca.conf"
chmod 644 "$d/etc/badca.conf"
SLURM_IDENTITY_CONF=$d/etc/badca.conf "$top_builddir/slurm-identity" check >"$d/check3.out" 2>"$d/check3.err"
[ $? = 1 ] && grep -q "cannot set the LDAP option LDAP_OPT_X_TLS_NEWCTX (the TLS context: can LdapCaFile be read?)" "$d/check3.err"
ok $? "a CA file that cannot be read is named: $(grep NEWCTX "$d/check3.err" | head -1)" ||
	sed 's/^/# /' "$d/check3.err"

# 2 (end). What the sampler saw, and what the files hold.
touch "$d/sampler.stop"
wait "$sampler"
python3 - "$d/sampler.json" <<'EOP'
import json, sys
r = json.load(open(sys.argv[1]))
print("# sampler: %d samples, helpers seen %s, hits %d, password options %s" % (
    r["samples"], r["helpers_seen"], len(r["hits"]), r["password_options"]))
assert r["helpers_seen"].get("adcli", 0) >= 5 and r["helpers_seen"].get("ldapmodify", 0) >= 5, r
assert not r["hits"] and not r["password_options"], r
EOP
ok $? "no secret in any process's argv or environment, and the sampling saw the helpers run"
python3 - "$d/sampler.json" <<'EOP'
import json, sys
r = json.load(open(sys.argv[1]))
print("# helpers of ours seen: %d, unconfined: %s" % (r["ours_seen"], r["unconfined"][:3]))
assert r["ours_seen"] >= 10 and not r["unconfined"], r["unconfined"][:5]
EOP
ok $? "every helper we started ran from / with LDAPNOINIT (no ldaprc or LDAP* variable read)"
leaks=""
while read -r s; do
	grep -rlF -- "$s" "$d/log" "$d/identity" "$d/state" "$d/spool" "$d/nodes" 2>/dev/null | grep -v '\.keytab$' && leaks=yes
done <"$d/secrets.txt"
[ -z "$leaks" ]
ok $? "neither the admin password nor a one-time password is in any log, journal or state file"

# 6. Our mark is a claim: accounts that carry it but are not exactly the
# ones we make are never reset or deleted. One in CN=Computers (where any
# domain user may create computers) named as n1's account would be; one in
# our OU under another name marked for n2.
samba_add() {
	LDAPTLS_REQCERT=never ldapadd -x -H ldaps://127.0.0.1 -D "Administrator@$SAMBA_REALM" \
		-y <(printf '%s' "$SAMBA_ADMIN_PASSWORD") >/dev/null 2>&1
}
pwd_set() { samba_ldap -b "$1" -s base pwdLastSet 2>/dev/null | sed -n 's/^pwdLastSet: //p'; }
printf '%s\n' "dn: CN=N1,CN=Computers,$SAMBA_BASE_DN" "objectClass: computer" \
	'sAMAccountName: N1$' "description: slurm-identity:sitest node=n1" "" \
	"dn: CN=EVIL,$SAMBA_OU" "objectClass: computer" 'sAMAccountName: EVIL$' \
	"description: slurm-identity:sitest node=n2 life=00000000" | samba_add
ok $? "planted two accounts carrying our mark"
before=$(pwd_set "CN=N1,CN=Computers,$SAMBA_BASE_DN")
"$top_builddir/slurm-identity" reconcile >"$d/reconcile3.out" 2>&1
sed 's/^/# /' "$d/reconcile3.out"
[ "$(samba_computers)" = EVIL ] && grep -q "^reconcile: 0 registrations, 0 leaks" "$d/reconcile3.out"
ok $? "reconcile deletes neither (n2 is powered down; the OU still holds: $(samba_computers))"
grep -q "ad: CN=EVIL,$SAMBA_OU carries our mark for n2 but is not an account we make; left alone" "$d/log/identity.log"
ok $? "and says why it left the one in our OU alone"
SLURM_IDENTITY_CONF=$d/etc/nochain.conf "$top_builddir/slurm-identity-resume" n1
wait_for worker_idle 60
[ "$(pwd_set "CN=N1,CN=Computers,$SAMBA_BASE_DN")" = "$before" ] &&
	grep -q "^error=ad: prepare: " "$d/identity/controller/n1"
ok $? "resume of n1 does not reset the planted N1 outside our OU: $(sed -n 's/^error=//p' "$d/identity/controller/n1")"
SLURM_IDENTITY_CONF=$d/etc/nochain.conf "$top_builddir/slurm-identity-suspend" n1
wait_for worker_idle 60
[ -n "$(samba_ldap -b "CN=N1,CN=Computers,$SAMBA_BASE_DN" -s base dn 2>/dev/null)" ]
ok $? "nor does suspend of n1 delete it"

# 7. ResumeTimeout reaches ResumeFailProgram through slurmctld.
wait_for "all_down n4" 120
touch "$d/cloud/no-boot.n4"
: >"$d/log/identity.log"
job=$(sbatch -N1 -w n4 --parsable --no-requeue --wrap true -o /dev/null)
wait_for "samba_computers | grep -qw N4 && join_secrets | grep -q '/join/n4\$'" 60
ok $? "resume of n4 made its account and join secret ($(samba_computers))"
wait_for "grep -q 'slurm-identity-resume-fail\[[0-9]*\]: n4: deregister: 1 node(s) queued' '$d/log/identity.log'" $((40 + 90))
ok $? "n4 never booted: at ResumeTimeout slurmctld ran our ResumeFailProgram ($(node_state n4), $(sinfo -h -R -n n4 -o '%E'))"
wait_for worker_idle 60 &&
	wait_for "! samba_computers | grep -qw N4 && ! join_secrets | grep -q '/join/n4\$'" 30
ok $? "its account and join secret are gone ($(samba_computers); $(join_secrets))"
grep -q "cloud: terminated n4" "$d/log/cloud.log"
ok $? "and the chained program terminated its instance"
rm -f "$d/cloud/no-boot.n4"
scancel "$job" 2>/dev/null

# 5. The node role cannot read the domain password.
python3 - "$d" <<'EOP'
import json, sys, boto3, botocore
e = json.load(open(sys.argv[1] + "/aws-env.json"))
def ssm(who):
    u = e["users"][who]
    return boto3.client("ssm", endpoint_url=e["moto_endpoint"], region_name=e["region"],
                        aws_access_key_id=u["key"], aws_secret_access_key=u["secret"])
name = "/sitest/ad/password"
assert ssm("controller").get_parameters(Names=[name], WithDecryption=True)["Parameters"]
for call in (lambda c: c.get_parameters(Names=[name], WithDecryption=True),
             lambda c: c.get_parameter(Name=name, WithDecryption=True),
             lambda c: c.get_parameters_by_path(Path="/sitest", Recursive=True, WithDecryption=True)):
    try:
        call(ssm("node"))
    except botocore.exceptions.ClientError as err:
        # moto answers JSON services with an XML error body.
        assert "AccessDenied" in str(err), err
    else:
        raise SystemExit("node read the password")
EOP
ok $? "node credentials get AccessDenied on the password parameter; the controller's do not"
! grep -q '"ssm:' "$d/aws/node-policy.json" && grep -q 'secretsmanager:GetSecretValue' "$d/aws/node-policy.json"
ok $? "the node policy has no SSM action at all, only its join secrets"
tap_done
