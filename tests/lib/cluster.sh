# cluster.sh: a real Slurm cluster with power saving on this one machine.
#
# Sourced by integration tests. slurmctld runs as SlurmUser slurm, as on
# real clusters (CLUSTER_SLURM_USER=root for the old shape), and runs our
# power hooks as that user, from copies of the programs in $CLUSTER_DIR/sbin
# (the build tree may sit below a 0700 directory). StateDir, the logs and
# the controller's AWS config are SlurmUser's; identity.conf is root's and
# readable. The chained "cloud" programs (cloud-resume, cloud-suspend) ask
# the test's "hypervisor" (root, as a cloud's is: SlurmUser can neither
# make namespaces nor kill root's slurmd) to create and terminate the
# node's EC2 instance in moto, start its IMDSv2 endpoint, and boot one real
# slurmd per node in its own UTS, time and mount namespaces (hostname =
# node name, fresh boot time, its own AWS config and its own local
# StateDir, nodes/NODE/state, bind-mounted over the shared paths).
# Terminating an instance kills its slurmd with SIGKILL and deletes its
# local state, as losing the instance's disk would.
#
# CLUSTER_HOOKS=none: slurmctld runs the cloud's programs itself, none of
# ours (AWS PCS, a site that does not chain us): only the prolog, the
# epilog and `slurm-identity watch` do identity work.
#
# Needs: CLUSTER_DIR (empty dir), top_srcdir, top_builddir, and the AWS
# endpoints set up by aws_env_start (aws_env.sh).

CLUSTER_NODES=${CLUSTER_NODES:-2}
CLUSTER_SLURM_USER=${CLUSTER_SLURM_USER:-slurm}
id -u "$CLUSTER_SLURM_USER" >/dev/null 2>&1 || CLUSTER_SLURM_USER=root

# cluster_own PATH...: SlurmUser's.
cluster_own() {
	chown "$CLUSTER_SLURM_USER:" "$@"
}

# The programs slurmctld and slurmd run, copied where SlurmUser reaches
# them; the prolog finds its slow path beside itself.
cluster_install() {
	local d=$CLUSTER_DIR p
	mkdir -p "$d/sbin" || return 1
	for p in slurm-identity slurm-identity-resume slurm-identity-suspend \
		slurm-identity-resume-fail slurm-identity-prolog \
		slurm-identity-prolog-register slurm-identity-epilog; do
		cp "$top_builddir/$p" "$d/sbin/$p" && chmod 755 "$d/sbin/$p" || return 1
	done
}

cluster_free_port() {
	# A base port with $1 free ports above it, below the kernel's range
	# for outgoing connections: a port there that no one listens on can
	# still be taken, between our look and slurmctld's bind, by any
	# client's connection (a CI run lost 0300 to that).
	local n=$1 base tries=0 low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	# A range set unusually low leaves no room below it: use the default's.
	[ "$low" -gt $((12000 + n)) ] || low=32768
	while [ $tries -lt 50 ]; do
		base=$((10000 + RANDOM % (low - 10000 - n - 1)))
		local ok=1 p
		for p in $(seq "$base" $((base + n))); do
			# Any socket on it, listening or not.
			if ss -Htan "sport = :$p" | grep -q .; then ok=0; break; fi
		done
		[ $ok = 1 ] && { echo "$base"; return 0; }
		tries=$((tries + 1))
	done
	return 1
}

# The Slurm release of the commands on PATH, as a number: 2205, 2411, 2605.
slurm_release() {
	slurmd -V 2>/dev/null | sed -n 's/^slurm[^ ]* \([0-9]*\)\.\([0-9]*\).*/\1\2/p'
}

