#!/bin/bash
# 0125-check-warnings.sh: `slurm-identity check` warns, plainly and
# without failing for it, when the domain password's TLS connection is
# not verified (LdapTlsReqCert=never or allow) or trusts every public CA
# (LdapCaFile the system bundle, the default), or when join secrets are
# readable by every node (JoinSecretBinding=none, the default); and says
# nothing of the kind for a domain CA with demand and bound secrets.
set -u
. "$top_srcdir/tests/lib/tap.sh"

D=$(test_dir checkwarn)
trap '[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"' EXIT
cli=$top_builddir/slurm-identity
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_REGION=us-east-1
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
: >"$D/domain-ca.pem"

# run_check LINE...: check with an AD configuration plus LINEs; stderr in
# $D/err.
run_check() {
	{
		echo "ClusterName=warn"
		echo "Backends=ad"
		echo "DomainName=corp.example"
		echo "DomainUser=Administrator"
		echo "DomainPasswordParameter=/warn/password"
		echo "StateDir=$D/state"
		for line in "$@"; do echo "$line"; done
	} >"$D/identity.conf"
	chmod 644 "$D/identity.conf"
	"$cli" -c "$D/identity.conf" check >"$D/out" 2>"$D/err"
}

never="slurm-identity: check: warning: LdapTlsReqCert=never: TLS verification is off: the domain controller's certificate is not checked, and whoever answers on its address gets DomainUser's password; use demand with LdapCaFile= the domain's CA"
bundle="slurm-identity: check: warning: LdapCaFile=/etc/ssl/certs/ca-certificates.crt is the whole system CA bundle: any public CA can vouch for the domain controller; set LdapCaFile= to the domain's own CA"

run_check "LdapTlsReqCert=never" "LdapCaFile=$D/domain-ca.pem" "JoinSecretBinding=nodeaddr"
grep -qxF "$never" "$D/err"
ok $? "LdapTlsReqCert=never is a warning ($(head -1 "$D/err"))"
# The check goes on past the warning (no credentials here: that fails).
grep -q "^slurm-identity: check: credentials:" "$D/err" &&
	[ "$(grep -c "warning:" "$D/err")" = 1 ]
ok $? "a warning is not the failure that ends the check"

run_check
grep -qxF "$bundle" "$D/err"
ok $? "the default LdapCaFile (the system bundle) is a warning"
grep -q "LdapTlsReqCert" "$D/err"
ok $((!$?)) "the default LdapTlsReqCert=demand is not"

binding="slurm-identity: check: warning: JoinSecretBinding=none: every node of the cluster may read a sibling's join secret while it exists; JoinSecretBinding=nodeaddr (NodeAddr is the instance's private IP, as ParallelCluster sets it) or tag:KEY binds each to its instance"
grep -qxF "$binding" "$D/err"
ok $? "join secrets not bound to their instances (the default) is a warning"

run_check "LdapTlsReqCert=demand" "LdapCaFile=$D/domain-ca.pem" "JoinSecretBinding=tag:launcher:node"
grep -q "warning:" "$D/err"
ok $((!$?)) "a domain CA with demand: no warning ($(cat "$D/err" | tr '\n' ' '))"

run_check "Backends=" "LdapTlsReqCert=never"
grep -q "warning:" "$D/err"
ok $((!$?)) "no AD backend: no LDAP warning"

tap_done
