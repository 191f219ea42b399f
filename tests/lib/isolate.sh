#!/bin/bash
# isolate.sh TEST [ARG...]: run one scenario in namespaces of its own, so
# that scenarios can run side by side (make -j2 check) and nothing one
# started outlives it.
#
# - network: its own loopback (and one address on a dummy interface that
#   exists only there: slurmctld 24.11+ wants one besides loopback), so
#   fixed ports (Samba's 88/389/636, moto's, Slurm's) never meet another
#   test's;
# - mount: its own /run/munge, /run/samba and /run/slurm, so each cluster
#   has its own munged and each DC its own winbindd socket;
# - PID: when the test ends, everything it started ends with it (slurmd,
#   slurmstepd, a detached worker, a DC).
#
# Runs the test as it is where that cannot be done: not root, inside the
# release matrix's chroot unless unshare works there, or SI_ISOLATE=no.
set -u
if [ "${1:-}" = --inside ]; then
	shift
	ip link set lo up || exit 1
	if ip link add si0 type dummy 2>/dev/null ||
		ip link add si0 type veth peer name si1 2>/dev/null; then
		ip addr add 10.253.0.1/32 dev si0 && ip link set si0 up
		ip link show si1 >/dev/null 2>&1 && ip link set si1 up
	fi
	for d in /run/munge /run/samba /run/slurm; do
		mkdir -p "$d" && mount -t tmpfs -o mode=755 tmpfs "$d" || exit 1
	done
	chown munge:munge /run/munge 2>/dev/null
	# We are PID 1 here: a handler (not "ignore", which the test would
	# inherit) keeps a TERM meant for the test's process group from
	# ending us before the test's own EXIT trap has run.
	trap : TERM
	echo "# isolated: own network, mount (/run/munge, /run/samba, /run/slurm) and PID namespaces"
	SI_ISOLATED=1 "$@"
	exit $?
fi
if [ "$(id -u)" != 0 ] || [ "${SI_ISOLATE:-yes}" = no ] ||
	[ -n "${SI_ISOLATED:-}" ] || ! command -v unshare >/dev/null; then
	exec "$@"
fi
# Inside the release matrix's chroot / is no mount point: leave the
# propagation alone (everything there is private already).
prop=private
[ -n "${SI_IN_CHROOT:-}" ] && prop=unchanged
if ! unshare --mount --propagation "$prop" --net --pid --fork --kill-child \
	--mount-proc true 2>/dev/null; then
	exec "$@"
fi
exec unshare --mount --propagation "$prop" --net --pid --fork --kill-child \
	--mount-proc bash "$0" --inside "$@"
