#!/bin/bash
# AWS PCS login node: the controller side of slurm-identity. Run once as
# root. The watcher runs as WATCH_USER, which owns StateDir; the login
# node's instance profile holds `slurm-identity policy --role controller`.
set -euo pipefail
WATCH_USER=${WATCH_USER:-slurm-identity}
SLURM_CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}
conf_dir=$(dirname "$SLURM_CONF")
dpkg -i /opt/slurm-identity/slurm-identity_*.deb 2>/dev/null ||
	yum install -y /opt/slurm-identity/slurm-identity-*.rpm
id -u "$WATCH_USER" >/dev/null 2>&1 || useradd --system --home-dir /var/spool/slurm-identity "$WATCH_USER"
cat >"$conf_dir/identity.conf" <<'CONF'
ClusterName=REPLACE-WITH-PCS-CLUSTER-NAME
Backends=opsworks
OpsWorksStackId=REPLACE-WITH-STACK-ID
StateDir=/var/spool/slurm-identity
LogFile=/var/log/slurm-identity.log
WatchPeriod=5
#DomainNameParameter=/hpc/ad/domain
#DomainPasswordParameter=/hpc/ad/join-password
#DomainUser=svc-hpc-join
#ComputerOU=OU=HPC,OU=Computers,DC=corp,DC=example,DC=com
CONF
chmod 0644 "$conf_dir/identity.conf"
install -d -m 0700 -o "$WATCH_USER" /var/spool/slurm-identity
touch /var/log/slurm-identity.log && chown "$WATCH_USER" /var/log/slurm-identity.log
cp /usr/share/doc/slurm-identity/examples/slurm-identity-watch.service /etc/systemd/system/
sed -i -e "s|^User=.*|User=$WATCH_USER|" \
	-e "s|^ExecStart=.*|Environment=SLURM_CONF=$SLURM_CONF\nExecStart=/usr/sbin/slurm-identity watch|" \
	/etc/systemd/system/slurm-identity-watch.service
systemctl daemon-reload
systemctl enable --now slurm-identity-watch.service
SLURM_CONF=$SLURM_CONF runuser -u "$WATCH_USER" -- /usr/sbin/slurm-identity check
