#!/bin/bash
# 0710-races.sh: the fault issue's races, on each backend (OpsWorks, SSM
# and, where a Samba AD DC can run, AD). A real slurmctld holds 21 CLOUD
# nodes, all powered down; each backend has all 21 registered (leaks).
#  1. Stale view: reconcile takes Slurm's node states, then lists the
#     backend. A gate in front of the backend's endpoint holds that listing
#     while the backend's race node is powered up; once the gate opens,
#     reconcile must ask Slurm again under the node's lock and leave the
#     node's registration alone, removing the others.
#  2. A resume that comes while the worker removes a node (AD: resume makes
#     the account): it waits for the node's lock, so what it makes is made
#     after the removal and kept.
#  3. StateDir trouble is never silence: with the queue and journal
#     directories immutable and no lock file yet, the suspend hook exits 1
#     and still removes the registrations; reconcile does the same, counts
#     errors and exits non-zero; neither calls it "busy".
#  4. A batch of 1,100 nodes, three chunks: while one chunk's calls are in
#     flight the next is locked and checked and the last settled; the two
#     nodes Slurm powers up, in the second and third chunk (the second of
#     them once the calls began), keep theirs.
#  5. One listing a pass: a batch of 550 nodes (two chunks) whose first
#     chunk takes over 30 s. With every node listed, the second chunk uses
#     the pass's listing; with n650 registered after the listing was
#     taken, the second chunk lists again and removes it.
#  6. Reconcile meets a live worker: while the worker removes a batch of
#     300, reconcile finds them powered down and registered. The queued
#     nodes are the worker's: reconcile calls them busy and removes none,
#     and every node is deregistered by exactly one call.
#  7. AD: a resume of 1,001 nodes looks their accounts up in two searches
#     (1,000 names each) over one bind; n1100, whose account exists, is in
#     the second: it is found and reset, not made again. A suspend of the
#     1,001 then has the worker find, delete and check them in two chunks,
#     all with one bind.
#  8. AD: the DC drops the connection between two searches of a resume:
#     it binds again once and goes on.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/backends.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (slurmctld)"
command -v slurmctld >/dev/null || skip_all "slurmctld not installed"
CLUSTER_DIR=$(test_dir races)
D=$CLUSTER_DIR
pids=""
proxy_pid=""
cleanup() {
	local p
	for p in $pids $proxy_pid; do kill "$p" 2>/dev/null; done
	for p in "$D"/identity-*/queue "$D"/identity-*/controller; do
		[ -d "$p" ] && chattr -i "$p" 2>/dev/null
	done
	backends_stop
	cluster_stop
	[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"
}
trap cleanup EXIT
py=$(python3 -c 'import sys; print(sys.executable)')
munge_ensure || bail "munge"
cluster_configure_cloud_only races 1100 || bail "cannot configure"
cluster_start || bail "cannot start slurmctld"
wait_for '[ "$(node_state n21)" = "idle~" ]' 30 || bail "nodes not powered down"
backends_start races || bail "cannot start the endpoints"
if [ "${CI:-}" = true ]; then
	case " $backends " in *" ad "*) true ;; *) false ;; esac
	ok $? "CI: every backend is tried, AD included ($backends)"
fi

