#!/bin/bash
# failover.sh [N...]: a takeover in the middle of a suspend of N nodes, as
# tests/integration/0350-failover.sh stages it (two real slurmctld in
# namespaces of their own, SlurmctldTimeout=10, the OpsWorks fake at
# 200 ms a call, MaxConcurrency=16), run once per N. Two kills a quarter of
# the way through each suspend: ctl-a's slurmctld alone (its host, and its
# worker, live on) and ctl-a's whole namespace (the host dies).
# Columns: first = from the kill until ctl-b's worker's first
# DeregisterInstance (target SlurmctldTimeout + 10 s = 20 s); gone = from
# the kill until none of the N is registered; bound = N x 200 ms / 16 (the
# API's, for the whole batch; a quarter of it was done before the kill);
# target = 1.2 x bound + 20 s; calls/node = DeregisterInstance per node;
# gap = from ctl-a's last call's end to ctl-b's first call's start (> 0:
# never both at once).
# Prints numbers; not a test. As root. Default N: 1000. BUILD names the
# build tree (default _build).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/_build}
sizes=${*:-1000}
out=$(mktemp /tmp/si-bench-failover.XXXXXX)
trap 'rm -f "$out"' EXIT
printf '%-6s %-5s %7s %7s %7s %7s %10s %7s\n' N kill first gone bound target calls/node gap
for n in $sizes; do
	(cd "$build" && top_srcdir=$top top_builddir=$build FAILOVER_NODES=$n \
		bash "$top/tests/lib/isolate.sh" bash "$top/tests/integration/0350-failover.sh") >"$out" 2>&1
	for what in ctld host; do
		first=$(sed -n "s/^ok [0-9]* - $what: ctl-b's worker deregisters \([0-9.]*\) s after the kill.*/\1/p" "$out")
		gone=$(sed -n "s/^ok [0-9]* - $what: all gone \([0-9.]*\) s after the kill.*/\1/p" "$out")
		calls=$(sed -n "s/^ok [0-9]* - $what: <= 1.05 DeregisterInstance per node (\([0-9]*\) for.*/\1/p" "$out")
		gap=$(sed -n "s/^ok [0-9]* - $what: the two workers never called at once (ctl-a's last call ended \([0-9.]*\) s before.*/\1/p" "$out")
		bound=$(awk -v n="$n" 'BEGIN { printf "%.1f", n * 0.2 / 16 }')
		printf '%-6s %-5s %6ss %6ss %6ss %6ss %10s %6ss\n' "$n" "$what" "${first:--}" \
			"${gone:--}" "$bound" "$(awk -v b="$bound" 'BEGIN { printf "%.1f", 1.2 * b + 20 }')" \
			"$([ -n "$calls" ] && awk -v c="$calls" -v n="$n" 'BEGIN { printf "%.3f", c / n }' || echo -)" \
			"${gap:--}"
	done
	grep -q '^not ok\|^Bail' "$out" && { echo "  (the scenario failed:)"; grep '^not ok\|^Bail' "$out" | sed 's/^/  /'; }
done
