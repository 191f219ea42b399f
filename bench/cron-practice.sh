#!/bin/sh
# cron-practice.sh STACK OPSWORKS_URL EC2_URL: one run of the per-minute
# cron script the seed articles install on the head node (list the stack's
# instances; ask EC2 for each one's state; deregister the terminated ones),
# with the AWS CLI as they use it, pointed at local endpoints. Used by
# scale.sh to measure the practice slurm-identity replaces.
set -u
stack=$1 ow=$2 ec2=$3
aws=/usr/bin/aws
echo "$(date): OpsWorks deregistration cycle started."
"$aws" opsworks describe-instances --endpoint-url "$ow" --region us-east-1 \
	--stack-id "$stack" --query 'Instances[].[Ec2InstanceId,InstanceId]' \
	--output text | while read -r ec2_id opsworks_id; do
	state=$("$aws" ec2 describe-instances --endpoint-url "$ec2" --region us-east-1 \
		--instance-ids "$ec2_id" --query 'Reservations[].Instances[].State.Name' \
		--output text)
	if [ "$state" = terminated ]; then
		"$aws" opsworks deregister-instance --endpoint-url "$ow" --region us-east-1 \
			--instance-id "$opsworks_id"
	fi
done
echo "$(date): OpsWorks deregistration cycle completed."
