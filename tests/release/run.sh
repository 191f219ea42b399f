#!/bin/sh
# run.sh RELEASE [TEST...]: the release matrix for one Debian release.
#
# Builds slurm-identity against RELEASE's libslurm inside a Debian root of
# that release (root.sh) and runs there the unit tests and the real-cluster
# scenarios, with that release's slurmctld, slurmd and client commands. The
# run is confined to private mount, network and PID namespaces: slurmctld
# 24.11+ needs an address besides loopback to bind (a dummy interface that
# exists only in the namespace), and everything started inside ends with
# it. moto and the fakes are the host's Python, run in the same network
# namespace through small wrappers (inside.sh).
#
# SI_RELEASE_BENCH="bench/SCRIPT ARGS" runs that benchmark there instead.
#
# Results: automake's .trs files in _build-RELEASE. Exit 77 when the root
# cannot be built here (reported as skipped), else make check's status.
set -u
release=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)

root=$(sh "$top/tests/release/root.sh" "$release")
rc=$?
[ $rc = 0 ] || exit $rc
exec unshare --mount --net --pid --fork --kill-child \
	sh "$top/tests/release/inside.sh" "$release" "$root" "$top" "$@"
