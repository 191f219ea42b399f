#!/bin/sh
# install-deps.sh: the Debian 12 packages slurm-identity's build and tests
# need. Run as root; safe to run again.
set -eu

packages="
  build-essential autoconf automake libtool pkg-config
  libslurm-dev libcurl4-openssl-dev libjansson-dev libssl-dev libldap-dev
  slurmctld slurmd slurm-client munge
  python3-botocore awscli
  samba samba-ad-provision samba-ad-dc winbind libnss-winbind
  adcli krb5-user ldb-tools ldap-utils
  valgrind cppcheck curl util-linux procps iproute2 psmisc bc
  debhelper dpkg-dev fakeroot
  debootstrap
"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
else
	echo "install-deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# krb5-config asks for a realm unless told not to.
	echo "krb5-config krb5-config/default_realm string EXAMPLE.INVALID" | debconf-set-selections
	apt-get install -y -q --no-install-recommends $missing
fi

# Directory users of the test domain resolve through the DC's winbindd
# (libnss-winbind usually adds this itself).
if ! grep -q '^passwd:.*winbind' /etc/nsswitch.conf; then
	sed -i -e '/^passwd:/s/$/ winbind/' -e '/^group:/s/$/ winbind/' /etc/nsswitch.conf
fi

# The IAM evaluator of 0170-iam-conditions.sh, pinned by tests/iam's
# package-lock.json, in a directory of ours. Without the npm registry the
# test says why it skips (and fails under CI=true); the install goes on.
iam_dir=/var/cache/slurm-identity/iam-simulate
iam_src=$(dirname "$0")/iam
if ! command -v npm >/dev/null; then
	echo "install-deps: npm not found: 0170-iam-conditions.sh will skip"
elif [ -f "$iam_dir/node_modules/@cloud-copilot/iam-simulate/package.json" ] &&
	cmp -s "$iam_src/package-lock.json" "$iam_dir/package-lock.json"; then
	echo "install-deps: IAM evaluator present"
else
	mkdir -p "$iam_dir"
	cp "$iam_src/package.json" "$iam_src/package-lock.json" "$iam_dir/"
	if out=$(npm ci --prefix "$iam_dir" --no-audit --no-fund --loglevel=error \
		--fetch-retries=0 --fetch-timeout=30000 2>&1); then
		echo "install-deps: IAM evaluator installed in $iam_dir"
	else
		echo "install-deps: cannot install the IAM evaluator ($(printf '%s\n' "$out" |
			grep -m1 -i error)): 0170-iam-conditions.sh will skip"
	fi
fi
