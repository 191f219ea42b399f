# samba.sh: a throwaway Active Directory domain (a real Samba AD DC) on
# loopback, for the AD tests. See ../shared/AD.md for the recipe.
#
# samba_start DIR: provision TEST.DOMAIN in DIR (directory users' homes
# under SAMBA_HOME_BASE) and start the DC; sets
# SAMBA_DIR, SAMBA_REALM, SAMBA_DOMAIN, SAMBA_BASE_DN, SAMBA_ADMIN_PASSWORD
# and creates OU=SlurmNodes. samba_stop / samba_restart stop and start it
# again (the DC-down scenarios). Only the DC this test started is stopped.
#
# The controller binds as SAMBA_JOIN_USER (password SAMBA_JOIN_PASSWORD),
# not as Administrator: a user holding only the rights over the OU that
# `slurm-identity policy --role directory` prints, granted by running
# exactly what it prints (samba_delegate).

SAMBA_REALM=TEST.DOMAIN
SAMBA_DOMAIN=test.domain
SAMBA_BASE_DN=DC=test,DC=domain
SAMBA_OU="OU=SlurmNodes,$SAMBA_BASE_DN"
SAMBA_JOIN_USER=svc-hpc-join

samba_ports_free() {
	! ss -Hltn '( sport = :88 or sport = :389 or sport = :636 )' | grep -q .
}

samba_run() {
	samba -s "$SAMBA_DIR/etc/smb.conf" -i >>"$SAMBA_DIR/samba.log" 2>&1 </dev/null &
	echo $! >"$SAMBA_DIR/samba.pid"
	wait_for "ss -Hltn 'sport = :636' | grep -q . && ss -Hltn 'sport = :88' | grep -q ." 40 ||
		{ echo "# samba did not come up"; tail -5 "$SAMBA_DIR/samba.log" | sed 's/^/# /'; return 1; }
	# The KDC and LDAP answer a moment after they listen.
	wait_for "samba_ldap -b '$SAMBA_BASE_DN' -s base dn >/dev/null 2>&1" 30
}

samba_start() {
	SAMBA_DIR=$1
	command -v samba >/dev/null && [ -d /usr/share/samba/setup ] ||
		{ echo "# samba AD DC packages missing"; return 1; }
	samba_ports_free || { echo "# ports 88/389/636 are taken"; return 1; }
	SAMBA_ADMIN_PASSWORD="Adm1n-$(openssl rand -hex 12)!"
	mkdir -p "$SAMBA_DIR"
	# Test-only: a throwaway domain's password on samba-tool's command line.
	samba-tool domain provision --realm=$SAMBA_REALM --domain=TEST \
		--server-role=dc --dns-backend=SAMBA_INTERNAL \
		--adminpass="$SAMBA_ADMIN_PASSWORD" --use-rfc2307 \
		--targetdir="$SAMBA_DIR" --option='interfaces=lo' \
		--option='bind interfaces only=yes' \
		--option="template homedir=${SAMBA_HOME_BASE:-/home}/%U" \
		--option='template shell=/bin/sh' >"$SAMBA_DIR/provision.log" 2>&1 ||
		{ tail -5 "$SAMBA_DIR/provision.log" | sed 's/^/# /'; return 1; }
	samba_run || return 1
	samba-tool ou create "$SAMBA_OU" -H ldap://127.0.0.1 -U Administrator \
		--password="$SAMBA_ADMIN_PASSWORD" >/dev/null 2>&1 &&
		samba_delegate "$SAMBA_JOIN_USER"
}

# samba_delegate USER: a directory user USER (SAMBA_JOIN_PASSWORD) with the
# delegation `slurm-identity policy --role directory` prints for it over
# the OU, applied by running that output as it is (samba-tool here is the
# DC's, reached over LDAP as Administrator: the test's DC is not this
# machine's own sam.ldb).
samba_delegate() {
	local user=$1 bin=$SAMBA_DIR/bin
	SAMBA_JOIN_PASSWORD="J0in-$(openssl rand -hex 12)!"
	samba-tool user create "$user" "$SAMBA_JOIN_PASSWORD" -H ldap://127.0.0.1 \
		-U Administrator --password="$SAMBA_ADMIN_PASSWORD" >/dev/null 2>&1 ||
		{ echo "# cannot create $user"; return 1; }
	mkdir -p "$bin" "$SAMBA_DIR/delegate" && chmod 700 "$SAMBA_DIR/delegate"
	printf '%s' "$SAMBA_ADMIN_PASSWORD" >"$SAMBA_DIR/admin.pw" && chmod 600 "$SAMBA_DIR/admin.pw"
	cat >"$bin/samba-tool" <<EOS
#!/bin/sh
exec $(command -v samba-tool) "\$@" -H ldap://127.0.0.1 -U Administrator --password="\$(cat '$SAMBA_DIR/admin.pw')"
EOS
	chmod 755 "$bin/samba-tool"
	printf '%s\n' "ClusterName=delegate" "Backends=ad" "DomainName=$SAMBA_DOMAIN" \
		"DomainUser=$user" "DomainPasswordParameter=/delegate/password" \
		"ComputerOU=$SAMBA_OU" "StateDir=$SAMBA_DIR/delegate" >"$SAMBA_DIR/delegate.conf"
	SLURM_CONF=/dev/null "$top_builddir/slurm-identity" -c "$SAMBA_DIR/delegate.conf" \
		policy --role directory >"$SAMBA_DIR/delegation.sh" 2>"$SAMBA_DIR/delegation.err" ||
		{ echo "# policy --role directory: $(cat "$SAMBA_DIR/delegation.err")"; return 1; }
	PATH=$bin:$PATH sh "$SAMBA_DIR/delegation.sh" >"$SAMBA_DIR/delegation.out" 2>&1 ||
		{ echo "# the printed delegation failed:"; tail -3 "$SAMBA_DIR/delegation.out" | sed 's/^/# /'; return 1; }
}

