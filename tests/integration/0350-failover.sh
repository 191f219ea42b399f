#!/bin/bash
# 0350-failover.sh: two controllers, nothing lost, nothing done twice.
# Two real slurmctld (SlurmctldHost ctl-a, then ctl-b), each in its own UTS
# and network namespace (its own hostname and address, routed through the
# test's namespace), sharing StateSaveLocation and StateDir, each running
# our hooks and a `slurm-identity watch`. The OpsWorks fake (200 ms a call)
# logs each call with its peer's address, so whose worker called when is
# known. SlurmctldTimeout=10: a backup takes over 10 s after the last
# heartbeat; our processes on a host stop acting at 5 s.
#   1. a resume of N nodes, then ctl-a's slurmctld killed: ctl-b takes
#      over; the nodes still coming up keep every registration;
#   2. ctl-a started again (Slurm gives it control back): one watcher acts;
#   3. a suspend of N nodes, ctl-a's slurmctld killed mid-way (its host
#      lives on): ctl-a's worker stops before ctl-b's first call, ctl-b's
#      worker finishes from the journal;
#   4. the same with ctl-a's whole namespace killed (the host dies).
# Each suspend: every registration gone, <= 1.05 calls per node, the two
# workers' calls never overlap, and the node kept powering up throughout
# (n<N+1>) never touched.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (namespaces, slurmctld)"
command -v slurmctld >/dev/null || skip_all "slurmctld not installed"
# It routes between namespaces: only in a network namespace of its own.
[ -n "${SI_ISOLATED:-}" ] || skip_all "needs its own network namespace (tests/lib/isolate.sh)"
N=${FAILOVER_NODES:-1000}
keep=n$((N + 1))
CLUSTER_DIR=$(test_dir failover)
D=$CLUSTER_DIR
py=$(python3 -c 'import sys; print(sys.executable)')
nsA="" nsB="" watchA="" watchB="" fake_pid=""
cleanup() {
	local p
	for p in $(ns_pids a) $(ns_pids b); do kill -9 "$p" 2>/dev/null; done
	[ -n "$nsA" ] && kill -9 "$nsA" 2>/dev/null
	[ -n "$nsB" ] && kill -9 "$nsB" 2>/dev/null
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
	moto_stop "$D/moto"
	[ -s "$D/munge.started" ] && kill "$(cat "$D/munge.started")" 2>/dev/null
	[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"
}
trap cleanup EXIT

# ns_pids a|b: the processes in that controller's network namespace (all
# started by this test there), the namespace's holder excepted.
ns_pids() {
	local holder net p
	holder=$([ "$1" = a ] && echo "$nsA" || echo "$nsB")
	[ -n "$holder" ] || return 0
	net=$(readlink "/proc/$holder/ns/net" 2>/dev/null) || return 0
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = "$holder" ] && continue
		[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$net" ] && echo "$p"
	done
}
# in_ns a|b CMD...: CMD in that controller's UTS and network namespaces.
in_ns() {
	local holder
	holder=$([ "$1" = a ] && echo "$nsA" || echo "$nsB")
	shift
	nsenter -t "$holder" -n -u -- "$@"
}
# ns_start a|b N: a namespace whose host is ctl-X at 10.77.N.2, routed
# through this one (10.77.N.1); the endpoints are at 10.77.0.1. Only
# 10.77.0.0/16 is routed: a default route would send DNS queries where
# nothing answers, and slurmctld 24.11 waits on a lookup per connection.
ns_start() {
	local x=$1 n=$2 holder
	unshare --net --uts -- sh -c "hostname ctl-$x; exec sleep 100000" &
	holder=$!
	disown
	wait_for "[ \"\$(nsenter -t $holder -u hostname 2>/dev/null)\" = ctl-$x ]" 10 || return 1
	ip link add "v$x" type veth peer name "v${x}1" &&
		ip link set "v${x}1" netns "$holder" &&
		ip addr add "10.77.$n.1/24" dev "v$x" && ip link set "v$x" up &&
		nsenter -t "$holder" -n sh -c "ip link set lo up && ip addr add 10.77.$n.2/24 dev v${x}1 &&
			ip link set v${x}1 up && ip route add 10.77.0.0/16 via 10.77.$n.1" || return 1
	if [ "$x" = a ]; then nsA=$holder; else nsB=$holder; fi
}

munge_ensure || bail "munge"
sysctl -qw net.ipv4.ip_forward=1 && ip addr add 10.77.0.1/32 dev lo || bail "cannot route here"
ns_start a 1 && ns_start b 2 || bail "cannot make the controllers' namespaces"

# The OpsWorks fake, for both hosts; its log has each call's peer.
echo '{"AKIDFO": {"secret": "fo", "policy": null}}' >"$D/creds.json"
/usr/bin/python3 "$top_srcdir/tests/fakes/fake_opsworks.py" --bind 0.0.0.0 --port 0 \
	--port-file "$D/opsworks.port" --credentials "$D/creds.json" \
	--stack s-failover:failover --log "$D/opsworks.log" 2>"$D/opsworks.err" &
fake_pid=$!
disown
wait_for "[ -s '$D/opsworks.port' ]" 20 || bail "the OpsWorks fake did not start"
ow=http://10.77.0.1:$(cat "$D/opsworks.port")
# EC2 (moto, no IAM: policies are not what this test is about): it knows
# none of the planted instances, so a sweep judges by Slurm alone.
. "$top_srcdir/tests/lib/moto.sh"
MOTO_BIND=0.0.0.0 moto_start "$D/moto" 100000000 >/dev/null || bail "moto did not start"
ec2=http://10.77.0.1:$(cat "$D/moto/port")
fake() { curl -sf -X "$1" ${3:+-H 'Content-Type: application/json' -d "$3"} "$ow$2"; }
registered() { fake GET /_fake/count; }
calls() { fake GET /_fake/calls | "$py" -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }
plant() { # plant FIRST LAST: registrations n<FIRST>..n<LAST>
	"$py" - "$ow" "$1" "$2" <<'EOP'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); c = http.client.HTTPConnection(u.hostname, u.port)
for i in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
    c.request("POST", "/_fake/register", json.dumps({"StackId": "s-failover",
              "Hostname": "n%d" % i, "Ec2InstanceId": "i-%017x" % i}),
              {"Content-Type": "application/json"})
    r = c.getresponse(); r.read(); assert r.status == 200, r.status
EOP
}

