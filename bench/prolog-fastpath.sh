#!/bin/bash
# prolog-fastpath.sh [RUNS]: time of slurm-identity-prolog when the node's
# identity is already established (the path every job takes). Prints
# numbers; not a test.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/_build}
runs=${1:-200}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
mkdir -p -m 700 "$d/state/node"
printf 'Backends=opsworks\nOpsWorksStackId=s-1\nStateDir=%s/state\nLogFile=%s/log\n' "$d" "$d" >"$d/identity.conf"
chmod 644 "$d/identity.conf"
printf 'node=n1\nphase=ready\nboot_id=%s\ninstance=i-0123456789abcdef0\n' \
	"$(cat /proc/sys/kernel/random/boot_id)" >"$d/state/node/n1"
export SLURM_IDENTITY_CONF=$d/identity.conf SLURMD_NODENAME=n1 SLURM_JOB_UID=0
"$build/slurm-identity-prolog" || { echo "prolog failed; see $d/log"; cat "$d/log"; exit 1; }
start=$(date +%s%N)
for i in $(seq "$runs"); do "$build/slurm-identity-prolog"; done
end=$(date +%s%N)
echo "prolog fast path: $runs runs, $(( (end - start) / runs / 1000 )) us per run (fork+exec included)"
if command -v valgrind >/dev/null; then
	valgrind --tool=callgrind --callgrind-out-file="$d/cg" "$build/slurm-identity-prolog" 2>"$d/cg.err"
	echo "prolog fast path: $(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$d/cg.err") instructions (callgrind)"
fi