# samba_user NAME UID: a directory user (RFC 2307 uid/gid). Through the
# DC's winbindd (libnss-winbind) it resolves as TEST\NAME on this machine,
# with home SAMBA_HOME_BASE/NAME.
samba_user() {
	samba-tool user create "$1" "Us3r-$(openssl rand -hex 8)!" --uid-number="$2" \
		--gid-number=100 -H ldap://127.0.0.1 -U Administrator \
		--password="$SAMBA_ADMIN_PASSWORD" >/dev/null 2>&1
}

# samba_ldap ARGS...: ldapsearch as Administrator over LDAPS.
samba_ldap() {
	LDAPTLS_REQCERT=never ldapsearch -LLL -o ldif-wrap=no -x \
		-H ldaps://127.0.0.1 -D "Administrator@$SAMBA_REALM" \
		-y <(printf '%s' "$SAMBA_ADMIN_PASSWORD") "$@"
}

# Computer accounts in our OU, sorted names (paged: Samba answers an
# unpaged search with at most 1,000 entries).
samba_computers() {
	samba_ldap -E pr=1000/noprompt -b "$SAMBA_OU" '(objectClass=computer)' sAMAccountName 2>/dev/null |
		sed -n 's/^sAMAccountName: \(.*\)\$$/\1/p' | sort | tr '\n' ' ' | sed 's/ $//'
}

samba_stop() {
	local pid
	[ -n "${SAMBA_DIR:-}" ] && [ -f "$SAMBA_DIR/samba.pid" ] || return 0
	pid=$(cat "$SAMBA_DIR/samba.pid")
	kill "$pid" 2>/dev/null
	wait_for "! kill -0 $pid 2>/dev/null" 20 || kill -9 "$pid" 2>/dev/null
	wait_for samba_ports_free 20
	rm -f "$SAMBA_DIR/samba.pid"
}

samba_restart() {
	samba_stop
	samba_run
}

# ad_aws_env: the domain name and password as SSM parameters in moto (the
# password a SecureString under a KMS key), for aws_env_start.
ad_aws_env() {
	AWS_ENV_KMS_KEYS='[{"alias": "alias/sitest-ad"}]'
	AWS_ENV_PARAMETERS=$(python3 -c 'import json,sys; print(json.dumps([
	  {"name": "/sitest/ad/domain", "type": "String", "value": sys.argv[1]},
	  {"name": "/sitest/ad/password", "type": "SecureString", "value": sys.argv[2],
	   "key": "alias/sitest-ad"}]))' "$SAMBA_DOMAIN" "$SAMBA_JOIN_PASSWORD")
}

# ad_identity_conf: identity.conf lines for this domain (no spaces inside).
ad_identity_conf() {
	printf '%s\n' "DomainNameParameter=/sitest/ad/domain" \
		"DomainPasswordParameter=/sitest/ad/password" \
		"DomainUser=$SAMBA_JOIN_USER" "DomainController=127.0.0.1" "ComputerOU=$SAMBA_OU" \
		"LdapTlsReqCert=never" "HostKeytab=$CLUSTER_DIR/nodes/%n/krb5.keytab"
}

# The join secrets of cluster sitest that exist now, by name.
join_secrets() {
	python3 - "$CLUSTER_DIR" <<'EOP'
import json, sys, boto3
e = json.load(open(sys.argv[1] + "/aws-env.json"))
u = e["users"]["cloud"]
sm = boto3.client("secretsmanager", endpoint_url=e["moto_endpoint"], region_name=e["region"],
                  aws_access_key_id=u["key"], aws_secret_access_key=u["secret"])
names = [s["Name"] for s in sm.list_secrets()["SecretList"]]
print(" ".join(sorted(n for n in names if n.startswith("slurm-identity/sitest/join/"))))
EOP
}

# ad_cluster_test NAME NODES [slurm.conf lines...]: a cluster with the
# ad backend: the DC, the domain name and password in moto's SSM (the
# password a SecureString under a KMS key), slurmctld running, and
# everything this test started stopped at exit.
ad_cluster_test() {
	local name=$1 line
	[ "$(id -u)" = 0 ] || skip_all "needs root (slurmd, namespaces, samba)"
	command -v slurmctld >/dev/null || skip_all "slurmctld not installed"
	command -v adcli >/dev/null && command -v ldapmodify >/dev/null ||
		skip_all "adcli or ldap-utils not installed"
	CLUSTER_DIR=$(test_dir "$name")
	CLUSTER_NODES=$2
	shift 2
	trap ad_cluster_cleanup EXIT
	samba_start "$CLUSTER_DIR/dc" || bail "cannot start the Samba AD DC"
	ad_aws_env
	# shellcheck disable=SC2046
	cluster_configure "Backends=ad" $(ad_identity_conf) ||
		bail "cannot configure the cluster"
	for line in "$@"; do echo "$line" >>"$CLUSTER_DIR/etc/slurm.conf"; done
	# slurmctld first: policies name the cluster, and ClusterName comes
	# from it (identity.conf does not repeat it).
	cluster_start || bail "cannot start slurmctld"
	aws_env_start || bail "cannot start the AWS endpoints"
}

ad_cluster_cleanup() {
	samba_stop
	opsworks_cluster_cleanup
}