# The cluster: N+1 CLOUD nodes, our hooks chaining /bin/true, two
# controllers; slurm-X.conf differ only in pid and log files.
cluster_configure_cloud_only failover $((N + 1)) || bail "cannot configure"
cluster_install || bail "cannot install the programs"
mkdir -p "$D/identity" && cluster_own "$D/identity" && chmod 700 "$D/identity"
sed -i -e "s|^SlurmctldHost=.*|SlurmctldHost=ctl-a(10.77.1.2)\nSlurmctldHost=ctl-b(10.77.2.2)|" \
	-e "s|^ResumeProgram=.*|ResumeProgram=$D/sbin/slurm-identity-resume|" \
	-e "s|^SuspendProgram=.*|SuspendProgram=$D/sbin/slurm-identity-suspend|" \
	-e "s|^SuspendTimeout=.*|SuspendTimeout=5|" -e "s|NodeAddr=127.0.0.1|NodeAddr=10.77.0.1|" \
	-e "s|^SlurmctldDebug=.*|SlurmctldDebug=info|" \
	"$D/etc/slurm.conf"
printf '%s\n' "SlurmctldTimeout=10" "ResumeRate=0" "SuspendRate=0" >>"$D/etc/slurm.conf"
for x in a b; do
	sed -e "s|^SlurmctldPidFile=.*|SlurmctldPidFile=$D/run/slurmctld-$x.pid|" \
		-e "s|^SlurmctldLogFile=.*|SlurmctldLogFile=$D/log/slurmctld-$x.log|" \
		"$D/etc/slurm.conf" >"$D/etc/slurm-$x.conf"
done
cat >"$D/etc/aws.config" <<EOC
[default]
region = us-east-1
aws_access_key_id = AKIDFO
aws_secret_access_key = fo
services = fo

[services fo]
opsworks =
  endpoint_url = $ow
ec2 =
  endpoint_url = $ec2
sts =
  endpoint_url = $ec2
EOC
cluster_own "$D/etc/aws.config" && chmod 600 "$D/etc/aws.config"
touch "$D/log/identity.log" && cluster_own "$D/log/identity.log"
printf '%s\n' "Backends=opsworks" "OpsWorksStackId=s-failover" "StateDir=$D/identity" \
	"LogFile=$D/log/identity.log" "MaxConcurrency=16" "RequestTimeout=2" \
	"AwsConfigFile=$D/etc/aws.config" "ChainResumeProgram=/bin/true" \
	"ChainSuspendProgram=/bin/true" "WatchPeriod=2" >"$D/etc/identity.conf"
export SLURM_CONF=$D/etc/slurm-a.conf SLURM_IDENTITY_CONF=$D/etc/identity.conf
log=$D/log/identity.log

