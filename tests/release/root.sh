#!/bin/sh
# root.sh RELEASE: a Debian root with RELEASE's Slurm, for the release
# matrix (tests/release/run.sh). Built once with debootstrap from the
# Debian archive this machine already uses, then kept in a cache
# ($SI_ROOT_CACHE, default /var/cache/slurm-identity/roots) and reused
# while its package list is unchanged. Prints the root's path.
#
# Exit: 0 ready, 77 the root cannot be built here (no debootstrap, no
# archive: the caller reports the release as skipped), 1 other errors.
set -u
release=$1
cache=${SI_ROOT_CACHE:-/var/cache/slurm-identity/roots}
root=$cache/$release

# What the matrix needs inside: Slurm and munge, the build, and the tools
# the integration tests call. Python is not here: moto and the fakes run
# from the host's Python (run.sh).
packages="slurmctld slurmd slurm-client libslurm-dev munge
	build-essential autoconf automake libtool pkg-config
	libcurl4-openssl-dev libjansson-dev libssl-dev libldap-dev
	iproute2 procps util-linux curl openssl ca-certificates bc psmisc e2fsprogs"
stamp=$(printf '%s %s\n' "$release" "$packages" | tr -s ' \t\n' ' ' | sha256sum | cut -c1-16)

if [ "$(cat "$root/.si-root-stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$root"
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "root.sh: needs root" >&2; exit 77; }
command -v debootstrap >/dev/null 2>&1 || { echo "root.sh: debootstrap is not installed" >&2; exit 77; }

# The archive this machine's apt uses (deb822 first, then sources.list).
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

mkdir -p "$cache" || exit 1
tmp=$root.tmp
rm -rf "$tmp" "$root"
log=$cache/$release.debootstrap.log
echo "root.sh: building a $release root in $root from $mirror (log: $log)" >&2
if ! debootstrap --variant=minbase \
	--include="$(echo $packages | tr ' ' ',')" \
	"$release" "$tmp" "$mirror" >"$log" 2>&1; then
	tail -5 "$log" | sed 's/^/root.sh: /' >&2
	rm -rf "$tmp"
	# No archive reachable is not a failure of the product.
	if grep -q -E 'Failed getting release file|Couldn.t download|Temporary failure|Could not resolve|unable to connect|Connection refused|Release signed by unknown key' "$log"; then
		exit 77
	fi
	exit 1
fi
echo "$stamp" >"$tmp/.si-root-stamp"
mv "$tmp" "$root" || exit 1
echo "$root"
