"""SSM managed-instance calls moto lacks, in front of moto for the rest.

moto serves SSM Parameter Store but not DescribeInstanceInformation or the
managed-instance lifecycle. This endpoint answers those itself, held to the
official SSM service model in Debian's python3-botocore (1.29): SigV4
recomputed with botocore, request and reply checked against the operation's
shapes, and each key's IAM policy evaluated for the action and resource,
exactly as fake_opsworks does (it shares that code). Every other SSM
request is forwarded byte for byte, Host header included, to moto, which
checks its signature and policy itself.

Implemented here: DescribeInstanceInformation (filters InstanceIds,
ResourceType, PingStatus, tag:KEY), DeregisterManagedInstance,
AddTagsToResource, RemoveTagsFromResource and ListTagsForResource for
ManagedInstance resources.

  fake_ssm.py --upstream URL --credentials FILE [--port-file FILE]
      [--region R] [--account A] [--log FILE]

Control API (plain HTTP under /_fake/):
  POST /_fake/agent    {"InstanceId", "ComputerName", "OnlineAfter": s,
                        "OnlineAfterLook": s,
                        "ResourceType": "EC2Instance"|"ManagedInstance",
                        "ActivationId" (hybrid)}
                       an agent starts on an instance: it shows as a managed
                       instance, Online, OnlineAfter seconds from now (or
                       OnlineAfterLook seconds after the first
                       DescribeInstanceInformation naming its id)
  POST /_fake/silence  {"ComputerNames": [...]} agents on these never come
                       Online (they show ConnectionLost)
  GET  /_fake/managed  the managed instances, with tags
  GET  /_fake/calls    calls per operation, as fake_opsworks counts them
"""
import argparse
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_opsworks as common  # noqa: E402

import botocore.session  # noqa: E402

# The shared SigV4 checks take the credential scope's service from here.
common.SERVICE = "ssm"

TARGET_PREFIX = "AmazonSSM."
CONTENT_TYPE = "application/x-amz-json-1.1"
IMPLEMENTED = ("DescribeInstanceInformation", "DeregisterManagedInstance",
               "AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource")
MANAGED_ID = re.compile(r"^mi-[0-9a-f]{17}$")
EC2_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")


