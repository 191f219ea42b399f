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
