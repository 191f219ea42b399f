#!/bin/bash
# Compute nodes: install slurm-identity; the prolog does the rest on the
# first job (identity.conf is shared from the head node's /opt/slurm/etc).
set -euo pipefail
dpkg -i /opt/slurm-identity/slurm-identity_*.deb || yum install -y /opt/slurm-identity/slurm-identity-*.rpm
install -d -o root -m 0700 /var/spool/slurm-identity
