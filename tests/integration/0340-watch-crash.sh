#!/bin/bash
# 0340-watch-crash.sh: kill -9 of the watcher, or of the worker it started,
# anywhere across preparation and removal loses nothing and removes nothing
# that runs. A real slurmctld holds CLOUD nodes and runs none of our
# programs (ResumeProgram=/bin/true): only `slurm-identity watch` acts.
# Each trial takes a fresh set of 10 nodes: Slurm powers them up (AD: the
# watcher queues them, its worker makes their accounts and join secrets;
# OpsWorks: registered as the prolog would), then down (the watcher queues
# their removal); the watcher or its worker is killed at one point of that
# run: a killed watcher is followed by a new one, as systemd's Restart=
# would; a killed worker's batch is found by the watcher still running. Every
# trial must end with the set prepared (AD) and then gone, and the node
# Slurm keeps powering up throughout (the last one) never touched.
# Backends: OpsWorks (the strict fake, 150 ms a call) and, where a Samba
# AD DC can run, AD.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/backends.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (slurmctld)"
command -v slurmctld >/dev/null || skip_all "slurmctld not installed"
CLUSTER_DIR=$(test_dir wcrash)
D=$CLUSTER_DIR
pids="" wpid=""
# The worker holding backend B's queue lock, by the pid it wrote there,
# checked to be a worker of ours and not the watcher; "" if none.
worker_of() {
	local lock=$D/identity-$1/queue/.worker.lock pid
	[ -e "$lock" ] && ! flock -n "$lock" true || return 0
	pid=$(cat "$lock" 2>/dev/null)
	[ -n "$pid" ] && [ "$pid" != "$wpid" ] &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'slurm-identity' &&
		echo "$pid"
}
cleanup() {
	local p b
	[ -n "$wpid" ] && kill -9 "$wpid" 2>/dev/null
	for b in opsworks ad; do p=$(worker_of $b); [ -n "$p" ] && kill -9 "$p"; done
	for p in $pids; do kill "$p" 2>/dev/null; done
	backends_stop
	cluster_stop
	[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"
}
trap cleanup EXIT
py=$(python3 -c 'import sys; print(sys.executable)')
trials=${CRASH_TRIALS:-8}
per=10
# Each backend its own sets (a node Slurm is still powering down would
# not power up again at once): 2 x trials x per nodes, then the kept one.
keep=n$((2 * trials * per + 1))
munge_ensure || bail "munge"
cluster_configure_cloud_only wcrash $((2 * trials * per + 1)) || bail "cannot configure"
# No rate limit on power changes: a set goes down at once.
printf '%s\n' "ResumeRate=0" "SuspendRate=0" >>"$D/etc/slurm.conf"
cluster_start || bail "cannot start slurmctld"
scontrol update nodename="$keep" state=power_up
wait_for '[ "$(node_state $keep)" = "idle#" ]' 30
ok $? "$keep is powering up and stays so ($(node_state "$keep"))"
BACKENDS=${BACKENDS:-opsworks ad} backends_start wcrash || bail "cannot start the endpoints"
if [ "${CI:-}" = true ]; then
	case " $backends " in *" ad "*) true ;; *) false ;; esac
	ok $? "CI: AD is tried too ($backends)"
fi

# watch_start: a new watcher (run as root, it acts as StateDir's owner, as
# the hooks do); its pid in wpid once it is active.
watch_start() {
	"$top_builddir/slurm-identity" watch </dev/null >>"$D/log/watch.out" 2>&1 &
	wpid=$!
	wait_for "grep -q 'slurm-identity\\[$wpid\\]: watch: active' '$log'" 60
}
# The states a set must reach: "up" (powering up; AD: account and join
# secret for each), "gone" (nothing left of any).
accounts() { samba_computers | tr ' A-Z' '\na-z' | grep . | sort | tr '\n' ' ' | sed 's/ $//'; }
secrets() {
	"$py" - "$bk_name" <<'EOP'
import boto3, sys
sm = boto3.client("secretsmanager", region_name="us-east-1")
prefix = "slurm-identity/%s/join/" % sys.argv[1]
print(" ".join(sorted(s["Name"].rsplit("/", 1)[1] for p in sm.get_paginator("list_secrets").paginate()
                      for s in p["SecretList"] if s["Name"].startswith(prefix))))
EOP
}
in_words() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }
# set_is STATE FIRST LAST: what the backend holds of n[FIRST-LAST] (and the
# kept node) is what STATE wants.
set_is() {
	local state=$1 first=$2 last=$3 have acc sec i
	if [ "$backend" = ad ]; then
		acc=$(accounts) sec=$(secrets)
		in_words "$keep" "$acc" || return 1
		for i in $(seq "$first" "$last"); do
			case $state in
			up) in_words "n$i" "$acc" && in_words "n$i" "$sec" || return 1 ;;
			gone) ! in_words "n$i" "$acc" && ! in_words "n$i" "$sec" || return 1 ;;
			esac
		done
	else
		have=$(backends_nodes opsworks)
		in_words "$keep" "$have" || return 1
		for i in $(seq "$first" "$last"); do
			in_words "n$i" "$have" && return 1
		done
	fi
	return 0
}
# kill_at K SECONDS: after SECONDS, kill -9 the watcher (even K), and a
# new one is started as systemd's Restart= would; or the worker it
# started (odd K, when one runs; else the watcher), and the watcher, still
# running, must see the batch left behind. What was killed in `what`.
kill_at() {
	local wk lock=$D/identity-$backend/queue/.worker.lock
	if [ $(($1 % 2)) = 1 ]; then
		# The worker: once it runs (the watcher's next look starts it),
		# SECONDS into its run.
		# (flock(1) would make a missing lock file, root's.)
		wait_for "[ -e '$lock' ] && ! flock -n '$lock' true" 10
	fi
	sleep "$2"
	wk=$(worker_of "$backend")
	if [ $(($1 % 2)) = 1 ] && [ -n "$wk" ]; then
		kill -9 "$wk"
		what="worker at $2 s"
		in_flight=$((in_flight + 1))
	else
		kill -9 "$wpid"
		wait "$wpid" 2>/dev/null
		what="watcher at $2 s"
		watch_start
	fi
}

