#!/bin/bash
# halt-node.sh DIR NODE: the instance is gone: slurmd killed, IMDS gone,
# its local disk (identity state, keys) lost.
set -u
d=$1 n=$2
nd=$d/nodes/$n
for f in "$nd/slurmd.pid" "$d/run/slurmd-$n.pid" "$nd/imds.pid"; do
	[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	rm -f "$f"
done
rm -f "$d/identity/node/$n" "$d/identity/node/$n.key" "$d/identity/node/.$n.lock"
exit 0
