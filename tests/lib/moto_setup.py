"""Create what a test needs in a fresh moto_server, then enforce IAM.

    python3 moto_setup.py --endpoint http://127.0.0.1:PORT [--region us-east-1]
                          --spec SPEC.json --out OUT.json
                          [--widen-resources] [--no-enforce]

The moto_server is the one moto.sh started (INITIAL_NO_AUTH_ACTION_COUNT=0:
IAM enforced from the first call). This script opens a setup window through
moto's control API (POST /moto-api/reset-auth "inf"), makes its calls
unauthenticated, and closes the window (reset-auth "0") whether or not the
setup succeeded. Then it checks that an unknown key is refused and that
every user's new key is accepted. From then on each request needs a valid
SigV4 signature by a key moto issued and an action the key's policy allows.

Spec (JSON object; unknown keys are an error):
  users:      [{name, policy?, managed?: bool}]         policy: an IAM policy
              document (inline; attached as a managed policy if managed).
  roles:      [{name, policy?, managed?, trust?: user name | [names] | "*",
                trust_policy?: document, sessions?: [session names],
                duration?: seconds}]
              trust names users of this spec (moto compares the principal
              ARN literally: an account's :root principal does not work).
              sessions: AssumeRole done now, credentials in the output.
  kms_keys:   [{alias, description?}]
  parameters: [{name, type: String|StringList|SecureString, value,
                key?: alias from kms_keys or a key id/ARN, tags?: {k: v}}]
  instances:  [{count, tags?: {k: v}, image_id?, instance_type?,
                terminate?: n (terminate the last n of this group),
                stop?: n (stop the first n)}]

Output (JSON, mode 0600):
  endpoint, region, account, image_id, enforcing (the error code moto gave
  an unknown key afterwards), calls (API calls made in the window),
  users      {name: {access_key_id, secret_access_key, arn, user_id}}
  roles      {name: {arn, role_id, sessions: {session: {access_key_id,
              secret_access_key, session_token, expiration, arn}}}}
  kms_keys   {alias: {key_id, arn, alias_arn}}
  parameters {name: arn}
  instances  [ids, in spec order]
  instance_details {id: {state, private_ip, private_dns, az, image_id,
                         instance_type, tags}}
  widened    [{"principal", "sid", "resource"}] (with --widen-resources)

Moto's policy evaluation (moto 5.2.1), which the warnings below are about:
for SSM, EC2, KMS (all but IAM, STS AssumeRole, SQS, S3) moto checks every
action against the resource "*", so a statement whose Resource is a
specific ARN (even "arn:aws:ssm:*") never matches: such Allows grant
nothing and such Denies deny nothing. Conditions are never evaluated: an
Allow with a Condition allows, a Deny with a Condition always denies.
--widen-resources rewrites those Allow resources to "*" (recorded in
"widened") so that least-privilege action lists can still be exercised.
"""
import argparse
import json
import os
import sys

try:
    import boto3
    import botocore.config
    import botocore.exceptions
    import requests
except ImportError as e:      # wrong interpreter (Debian's has no boto3)
    print("moto_setup: error: %s (run with the python3 that has moto/boto3)" % e,
          file=sys.stderr)
    sys.exit(2)

try:
    from moto.backends import list_of_moto_modules
    MOTO_SERVICES = set(list_of_moto_modules())
except Exception:             # moto_server may live elsewhere: check everything
    MOTO_SERVICES = set()

DEFAULT_IMAGE = "ami-12c6146b"   # in moto's default AMI list (moto accepts any id)
DEFAULT_TYPE = "t3.micro"

SPEC_KEYS = {
    "users": {"name", "policy", "managed"},
    "roles": {"name", "policy", "managed", "trust", "trust_policy", "sessions", "duration"},
    "kms_keys": {"alias", "description"},
    "parameters": {"name", "type", "value", "key", "tags", "description"},
    "instances": {"count", "tags", "image_id", "instance_type", "terminate", "stop"},
}
REQUIRED = {"users": {"name"}, "roles": {"name"}, "kms_keys": {"alias"},
            "parameters": {"name", "type", "value"}, "instances": {"count"}}


class SetupError(Exception):
    pass


def fail(msg):
    raise SetupError(msg)


