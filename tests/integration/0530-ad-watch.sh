#!/bin/bash
# 0530-ad-watch.sh: Active Directory on a cluster whose power programs are
# the cloud's own (AWS PCS, a node-side power-down): no hook of ours runs.
# `slurm-identity watch` sees the nodes power up and makes their accounts
# and join secrets while they boot; each node's first prolog waits for its
# secret (JoinSecretWait) and joins; once Slurm powers the nodes down the
# watcher removes the accounts. Real Samba AD DC, moto IAM enforcement.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"
. "$top_srcdir/tests/lib/samba.sh"

export CLUSTER_HOOKS=none CLUSTER_SUSPEND_TIME=5 CLUSTER_SUSPEND_TIMEOUT=8
ad_cluster_test adwatch 2 SchedulerParameters=nohold_on_prolog_fail
d=$CLUSTER_DIR
trap '[ -s "$d/run/watch.pid" ] && kill -9 "$(cat "$d/run/watch.pid")" 2>/dev/null; ad_cluster_cleanup' EXIT
echo "WatchPeriod=2" >>"$d/etc/identity.conf"
export SLURM_IDENTITY_CONF=$d/etc/identity.conf
log=$d/log/identity.log
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
all_down() { local n; for n in "$@"; do [ "$(node_state $n)" = idle~ ] || return 1; done; }

setpriv --reuid="$CLUSTER_SLURM_USER" --regid="$CLUSTER_SLURM_USER" --init-groups \
	--reset-env env SLURM_CONF="$SLURM_CONF" \
	"$d/sbin/slurm-identity" -c "$d/etc/identity.conf" watch \
	</dev/null >>"$d/log/watch.out" 2>&1 &
echo $! >"$d/run/watch.pid"
wait_for 'grep -q "watch: active (pid" "$log"' 60
ok $? "the watcher is active"

t0=$(date +%s)
job=$(sbatch -N2 -w 'n[1-2]' --parsable -o /dev/null --wrap 'sleep 1')
wait_for '[ "$(job_state $job)" = COMPLETED ]' 180
ok $? "a job on both nodes completed ($(job_state $job), $(( $(date +%s) - t0 )) s)" || dump_logs 30
grep -q "watch: n\[1-2\]: coming up in Slurm (2 node(s)): queued to prepare" "$log" &&
	grep -q "worker: 2 node(s) prepared in " "$log"
ok $? "the watcher queued both nodes when Slurm began to power them up; its worker prepared them ($(grep -o 'worker: 2 node(s) prepared in [0-9.]* s' "$log" | head -1))"
echo "# first prologs that waited for their join secret: $(grep -c 'not there yet; waiting' "$log")"
! grep -q 'slurm-identity-resume' "$log"
ok $? "no resume hook ran"
grep -q "n1: ad: joined " "$log" && grep -q "n2: ad: joined " "$log" &&
	[ -s "$d/nodes/n1/krb5.keytab" ] && [ -s "$d/nodes/n2/krb5.keytab" ]
ok $? "both nodes joined the domain (log, keytabs)"
[ "$(samba_computers | wc -w)" = 2 ]
ok $? "two computer accounts in the OU ($(samba_computers))"
[ -z "$(join_secrets)" ]
ok $? "each join secret was consumed ($(join_secrets))"

wait_for 'all_down n1 n2' 120
ok $? "Slurm powered the nodes down"
wait_for '[ -z "$(samba_computers)" ]' 90
ok $? "the watcher removed both accounts (left: $(samba_computers))" || dump_logs 20
grep -q "watch: n\[1-2\]: down in Slurm (2 node(s)): queued for removal" "$log"
ok $? "queued by the watcher when they went down"

# The watcher misses the power-up (stopped here; in life a restart or a
# period longer than the boot): n1's prolog waits for its join secret,
# and the watcher, seeing n1 up where it last saw it down, prepares it.
kill -STOP "$(cat "$d/run/watch.pid")"
job=$(sbatch -N1 -w n1 --parsable -o /dev/null --wrap 'sleep 1')
wait_for 'grep -q "n1: ad: join secret slurm-identity/sitest/join/n1 not there yet; waiting up to 60 s (JoinSecretWait)" "$log"' 120
ok $? "with the watcher stopped, n1's first prolog waits for its join secret" || dump_logs 20
kill -CONT "$(cat "$d/run/watch.pid")"
wait_for '[ "$(job_state $job)" = COMPLETED ]' 120
ok $? "the watcher, back, prepared n1 and its job ran ($(job_state $job))" || dump_logs 30
grep -q "n1: ad: join secret slurm-identity/sitest/join/n1 there after [0-9]* s" "$log" &&
	grep -q "watch: n1: coming up in Slurm (1 node(s)): queued to prepare" "$log"
ok $? "and the log shows both ($(grep -o 'join secret [^ ]* there after [0-9]* s' "$log"))"
wait_for 'all_down n1 && [ -z "$(samba_computers)" ] && [ -z "$(join_secrets)" ]' 120
ok $? "n1 powered down: nothing left ($(samba_computers); $(join_secrets))"
tap_done