# A munged for the cluster: the one running, or one of our own, stopped by
# its pid at the end (never one we did not start). --origin: Slurm 26.05
# looks the origin address up, and the host's name may not resolve here.
munge_ensure() {
	local i
	if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
		return 0
	fi
	mkdir -p /run/munge && chown munge:munge /run/munge
	runuser -u munge -- munged --origin=127.0.0.1 \
		--pid-file=/run/munge/munged.pid || return 1
	for i in $(seq 1 50); do
		[ -s /run/munge/munged.pid ] && break
		sleep 0.1
	done
	cp /run/munge/munged.pid "$CLUSTER_DIR/munge.started" || return 1
	for i in $(seq 1 50); do
		munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# cluster_configure [identity.conf lines...]
cluster_configure() {
	local d=$CLUSTER_DIR base i nodes release
	mkdir -p "$d/etc" "$d/state" "$d/spool" "$d/log" "$d/run" "$d/bin" \
		"$d/nodes" "$d/identity" "$d/cloud"
	chmod 700 "$d/identity"
	: >"$d/log/cloud.log"
	cluster_own "$d/state" "$d/log" "$d/run" "$d/identity" "$d/cloud" \
		"$d/log/cloud.log" || return 1
	cluster_install || return 1
	base=$(cluster_free_port $((CLUSTER_NODES + 2))) || return 1
	release=$(slurm_release)
	echo "$base" >"$d/base_port"
	nodes="n[1-$CLUSTER_NODES]"
	cat >"$d/etc/slurm.conf" <<EOC
ClusterName=sitest
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=$CLUSTER_SLURM_USER
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd-%n.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd-%n.log
SlurmctldDebug=${SI_SLURMCTLD_DEBUG:-info}
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
TreeWidth=65533
SlurmctldParameters=idle_on_node_suspend,cloud_dns
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SuspendTime=${CLUSTER_SUSPEND_TIME:-15}
SuspendTimeout=${CLUSTER_SUSPEND_TIMEOUT:-15}
ResumeTimeout=${CLUSTER_RESUME_TIMEOUT:-60}
ResumeRate=0
SuspendRate=0
ResumeProgram=$d/sbin/slurm-identity-resume
SuspendProgram=$d/sbin/slurm-identity-suspend
ResumeFailProgram=$d/sbin/slurm-identity-resume-fail
Prolog=$d/sbin/slurm-identity-prolog
Epilog=$d/sbin/slurm-identity-epilog
PrologFlags=Alloc
PrologEpilogTimeout=90
KillWait=5
MinJobAge=300
EOC
	# 22.05 caches node addresses unless told not to; 23.02+ has no such
	# cache and calls the option defunct. No cgroup file system here.
	if [ "${release:-0}" -lt 2302 ]; then
		echo "CommunicationParameters=NoAddrCache" >>"$d/etc/slurm.conf"
	else
		echo "CgroupPlugin=disabled" >"$d/etc/cgroup.conf"
	fi
	for i in $(seq 1 "$CLUSTER_NODES"); do
		echo "NodeName=n$i CPUs=1 RealMemory=100 State=CLOUD NodeAddr=127.0.0.1 Port=$((base + 1 + i))" \
			>>"$d/etc/slurm.conf"
	done
	echo "PartitionName=cloud Nodes=$nodes Default=YES MaxTime=INFINITE State=UP" \
		>>"$d/etc/slurm.conf"
	if [ "${CLUSTER_HOOKS:-ours}" = none ]; then
		sed -i -e "s|^ResumeProgram=.*|ResumeProgram=$d/bin/cloud-resume|" \
			-e "s|^SuspendProgram=.*|SuspendProgram=$d/bin/cloud-suspend|" \
			-e "s|^ResumeFailProgram=.*|ResumeFailProgram=$d/bin/cloud-suspend|" \
			"$d/etc/slurm.conf" || return 1
		# 26.05: the power-down runs on the node itself (PowerAction
		# Location=slurmd, as SlurmdUser, the node name last): no
		# program on the controller sees it.
		if [ "${release:-0}" -ge 2605 ]; then
			sed -i "s|^SuspendProgram=.*|SuspendProgram=nodedown|" "$d/etc/slurm.conf" &&
				echo "PowerAction=nodedown Location=slurmd Program=\"$d/bin/cloud-suspend\"" \
					>>"$d/etc/slurm.conf" || return 1
		fi
	elif [ "${release:-0}" -ge 2605 ]; then
		# 26.05: our hooks as PowerActions, their options before the
		# node list Slurm appends.
		sed -i -e "s|^ResumeProgram=.*|ResumeProgram=idresume|" \
			-e "s|^SuspendProgram=.*|SuspendProgram=idsuspend|" \
			-e "s|^ResumeFailProgram=.*|ResumeFailProgram=idresumefail|" \
			"$d/etc/slurm.conf" || return 1
		{
			echo "PowerAction=idresume Location=slurmctld Program=\"$d/sbin/slurm-identity-resume -c $d/etc/identity.conf\""
			echo "PowerAction=idsuspend Location=slurmctld Program=\"$d/sbin/slurm-identity-suspend -c $d/etc/identity.conf\""
			echo "PowerAction=idresumefail Location=slurmctld Program=\"$d/sbin/slurm-identity-resume-fail -c $d/etc/identity.conf\""
		} >>"$d/etc/slurm.conf"
	fi
	{
		echo "# identity.conf written by tests/lib/cluster.sh"
		echo "StateDir=$d/identity"
		echo "LogFile=$d/log/identity.log"
		echo "DebugLevel=verbose"
		echo "AwsConfigFile=$d/etc/aws.config"
		echo "ChainResumeProgram=$d/bin/cloud-resume"
		echo "ChainSuspendProgram=$d/bin/cloud-suspend"
		echo "ChainResumeFailProgram=$d/bin/cloud-suspend"
		echo "RequestTimeout=5"
		# Each host's own textfile: nodes keep their counts in their own
		# StateDir.
		echo "MetricsFile=$d/log/identity-%n.prom"
		for line in "$@"; do echo "$line"; done
	} >"$d/etc/identity.conf"
	chmod 644 "$d/etc/identity.conf" "$d/etc/slurm.conf"
	cluster_write_cloud
}

# cluster_configure_cloud_only NAME N: slurm.conf for a controller alone:
# N CLOUD nodes n[1-N], powered down, no slurmd ever (the power programs
# are /bin/true), for tests and benchmarks that call our hooks themselves
# (as root: with StateDir SlurmUser's, they act as SlurmUser).
cluster_configure_cloud_only() {
	local d=$CLUSTER_DIR name=$1 n=$2 base
	mkdir -p "$d/etc" "$d/state" "$d/log" "$d/run" || return 1
	cluster_own "$d/state" "$d/log" "$d/run" || return 1
	base=$(cluster_free_port 2) || return 1
	cat >"$d/etc/slurm.conf" <<EOC
ClusterName=$name
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=$CLUSTER_SLURM_USER
AuthType=auth/munge
StateSaveLocation=$d/state
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmctldDebug=error
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
MpiDefault=none
TreeWidth=65533
SuspendTime=3600
SuspendTimeout=30
ResumeTimeout=3600
ResumeProgram=/bin/true
SuspendProgram=/bin/true
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=n[1-$n] CPUs=1 RealMemory=100 State=CLOUD NodeAddr=127.0.0.1
PartitionName=cloud Nodes=n[1-$n] Default=YES MaxTime=INFINITE State=UP
EOC
	[ "$(slurm_release)" -ge 2302 ] && echo "CgroupPlugin=disabled" >"$d/etc/cgroup.conf"
	return 0
}

# The chained cloud programs. slurmctld runs them as SlurmUser with no
# PATH and only SLURM_CONF, so everything they need is written into them.
# Each hands its node list to the hypervisor (root) and waits for it:
# cloud-resume-root / cloud-suspend-root do the work.
cluster_write_cloud() {
	local d=$CLUSTER_DIR py kind
	py=$(command -v python3)
	py=$("$py" -c 'import sys; print(sys.executable)')
	for kind in resume suspend; do
		cat >"$d/bin/cloud-$kind" <<EOC
#!/bin/bash
# Test cloud: ask the hypervisor to $kind \$1, and wait for it.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
exec >>"$d/log/cloud.log" 2>&1
echo "\$(date +%T) cloud-$kind \$1 (as \$(id -un))"
# What the chained program is given (0300 checks it is Slurm's, not ours).
echo "chain-env: AWS_CONFIG_FILE=\${AWS_CONFIG_FILE-unset} AWS_SHARED_CREDENTIALS_FILE=\${AWS_SHARED_CREDENTIALS_FILE-unset} core-hard=\$(ulimit -Hc)"
req=$d/cloud/\$\$-\$(date +%s%N)
printf '%s\n' "\$1" >"\$req.tmp" && mv "\$req.tmp" "\$req.$kind"
for i in \$(seq 1 3000); do
	[ -s "\$req.done" ] && exit "\$(cat "\$req.done")"
	sleep 0.1
done
echo "cloud-$kind: the hypervisor did not answer in 300 s"
exit 1
EOC
	done
	cat >"$d/bin/cloud-resume-root" <<EOC
#!/bin/bash
# Test cloud, as root: launch an instance per node and boot its slurmd.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin SLURM_CONF=$d/etc/slurm.conf
export SI_IN_CHROOT=${SI_IN_CHROOT:-}
exec >>"$d/log/cloud.log" 2>&1
# slurmctld accepts a node only with a boot time after its power-up request
# (whole seconds): let two seconds pass, then boot with uptime ~0.
sleep 2
for n in \$(scontrol show hostnames "\$1"); do
	"$py" "$top_srcdir/tests/lib/cloud.py" --dir "$d" launch "\$n" || exit 1
	# A test's way to have an instance that never boots.
	[ -e "$d/cloud/no-boot.\$n" ] && { echo "cloud: \$n does not boot (no-boot)"; continue; }
	$top_srcdir/tests/lib/boot-node.sh "$d" "\$n" || exit 1
done
EOC
	cat >"$d/bin/cloud-suspend-root" <<EOC
#!/bin/bash
# Test cloud, as root: terminate each node's instance (slurmd killed, disk
# lost).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin SLURM_CONF=$d/etc/slurm.conf
exec >>"$d/log/cloud.log" 2>&1
for n in \$(scontrol show hostnames "\$1"); do
	$top_srcdir/tests/lib/halt-node.sh "$d" "\$n"
	"$py" "$top_srcdir/tests/lib/cloud.py" --dir "$d" terminate "\$n"
done
exit 0
EOC
	chmod 755 "$d/bin/cloud-resume" "$d/bin/cloud-suspend" \
		"$d/bin/cloud-resume-root" "$d/bin/cloud-suspend-root"
}

# The hypervisor: root's side of the test cloud. Runs each request the
# cloud programs leave in $CLUSTER_DIR/cloud (NAME.resume, NAME.suspend:
# a node list) as it comes, and answers with NAME.done (the exit status).
# $CLUSTER_DIR/cloud/no-boot.NODE: NODE's instance is launched but never
# boots (ResumeTimeout scenarios).
cluster_hypervisor() {
	local d=$CLUSTER_DIR
	(
		trap 'exit 0' TERM
		while :; do
			for req in "$d"/cloud/*.resume "$d"/cloud/*.suspend; do
				[ -f "$req" ] || continue
				name=${req%.*} kind=${req##*.}
				mv "$req" "$name.taken" 2>/dev/null || continue
				(
					"$d/bin/cloud-$kind-root" "$(cat "$name.taken")"
					echo $? >"$name.tmp" && mv "$name.tmp" "$name.done"
					rm -f "$name.taken"
				) </dev/null &
			done
			sleep 0.1
		done
	) </dev/null >>"$d/log/cloud.log" 2>&1 &
	echo $! >"$d/run/hypervisor.pid"
}

cluster_start() {
	local d=$CLUSTER_DIR i
	munge_ensure || { echo "# munge failed"; return 1; }
	[ -s "$d/run/hypervisor.pid" ] || cluster_hypervisor
	export SLURM_CONF=$d/etc/slurm.conf
	slurmctld -f "$SLURM_CONF" -i
	for i in $(seq 1 50); do
		scontrol ping 2>/dev/null | grep -q UP && return 0
		sleep 0.2
	done
	echo "# slurmctld did not come up"; tail -20 "$d/log/slurmctld.log" | sed 's/^/# /'
	return 1
}

cluster_stop() {
	local d=$CLUSTER_DIR pid f
	[ -n "${CLUSTER_DIR:-}" ] || return 0
	if [ -f "$d/run/slurmctld.pid" ]; then
		pid=$(cat "$d/run/slurmctld.pid")
		kill "$pid" 2>/dev/null
		for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	fi
	[ -s "$d/run/hypervisor.pid" ] && kill "$(cat "$d/run/hypervisor.pid")" 2>/dev/null
	rm -f "$d/run/hypervisor.pid"
	for f in "$d"/nodes/*/slurmd.pid "$d"/nodes/*/imds.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	# A deregistration worker still retrying: ours if it holds our lock
	# and runs with our SLURM_CONF.
	f=$d/identity/queue/.worker.lock
	pid=$(cat "$f" 2>/dev/null)
	if [ -n "$pid" ] && ! flock -n "$f" true 2>/dev/null &&
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "SLURM_CONF=$d/etc/slurm.conf"; then
		kill -9 "$pid" 2>/dev/null
	fi
	if [ -s "$d/munge.started" ]; then
		kill "$(cat "$d/munge.started")" 2>/dev/null
		rm -f "$d/munge.started"
	fi
	return 0
}

# worker_idle [STATEDIR]: the worker (of the cluster's StateDir unless
# named) has nothing queued and is not running: what a resume or suspend
# queued is done.
worker_idle() {
	local q=${1:-$CLUSTER_DIR/identity}/queue
	! ls "$q"/*.batch >/dev/null 2>&1 &&
		{ [ ! -e "$q/.worker.lock" ] || flock -n "$q/.worker.lock" true; }
}

# cluster_spank_plugin DIR: a copy of spank_identity.so in DIR, printed.
# Jobs' users must load it, and the build tree may sit below a 0700
# directory (a clone in /root).
cluster_spank_plugin() {
	cp "$top_builddir/.libs/spank_identity.so" "$1/spank_identity.so" &&
		chmod 755 "$1/spank_identity.so" && echo "$1/spank_identity.so"
}

# The pid of a running hook NAME of this test's cluster (its slurmctld
# gave it our SLURM_CONF), never another cluster's.
cluster_hook_pid() {
	local pid
	for pid in $(pgrep -f "$1 "); do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
			grep -qx "SLURM_CONF=$CLUSTER_DIR/etc/slurm.conf" && { echo "$pid"; return 0; }
	done
	return 1
}

# Wait up to $2 seconds for a shell condition $1.
wait_for() {
	local cond=$1 secs=${2:-30} i
	for i in $(seq 1 $((secs * 5))); do
		eval "$cond" && return 0
		sleep 0.2
	done
	return 1
}

node_state() {
	sinfo -h -N -n "$1" -o '%T' 2>/dev/null | head -1
}

# node_not_responding NODE JOB: after halt-node.sh, wait until Slurm itself
# has found NODE not answering (its state gains "*"), as its pings would
# within SlurmdTimeout; a harmless signal to JOB, running there, makes
# slurmctld contact the node now. Only then may a test mark the node DOWN
# and count on it staying DOWN: since 23.11 slurmctld applies a node's
# answers in a pass of its own (agent.c, every 2 s), and an answer the node
# gave just before it died, applied after a DOWN, returns the node to
# service under ReturnToService=2 ("node_did_resp: node n1 returned to
# service", seen on 26.05). Slurm sets "*" only when the node has
# not answered since the request went out, so once it shows, every answer
# the node gave has been taken in. A request whose answer was still pending
# is not enough: ask again.
node_no_respond() {
	case "$(node_state "$1")" in *\*) return 0 ;; esac
	return 1
}
node_not_responding() {
	local n=$1 job=$2 round
	for round in 1 2 3 4; do
		scancel --signal=CONT "$job" 2>/dev/null
		wait_for "node_no_respond $n" 30 && return 0
	done
	return 1
}

# A node's Comment, empty when unset. A node whose registration failed is
# drained and power-cycled at once: Slurm's reason lasts only until it is
# powered down, so the product keeps the reason in the Comment too.
node_comment() {
	scontrol show node "$1" 2>/dev/null | sed -n 's/^ *Comment=//p' | sed 's/^(null)$//'
}

dump_logs() {
	local f
	for f in "$CLUSTER_DIR"/log/*.log; do
		echo "# ---- $f"
		tail -n ${1:-30} "$f" | sed 's/^/# /'
	done
}
