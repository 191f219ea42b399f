#!/bin/bash
# 0500-ad-lifecycle.sh: Active Directory computer accounts on a real Samba
# AD DC, driven by a real slurmctld/slurmd with moto IAM enforcement (the
# controller and node users hold exactly what `slurm-identity policy`
# prints). The domain password lives in moto's SSM as a KMS SecureString.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"
. "$top_srcdir/tests/lib/samba.sh"

ad_cluster_test adlife 5
d=$CLUSTER_DIR
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }

job=$(sbatch -N2 -w 'n[1-2]' --parsable --wrap 'sleep 8' -o /dev/null)
ok $? "job submitted $job"
wait_for '[ "$(job_state $job)" = RUNNING ]' 120
ok $? "job running ($(job_state $job))" || dump_logs 30
echo "# OU: $(samba_computers)"
tap_done