# proxy_start LISTEN UPSTREAM [OPTION...]: a gate proxy
# (tests/lib/gate_proxy.py); sets proxy_port. The gate is $D/gate, each
# held connection a line in $D/held.
proxy_start() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
	rm -f "$D/proxy.port" "$D/gate" "$D/held"
	/usr/bin/python3 "$top_srcdir/tests/lib/gate_proxy.py" --listen "$1" --upstream "$2" \
		--gate "$D/gate" --held "$D/held" --port-file "$D/proxy.port" "${@:3}" \
		2>>"$D/log/proxy.err" &
	proxy_pid=$!
	wait_for "[ -s '$D/proxy.port' ]" 20 && proxy_port=$(cat "$D/proxy.port")
}
hostport() { echo "$1" | sed 's|^http://||; s|/.*||'; }
sorted() { echo "$@" | tr ' ' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//'; }

up=""		# the race nodes powered up so far: every backend keeps them
node=0
for backend in $backends; do
	node=$((node + 1))
	rn=n$node
	log=$D/log/identity-$backend.log
	# The gate sits where the backend's listing goes: OpsWorks' endpoint,
	# EC2 (SSM's tags), the DC's LDAPS port (on 127.0.0.2, the DC being
	# bound to 127.0.0.1 only).
	case $backend in
	opsworks) proxy_start 127.0.0.1:0 "$(hostport "$ow")" &&
		via="AWS_ENDPOINT_URL_OPSWORKS=http://127.0.0.1:$proxy_port" ;;
	ssm) proxy_start 127.0.0.1:0 "$(hostport "$AWS_ENDPOINT_URL_EC2")" &&
		via="AWS_ENDPOINT_URL_EC2=http://127.0.0.1:$proxy_port" ;;
	ad) proxy_start 127.0.0.2:636 127.0.0.1:636 && via="" ;;
	esac
	ok $? "$backend: a gate in front of the backend's listing"
	BK_DC=127.0.0.2 backends_conf "$backend"
	backends_plant "$backend"
	all=$(backends_nodes "$backend")
	[ "$(echo "$all" | wc -w)" = 21 ]
	ok $? "$backend: 21 registrations planted ($(echo "$all" | wc -w))"

	# 1. Stale view.
	touch "$D/gate"
	env $via "$top_builddir/slurm-identity" reconcile >"$D/reconcile.out" 2>&1 &
	rpid=$!
	wait_for "[ -s '$D/held' ]" 30
	ok $? "$backend: reconcile took Slurm's view and is held in its listing"
	scontrol update nodename="$rn" state=power_up
	wait_for "[ \"\$(node_state $rn)\" = 'idle#' ]" 30
	ok $? "$backend: meanwhile $rn is powering up ($(node_state "$rn"))"
	rm -f "$D/gate"
	wait "$rpid"
	up=$(sorted $up $rn)
	now=$(backends_nodes "$backend")
	[ "$now" = "$up" ]
	ok $? "$backend: reconcile removed the powered-down nodes' and kept $rn's ('$now', want '$up')" ||
		sed 's/^/# /' "$D/reconcile.out"
	grep -q "$rn: reconcile: node is [a-z#+~]* now; $backend .* stays$" "$log"
	ok $? "$backend: and said why: $(grep -o "$rn: reconcile: node is .*" "$log" | head -1)"

	# 2. A resume while the worker removes the node (AD: the resume
	# makes an account and a join secret).
	if [ "$backend" = ad ]; then
		backends_plant "$backend"
		guid() { samba_ldap -b "$SAMBA_OU" '(sAMAccountName=N5$)' objectGUID 2>/dev/null | sed -n 's/^objectGUID:: //p'; }
		old=$(guid)
		touch "$D/gate"
		: >"$D/held"
		"$top_builddir/slurm-identity-suspend" n5 >/dev/null 2>&1
		wait_for "[ -s '$D/held' ]" 30
		ok $? "$backend: the worker took n5's lock, checked Slurm and is held in its calls"
		held=$(wc -l <"$D/held")
		t0=$(date +%s.%N)
		"$top_builddir/slurm-identity-resume" n5 >"$D/resume.out" 2>&1
		rc=$?
		took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
		# It queued n5 for the worker that is busy with n5, and made no
		# DC call of its own (the gate would hold it).
		[ "$rc" = 0 ] && awk -v t="$took" 'BEGIN { exit !(t < 2) }' &&
			[ "$(wc -l <"$D/held")" = "$held" ] &&
			grep -q '^prepare=n5$' "$D"/identity-ad/queue/*.batch
		ok $? "$backend: a resume of n5 meanwhile returns at once (exit $rc, $took s), n5 queued to prepare, no DC call"
		rm -f "$D/gate"
		wait_for "worker_idle '$D/identity-$backend'" 60
		ok $? "$backend: the worker removes n5's old account, then prepares the new ($(grep -c 'node(s) prepared in' "$log") prepare pass)"
		case " $(backends_nodes "$backend") " in *" n5 "*) true ;; *) false ;; esac
		ok $? "$backend: n5's new account is kept ($(backends_nodes "$backend"))"
		[ -n "$old" ] && [ -n "$(guid)" ] && [ "$(guid)" != "$old" ]
		ok $? "$backend: and it is the resume's new account, not the removed one ($old -> $(guid))"
	fi

	# 3. StateDir trouble.
	sd=$D/identity-$backend
	backends_plant "$backend"
	mkdir -p "$sd/queue" "$sd/controller"
	rm -f "$sd"/controller/.nodes.*.lock
	if ! chattr +i "$sd/queue" "$sd/controller" 2>/dev/null; then
		for i in 1 2 3 4; do ok 0 "# SKIP $backend: no immutable attribute on this file system"; done
		continue
	fi
	"$top_builddir/slurm-identity-suspend" 'n[6-13]' >"$D/suspend.out" 2>&1
	rc=$?
	now=$(backends_nodes "$backend")
	[ "$rc" = 1 ] && ! echo " $now " | grep -q -E ' n([6-9]|1[0-3]) '
	ok $? "$backend: StateDir unwritable: the hook exits 1 ($rc) and still removes n[6-13] ($now)"
	grep -q "n\[6-13\]: error: deregister: StateDir: cannot journal the batch: " "$log" &&
		grep -q "error: n6: deregister: StateDir: cannot lock or read the journal (.*); removing anyway" "$log"
	ok $? "$backend: and the log says why, node by node"
	"$top_builddir/slurm-identity" reconcile >"$D/reconcile.out" 2>&1
	rc=$?
	now=$(backends_nodes "$backend")
	[ "$rc" != 0 ] && [ "$now" = "$up" ] && ! grep -q ', [1-9][0-9]* busy' "$D/reconcile.out" &&
		! grep -q ', [1-9][0-9]* busy' "$log"
	ok $? "$backend: reconcile removes the rest all the same, exits $rc, nothing called busy ($now)" ||
		sed 's/^/# /' "$D/reconcile.out"
	grep -q "n14: reconcile: StateDir: cannot lock or read the journal (.*); removing anyway" "$log"
	ok $? "$backend: and logs each node's StateDir error"
	chattr -i "$sd/queue" "$sd/controller"
done

ow_calls() { # ow_calls OPERATION: how many the fake served since its reset
	opsworks_fake GET /_fake/calls | "$py" -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"
}

# 4. Three chunks (of 512) in one batch, OpsWorks answering in 100 ms.
# n700 powers up before the suspend; n1050 (third chunk) once the first
# chunk's calls are under way: each chunk asks Slurm after its locks, so
# a change that comes during the pass is seen too.
BK_CONCURRENCY=16 backends_conf opsworks DebugLevel=verbose
log=$D/log/identity-opsworks.log
opsworks_fake POST /_fake/reset >/dev/null
opsworks_register 1 1100
opsworks_fake POST /_fake/faults '{"latency_ms": 100}' >/dev/null
scontrol update nodename=n700 state=power_up
wait_for '[ "$(node_state n700)" = "idle#" ]' 30
ok $? "opsworks: 1,100 registrations planted; n700 powering up"
t0=$(date +%s)
"$top_builddir/slurm-identity-suspend" 'n[1-1100]' >/dev/null 2>&1
wait_for '[ "$(ow_calls DeregisterInstance)" -ge 1 ]' 60
scontrol update nodename=n1050 state=power_up
calls=$(ow_calls DeregisterInstance)
wait_for '[ "$(node_state n1050)" = "idle#" ]' 30
ok $? "opsworks: n1050 powering up once the worker's calls began ($calls calls then)"
wait_for "flock -n '$D/identity-opsworks/queue/.worker.lock' true && [ \"\$(backends_nodes opsworks | wc -w)\" -le 5 ]" 120
want=$(sorted $up n700 n1050)
[ "$(backends_nodes opsworks)" = "$want" ]
ok $? "opsworks: the worker removed 1,095 in $(( $(date +%s) - t0 )) s and kept the nodes Slurm has up ($(backends_nodes opsworks))"
[ "$(grep -c 'deregister: [0-9]* node(s): locks and Slurm [0-9]* ms, calls' "$log")" = 3 ] &&
	grep -q "n700: deregister: node is idle# now; its identity stays" "$log" &&
	grep -q "n1050: deregister: node is idle# now; its identity stays" "$log"
ok $? "opsworks: in three chunks, each node checked under its lock: $(grep -o 'deregister: [0-9]* node(s): .*' "$log" | tr '\n' ' ')"

# 5. One listing a pass.
BK_CONCURRENCY=2 backends_conf opsworks DebugLevel=verbose
for late in no yes; do
	opsworks_fake POST /_fake/reset >/dev/null
	if [ $late = yes ]; then opsworks_register 101 649; else opsworks_register 101 650; fi
	opsworks_fake POST /_fake/faults '{"latency_ms": 150}' >/dev/null
	: >"$log"
	"$top_builddir/slurm-identity-suspend" 'n[101-650]' >/dev/null 2>&1
	if [ $late = yes ]; then
		wait_for '[ "$(ow_calls DeregisterInstance)" -ge 1 ]' 60
		opsworks_register 650 650
	fi
	wait_for "grep -q 'queue empty, exiting' '$log'" 180
	first=$(grep -o 'deregister: 512 node(s): locks and Slurm [0-9]* ms, calls [0-9]*' "$log" | sed 's/.* //')
	lists=$(ow_calls DescribeInstances)
	left=$(backends_nodes opsworks)
	if [ $late = no ]; then
		[ -z "$left" ] && [ "${first:-0}" -gt 30000 ] && [ "$lists" = 1 ] &&
			! grep -q 'listing taken again' "$log"
		ok $? "opsworks: 550 nodes, first chunk's calls ${first:-?} ms, all listed: one listing ($lists), none left ($left)"
	else
		[ -z "$left" ] && [ "$lists" = 2 ] &&
			grep -q 'opsworks: listing taken again ([0-9]* s old, a node is not in it)' "$log"
		ok $? "opsworks: n650 registered after the listing: listed again ($lists) and removed, none left ($left)"
	fi
done

# 6. Reconcile meets a live worker.
BK_CONCURRENCY=2 backends_conf opsworks DebugLevel=verbose
opsworks_fake POST /_fake/reset >/dev/null
opsworks_register 101 400
opsworks_fake POST /_fake/faults '{"latency_ms": 200}' >/dev/null
: >"$log"
"$top_builddir/slurm-identity-suspend" 'n[101-400]' >/dev/null 2>&1
wait_for "! flock -n '$D/identity-opsworks/queue/.worker.lock' true && [ \"\$(ow_calls DeregisterInstance)\" -ge 1 ]" 60
ok $? "opsworks: a worker removes n[101-400] ($(ow_calls DeregisterInstance) calls so far)"
"$top_builddir/slurm-identity" reconcile >"$D/reconcile.out" 2>&1
rc=$?
busy=$(sed -n 's/^reconcile: .*, \([0-9]*\) busy, .*/\1/p' "$D/reconcile.out")
still=$(flock -n "$D/identity-opsworks/queue/.worker.lock" true && echo done || echo working)
[ "$rc" = 0 ] && [ "${busy:-0}" -ge 100 ] && grep -q ', 0 leaks, 0 removed, 0 failed' "$D/reconcile.out" &&
	grep -q '^busy opsworks n[0-9]* [^ ]*: node powered down; the running worker has it$' "$D/reconcile.out"