def check_spec(spec):
    if not isinstance(spec, dict):
        fail("spec: not a JSON object")
    for k in spec:
        if k not in SPEC_KEYS:
            fail("spec: unknown key %r (known: %s)" % (k, ", ".join(sorted(SPEC_KEYS))))
    for k, allowed in SPEC_KEYS.items():
        items = spec.get(k, [])
        if not isinstance(items, list):
            fail("spec: %s must be a list" % k)
        for i, item in enumerate(items):
            where = "spec: %s[%d]" % (k, i)
            if not isinstance(item, dict):
                fail(where + ": not an object")
            extra = set(item) - allowed
            if extra:
                fail("%s: unknown key(s) %s" % (where, ", ".join(sorted(extra))))
            missing = REQUIRED[k] - set(item)
            if missing:
                fail("%s: missing %s" % (where, ", ".join(sorted(missing))))
    names = [u["name"] for u in spec.get("users", [])]
    if len(names) != len(set(names)):
        fail("spec: duplicate user names")
    for r in spec.get("roles", []):
        if "trust" in r and "trust_policy" in r:
            fail("spec: role %s: give trust or trust_policy, not both" % r["name"])
        trust = r.get("trust")
        for t in ([] if trust in (None, "*") else trust if isinstance(trust, list) else [trust]):
            if t not in names:
                fail("spec: role %s trusts %r, which is not a user of the spec" % (r["name"], t))
    for i, g in enumerate(spec.get("instances", [])):
        if not isinstance(g["count"], int) or g["count"] < 1:
            fail("spec: instances[%d]: count must be a positive integer" % i)
        if g.get("terminate", 0) + g.get("stop", 0) > g["count"]:
            fail("spec: instances[%d]: terminate + stop exceed count" % i)


def as_list(x):
    return x if isinstance(x, list) else [x]


def moto_blind_spots(principal, doc, widen):
    """Warn about statements moto cannot evaluate; widen Allow resources."""
    widened = []
    stmts = doc.get("Statement", [])
    for st in (stmts if isinstance(stmts, list) else [stmts]):
        sid = st.get("Sid", "")
        actions = [a.lower() for a in as_list(st.get("Action", []))]
        scoped = [r for r in as_list(st.get("Resource", "*")) if r != "*"]
        # Services moto does not serve (OpsWorks: the project's own fake)
        # are not moto's business.
        if MOTO_SERVICES and not any(a.split(":")[0] in MOTO_SERVICES for a in actions):
            continue
        # moto passes a real resource only for IAM, sts:AssumeRole (and SQS/S3).
        evaluated = all(a.startswith("iam:") or a == "sts:assumerole"
                        or a.startswith("sqs:") or a.startswith("s3:") for a in actions)
        if scoped and not evaluated:
            if widen and st.get("Effect") == "Allow":
                widened.append({"principal": principal, "sid": sid, "resource": st["Resource"]})
                st["Resource"] = "*"
            else:
                print("moto_setup: warning: %s statement %r: moto checks %s against "
                      "Resource \"*\" only, so Resource %s never matches (%s)"
                      % (principal, sid, ",".join(as_list(st.get("Action"))), scoped,
                         "the Allow grants nothing; --widen-resources makes it \"*\""
                         if st.get("Effect") == "Allow" else "the Deny denies nothing"),
                      file=sys.stderr)
        if "Condition" in st:
            print("moto_setup: warning: %s statement %r: moto ignores Condition %s "
                  "(an Allow always allows, a Deny always denies)"
                  % (principal, sid, json.dumps(st["Condition"])), file=sys.stderr)
    return widened


