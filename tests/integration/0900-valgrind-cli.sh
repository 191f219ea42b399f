#!/bin/bash
# 0900-valgrind-cli.sh: no leaks and no memory errors on the CLI paths
# (valgrind --leak-check=full, definite and indirect leaks are errors).
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/moto.sh"

command -v valgrind >/dev/null || skip_all "valgrind not installed"
D=$(test_dir valgrind)
trap 'moto_stop "$D/moto"; [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"' EXIT
cli=$top_builddir/slurm-identity
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret

vg() {
	# vg NAME COMMAND...: run under valgrind; ok when it reports nothing.
	local name=$1; shift
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --log-file="$D/$name.vg" "$@" >"$D/$name.out" 2>&1
	local rc=$? i
	# A hook's worker (forked, so under valgrind too, into the same
	# log) is waited for: VG_STATE names its StateDir.
	if [ -n "${VG_STATE:-}" ]; then
		for i in $(seq 1 600); do
			! ls "$VG_STATE"/queue/*.batch >/dev/null 2>&1 &&
				flock -n "$VG_STATE/queue/.worker.lock" true && break
			sleep 0.2
		done
		[ "$i" -lt 600 ]
		ok $? "$name: its worker finished (under valgrind too)"
	fi
	[ $rc != 99 ] && [ ! -s "$D/$name.vg" ]
	ok $? "valgrind clean: $name (exit $rc)" || sed 's/^/# /' "$D/$name.vg" | head -30
}

printf 'ClusterName=vg\nBackends=opsworks\nOpsWorksStackId=s-1\n' >"$D/identity.conf"
chmod 644 "$D/identity.conf"
printf 'Bogus=1\n' >"$D/bad.conf"
chmod 644 "$D/bad.conf"

vg help "$cli" --help
vg bad-config "$cli" -c "$D/bad.conf" check
vg policy "$cli" -c "$D/identity.conf" policy --role controller --account 123456789012
AWS_ENDPOINT_URL=http://127.0.0.1:9 vg unreachable "$cli" -c "$D/identity.conf" check
moto_start "$D/moto" 1000 || bail "moto did not start"
AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$D/moto/port") \
	vg check-moto "$cli" -c "$D/identity.conf" check
grep -q '^ok: identity arn:aws' "$D/check-moto.out"
ok $? "the checked path really talked to moto"
SLURM_IDENTITY_CONF=$D/bad.conf vg resume-bad-config "$top_builddir/slurm-identity-resume" n1

# The example policies shipped in etc/iam are what `policy` prints.
for role in controller node; do
	SLURM_CONF=/dev/null "$cli" -c "$top_srcdir/etc/iam/example-identity.conf" policy \
		--role $role --account 123456789012 | cmp -s - "$top_srcdir/etc/iam/$role-policy.json"
	ok $? "etc/iam/$role-policy.json is current"
done
SLURM_CONF=/dev/null "$cli" -c "$top_srcdir/etc/iam/example-identity.conf" policy \
	--role directory | cmp -s - "$top_srcdir/etc/iam/directory-delegation.sh"
ok $? "etc/iam/directory-delegation.sh is current"
vg policy-directory "$cli" -c "$top_srcdir/etc/iam/example-identity.conf" policy --role directory

# The ad and ssm paths: policies, and a resume whose AD preparation
# connects (the OpenLDAP library, in the process) to a DC that is not
# there: 127.0.0.9, where no test's DC listens (a Samba DC of another
# test has 127.0.0.1).
printf 'ClusterName=vg\nBackends=ad,ssm\nDomainName=example.test\nDomainPasswordParameter=/vg/pw\nDomainController=127.0.0.1\n' >"$D/adssm.conf"
chmod 644 "$D/adssm.conf"
vg policy-ad-ssm-node "$cli" -c "$D/adssm.conf" policy --role node --account 123456789012
vg policy-ad-ssm-controller "$cli" -c "$D/adssm.conf" policy --role controller --account 123456789012
mkdir -m 700 "$D/state"
printf 'ClusterName=vg\nBackends=ad\nStateDir=%s\nDomainName=example.test\nDomainUser=svc-hpc-join\nDomainPassword=not-a-real-one\nDomainController=127.0.0.9\nLogFile=%s\n' \
	"$D/state" "$D/resume.log" >"$D/ad.conf"
chmod 600 "$D/ad.conf"
SLURM_IDENTITY_CONF=$D/ad.conf AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$D/moto/port") \
	VG_STATE=$D/state vg resume-ad-no-dc "$top_builddir/slurm-identity-resume" n1
grep -q "n1: ad: prepare: ldap [a-z]*: .*Can't contact LDAP server" "$D/resume.log"
ok $? "the resume really ran the AD preparation ($(grep -o 'ad: prepare: .*' "$D/resume.log" | cut -c1-80))"
! grep -q "not-a-real-one" "$D/resume.log" "$D"/*.out
ok $? "the password is in no output"
tap_done