# ctld_start a|b: that host's slurmctld; ctld_pid a|b.
ctld_pid() { cat "$D/run/slurmctld-$1.pid" 2>/dev/null; }
ctld_start() {
	rm -f "$D/run/slurmctld-$1.pid"
	in_ns "$1" env SLURM_CONF="$D/etc/slurm-$1.conf" slurmctld -f "$D/etc/slurm-$1.conf" -i &&
		wait_for "[ -s '$D/run/slurmctld-$1.pid' ] && kill -0 \$(ctld_pid $1) 2>/dev/null" 30
}
# in_control a|b: Slurm's heartbeat names that controller, fresh.
in_control() {
	local want now
	want=$([ "$1" = a ] && echo 0 || echo 1)
	now=$(date +%s)
	"$py" - "$D/state/heartbeat" "$want" "$now" <<'EOP'
import struct, sys
try:
    t, i = struct.unpack(">QQ", open(sys.argv[1], "rb").read(16))
except (OSError, struct.error):
    sys.exit(1)
sys.exit(0 if i == int(sys.argv[2]) and int(sys.argv[3]) - t <= 5 else 1)
EOP
}
# watch_start a|b: that host's watcher (root: it acts as StateDir's owner).
watch_start() {
	local holder
	holder=$([ "$1" = a ] && echo "$nsA" || echo "$nsB")
	# nsenter itself (it execs the watcher), not a subshell: $! is its pid.
	nsenter -t "$holder" -n -u -- env SLURM_CONF="$D/etc/slurm-$1.conf" \
		SLURM_IDENTITY_CONF="$D/etc/identity.conf" \
		"$D/sbin/slurm-identity" watch </dev/null >>"$D/log/watch-$1.out" 2>&1 &
	if [ "$1" = a ]; then watchA=$!; else watchB=$!; fi
	disown
}
active_watcher() { # the pid holding the watcher's lock (a POSIX lock)
	local f=$D/identity/watch/.lock ino
	[ -e "$f" ] || return 0
	ino=$(stat -c %i "$f")
	awk -v ino="$ino" '$2 == "POSIX" && $4 == "WRITE" { n = split($6, a, ":"); if (a[n] == ino) print $5 }' /proc/locks
}

ctld_start a || bail "ctl-a's slurmctld did not start"
wait_for "in_control a" 30
ok $? "ctl-a's slurmctld is in control (Slurm's heartbeat names it)"
ctld_start b || bail "ctl-b's slurmctld did not start"
wait_for "grep -q 'slurmctld running in background mode' '$D/log/slurmctld-b.log'" 30
ok $? "ctl-b's slurmctld stands by as the backup"
watch_start a
watch_start b
wait_for "grep -q 'slurm-identity\\[$watchA\\]: watch: active' '$log' &&
	grep -q 'slurm-identity\\[$watchB\\]: watch: standing by: ctl-a is in control' '$log'" 60
ok $? "the watcher on ctl-a acts, the one on ctl-b stands by ($(grep -c 'watch: ' "$log") watcher lines)"

# check, on ctl-a: Slurm's heartbeat readable, StateDir on the storage
# StateSaveLocation is on (here one machine's: said so); and a StateDir on
# a filesystem of its own, which no other controller would see, refused.
in_ns a env SLURM_CONF="$D/etc/slurm-a.conf" SLURM_IDENTITY_CONF="$D/etc/identity.conf" \
	"$D/sbin/slurm-identity" check >"$D/check-a.out" 2>&1
grep -q "^ok: failover: 2 controllers; Slurm's heartbeat: ctl-a is in control" "$D/check-a.out" &&
	grep -q "^ok: failover: StateDir is on StateSaveLocation's filesystem" "$D/check-a.out" &&
	grep -q "warning: failover: StateDir is on a local .* every controller must run here" "$D/check-a.out"
ok $? "check: the heartbeat names ctl-a, StateDir shares StateSaveLocation's storage (one machine's: said)" ||
	grep failover "$D/check-a.out" | sed 's/^/# /'
mkdir -p "$D/own-fs" && mount -t tmpfs -o mode=700 tmpfs "$D/own-fs" && cluster_own "$D/own-fs"
sed "s|^StateDir=.*|StateDir=$D/own-fs|" "$D/etc/identity.conf" >"$D/etc/identity-own.conf"
in_ns a env SLURM_CONF="$D/etc/slurm-a.conf" SLURM_IDENTITY_CONF="$D/etc/identity-own.conf" \
	"$D/sbin/slurm-identity" check >"$D/check-own.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "^slurm-identity: check: failover: StateDir $D/own-fs is on a local tmpfs filesystem, StateSaveLocation $D/state is not on it" "$D/check-own.out"
