#!/bin/bash
# Compute nodes: install slurm-identity; the prolog does the rest on the
# first job (identity.conf is shared from the head node's /opt/slurm/etc).
set -euo pipefail
dpkg -i /opt/slurm-identity/slurm-identity_*.deb || yum install -y /opt/slurm-identity/slurm-identity-*.rpm
install -d -o root -m 0700 /var/spool/slurm-identity
# Backend ad: the prolog joins the domain with adcli (one-time password).
if grep -qi '^Backends=.*\bad\b' /opt/slurm/etc/identity.conf 2>/dev/null; then
	command -v adcli >/dev/null || apt-get install -y adcli || yum install -y adcli
fi