points=0 leaks=0 wrong=0 in_flight=0
base=0
for backend in $backends; do
	backends_conf "$backend" WatchPeriod=1 DebugLevel=verbose
	log=$D/log/identity-$backend.log
	if [ "$backend" = opsworks ]; then
		opsworks_fake POST /_fake/reset >/dev/null
		opsworks_fake POST /_fake/faults '{"latency_ms": 150}' >/dev/null
		opsworks_register "${keep#n}" "${keep#n}"
	fi
	watch_start
	ok $? "$backend: a watcher is active"
	if [ "$backend" = ad ]; then
		wait_for "worker_idle '$D/identity-ad' && in_words $keep \"\$(accounts)\"" 60
		ok $? "ad: its first look prepared $keep, powering up ($(accounts))"
	fi
	for t in $(seq 0 $((trials - 1))); do
		first=$((base + t * per + 1)) last=$((base + t * per + per))
		set="n[$first-$last]"
		# Up: AD's kill points are across the preparation.
		scontrol update nodename="$set" state=power_up
		if [ "$backend" = ad ]; then
			kill_at "$t" "$(awk -v t="$t" 'BEGIN { printf "%.2f", t % 2 ? (t % 6) * 0.1 : 0.3 + t * 0.35 }')"
			points=$((points + 1))
			if ! wait_for "worker_idle '$D/identity-ad' && set_is up $first $last" 90; then
				leaks=$((leaks + 1))
				echo "# ad: $set up, $what: not prepared (accounts: $(accounts); secrets: $(secrets))"
				grep -E 'error|prepar|queued' "$log" | tail -6 | cut -c1-240 | sed 's/^/#   /'
			fi
		else
			wait_for "[ \"\$(node_state n$last)\" = 'idle#' ]" 30
			# What the prolog does on each node: register, and claim
			# it in the node's Extra.
			opsworks_register "$first" "$last"
			scontrol update nodename="$set" extra="identity=ready opsworks=claimed"
		fi
		# Down: kill points across the removal.
		scontrol update nodename="$set" state=power_down_force
		kill_at $((t + 1)) "$(awk -v t="$t" 'BEGIN { printf "%.2f", t % 2 ? 0.2 + t * 0.3 : (t % 6) * 0.1 }')"
		points=$((points + 1))
		if ! wait_for "worker_idle '$D/identity-$backend' && set_is gone $first $last" 90; then
			if set_is gone "$first" "$last"; then :; else
				leaks=$((leaks + 1))
				echo "# $backend: $set down, $what: left $(backends_nodes "$backend")"
				grep -E 'error|queued|pending' "$log" | tail -6 | cut -c1-240 | sed 's/^/#   /'
			fi
		fi
		case " $(backends_nodes "$backend") " in
		*" $keep "*) ;;
		*) wrong=$((wrong + 1)); echo "# $backend $what: $keep, powering up, lost its identity" ;;
		esac
	done
	# Nothing came back: every set stays gone, the kept node is all.
	wait_for "worker_idle '$D/identity-$backend'" 60
	if [ "$backend" = ad ]; then
		left="$(accounts); $(secrets)"
		[ "$left" = "$keep; $keep" ]
	else
		left=$(backends_nodes opsworks)
		[ "$left" = "$keep" ]
	fi
	ok $? "$backend: after all trials only $keep has an identity ($left)"
	kill "$wpid"
	wait "$wpid"
	grep -q "slurm-identity\[$wpid\]: watch: stopping" "$log"
	ok $? "$backend: the last watcher stops on SIGTERM"
	wpid=""
	base=$((base + trials * per))
done
echo "# watcher crash points: $points (a worker killed mid-run at $in_flight), leaks $leaks, wrong removals $wrong"
# A kill point per set going down, and on AD one per set coming up too.
want=0
for b in $backends; do want=$((want + trials)); [ "$b" = ad ] && want=$((want + trials)); done
[ "$points" = "$want" ] && [ "$in_flight" -ge $((trials / 2)) ]
ok $? "kill points across the watcher's and the worker's runs on $backends ($points, $in_flight workers mid-run)"
[ "$leaks" = 0 ]
ok $? "every set prepared and then removed, after every kill ($leaks left)"
[ "$wrong" = 0 ]
ok $? "the node Slurm keeps powering up never lost its identity ($wrong)"
! find "$D"/identity-* -user root | grep -q .
ok $? "the watchers and workers acted as $CLUSTER_SLURM_USER: nothing in StateDir is root's"
tap_done
