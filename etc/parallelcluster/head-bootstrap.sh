#!/bin/bash
# Head node: install slurm-identity, write identity.conf, start the
# watcher. ParallelCluster runs this as root after configuring.
set -euo pipefail
dpkg -i /opt/slurm-identity/slurm-identity_*.deb || yum install -y /opt/slurm-identity/slurm-identity-*.rpm
conf_dir=/opt/slurm/etc
cat >"$conf_dir/identity.conf" <<'CONF'
Backends=opsworks
OpsWorksStackId=REPLACE-WITH-STACK-ID
ChainResumeProgram=/opt/parallelcluster/scripts/slurm/slurm_resume
ChainSuspendProgram=/opt/parallelcluster/scripts/slurm/slurm_suspend
ChainResumeFailProgram=/opt/parallelcluster/scripts/slurm/slurm_suspend
LogFile=/var/log/parallelcluster/slurm-identity.log
StateDir=/var/spool/slurm-identity
# For Active Directory add ",ad" to Backends and:
#DomainNameParameter=/hpc/ad/domain
#DomainPasswordParameter=/hpc/ad/join-password
#DomainUser=svc-hpc-join
#ComputerOU=OU=HPC,OU=Computers,DC=corp,DC=example,DC=com
# ParallelCluster sets each node's NodeAddr to its instance's private IP:
# each join secret readable by that instance alone.
#JoinSecretBinding=nodeaddr
CONF
chmod 0644 "$conf_dir/identity.conf"
# Backend ad: the head node creates and deletes accounts over LDAPS.
command -v ldapmodify >/dev/null || apt-get install -y ldap-utils || yum install -y openldap-clients
install -d -o slurm -m 0700 /var/spool/slurm-identity
touch /var/log/parallelcluster/slurm-identity.log
chown slurm /var/log/parallelcluster/slurm-identity.log
cp /usr/share/doc/slurm-identity/examples/slurm-identity-watch.service /etc/systemd/system/
sed -i "s|^ExecStart=.*|Environment=SLURM_CONF=$conf_dir/slurm.conf\nExecStart=/usr/sbin/slurm-identity watch|" \
	/etc/systemd/system/slurm-identity-watch.service
systemctl daemon-reload
systemctl enable --now slurm-identity-watch.service
SLURM_CONF=$conf_dir/slurm.conf runuser -u slurm -- /usr/sbin/slurm-identity check
