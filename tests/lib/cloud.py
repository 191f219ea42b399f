"""The test cloud behind cloud-resume / cloud-suspend.

launch NODE:    create the node's EC2 instance in moto (tagged with the node
                name), start its IMDSv2 endpoint serving that instance's
                signed identity document and the node role's credentials,
                and write the node's own AWS config file.
terminate NODE: terminate the instance in moto.

Everything comes from DIR/aws-env.json, written by aws_env.sh.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))


def load_env(d):
    with open(os.path.join(d, "aws-env.json")) as f:
        return json.load(f)


def ec2_client(env):
    cloud = env["users"]["cloud"]
    return boto3.client("ec2", endpoint_url=env["moto_endpoint"], region_name=env["region"],
                        aws_access_key_id=cloud["key"], aws_secret_access_key=cloud["secret"])


def write_private(path, text):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def services_block(env, name):
    lines = ["[services %s]" % name]
    for svc, url in (("ec2", env["moto_endpoint"]), ("sts", env["moto_endpoint"]),
                     ("ssm", env.get("ssm_fake", env["moto_endpoint"])),
                     ("secrets_manager", env["moto_endpoint"]),
                     ("opsworks", env["opsworks_endpoint"])):
        lines += ["%s =" % svc, "  endpoint_url = %s" % url]
    return "\n".join(lines) + "\n"


def launch(d, env, node):
    nd = os.path.join(d, "nodes", node)
    os.makedirs(nd, exist_ok=True)
    ec2 = ec2_client(env)
    reply = ec2.run_instances(ImageId=env["image_id"], MinCount=1, MaxCount=1,
                              InstanceType="t3.micro",
                              TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                  {"Key": "test-cloud:node", "Value": node}]}])
    inst = reply["Instances"][0]
    iid = inst["InstanceId"]
    with open(os.path.join(nd, "instance"), "w") as f:
        f.write(iid + "\n")
    node_user = env["users"]["node"]
    config = {
        "instance_id": iid,
        "region": env["region"],
        "availability_zone": env["region"] + "a",
        "account_id": env["account"],
        "private_ip": inst.get("PrivateIpAddress", "10.0.0.10"),
        "local_hostname": node,
        "instance_type": "t3.micro",
        "image_id": env["image_id"],
        "role_name": "slurm-identity-node",
        "credentials": {
            "AccessKeyId": node_user["key"],
            "SecretAccessKey": node_user["secret"],
            "Token": node_user.get("token", ""),
            "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 6 * 3600)),
        },
    }
    write_private(os.path.join(nd, "imds.json"), json.dumps(config))
    port_file = os.path.join(nd, "imds.port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(d, "log", "imds-%s.log" % node), "a")
    # Reset the signal mask slurmctld handed down so the fake can be
    # stopped like any process.
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "..", "fakes", "fake_imds.py"), "--bind", "127.0.0.1",
         "--port", "0", "--port-file", port_file, "--config", os.path.join(nd, "imds.json"),
         "--signing-key", env["signing_key"]],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, []))
    with open(os.path.join(nd, "imds.pid"), "w") as f:
        f.write("%d\n" % proc.pid)
    for _ in range(100):
        if os.path.exists(port_file):
            break
        time.sleep(0.05)
    else:
        print("cloud: IMDS for %s did not start" % node, file=sys.stderr)
        return 1
    port = open(port_file).read().strip()
    text = ("[default]\nregion = %s\nec2_metadata_service_endpoint = http://127.0.0.1:%s\n"
            "services = sitest\n\n" % (env["region"], port)) + services_block(env, "sitest")
    write_private(os.path.join(nd, "aws.config"), text)
    start_ssm_agent(d, env, node, iid)
    print("cloud: launched %s as %s (IMDS port %s)" % (node, iid, port))
    return 0


# The activation the test cluster's hybrid nodes register with
# (SsmActivationIds in its identity.conf).
HYBRID_ACTIVATION = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"


def start_ssm_agent(d, env, node, iid):
    """With the SSM fake in use, the instance's agent registers a few
    seconds after boot (DIR/agent-delay-NODE: that many, or "look+S": S
    seconds after the node first asks about itself); a node marked hybrid (DIR/hybrid-NODE) registers
    as an on-premises managed instance (mi-...) instead, and its agent
    writes the registration file the node reads."""
    if not env.get("ssm_fake"):
        return
    nd = os.path.join(d, "nodes", node)
    reg = os.path.join(nd, "ssm-registration")
    if os.path.exists(os.path.join(d, "hybrid-" + node)):
        iid = "mi-" + os.urandom(9).hex()[:17]
        write_private(reg, json.dumps({"ManagedInstanceID": iid, "Region": env["region"]}))
    elif os.path.exists(reg):
        os.unlink(reg)
    spec = {"InstanceId": iid, "ComputerName": node, "OnlineAfter": 3}
    delay_file = os.path.join(d, "agent-delay-" + node)
    if os.path.exists(delay_file):
        delay = open(delay_file).read().strip()
        if delay.startswith("look+"):
            spec["OnlineAfterLook"] = float(delay[5:])
        else:
            spec["OnlineAfter"] = float(delay)
    if iid.startswith("mi-"):
        # Hybrid nodes register with the cluster's activation.
        spec["ActivationId"] = HYBRID_ACTIVATION
    spec = json.dumps(spec).encode()
    req = urllib.request.Request(env["ssm_fake"] + "/_fake/agent", data=spec, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def terminate(d, env, node):
    path = os.path.join(d, "nodes", node, "instance")
    if not os.path.exists(path):
        return 0
    iid = open(path).read().strip()
    ec2_client(env).terminate_instances(InstanceIds=[iid])
    os.unlink(path)
    print("cloud: terminated %s (%s)" % (node, iid))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("action", choices=["launch", "terminate"])
    ap.add_argument("node")
    args = ap.parse_args()
    env = load_env(args.dir)
    if args.action == "launch":
        return launch(args.dir, env, args.node)
    return terminate(args.dir, env, args.node)


if __name__ == "__main__":
    sys.exit(main())
