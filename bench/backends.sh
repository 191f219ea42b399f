#!/bin/bash
# backends.sh [N...]: the SSM and AD suspend paths at scale, against a real
# slurmctld holding N powered-down CLOUD nodes (scale.sh measures
# OpsWorks). MaxConcurrency=16, MaxRequestRate unset (adaptive).
#   ssm  N EC2 instances in moto tagged for their nodes; the worker lists
#        them (DescribeTags, then DescribeInstances of those ids for their
#        states, 200 a call) and removes the tags (DeleteTags, one call per
#        instance, in parallel);
#   ad   N computer accounts and join secrets made by the controller's own
#        slurm-identity-resume on a Samba AD DC; the worker finds, deletes
#        and checks them (a search, the deletes and a search per chunk of
#        512 nodes) on one LDAP connection, bound once, and deletes the
#        join secrets (Secrets Manager, in parallel).
# Prints numbers; not a test. As root, on loopback only. Default N: 100
# 1000. AD only where a Samba AD DC can run. BACKENDS=ssm or BACKENDS=ad
# measures one (the DC is started for ad only). EC2 is moto_server_tag_index.py unless
# MOTO_SERVER names another moto_server: stock moto scans every tag in the
# region for each instance it describes, which at 10,000 instances takes
# longer than the worker's RequestTimeout.
#
# Columns: plant = time to make the N registrations (AD: from the start
# of slurm-identity-resume until its worker made them all); resume = time
# until slurm-identity-resume returned (AD; the cloud's program would
# start then, while the worker works); hook = time until
# slurm-identity-suspend returned; gone = from the hook's start until the
# worker finished with none of the N left; binds = the worker's LDAP binds;
# worker CPU and max RSS. AD is followed by the DC's own time for the same
# adds and deletes over one connection (row "DC alone"), the bound the
# controller's work is measured against.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
top_srcdir=$top
top_builddir=${BUILD:-$top/_build}
sizes=${*:-100 1000}
py=$(python3 -c 'import sys; print(sys.executable)')
export MOTO_SERVER=${MOTO_SERVER:-$top/bench/moto_server_tag_index.py}
D=$(mktemp -d /tmp/si-bench-backends.XXXXXX)
chmod 755 "$D"
pids=""
cleanup() {
	local p
	for p in $pids; do kill "$p" 2>/dev/null; done
	backends_stop
	[ -f "$D/run/slurmctld.pid" ] && kill "$(cat "$D/run/slurmctld.pid")" 2>/dev/null
	[ -s "$D/munge.started" ] && kill "$(cat "$D/munge.started")" 2>/dev/null
	sleep 1
	rm -rf "$D"
}
trap cleanup EXIT
CLUSTER_DIR=$D
. "$top/tests/lib/cluster.sh"
. "$top/tests/lib/backends.sh"
# slurmctld raises its open-file limit for the programs it runs; so do we.
ulimit -n 65536 2>/dev/null
munge_ensure || { echo "bench: munge failed"; exit 1; }
mkdir -p "$D/log" "$D/etc" ${BENCH_KEEP_LOGS:+"$BENCH_KEEP_LOGS"}
backends_start bench >/dev/null || { echo "bench: endpoints failed"; exit 1; }

cluster_for() { # cluster_for N: slurmctld with N powered-down CLOUD nodes
	[ -f "$D/run/slurmctld.pid" ] && kill "$(cat "$D/run/slurmctld.pid")" 2>/dev/null &&
		wait_for "! kill -0 $(cat "$D/run/slurmctld.pid") 2>/dev/null" 30
	rm -rf "$D/state"
	cluster_configure_cloud_only bench "$1" || return 1
	slurmctld -f "$D/etc/slurm.conf" -i
	wait_for 'SLURM_CONF=$D/etc/slurm.conf scontrol ping 2>/dev/null | grep -q UP' 60
}