class FakeSsm:
    def __init__(self, args):
        self.args = args
        self.model = botocore.session.get_session().get_service_model("ssm")
        self.lock = threading.Lock()
        self.managed = {}
        self.silenced = set()
        self.calls = {}
        self.rejected = {}
        self.log_file = open(args.log, "a") if args.log else None

    def log(self, text, to_stderr=False):
        line = "%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), text)
        with self.lock:
            if self.log_file:
                self.log_file.write(line)
                self.log_file.flush()
        if to_stderr:
            sys.stderr.write(line)

    def count(self, table, key):
        with self.lock:
            table[key] = table.get(key, 0) + 1

    def credential(self, key_id):
        with open(self.args.credentials) as f:
            return json.load(f).get(key_id)

    def arn(self, iid):
        kind = "managed-instance" if iid.startswith("mi-") else "instance"
        service = "ssm" if kind == "managed-instance" else "ec2"
        return "arn:aws:%s:%s:%s:%s/%s" % (service, self.args.region, self.args.account, kind, iid)

    def authorize(self, caller, operation, resource, tag_keys=None, resource_tags=None,
                  request_tags=None):
        policy = caller["entry"].get("policy")
        if policy is None:
            return
        action = "ssm:" + operation
        policy = self.apply_conditions(policy, action, tag_keys, resource_tags or {},
                                       request_tags or {})
        common.check_policy(policy)
        verdict = common.evaluate(policy, action, resource)
        if verdict != "allow":
            common.fail("AccessDeniedException", "User: %s is not authorized to perform: %s "
                        "on resource: %s" % (caller["arn"], action, resource))

    @staticmethod
    def apply_conditions(policy, action, tag_keys, resource_tags, request_tags):
        """The policy with conditions settled for this request: a statement
        for another action is left out; for this action, a condition this
        fake understands (ForAllValues:StringEquals on aws:TagKeys,
        StringEquals on ssm:resourceTag/KEY, aws:ResourceTag/KEY (a
        ${aws:RequestTag/KEY} value too) or aws:RequestTag/KEY, Null on
        aws:ResourceTag/KEY) keeps or drops the statement, and any other
        condition is refused loudly."""
        def resolve(value):
            if value.startswith("${aws:RequestTag/") and value.endswith("}"):
                return request_tags.get(value[len("${aws:RequestTag/"):-1])
            return value
        out = []
        for st in common._as_list(policy["Statement"]):
            if "Condition" not in st:
                out.append(st)
                continue
            actions = common._as_list(st.get("Action", []))
            if not any(common._wildcard(a, action, False) for a in actions):
                continue
            holds = True
            for op, entries in st["Condition"].items():
                for key, want in entries.items():
                    if op == "StringEquals" and key.startswith(("ssm:resourceTag/",
                                                                 "aws:ResourceTag/")):
                        tag = key.split("/", 1)[1]
                        holds &= resource_tags.get(tag) in [
                            resolve(w) for w in common._as_list(want)]
                        continue
                    if op == "StringEquals" and key.startswith("aws:RequestTag/"):
                        tag = key.split("/", 1)[1]
                        holds &= request_tags.get(tag) in common._as_list(want)
                        continue
                    if op == "Null" and key.startswith("aws:ResourceTag/"):
                        tag = key.split("/", 1)[1]
                        holds &= (tag not in resource_tags) == (want == "true")
                        continue
                    if (op, key) != ("ForAllValues:StringEquals", "aws:TagKeys"):
                        raise ValueError("condition %s %s is not supported by fake_ssm"
                                         % (op, key))
                    holds &= all(k in common._as_list(want) for k in (tag_keys or []))
            if holds:
                out.append({k: v for k, v in st.items() if k != "Condition"})
        return {"Version": policy.get("Version", "2012-10-17"), "Statement": out}

    # -- the managed instances ---------------------------------------------
    def view(self, m, now):
        online = now >= m["online_at"] and m["ComputerName"] not in self.silenced
        return {"InstanceId": m["InstanceId"], "ResourceType": m["ResourceType"],
                "PingStatus": "Online" if online else "ConnectionLost",
                "LastPingDateTime": now if online else m["registered"],
                "AgentVersion": "3.3.40.0", "PlatformType": "Linux",
                "PlatformName": "Debian GNU/Linux", "PlatformVersion": "12",
                "ComputerName": m["ComputerName"], "IsLatestVersion": True,
                "RegistrationDate": m["registered"],
                **({"ActivationId": m["ActivationId"]} if m.get("ActivationId") else {})}

    def known(self, m, now):
        # An agent that has not started yet has not registered either.
        return now >= min(m["online_at"], m["registered"] + 1)

    def op_DescribeInstanceInformation(self, caller, p):
        self.authorize(caller, "DescribeInstanceInformation", "*")
        filters = {}
        for f in p.get("Filters", []):
            filters[f["Key"]] = set(f["Values"])
        for f in p.get("InstanceInformationFilterList", []):
            key = {"InstanceIds": "InstanceIds", "ResourceType": "ResourceType",
                   "PingStatus": "PingStatus"}.get(f["key"])
            if key is None:
                common.fail("InvalidInstanceInformationFilterValue",
                            "filter key %s is not supported by this fake" % f["key"])
            filters[key] = set(f["valueSet"])
        now = time.time()
        out = []
        with self.lock:
            # An agent Online some seconds after the node first asks
            # about itself: a wait measured from the asker's start.
            for iid in filters.get("InstanceIds", ()):
                m = self.managed.get(iid)
                if m and m.get("after_look") is not None:
                    m["online_at"] = now + m.pop("after_look")
            for m in sorted(self.managed.values(), key=lambda m: m["InstanceId"]):
                if not self.known(m, now):
                    continue
                v = self.view(m, now)
                ok = True
                for key, values in filters.items():
                    if key.startswith("tag:"):
                        ok &= m["tags"].get(key[4:]) in values
                    elif key == "tag-key":
                        ok &= bool(values & set(m["tags"]))
                    elif key == "InstanceIds":
                        ok &= v["InstanceId"] in values
                    elif key in ("ResourceType", "PingStatus"):
                        ok &= v[key] in values
                    else:
                        common.fail("InvalidFilterKey", "filter key %s is not supported" % key)
                if ok:
                    out.append(v)
        # The JSON protocol sends timestamps as epoch seconds.
        return {"InstanceInformationList": out}

    def find(self, iid):
        m = self.managed.get(iid)
        if m is None or not self.known(m, time.time()):
            common.fail("InvalidInstanceId", "Instance %s is not a managed instance" % iid)
        return m

    def op_DeregisterManagedInstance(self, caller, p):
        iid = p["InstanceId"]
        with self.lock:
            tags = dict((self.managed.get(iid) or {}).get("tags", {}))
        self.authorize(caller, "DeregisterManagedInstance", self.arn(iid),
                       resource_tags=tags)
        if not MANAGED_ID.match(iid):
            common.fail("InvalidInstanceId", "%s is not a managed instance id (mi-...)" % iid)
        with self.lock:
            self.find(iid)
            del self.managed[iid]
        return {}

    def tag_target(self, caller, operation, p):
        if p["ResourceType"] != "ManagedInstance":
            common.fail("InvalidResourceType", "this fake tags ManagedInstance resources only")
        iid = p["ResourceId"]
        keys = [t["Key"] for t in p.get("Tags", [])] + list(p.get("TagKeys", []))
        tags = dict((self.managed.get(iid) or {}).get("tags", {}))
        self.authorize(caller, operation, self.arn(iid), keys, tags,
                       {t["Key"]: t["Value"] for t in p.get("Tags", [])})
        if not MANAGED_ID.match(iid):
            # What AWS answers for an EC2 instance id: use EC2 CreateTags.
            common.fail("InvalidResourceId", "The resource ID \"%s\" is not valid. Verify "
                        "the ID and try again." % iid)
        return self.find(iid)

    def op_AddTagsToResource(self, caller, p):
        with self.lock:
            m = self.tag_target(caller, "AddTagsToResource", p)
            for t in p["Tags"]:
                m["tags"][t["Key"]] = t["Value"]
        return {}

    def op_RemoveTagsFromResource(self, caller, p):
        with self.lock:
            m = self.tag_target(caller, "RemoveTagsFromResource", p)
            for k in p["TagKeys"]:
                m["tags"].pop(k, None)
        return {}

    def op_ListTagsForResource(self, caller, p):
        with self.lock:
            m = self.tag_target(caller, "ListTagsForResource", p)
            return {"TagList": [{"Key": k, "Value": v} for k, v in sorted(m["tags"].items())]}

    def handle(self, headers, body, operation):
        key, entry = common.authenticate("POST", "/", headers, body, self.credential,
                                         self.args.region, self.log)
        caller = {"key": key, "entry": entry,
                  "arn": entry.get("arn") or "arn:aws:iam::%s:user/%s" % (self.args.account, key)}
        ctype = headers.get("Content-Type", "").split(";")[0].strip()
        if ctype != CONTENT_TYPE:
            common.fail("SerializationException", "Content-Type must be %s" % CONTENT_TYPE)
        params = common.parse_json_body(body)
        op_model = self.model.operation_model(operation)
        problem = common.shape_errors(op_model.input_shape, params)
        if problem:
            common.fail("ValidationException", problem)
        reply = getattr(self, "op_" + operation)(caller, params)
        self.count(self.calls, operation)
        if op_model.output_shape is not None:
            problem = common.shape_errors(op_model.output_shape, reply)
            if problem:
                self.log("BUG in fake_ssm: %s reply: %s" % (operation, problem), to_stderr=True)
                common.fail("InternalServerError", "fake_ssm bug: " + problem, 500)
        return reply

    # -- control -------------------------------------------------------------
    def control(self, method, path, body):
        spec = json.loads(body) if body.strip() else {}
        if (method, path) == ("POST", "/_fake/agent"):
            iid = spec["InstanceId"]
            if not (EC2_ID.match(iid) or MANAGED_ID.match(iid)):
                raise ValueError("bad InstanceId %r" % iid)
            now = time.time()
            with self.lock:
                self.managed[iid] = {
                    "InstanceId": iid, "ComputerName": spec.get("ComputerName", iid),
                    "ResourceType": spec.get("ResourceType", "ManagedInstance"
                                             if iid.startswith("mi-") else "EC2Instance"),
                    "online_at": now + float(spec.get("OnlineAfter", 0)),
                    "registered": now, "tags": {},
                    "ActivationId": spec.get("ActivationId")}
                if "OnlineAfterLook" in spec:
                    self.managed[iid]["online_at"] = float("inf")
                    self.managed[iid]["after_look"] = float(spec["OnlineAfterLook"])
            return {}
        if (method, path) == ("POST", "/_fake/silence"):
            with self.lock:
                self.silenced = set(spec.get("ComputerNames", []))
            return {}
        if (method, path) == ("GET", "/_fake/managed"):
            now = time.time()
            with self.lock:
                return [dict(self.view(m, now), Tags=m["tags"]) for m in self.managed.values()]
        if (method, path) == ("GET", "/_fake/calls"):
            with self.lock:
                return dict(self.calls, _rejected=dict(self.rejected))
        raise KeyError("no control route %s %s" % (method, path))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body leave in two writes: without TCP_NODELAY the
        # body waits for the client's delayed ACK (40 ms) on every
        # kept-alive request (see fake_opsworks.py).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def send(self, status, data, ctype, request_id, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", request_id)
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def dispatch(self):
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request_id = str(uuid.uuid4())
        if self.path.startswith("/_fake/"):
            try:
                reply = fake.control(self.command, self.path, body.decode())
                return self.send(200, json.dumps(reply).encode(), "application/json", request_id)
            except (ValueError, KeyError, TypeError) as e:
                return self.send(400, json.dumps({"message": str(e)}).encode(),
                                 "application/json", request_id)
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else ""
        if self.command == "POST" and operation in IMPLEMENTED:
            try:
                reply = fake.handle(self.headers, body, operation)
                fake.log("%s %s 200" % (request_id, operation))
                return self.send(200, json.dumps(reply).encode(), CONTENT_TYPE, request_id)
            except common.ApiError as e:
                error = e
            except Exception:
                fake.log("BUG in fake_ssm: %s" % traceback.format_exc(), to_stderr=True)
                error = common.ApiError(500, "InternalServerError", "fake_ssm bug; see its log")
            fake.count(fake.rejected, error.code)
            fake.log("%s %s rejected %s: %s" % (request_id, operation, error.code, error.message))
            return self.send(error.status, json.dumps({"__type": error.code,
                                                       "message": error.message}).encode(),
                             CONTENT_TYPE, request_id)
        self.forward(body)

    def forward(self, body):
        """Pass the request to moto unchanged and its answer back."""
        up = urllib.parse.urlsplit(self.server.fake.args.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                 "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_POST = dispatch
    do_GET = dispatch


def main():
    ap = argparse.ArgumentParser(description="SSM managed-instance fake in front of moto")
    ap.add_argument("--upstream", required=True, help="moto's URL")
    ap.add_argument("--credentials", required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--account", default="123456789012")
    ap.add_argument("--log")
    args = ap.parse_args()
    server = common.Server((args.bind, args.port), FakeSsm(args))
    server.RequestHandlerClass = Handler
    if args.port_file:
        common.write_port_file(args.port_file, server.server_address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
