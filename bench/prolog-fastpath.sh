#!/bin/bash
# prolog-fastpath.sh [RUNS]: time of slurm-identity-prolog when the node's
# identity is already established (the path every job takes), with a
# slurm.conf of 10,000 nodes beside identity.conf, against a trivial
# program run the same way. Prints min / median / p90; not a test.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/_build}
runs=${1:-300}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
mkdir -p -m 700 "$d/state/node"
printf 'Backends=opsworks\nOpsWorksStackId=s-1\nStateDir=%s/state\nLogFile=%s/log\n' "$d" "$d" >"$d/identity.conf"
chmod 644 "$d/identity.conf"
{
	echo "ClusterName=bench"
	for i in $(seq 1 10000); do echo "NodeName=n$i CPUs=1 State=CLOUD"; done
	echo "PartitionName=cloud Nodes=n[1-10000]"
} >"$d/slurm.conf"
printf 'node=n1\nphase=ready\nboot_id=%s\ninstance=i-0123456789abcdef0\n' \
	"$(cat /proc/sys/kernel/random/boot_id)" >"$d/state/node/n1"
export SLURM_IDENTITY_CONF=$d/identity.conf SLURM_CONF=$d/slurm.conf SLURMD_NODENAME=n1 SLURM_JOB_UID=0
"$build/slurm-identity-prolog" || { echo "prolog failed; see $d/log"; cat "$d/log"; exit 1; }

# times PROGRAM: one line of per-run wall times in microseconds
times() {
	local i t0 t1
	for i in $(seq "$runs"); do
		t0=$(date +%s%N)
		"$@"
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 ))
	done | sort -n | awk '{ v[NR] = $1 } END {
		printf "min %.1f ms, median %.1f ms, p90 %.1f ms", v[1] / 1000,
		       v[int(NR / 2) + 1] / 1000, v[int(NR * 0.9)] / 1000 }'
}
echo "prolog fast path ($runs runs, 10,000-node slurm.conf): $(times "$build/slurm-identity-prolog")"
echo "trivial program, same harness:                   $(times /bin/true)"
if command -v strace >/dev/null; then
	strace -f -e trace=openat -o "$d/strace" "$build/slurm-identity-prolog"
	echo "files the fast path opens: $(grep -v ENOENT "$d/strace" | grep -c openat) ($(grep -c 'slurm.conf' "$d/strace") of them slurm.conf)"
fi
if command -v valgrind >/dev/null; then
	valgrind --tool=callgrind --callgrind-out-file="$d/cg" "$build/slurm-identity-prolog" 2>"$d/cg.err"
	echo "prolog fast path: $(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$d/cg.err") instructions (callgrind)"
fi