ok $? "opsworks: reconcile leaves the worker's nodes to it (exit $rc, $busy busy, worker $still at its end): $(tail -1 "$D/reconcile.out")" ||
	grep -v '^busy ' "$D/reconcile.out" | tail -5 | sed 's/^/# /'
wait_for "grep -q 'queue empty, exiting' '$log'" 120
calls=$(ow_calls DeregisterInstance)
left=$(backends_nodes opsworks)
[ -z "$left" ] && [ "$calls" = 300 ]
ok $? "opsworks: all 300 gone, one DeregisterInstance each ($calls calls; left: '$left')"

# 7. AD: 1,001 names, two searches.
if echo " $backends " | grep -q ' ad '; then
	backends_conf ad DebugLevel=verbose
	log=$D/log/identity-ad.log
	"$top_builddir/slurm-identity-resume" n1100 >/dev/null 2>&1
	wait_for "worker_idle '$D/identity-ad'" 60
	: >"$log"
	"$top_builddir/slurm-identity-resume" 'n[100-1100]' >"$D/resume.out" 2>&1
	rc=$?
	wait_for "worker_idle '$D/identity-ad'" 300
	made=$(grep -c ': ad: computer N[0-9]*:[0-9a-f]* created$' "$log")
	have=$(samba_computers | tr ' ' '\n' | grep -c -E '^N([1-9][0-9][0-9]|10[0-9][0-9]|1100)$')
	searches=$(grep -c 'ad: ldap search: ' "$log")
	binds=$(grep -c 'ad: bound to ' "$log")
	[ "$rc" = 0 ] && [ "$made" = 1000 ] && [ "$have" = 1001 ] && [ "$searches" = 4 ] &&
		[ "$binds" = 1 ] &&
		grep -q 'n1100: ad: computer N1100:[0-9a-f]* reset for a new instance$' "$log"
	ok $? "ad: resume of n[100-1100]: exit $rc, $made made, n1100 found by the second search and reset, $have accounts, $searches searches, $binds bind" ||
		{ tail -3 "$D/resume.out"; grep -v ' created$' "$log" | tail -5; } | sed 's/^/# /'

	: >"$log"
	"$top_builddir/slurm-identity-suspend" 'n[100-1100]' >/dev/null 2>&1
	wait_for "grep -q 'queue empty, exiting' '$log'" 300
	left=$(samba_computers | tr ' ' '\n' | grep -E '^N([1-9][0-9][0-9]|10[0-9][0-9]|1100)$' | sort | tr '\n' ' ')
	kept=$(sed -n 's/.*: n\([0-9]*\): deregister: node is [^ ]* now; its identity stays$/N\1/p' "$log" | sort | tr '\n' ' ')
	binds=$(grep -c 'ad: bound to ' "$log")
	[ "$left" = "$kept" ] && [ "$binds" = 1 ] &&
		[ "$(grep -c 'deregister: [0-9]* node(s): locks and Slurm' "$log")" = 2 ]
	ok $? "ad: suspend of n[100-1100]: the worker removed all but what Slurm has up (left '$left', kept '$kept') in two chunks with $binds bind" ||
		{ grep -E 'error|bound to|node\(s\)' "$log" | tail -8
		  # What was said of the nodes left that the rule did not keep.
		  for n in $left; do
			case " $kept " in *" $n "*) continue ;; esac
			echo "$n: journal: $(tr '\n' ' ' <"$D/identity-ad/controller/$(echo "$n" | tr N n)" 2>/dev/null)"
			grep -i "\b$n\b" "$log" "$D/resume.out" | tail -4
		  done; } | sed 's/^/# /'

	# 8. The DC drops the connection: on 127.0.0.2 a proxy closes every
	# older connection when a new one comes, so ldapmodify's connection
	# drops the resume's own between its two searches.
	proxy_start 127.0.0.2:636 127.0.0.1:636 --drop-older
	BK_DC=127.0.0.2 backends_conf ad DebugLevel=verbose
	: >"$log"
	"$top_builddir/slurm-identity-resume" 'n[30-32]' >"$D/resume.out" 2>&1
	rc=$?
	wait_for "worker_idle '$D/identity-ad'" 60
	binds=$(grep -c 'ad: bound to ldaps://127.0.0.2 ' "$log")
	made=$(grep -c -E ': ad: computer N3[0-2]:[0-9a-f]* (created|reset for a new instance)$' "$log")
	[ "$rc" = 0 ] && [ "$binds" = 2 ] && [ "$made" = 3 ] &&
		grep -q 'ad: connection to ldaps://127.0.0.2 lost; binding again' "$log"
	ok $? "ad: the DC dropped the connection between a resume's two searches: bound again ($binds binds), $made accounts made, exit $rc" ||
		grep 'ad: ' "$log" | tail -6 | sed 's/^/# /'

	# 9. The account is made but its join secret cannot be stored (the
	# Secrets Manager endpoint refuses connections, nothing listens in
	# this test's network namespace): the record keeps the new account's
	# id beside the error, so suspend removes that account (a run under
	# load lost it: the record kept the id of the account's previous
	# life, and removal found nothing of that life).
	backends_conf ad DebugLevel=verbose
	"$top_builddir/slurm-identity-resume" n40 >/dev/null 2>&1
	wait_for "worker_idle '$D/identity-ad'" 60
	: >"$log"
	AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:9 \
		"$top_builddir/slurm-identity-resume" n40 >"$D/resume.out" 2>&1
	wait_for "worker_idle '$D/identity-ad'" 60
	rec=$D/identity-ad/controller/n40
	life=$(sed -n 's/.*: ad: computer N40:\([0-9a-f]*\) reset for a new instance$/\1/p' "$log")
	[ -n "$life" ] && grep -qx "ad.id=N40:$life" "$rec" && grep -q '^error=ad: prepare: join secret: ' "$rec"
	ok $? "ad: account reset but its join secret refused: the record has the new life ($life) and the error ($(sed -n 's/^error=//p' "$rec" | cut -c1-80))" ||
		sed 's/^/# /' "$rec"
	"$top_builddir/slurm-identity-suspend" n40 >/dev/null 2>&1
	wait_for "flock -n '$D/identity-ad/queue/.worker.lock' true && ! samba_computers | grep -qw N40" 60
	ok $? "ad: and suspend removes that account ($(samba_computers | tr ' ' '\n' | grep -c .) accounts left)"
fi
tap_done