ok $? "check refuses a StateDir the other controller cannot see (exit $rc)" ||
	grep failover "$D/check-own.out" | sed 's/^/# /'
umount "$D/own-fs"

# The kept node: powering up throughout, registered, never removed.
plant $((N + 1)) $((N + 1)) || bail "cannot plant"
scontrol update nodename="$keep" state=power_up
wait_for '[ "$(node_state $keep)" = "idle#" ]' 60 || bail "$keep is not powering up"

# 1. A resume, then ctl-a's slurmctld killed once it has saved the nodes'
# state (what it had not saved, ctl-b never knows: Slurm's own loss).
plant 1 "$N" || bail "cannot plant"
t_up=$(date +%s)
scontrol update nodename="n[1-$N]" state=power_up
wait_for "grep -q 'slurm-identity-resume\\[[0-9]*\\]: n\\[1-$N\\]: resume done' '$log'" 60
ok $? "ctl-a's slurmctld ran the resume hook for n[1-$N]"
wait_for "[ \$(stat -c %Y '$D/state/node_state') -gt $t_up ]" 30 ||
	echo "# node_state not saved since the power-up"
t_kill=$(date +%s.%N)
kill -9 "$(ctld_pid a)"
wait_for "in_control b" 60
ok $? "ctl-b took control after ctl-a's slurmctld was killed ($(echo "$(date +%s.%N) - $t_kill" | bc | cut -c1-5) s)"
# ctl-b's watcher active, and its first sweep done (its status says so).
wait_for "grep -q 'slurm-identity\\[$watchB\\]: watch: active' '$log' &&
	grep -qx 'pid=$watchB' '$D/identity/watch/status' &&
	! grep -qx 'last_sweep=0' '$D/identity/watch/status'" 60
ok $? "ctl-b's watcher took over and swept; ctl-a's stood down ($(grep "slurm-identity\\[$watchA\\]: watch: not" "$log" | tail -1 | sed 's/.*watch: //'))"
[ "$(node_state n1)" = "idle#" ] && [ "$(node_state n$N)" = "idle#" ]
ok $? "ctl-b has n[1-$N] powering up, as ctl-a left them (n1 $(node_state n1))"
[ "$(registered)" = $((N + 1)) ] && [ "$(calls DeregisterInstance)" = 0 ]
ok $? "nodes coming up across the takeover keep every registration ($(registered) of $((N + 1)), $(calls DeregisterInstance) DeregisterInstance)"

# 2. ctl-a back: Slurm gives it control again; one watcher acts.
ctld_start a || bail "ctl-a's slurmctld did not start again"
wait_for "in_control a" 60
ok $? "ctl-a's slurmctld, started again, has control back"
wait_for "[ \"\$(active_watcher)\" = $watchA ]" 60 &&
	grep -q "slurm-identity\\[$watchB\\]: watch: not in control" "$log"
ok $? "ctl-b's watcher let go, ctl-a's acts again (lock: $(active_watcher))"

