#!/bin/bash
# 0330-watch.sh: a cluster whose power programs are the cloud's own (as
# on AWS PCS, or a site that does not chain ours): slurmctld never runs a
# hook of ours. The prolog registers each node into OpsWorks; only
# `slurm-identity watch`, run as SlurmUser, follows Slurm's node states
# and removes what a node leaves behind when it powers down.
# Also: one watcher active, a second standing by takes over when the first
# is killed; a watcher that was down finds at start what it missed;
# slurmctld stopped: nothing removed, the trouble in the log and status.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"

# Two backends at once: OpsWorks, and SSM (each instance's agent comes
# Online; the prolog tags the instance). The tags of a terminated EC2
# instance go with it; only the hooks journal its id to untag it first.
export CLUSTER_HOOKS=none CLUSTER_SUSPEND_TIME=5 CLUSTER_SUSPEND_TIMEOUT=10
export OPSWORKS_BACKENDS=opsworks,ssm AWS_ENV_SSM_FAKE=1
cleanup() {
	local f
	for f in "${CLUSTER_DIR:-/nonexistent}"/run/watch-*.pid; do
		[ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	opsworks_cluster_cleanup
}
opsworks_cluster_test watch 3
trap cleanup EXIT
d=$CLUSTER_DIR
printf '%s\n' "WatchPeriod=2" "SsmRegistrationFile=$d/nodes/%n/ssm-registration" >>"$d/etc/identity.conf"
export SLURM_IDENTITY_CONF=$d/etc/identity.conf
log=$d/log/identity.log

calls() { opsworks_fake GET /_fake/calls | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }
registered() { opsworks_fake GET /_fake/registry | python3 -c 'import json,sys; print(" ".join(sorted(i["Hostname"] for i in json.load(sys.stdin))))'; }
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
# watch_start NAME: a watcher as SlurmUser, in that user's environment as
# a service manager gives it (setpriv execs: the pid is the watcher's),
# its pid in run/watch-NAME.pid.
watch_start() {
	setpriv --reuid="$CLUSTER_SLURM_USER" --regid="$CLUSTER_SLURM_USER" --init-groups \
		--reset-env env SLURM_CONF="$SLURM_CONF" \
		"$d/sbin/slurm-identity" -c "$d/etc/identity.conf" watch \
		</dev/null >>"$d/log/watch-$1.out" 2>&1 &
	echo $! >"$d/run/watch-$1.pid"
}
watch_pid() { cat "$d/run/watch-$1.pid"; }
# log lines of one watcher, by its pid
wlog() { grep "slurm-identity\[$(watch_pid "$1")\]: watch: " "$log"; }
all_down() { for n in n1 n2 n3; do [ "$(node_state $n)" = idle~ ] || return 1; done; }

if [ "$(slurm_release)" -ge 2605 ]; then
	where="a PowerAction on the node (Location=slurmd)"
	grep -q "^SuspendProgram=nodedown$" "$d/etc/slurm.conf" &&
		grep -q "^PowerAction=nodedown Location=slurmd Program=\"$d/bin/cloud-suspend\"$" "$d/etc/slurm.conf"
else
	where="the cloud's own SuspendProgram"
	grep -q "^SuspendProgram=$d/bin/cloud-suspend$" "$d/etc/slurm.conf"
fi && grep -q "^ResumeProgram=$d/bin/cloud-resume$" "$d/etc/slurm.conf"
ok $? "slurmctld runs the cloud's programs, none of ours; power-down: $where"

watch_start a
wait_for 'wlog a | grep -q "active (pid"' 30
ok $? "a watcher runs as SlurmUser and is active ($(wlog a | head -1 | sed 's/.*watch: //'))"
watch_start b
wait_for 'wlog b | grep -q "another watcher (pid $(watch_pid a)) is active; standing by to take over"' 30
ok $? "a second watcher stands by, naming the active one"
"$top_builddir/slurm-identity" check >"$d/check.out" 2>&1
grep -q "^ok: set-up: ResumeProgram is not ours ($d/bin/cloud-resume), SuspendProgram is .*; the watcher (pid $(watch_pid a)) follows Slurm's node states$" "$d/check.out"
ok $? "check says which set-up it finds ($(grep 'set-up' "$d/check.out"))"

t0=$(date +%s)
job=$(sbatch -N3 -w 'n[1-3]' --parsable -o /dev/null --wrap 'sleep 1')
wait_for '[ "$(job_state $job)" = COMPLETED ]' 150
ok $? "job on every node completed ($(job_state $job), $(( $(date +%s) - t0 )) s)" || dump_logs 30
[ "$(registered)" = "n1 n2 n3" ]
ok $? "the prolog registered every node ($(registered))"
tagged() { local n; for n in "$@"; do [ "$(ec2_node_tags "$n")" = "slurm-identity:cluster=sitest slurm-identity:node=$n" ] || return 1; done; }
tagged n1 n2 n3
ok $? "and tagged every instance for SSM ($(ec2_node_tags n1))"
! grep -q 'slurm-identity-\(resume\|suspend\)' "$log"
ok $? "no hook of ours ran"

wait_for all_down 120
ok $? "nodes powered down by $where" || dump_logs 20
if [ "$(slurm_release)" -ge 2605 ]; then
	# The node-side power-down runs as SlurmdUser (root here), a
	# controller-side one as SlurmUser.
	[ "$(grep -c 'cloud-suspend n[1-3] (as root)' "$d/log/cloud.log")" = 3 ] &&
		! grep -q "cloud-suspend .* (as $CLUSTER_SLURM_USER)" "$d/log/cloud.log"
	ok $? "each power-down ran on its node, once per node ($(grep 'cloud-suspend' "$d/log/cloud.log" | paste -sd ';'))"
fi
down_at=$(date +%s)
wait_for '[ -z "$(registered)" ]' 60
ok $? "the watcher removed every registration ($(( $(date +%s) - down_at )) s after Slurm showed them powered down; left: $(registered))" ||
	dump_logs 30
wlog a | grep -q "n\[1-3\]: down in Slurm (3 node(s)): queued for removal" ||
	{ wlog a | grep -c 'queued for removal' | grep -qx 2 && wlog a | grep -q 'queued for removal'; }
ok $? "the active watcher queued them ($(wlog a | grep 'queued for removal' | sed 's/.*watch: //' | paste -sd ';'))"
wait_for worker_idle 60
[ "$(calls DeregisterInstance)" = 3 ]
ok $? "one DeregisterInstance per node ($(calls DeregisterInstance))"
! wlog b | grep -q 'queued'
ok $? "the standing-by watcher did nothing"

# The active one dies: the other takes over.
kill -9 "$(watch_pid a)"
t1=$(date +%s)
wait_for 'wlog b | grep -q "the active watcher is gone; taking over"' 30 &&
	wait_for 'wlog b | grep -q "active (pid $(watch_pid b))"' 30
ok $? "kill -9 of the active watcher: the one standing by takes over ($(( $(date +%s) - t1 )) s)"

# A watcher that is not running misses a power-down; the next one finds
# the registration at start (its sweep) and removes it.
kill "$(watch_pid b)"
wait_for 'wlog b | grep -q "stopping"' 30
ok $? "SIGTERM stops the watcher, saying so"
"$top_builddir/slurm-identity" check >"$d/check.out" 2>&1
grep -q "^slurm-identity: check: warning: set-up: .*no watcher is active: start slurm-identity watch" "$d/check.out"
ok $? "with no watcher, check warns that nothing removes what nodes leave behind"
before=$(calls DeregisterInstance)
job=$(sbatch -N1 -w n1 --parsable -o /dev/null --wrap true)
wait_for '[ "$(job_state $job)" = COMPLETED ]' 120 && wait_for '[ "$(node_state n1)" = idle~ ]' 120
ok $? "with no watcher, n1 ran a job and powered down"
[ "$(registered)" = n1 ]
ok $? "n1's registration is left behind ($(registered))"
# Two started at the same instant: exactly one is active.
watch_start c
watch_start e
wait_for '[ "$(wlog c | grep -c "active (pid")$(wlog e | grep -c "active (pid")" = 10 ] || [ "$(wlog c | grep -c "active (pid")$(wlog e | grep -c "active (pid")" = 01 ]' 30 &&
	wait_for 'wlog c | grep -q "standing by" || wlog e | grep -q "standing by"' 30
ok $? "two watchers started at once: one active, one standing by"
wlog e | grep -q "active (pid" && { mv "$d/run/watch-e.pid" "$d/run/watch-x.pid"; mv "$d/run/watch-c.pid" "$d/run/watch-e.pid"; mv "$d/run/watch-x.pid" "$d/run/watch-c.pid"; }
# c is the active one from here on.
wait_for '[ -z "$(registered)" ]' 60
ok $? "the active one's start sweep removed it (left: $(registered))" || dump_logs 20
wlog c | grep -q "sweep: .* 1 leaks, 1 removed, 0 failed"
ok $? "and says so ($(wlog c | grep 'sweep:' | head -1 | sed 's/.*watch: //'))"
! wlog e | grep -q 'sweep:\|queued'
ok $? "the one standing by did nothing"
[ "$(calls DeregisterInstance)" = $((before + 1)) ]
ok $? "one more DeregisterInstance ($(calls DeregisterInstance))"

# slurmctld stops while n[2-3] run a job: the watcher says it cannot look,
# status shows why, and nothing is removed, then or once Slurm is back.
job=$(sbatch -N2 -w 'n[2-3]' --parsable -o /dev/null --wrap 'sleep 60')
wait_for '[ "$(job_state $job)" = RUNNING ] && [ "$(registered)" = "n2 n3" ]' 150
ok $? "a job on n[2-3], registered ($(registered))"
"$top_builddir/slurm-identity" status >"$d/status.out" 2>&1
grep -q "^watch: active (pid $(watch_pid c)); Slurm answered [0-9]* s ago; last sweep" "$d/status.out"
ok $? "status shows the active watcher ($(grep '^watch:' "$d/status.out" | head -1))"
kill "$(cat "$d/run/slurmctld.pid")"
wait_for '! scontrol ping 2>/dev/null | grep -q UP' 30
wait_for 'wlog c | grep -q "cannot load Slurm node states: .*; nothing is removed until Slurm answers"' 30
ok $? "slurmctld stopped: the watcher says it cannot look" || wlog c | tail -5 | sed 's/^/# /'
"$top_builddir/slurm-identity" status >"$d/status.out" 2>&1
grep -q "^watch: error for [0-9]* s: cannot load Slurm node states" "$d/status.out"
ok $? "status shows why ($(grep '^watch: error' "$d/status.out"))"
slurmctld -f "$SLURM_CONF" -i
wait_for 'scontrol ping 2>/dev/null | grep -q UP' 30 &&
	wait_for 'wlog c | grep -q "Slurm answers again"' 30
ok $? "slurmctld back: the watcher looks again ($(wlog c | grep 'answers again' | sed 's/.*watch: //'))"
[ "$(registered)" = "n2 n3" ] && [ "$(job_state $job)" = RUNNING ] &&
	! wlog c | grep -q 'n\[2-3\]: down in Slurm'
ok $? "nothing removed meanwhile: n[2-3] are up ($(registered); job $(job_state $job))"

wait_for '[ "$(job_state $job)" = COMPLETED ]' 120 &&
	wait_for '[ "$(node_state n2)" = idle~ ] && [ "$(node_state n3)" = idle~ ] && [ -z "$(registered)" ]' 120
ok $? "once they power down, their registrations are gone (left: $(registered))"
wlog c | grep -q "n\[2-3\]: down in Slurm (2 node(s)): queued for removal"
ok $? "queued by the watcher on the change it saw"
[ "$(calls DeregisterInstance)" = $((before + 3)) ]
ok $? "one DeregisterInstance per registration in all ($(calls DeregisterInstance) for 6)"
tap_done