class Setup:
    def __init__(self, args, spec):
        self.args, self.spec = args, spec
        self.endpoint = args.endpoint.rstrip("/")
        # Any key works while the window is open; botocore just needs one.
        self.session = boto3.session.Session(
            aws_access_key_id="moto-setup", aws_secret_access_key="moto-setup",
            region_name=args.region)
        self.calls = 0
        self.session.events.register("before-send", self._count)
        self.clients = {}
        self.out = {"endpoint": self.endpoint, "region": args.region, "account": None,
                    "image_id": DEFAULT_IMAGE, "users": {}, "roles": {}, "kms_keys": {},
                    "parameters": {}, "instances": [], "instance_details": {}}
        if args.widen_resources:
            self.out["widened"] = []

    def _count(self, **kwargs):
        self.calls += 1

    def client(self, name, **creds):
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"},
                                     connect_timeout=5, read_timeout=60)
        if creds:
            return boto3.session.Session(region_name=self.args.region, **creds).client(
                name, endpoint_url=self.endpoint, config=cfg)
        if name not in self.clients:
            self.clients[name] = self.session.client(name, endpoint_url=self.endpoint,
                                                     config=cfg)
        return self.clients[name]

    def reset_auth(self, value):
        try:
            r = requests.post(self.endpoint + "/moto-api/reset-auth",
                              data=str(value).encode(), timeout=10)
            r.raise_for_status()
            return r.json()
        except (requests.RequestException, ValueError) as e:
            fail("POST %s/moto-api/reset-auth %s: %s" % (self.endpoint, value, e))

    def policy(self, principal, doc):
        if not isinstance(doc, dict):
            fail("%s: policy must be a JSON object" % principal)
        doc = json.loads(json.dumps(doc))
        w = moto_blind_spots(principal, doc, self.args.widen_resources)
        if self.args.widen_resources:
            self.out["widened"] += w
        return json.dumps(doc)

    def attach(self, kind, name, spec):
        iam = self.client("iam")
        if not spec.get("policy"):
            return
        doc = self.policy("%s %s" % (kind, name), spec["policy"])
        pname = name + "-policy"
        if spec.get("managed"):
            arn = iam.create_policy(PolicyName=pname, PolicyDocument=doc)["Policy"]["Arn"]
            if kind == "user":
                iam.attach_user_policy(UserName=name, PolicyArn=arn)
            else:
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        elif kind == "user":
            iam.put_user_policy(UserName=name, PolicyName=pname, PolicyDocument=doc)
        else:
            iam.put_role_policy(RoleName=name, PolicyName=pname, PolicyDocument=doc)

    def run(self):
        a, out = self.args, self.out
        ident = self.client("sts").get_caller_identity()
        out["account"] = ident["Account"]
        iam = self.client("iam")
        for u in self.spec.get("users", []):
            user = iam.create_user(UserName=u["name"])["User"]
            self.attach("user", u["name"], u)
            key = iam.create_access_key(UserName=u["name"])["AccessKey"]
            out["users"][u["name"]] = {"access_key_id": key["AccessKeyId"],
                                       "secret_access_key": key["SecretAccessKey"],
                                       "arn": user["Arn"], "user_id": user["UserId"]}
        for r in self.spec.get("roles", []):
            if "trust_policy" in r:
                trust = r["trust_policy"]
            else:
                t = r.get("trust", "*")
                principal = "*" if t == "*" else [out["users"][n]["arn"] for n in as_list(t)]
                trust = {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"AWS": principal}}]}
            role = iam.create_role(RoleName=r["name"],
                                   AssumeRolePolicyDocument=json.dumps(trust))["Role"]
            self.attach("role", r["name"], r)
            entry = {"arn": role["Arn"], "role_id": role["RoleId"], "sessions": {}}
            for s in r.get("sessions", []):
                c = self.client("sts").assume_role(
                    RoleArn=role["Arn"], RoleSessionName=s,
                    DurationSeconds=r.get("duration", 3600))
                cr = c["Credentials"]
                entry["sessions"][s] = {
                    "access_key_id": cr["AccessKeyId"],
                    "secret_access_key": cr["SecretAccessKey"],
                    "session_token": cr["SessionToken"],
                    "expiration": cr["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "arn": c["AssumedRoleUser"]["Arn"]}
            out["roles"][r["name"]] = entry
        kms = self.client("kms")
        for k in self.spec.get("kms_keys", []):
            if not k["alias"].startswith("alias/"):
                fail("kms_keys: alias %r must start with alias/" % k["alias"])
            meta = kms.create_key(Description=k.get("description", "test key " + k["alias"]))
            meta = meta["KeyMetadata"]
            kms.create_alias(AliasName=k["alias"], TargetKeyId=meta["KeyId"])
            out["kms_keys"][k["alias"]] = {
                "key_id": meta["KeyId"], "arn": meta["Arn"],
                "alias_arn": "arn:aws:kms:%s:%s:%s" % (a.region, out["account"], k["alias"])}
        ssm = self.client("ssm")
        for p in self.spec.get("parameters", []):
            kw = {"Name": p["name"], "Value": p["value"], "Type": p["type"], "Overwrite": True}
            if p.get("description"):
                kw["Description"] = p["description"]
            if p.get("key"):
                if p["type"] != "SecureString":
                    fail("parameter %s: key given but type is %s" % (p["name"], p["type"]))
                known = out["kms_keys"].get(p["key"])
                if not known:
                    # moto's PutParameter accepts any KeyId; AWS would not.
                    kms.describe_key(KeyId=p["key"])
                kw["KeyId"] = known["key_id"] if known else p["key"]
            ssm.put_parameter(**kw)
            if p.get("tags"):
                ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=p["name"],
                                         Tags=[{"Key": k, "Value": v}
                                               for k, v in p["tags"].items()])
            got = ssm.get_parameter(Name=p["name"])["Parameter"]
            out["parameters"][p["name"]] = got["ARN"]
        ec2 = self.client("ec2")
        for g in self.spec.get("instances", []):
            kw = {"ImageId": g.get("image_id", DEFAULT_IMAGE), "MinCount": g["count"],
                  "MaxCount": g["count"], "InstanceType": g.get("instance_type", DEFAULT_TYPE)}
            if g.get("tags"):
                kw["TagSpecifications"] = [{"ResourceType": "instance", "Tags": [
                    {"Key": k, "Value": v} for k, v in g["tags"].items()]}]
            ids = [i["InstanceId"] for i in ec2.run_instances(**kw)["Instances"]]
            if len(ids) != g["count"]:
                fail("run_instances gave %d instances, wanted %d" % (len(ids), g["count"]))
            if g.get("stop"):
                ec2.stop_instances(InstanceIds=ids[:g["stop"]])
            if g.get("terminate"):
                ec2.terminate_instances(InstanceIds=ids[-g["terminate"]:])
            out["instances"] += ids
        if out["instances"]:
            res = ec2.describe_instances(InstanceIds=out["instances"])["Reservations"]
            for inst in (i for r in res for i in r["Instances"]):
                out["instance_details"][inst["InstanceId"]] = {
                    "state": inst["State"]["Name"],
                    "private_ip": inst.get("PrivateIpAddress"),
                    "private_dns": inst.get("PrivateDnsName"),
                    "az": inst["Placement"]["AvailabilityZone"],
                    "image_id": inst["ImageId"], "instance_type": inst["InstanceType"],
                    "tags": {t["Key"]: t["Value"] for t in inst.get("Tags", [])}}
        out["calls"] = self.calls

    def verify(self):
        """After the window: unknown keys refused, the new keys accepted."""
        sts = self.client("sts", aws_access_key_id="AKIAMOTOSETUPPROBE00",
                          aws_secret_access_key="probe")
        try:
            sts.get_caller_identity()
        except botocore.exceptions.ClientError as e:
            self.out["enforcing"] = e.response["Error"]["Code"]
        else:
            fail("moto still serves unauthenticated calls after reset-auth 0; "
                 "IAM is not enforced")
        for name, u in self.out["users"].items():
            c = self.client("sts", aws_access_key_id=u["access_key_id"],
                            aws_secret_access_key=u["secret_access_key"])
            arn = c.get_caller_identity()["Arn"]     # moto always allows this action
            if arn != u["arn"]:
                fail("user %s: its key identifies as %s" % (name, arn))
        for name, r in self.out["roles"].items():
            for s, c in r["sessions"].items():
                arn = self.client("sts", aws_access_key_id=c["access_key_id"],
                                  aws_secret_access_key=c["secret_access_key"],
                                  aws_session_token=c["session_token"]
                                  ).get_caller_identity()["Arn"]
                if arn != c["arn"]:
                    fail("role %s session %s identifies as %s" % (name, s, arn))


def write_private(path, data):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--widen-resources", action="store_true",
                    help="rewrite ARN-scoped Allow resources moto cannot match to \"*\"")
    ap.add_argument("--no-enforce", action="store_true",
                    help="leave moto serving unauthenticated calls afterwards")
    args = ap.parse_args()

    try:
        with open(args.spec) as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        print("moto_setup: error: spec %s: %s" % (args.spec, e), file=sys.stderr)
        return 1
    setup = Setup(args, spec)
    step = "spec"
    try:
        check_spec(spec)
        step = "connecting to moto"
        try:
            requests.get(setup.endpoint + "/moto-api/", timeout=10).raise_for_status()
        except requests.RequestException as e:
            fail("no moto_server at %s: %s" % (setup.endpoint, e))
        step = "opening the setup window"
        setup.reset_auth("inf")
        try:
            step = "setup"
            setup.run()
        finally:
            if not args.no_enforce:
                setup.reset_auth(0)
        if not args.no_enforce:
            step = "checking enforcement"
            setup.verify()
        else:
            setup.out["enforcing"] = None
        step = "writing " + args.out
        write_private(args.out, setup.out)
    except SetupError as e:
        print("moto_setup: error (%s): %s" % (step, e), file=sys.stderr)
        return 1
    except botocore.exceptions.ClientError as e:
        op = e.operation_name
        err = e.response.get("Error", {})
        print("moto_setup: error (%s): %s failed: %s %s: %s" % (
            step, op, e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
            err.get("Code"), err.get("Message")), file=sys.stderr)
        return 1
    except (botocore.exceptions.BotoCoreError, requests.RequestException, OSError,
            KeyError, TypeError, ValueError) as e:
        print("moto_setup: error (%s): %s: %s" % (step, type(e).__name__, e), file=sys.stderr)
        return 1
    print("moto_setup: %d setup calls; account %s; %d users, %d roles, %d keys, "
          "%d parameters, %d instances; IAM enforced: %s" % (
              setup.calls, setup.out["account"], len(setup.out["users"]),
              len(setup.out["roles"]), len(setup.out["kms_keys"]),
              len(setup.out["parameters"]), len(setup.out["instances"]),
              setup.out["enforcing"] or "no (--no-enforce)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
