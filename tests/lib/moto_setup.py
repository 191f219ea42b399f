"""Create what a test needs in a fresh moto_server, then turn IAM on.

moto_server is started with INITIAL_NO_AUTH_ACTION_COUNT=N (moto.sh): its
first N calls are not authenticated. This script makes its setup calls in
that window, counts them, spends what is left of the window on harmless
calls, and checks that an unsigned call is now refused: from then on every
request must carry a valid SigV4 signature of a key moto issued, for an
action that key's policy allows.

Spec (JSON): users [{name, policy}], roles [{name, trust: user, policy}],
kms_keys [{alias}], parameters [{name, type, value, key}], instances
[{count, tags}]. Output (JSON): account, users {name: {access_key_id,
secret_access_key, arn}}, roles {name: {arn}}, kms_keys {alias: {key_id,
arn}}, parameters {name: arn}, instances [ids], image_id.
"""
import argparse
import json
import os
import sys

import boto3
import botocore

IMAGE_ID = "ami-12c6146b"   # one of moto's built-in AMIs


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self, **kwargs):
        self.calls += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-auth-count", type=int,
                    default=int(os.environ.get("MOTO_NO_AUTH_ACTIONS", "200")))
    args = ap.parse_args()
    spec = json.load(open(args.spec))
    session = boto3.session.Session(aws_access_key_id="setup", aws_secret_access_key="setup",
                                    region_name=args.region)
    counter = Counter()
    session.events.register("before-send", counter)

    def client(name):
        return session.client(name, endpoint_url=args.endpoint)

    iam, kms, ssm, ec2 = client("iam"), client("kms"), client("ssm"), client("ec2")
    out = {"account": "123456789012", "users": {}, "roles": {}, "kms_keys": {},
           "parameters": {}, "instances": [], "image_id": IMAGE_ID}

    for user in spec.get("users", []):
        u = iam.create_user(UserName=user["name"])["User"]
        if user.get("policy"):
            iam.put_user_policy(UserName=user["name"], PolicyName=user["name"] + "-policy",
                                PolicyDocument=json.dumps(user["policy"]))
        key = iam.create_access_key(UserName=user["name"])["AccessKey"]
        out["users"][user["name"]] = {"access_key_id": key["AccessKeyId"],
                                      "secret_access_key": key["SecretAccessKey"],
                                      "arn": u["Arn"]}
    for role in spec.get("roles", []):
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": out["users"][role["trust"]]["arn"]}}]}
        r = iam.create_role(RoleName=role["name"], AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        iam.put_role_policy(RoleName=role["name"], PolicyName=role["name"] + "-policy",
                            PolicyDocument=json.dumps(role["policy"]))
        out["roles"][role["name"]] = {"arn": r["Arn"]}
    for key in spec.get("kms_keys", []):
        meta = kms.create_key(Description="slurm-identity test key")["KeyMetadata"]
        kms.create_alias(AliasName=key["alias"], TargetKeyId=meta["KeyId"])
        out["kms_keys"][key["alias"]] = {"key_id": meta["KeyId"], "arn": meta["Arn"]}
    for p in spec.get("parameters", []):
        kw = {"Name": p["name"], "Value": p["value"], "Type": p["type"], "Overwrite": True}
        if p.get("key"):
            kw["KeyId"] = out["kms_keys"][p["key"]]["key_id"]
        ssm.put_parameter(**kw)
        out["parameters"][p["name"]] = "arn:aws:ssm:%s:%s:parameter%s" % (
            args.region, out["account"], p["name"])
    for group in spec.get("instances", []):
        kw = {"ImageId": IMAGE_ID, "MinCount": group["count"], "MaxCount": group["count"],
              "InstanceType": "t3.micro"}
        if group.get("tags"):
            kw["TagSpecifications"] = [{"ResourceType": "instance", "Tags": [
                {"Key": k, "Value": v} for k, v in group["tags"].items()]}]
        for inst in ec2.run_instances(**kw)["Instances"]:
            out["instances"].append(inst["InstanceId"])
        if group.get("terminate"):
            ec2.terminate_instances(InstanceIds=out["instances"][-group["terminate"]:])

    used = counter.calls
    if used > args.no_auth_count:
        print("moto_setup: made %d calls but moto allows only %d unauthenticated; "
              "raise MOTO_NO_AUTH_ACTIONS" % (used, args.no_auth_count), file=sys.stderr)
        return 1
    sts = client("sts")
    for _ in range(args.no_auth_count - used):
        sts.get_caller_identity()
    try:
        sts.get_caller_identity()
    except botocore.exceptions.ClientError as e:
        out["enforcing"] = e.response["Error"]["Code"]
    else:
        print("moto_setup: moto still accepts unsigned calls; IAM is not enforced",
              file=sys.stderr)
        return 1
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(out, f, indent=1)
    print("moto_setup: %d setup calls, IAM enforced (%s)" % (used, out["enforcing"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
