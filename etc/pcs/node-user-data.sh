#!/bin/bash
# AWS PCS compute node group: launch template user data (runs as root at
# boot, before slurmd). Installs slurm-identity and the node's
# identity.conf; the prolog does the rest at the node's first job.
set -euo pipefail
dpkg -i /opt/slurm-identity/slurm-identity_*.deb 2>/dev/null ||
	yum install -y /opt/slurm-identity/slurm-identity-*.rpm
# identity.conf beside slurm.conf (see identity.conf(5) for how it is
# found); the same Backends= and names as the login node's.
conf_dir=/etc/slurm
install -d "$conf_dir"
cat >"$conf_dir/identity.conf" <<'CONF'
ClusterName=REPLACE-WITH-PCS-CLUSTER-NAME
Backends=opsworks
OpsWorksStackId=REPLACE-WITH-STACK-ID
StateDir=/var/spool/slurm-identity
# For Active Directory add ",ad" to Backends (the node needs no domain
# password: it joins with the one-time password the watcher made):
#DomainNameParameter=/hpc/ad/domain
#JoinSecretWait=120
CONF
chmod 0644 "$conf_dir/identity.conf"
install -d -m 0700 /var/spool/slurm-identity
