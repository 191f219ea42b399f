#!/bin/sh
# inside.sh RELEASE ROOT TOP [TEST...]: run.sh's part inside the new
# namespaces (it is their first process: when it exits, all of it ends).
set -u
release=$1 root=$2 top=$3
shift 3
build=$top/_build-$release

# The tests as the matrix runs them: every unit test Makefile.am lists
# (read from it, so a renamed or new one is never missed), then the
# OpsWorks lifecycle, reconcile, SPANK and SSM scenarios (and on 26.05
# the watcher).
units=$(sed -n '/^UNIT_TESTS = /,/^$/p' "$top/Makefile.am" | grep -o 'tests/unit/[a-z0-9_]*')
[ -n "$units" ] || { echo "inside.sh: no UNIT_TESTS in $top/Makefile.am" >&2; exit 1; }
# On Slurm 26.05 (sid) also the watcher, with a node-side PowerAction
# power-down that runs no program of ours on the controller. (0350, the
# failover, runs on the host's 22.05 only: on 24.11 its whole-host kill
# left the batch undone in ci15, cause not yet found; issue 29.)
extra=
[ "$release" = sid ] && extra=tests/integration/0330-watch.sh
tests=${*:-"$units
	tests/integration/0300-lifecycle.sh tests/integration/0320-reconcile.sh
	tests/integration/0400-spank.sh tests/integration/0600-ssm-lifecycle.sh $extra"}

# Network: loopback, plus one address that exists only here.
# A dummy interface where the kernel has that driver, else a veth pair
# with both ends here. Nothing is ever sent to the address.
ip link set lo up || exit 1
ip link add si0 type dummy 2>/dev/null ||
	ip link add si0 type veth peer name si1 || exit 1
ip addr add 10.253.0.1/32 dev si0 && ip link set si0 up || exit 1
ip link show si1 >/dev/null 2>&1 && { ip link set si1 up || exit 1; }

# Mounts: nothing done here is seen outside.
mount --make-rprivate / || exit 1
mkdir -p "$root/host"
mount --rbind / "$root/host" || exit 1
mount -t proc proc "$root/proc" || exit 1
mount --rbind /sys "$root/sys" || exit 1
mount --rbind /dev "$root/dev" || exit 1
mount -t tmpfs -o mode=755 tmpfs "$root/run" || exit 1
mount --bind /tmp "$root/tmp" || exit 1
# The checkout and shared/ beside it, at the same paths as on the host, so
# the host's Python sees the same files as the root's programs.
parent=$(dirname "$top")
mkdir -p "$root$parent" && mount --bind "$parent" "$root$parent" || exit 1

# Host programs the tests use, reached from the root through wrappers that
# run them on the host's file system, in this network namespace, from the
# same working directory (same paths on both sides).
host_wrapper() { # host_wrapper PATH-IN-ROOT REAL-HOST-PATH
	local at=$root$1
	if [ -e "$at" ] && ! grep -q si-host-wrapper "$at" 2>/dev/null; then
		echo "inside: $1 exists in the $release root; not replaced" >&2
		return 0
	fi
	mkdir -p "$(dirname "$at")"
	cat >"$at" <<EOW
#!/bin/sh
# si-host-wrapper: run the host's $2 (tests/release/inside.sh)
exec /usr/sbin/chroot /host /bin/sh -c 'cd "\$1" 2>/dev/null || cd /; shift; exec "\$@"' sh "\$PWD" "$2" "\$@"
EOW
	chmod 755 "$at"
}
hostpy=$(python3 -c 'import sys; print(sys.executable)') || exit 1
host_wrapper /usr/local/bin/python3 "$hostpy"
host_wrapper "$hostpy" "$hostpy"
host_wrapper /usr/bin/python3 /usr/bin/python3
host_wrapper /usr/local/bin/moto_server "$(command -v moto_server)"

cat >"$root/tmp/si-release-$release.sh" <<EOS
set -u
echo "== $release: \$(slurmd -V), build in $build"
mkdir -p "$build" && cd "$build" || exit 1
"$top/configure" -q --enable-werror || exit 1
make -s -j$(nproc) >/dev/null || { make; exit 1; }
EOS
# SI_RELEASE_BENCH="bench/watch.sh 1000 10000": a benchmark against this
# release instead of the tests (prints its table; not part of the matrix).
if [ -n "${SI_RELEASE_BENCH:-}" ]; then
	echo "BUILD=$build bash $top/$SI_RELEASE_BENCH" >>"$root/tmp/si-release-$release.sh"
else
	cat >>"$root/tmp/si-release-$release.sh" <<EOS
rm -f tests/unit/*.trs tests/unit/*.log tests/integration/*.trs tests/integration/*.log
make -s -j$(nproc) check TESTS="$(echo $tests)"
EOS
fi
exec chroot "$root" /usr/bin/env -i \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 TERM=dumb SI_RELEASE="$release" SI_IN_CHROOT=1 \
	CI="${CI:-}" KEEP_TEST_DIR="${KEEP_TEST_DIR:-}" \
	SI_SLURMCTLD_DEBUG="${SI_SLURMCTLD_DEBUG:-}" \
	/bin/sh "/tmp/si-release-$release.sh"