# dc_bound N: the DC's own time for the same work over one connection, in
# the same run: N computer objects of the shape we make (password set in
# the add) added by one ldapadd, then deleted by one ldapdelete, as
# Administrator. Row "DC alone": plant = the adds, gone = the deletes.
dc_bound() {
	printf '%s' "$SAMBA_ADMIN_PASSWORD" >"$D/admin.pw" && chmod 600 "$D/admin.pw"
	"$py" - "$1" "$SAMBA_OU" "$SAMBA_DOMAIN" "$D/dc.dns" >"$D/dc.ldif" <<'EOP'
import base64, os, sys
n, ou, dom = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(sys.argv[4], "w") as dns:
    for i in range(1, n + 1):
        pw = base64.b64encode(('"%s"' % base64.b64encode(os.urandom(24)).decode()).encode("utf-16-le")).decode()
        print("dn: CN=DCB%d,%s\nobjectClass: computer\nsAMAccountName: DCB%d$\nuserAccountControl: 4096\n"
              "dNSHostName: dcb%d.%s\ndescription: bench\nunicodePwd:: %s\n" % (i, ou, i, i, dom, pw))
        dns.write("CN=DCB%d,%s\n" % (i, ou))
EOP
	local a0 a1 d1
	a0=$(date +%s.%N)
	LDAPTLS_REQCERT=never ldapadd -c -x -H ldaps://127.0.0.1 -D "Administrator@$SAMBA_REALM" \
		-y "$D/admin.pw" -f "$D/dc.ldif" >/dev/null 2>"$D/dc-add.err"
	a1=$(date +%s.%N)
	LDAPTLS_REQCERT=never ldapdelete -c -x -H ldaps://127.0.0.1 -D "Administrator@$SAMBA_REALM" \
		-y "$D/admin.pw" -f "$D/dc.dns" >/dev/null 2>"$D/dc-del.err"
	d1=$(date +%s.%N)
	printf '%-6s %-8s %7.1fs %7s %6s  %7.1fs\n' "$1" "DC alone" "$(echo "$a1 - $a0" | bc)" - - \
		"$(echo "$d1 - $a1" | bc)"
}

printf '%-6s %-8s %8s %7s %7s %8s %6s %7s %15s\n' N backend plant resume hook gone left binds "worker cpu/MiB"
for n in $sizes; do
	cluster_for "$n" || { echo "bench: slurmctld with $n nodes did not start"; exit 1; }
	for backend in $backends; do
		[ "$backend" = opsworks ] && continue
		rm -rf "$D/identity-$backend"
		BK_CONCURRENCY=16 backends_conf "$backend" DebugLevel=verbose
		log=$D/log/identity-$backend.log
		t0=$(date +%s.%N)
		resume=-
		if [ "$backend" = ad ]; then
			"$top_builddir/slurm-identity-resume" "n[1-$n]" >"$D/plant.out" 2>&1
			resume=$(printf '%.2fs' "$(echo "$(date +%s.%N) - $t0" | bc)")
			wait_for "worker_idle '$D/identity-ad'" 3600
		else
			backends_plant "$backend" "$n"
		fi
		t1=$(date +%s.%N)
		have=$(backends_nodes "$backend" | wc -w)
		[ "$have" = "$n" ] || echo "  (planted $have of $n: $(tail -1 "$D/plant.out" 2>/dev/null))"
		: >"$log"
		t2=$(date +%s.%N)
		"$top_builddir/slurm-identity-suspend" "n[1-$n]"
		t3=$(date +%s.%N)
		wait_for "grep -q 'queue empty, exiting' '$log'" 3600
		t4=$(date +%s.%N)
		stat=$(sed -n 's/.*queue empty, exiting (cpu \([0-9.]*\) s user, \([0-9.]*\) s system, max rss \([0-9]*\) kB).*/\1 \2 \3/p' "$log" |
			tail -1 | awk '{ printf "%.2fs/%d", $1 + $2, $3 / 1024 }')
		printf '%-6s %-8s %7.1fs %7s %6.2fs %7.1fs %6s %7s %15s\n' "$n" "$backend" \
			"$(echo "$t1 - $t0" | bc)" "$resume" "$(echo "$t3 - $t2" | bc)" "$(echo "$t4 - $t2" | bc)" \
			"$(backends_nodes "$backend" | wc -w)" \
			"$(grep -c 'ad: \(ld[a-z]* \)\?bound to' "$log")" "$stat"
		[ -n "${BENCH_KEEP_LOGS:-}" ] && cp "$log" "$BENCH_KEEP_LOGS/identity-$n-$backend.log"
		[ "$backend" = ad ] && dc_bound "$n"
	done
done
