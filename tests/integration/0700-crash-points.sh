#!/bin/bash
# 0700-crash-points.sh: kill -9 anywhere loses nothing and removes nothing
# that runs. A real slurmctld holds 21 CLOUD nodes: n1-n20 powered down
# (being suspended), n21 powering up (a node Slurm is bringing back, named
# in the same batch, as a late or repeated suspend would). Each trial plants
# all 21 registrations, runs slurm-identity-suspend or -resume-fail on
# n[1-21] and kills it, or the worker it started, at one point of its run
# (the endpoint answers in 150 ms, MaxConcurrency=2, so the worker's run is
# a couple of seconds wide and calls are in flight at most points). Then
# one reconcile. Every trial must end with n1-n20 gone and n21 registered.
# Backends: OpsWorks (the strict fake), SSM (moto's EC2 tags) and, where a
# Samba AD DC can run, AD (computer accounts and their join secrets).
# StateDir is SlurmUser's: the hooks, run as root, act as SlurmUser.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/backends.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (slurmctld)"
command -v slurmctld >/dev/null || skip_all "slurmctld not installed"
CLUSTER_DIR=$(test_dir crash)
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
cluster_configure_cloud_only crash 21 || bail "cannot configure"
cluster_start || bail "cannot start slurmctld"
scontrol update nodename=n21 state=power_up
wait_for '[ "$(node_state n21)" = "idle#" ]' 30
ok $? "n21 is powering up ($(node_state n21)); n1-n20 powered down ($(node_state n1))"

backends_start crash || bail "cannot start the endpoints"
# Where CI runs, a DC can: the count of kill points below must not pass
# on two backends because AD was dropped without a word.
if [ "${CI:-}" = true ]; then
	case " $backends " in *" ad "*) true ;; *) false ;; esac
	ok $? "CI: every backend is tried, AD included ($backends)"
fi

points=0 leaks=0 wrong=0 killed_in_flight=0
for backend in $backends; do
	# The worker's run: ~2 s against the slow fake OpsWorks, ~0.3 s
	# against moto's EC2: kill points spread over each.
	case $backend in
	opsworks) step=0.2 ;;
	ssm) step=0.025 ;;
	ad) step= ;;
	esac
	backends_conf "$backend"
	q=$D/identity-$backend/queue
	nodes_now() { backends_nodes "$backend"; }
	if [ -z "$step" ]; then
		# The worker's run against the DC, measured once: kill points
		# spread over it.
		backends_plant "$backend"
		[ "$(nodes_now)" = "$(seq -f 'n%g' 1 21 | sort | tr '\n' ' ' | sed 's/ $//')" ]
		ok $? "$backend: the controller's resume planted 21 registrations ($(nodes_now | wc -w))"
		t0=$(date +%s.%N)
		"$top_builddir/slurm-identity-suspend" 'n[1-20]' >/dev/null 2>&1
		wait_for "flock -n '$q/.worker.lock' true && [ \"\$(nodes_now)\" = n21 ]" 60
		ok $? "$backend: a suspend without a kill removes n1-n20 ($(nodes_now))"
		step=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { s = (b - a) / 11; printf "%.3f", s < 0.02 ? 0.02 : s }')
		echo "# $backend: the worker's run takes about $(awk -v s="$step" 'BEGIN { print s * 11 }') s"
	fi
	# Kill points: the hook at 0-12 ms (journal, fork), the worker over its
	# run (locks, Slurm check, listing, removals in flight), by turns
	# suspend and resume-fail.
	for k in $(seq 0 ${CRASH_LAST:-15}); do
		hook=slurm-identity-suspend
		[ $((k % 2)) = 1 ] && hook=slurm-identity-resume-fail
		backends_plant "$backend"
		rm -f "$q"/*.batch 2>/dev/null
		"$top_builddir/$hook" 'n[1-21]' >/dev/null 2>&1 &
		hpid=$!
		if [ "$k" -lt 5 ]; then
			# 0, 3, 6, 9, 12 ms ("0.00$((k * 3))" made 12 ms 1.2 ms)
			sleep "$(awk -v k="$k" 'BEGIN { printf "%.3f", k * 0.003 }')"
			kill -9 "$hpid" 2>/dev/null
			what="$hook at $((k * 3)) ms"
		else
			wait "$hpid"
			at=$(awk -v k="$k" -v s="$step" 'BEGIN { printf "%.3f", s / 2 + (k - 5) * s }')
			sleep "$at"
			wpid=$(cat "$q/.worker.lock" 2>/dev/null)
			if [ -n "$wpid" ] && ! flock -n "$q/.worker.lock" true; then
				kill -9 "$wpid"
				killed_in_flight=$((killed_in_flight + 1))
				what="worker at $at s"
			else
				what="worker (already done)"
			fi
		fi
		wait "$hpid" 2>/dev/null
		points=$((points + 1))
		"$top_builddir/slurm-identity" reconcile >"$D/reconcile.out" 2>&1
		# A worker the kill did not reach finishes its batch.
		wait_for "flock -n '$q/.worker.lock' true" 60
		now=$(nodes_now)
		case " $now " in *" n21 "*) ;; *) wrong=$((wrong + 1)); echo "# $backend $what: n21 was removed" ;; esac
		left=$(echo "$now" | tr ' ' '\n' | grep -c -v '^n21$' | tr -d ' ')
		[ -z "$now" ] && left=0
		[ "$now" = n21 ] || { [ "$left" -gt 0 ] && leaks=$((leaks + left)) &&
			echo "# $backend $what: left $now ($(tail -1 "$D/reconcile.out"))"; }
	done
done
echo "# crash points: $points (worker killed mid-run at $killed_in_flight of them), leaks $leaks, wrong removals $wrong"
[ "$points" -ge 30 ] && [ "$killed_in_flight" -ge 10 ]
ok $? "at least 30 kill points, hooks and workers, on $backends ($points, $killed_in_flight mid-run)"
[ "$leaks" = 0 ]
ok $? "no registration left after one reconcile ($leaks)"
[ "$wrong" = 0 ]
ok $? "no registration of a node Slurm is powering up removed ($wrong)"
# The hooks ran as root, as an admin would run them: with StateDir
# SlurmUser's, they and their workers acted as SlurmUser throughout.
if [ "$CLUSTER_SLURM_USER" != root ]; then
	! find "$D"/identity-* -user root | grep -q .
	ok $? "the hooks and workers ran as $CLUSTER_SLURM_USER: nothing in StateDir is root's ($(find "$D"/identity-* -user root | head -2 | tr '\n' ' '))"
fi
tap_done