# suspend_trial WHAT: a suspend of n[1-N], ctl-a's slurmctld (ctld) or its
# whole namespace (host) killed a quarter of the way; ctl-b finishes.
suspend_trial() {
	local what=$1 t_kill t_b first_b last_a c t_gone
	fake POST /_fake/reset >/dev/null
	fake POST /_fake/faults '{"latency_ms": 200}' >/dev/null
	plant 1 "$N" && plant $((N + 1)) $((N + 1)) || bail "cannot plant"
	: >"$D/opsworks.log"
	scontrol update nodename="n[1-$N]" state=power_down_force
	wait_for "[ \$(registered) -le $((N * 3 / 4)) ]" 120
	ok $? "$what: ctl-a's worker deregisters ($(registered) left)"
	t_kill=$(date +%s.%N)
	if [ "$what" = ctld ]; then
		kill -9 "$(ctld_pid a)"
	else
		for p in $(ns_pids a); do kill -9 "$p" 2>/dev/null; done
		kill -9 "$nsA"
		nsA=""
	fi
	wait_for "[ \$(registered) = 1 ]" 180
	ok $? "$what: every registration gone after the takeover ($(registered) left: $keep)"
	t_gone=$(date +%s.%N)
	wait_for "worker_idle '$D/identity'" 60
	ok $? "$what: the queue is empty and no worker runs"
	c=$(calls DeregisterInstance)
	[ "$c" -le $((N * 105 / 100)) ]
	ok $? "$what: <= 1.05 DeregisterInstance per node ($c for $N)"
	# Whose calls when: peer 10.77.1.2 is ctl-a, 10.77.2.2 ctl-b.
	read -r last_a first_b first_b_dereg <<<"$("$py" - "$D/opsworks.log" <<'EOP'
import re, sys
a_end, b_start, b_dereg = 0.0, None, None
for line in open(sys.argv[1]):
    m = re.search(r" (\w+) key=\S+ status=\S+ code=\S+ \S+ peer=(\S+) start=(\S+) end=(\S+)", line)
    if not m:
        continue
    op, peer, s, e = m.group(1), m.group(2), float(m.group(3)), float(m.group(4))
    if peer == "10.77.1.2":
        a_end = max(a_end, e)
    elif peer == "10.77.2.2":
        b_start = s if b_start is None else min(b_start, s)
        if op == "DeregisterInstance":
            b_dereg = s if b_dereg is None else min(b_dereg, s)
f = lambda v: "none" if v is None else "%.6f" % v
print("%.6f %s %s" % (a_end, f(b_start), f(b_dereg)))
EOP
)"
	[ "$first_b" != none ] && [ "$(echo "$last_a < $first_b" | bc)" = 1 ]
	ok $? "$what: the two workers never called at once (ctl-a's last call ended $(echo "$first_b - $last_a" | bc 2>/dev/null | cut -c1-5) s before ctl-b's first began)"
	[ "$first_b_dereg" != none ] && [ "$(echo "$first_b_dereg - $t_kill <= 20" | bc)" = 1 ]
	ok $? "$what: ctl-b's worker deregisters $(echo "$first_b_dereg - $t_kill" | bc 2>/dev/null | cut -c1-5) s after the kill (<= SlurmctldTimeout + 10 s; its first call of any kind at $(echo "$first_b - $t_kill" | bc 2>/dev/null | cut -c1-5) s)"
	# 1.2 x the API's bound for the whole batch (N x 200 ms / 16), plus
	# the takeover's 20 s.
	[ "$(echo "$t_gone - $t_kill <= 1.2 * $N * 0.2 / 16 + 20" | bc)" = 1 ]
	ok $? "$what: all gone $(echo "$t_gone - $t_kill" | bc | cut -c1-5) s after the kill (<= 1.2 x $(echo "$N * 0.2 / 16" | bc -l | cut -c1-5) s + 20 s)"
	if [ "$what" = ctld ]; then
		grep -q "slurm-identity-suspend\\[[0-9]*\\]: worker: .*stopping; [0-9]* batch(es) stay queued for the controller in control\\|worker: .*not in control" "$log" ||
			grep -q "worker: not acting: " "$log"
		ok $? "$what: ctl-a's worker, its host alive, stopped by itself ($(grep -m1 'worker: not acting' "$log" | sed 's/.*worker: //'))"
	fi
	[ "$(fake GET /_fake/registry | "$py" -c 'import json,sys; print(" ".join(i["Hostname"] for i in json.load(sys.stdin)))')" = "$keep" ]
	ok $? "$what: $keep, powering up throughout, kept its registration"
}

# 3. ctl-a's slurmctld killed during a suspend.
suspend_trial ctld
# Back to ctl-a in control for the next trial, the nodes down again.
wait_for "[ \"\$(node_state n1)\" = 'idle~' ]" 60 || echo "# n1: $(node_state n1)"
ctld_start a || bail "ctl-a's slurmctld did not start again"
wait_for "in_control a" 60 || bail "ctl-a did not take control back"
wait_for "[ \"\$(active_watcher)\" = $watchA ]" 60 || bail "ctl-a's watcher did not take over"
scontrol update nodename="n[1-$N]" state=power_up
wait_for "[ \$(grep -c 'slurm-identity-resume\\[[0-9]*\\]: n\\[1-$N\\]: resume done' '$log') = 2 ]" 60 ||
	bail "no second resume of n[1-$N]"

# 4. ctl-a's whole namespace killed during a suspend: the host is gone.
suspend_trial host
in_control b
ok $? "ctl-b is in control at the end"
grep -q 'BUG\|Traceback' "$D/opsworks.err" "$D/opsworks.log"
ok $((!$?)) "the OpsWorks fake found no bad request"
[ "$CLUSTER_SLURM_USER" = root ] || [ -z "$(find "$D/identity" -user root)" ]
ok $? "nothing in StateDir is root's"
tap_done
