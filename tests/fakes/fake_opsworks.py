"""A strict stand-in for AWS OpsWorks Stacks (retired by AWS in 2024).

No real implementation exists to test against, so this fake is held to
the official service model that Debian's python3-botocore (1.29) still
ships: every request is validated against the operation's input shape and
every reply against its output shape; every signature is recomputed with
botocore's SigV4Auth; each key may carry an IAM policy that is evaluated
for the action and the stack ARN. It keeps a registry the tests read,
counts calls, and injects latency, throttling, 5xx, resets and garbage.

Run it with /usr/bin/python3 (Debian's interpreter: it has the OpsWorks
model; the image's newer botocore dropped it). Control API (unsigned):
  GET  /_fake/registry          registered instances (JSON list)
  GET  /_fake/calls             {"RegisterInstance": n, ..., "_rejected": {...}}
  POST /_fake/reset             clear registry and counters
  POST /_fake/faults {...}      latency_ms, throttle_above_rps, error_5xx,
                                reset, garbage, operations: [...]; {} clears
  POST /_fake/stacks {"StackId", "Name"}
  POST /_fake/register {...}    plant a registration (leak tests)
"""
import argparse
import base64
import fnmatch
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.validate import ParamValidator

TARGET_PREFIX = "OpsWorks_20130218."
IMPLEMENTED = ("RegisterInstance", "DeregisterInstance", "DescribeInstances",
               "DescribeStacks", "DescribeStackProvisioningParameters")
MAX_SKEW = 15 * 60


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Fake:
    def __init__(self, args):
        self.args = args
        self.model = botocore.session.get_session().get_service_model("opsworks")
        self.validator = ParamValidator()
        self.lock = threading.Lock()
        self.stacks = {}
        for spec in args.stack or []:
            sid, _, name = spec.partition(":")
            self.stacks[sid] = name or "stack"
        self.registry = {}
        self.calls = {}
        self.rejected = {}
        self.faults = {}
        self.recent = []
        self.log = open(args.log, "a") if args.log else sys.stderr

    # ---- bookkeeping -------------------------------------------------
    def note(self, fmt, *a):
        self.log.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % a))
        self.log.flush()

    def reject(self, reason):
        with self.lock:
            self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def stack_arn(self, sid):
        return "arn:aws:opsworks:%s:%s:stack/%s/" % (self.args.region, self.args.account, sid)

    # ---- authentication ---------------------------------------------
    def credentials(self):
        with open(self.args.credentials) as f:
            return json.load(f)

    def authenticate(self, handler, body):
        auth = handler.headers.get("Authorization", "")
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$", auth)
        if not m:
            raise ApiError(400, "MissingAuthenticationTokenException",
                           "Missing Authentication Token")
        key_id, date, region, service, signed, signature = m.groups()
        entry = self.credentials().get(key_id)
        if entry is None:
            raise ApiError(400, "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        if region != self.args.region or service != "opsworks":
            raise ApiError(400, "InvalidSignatureException",
                           "Credential should be scoped to a valid region and service.")
        amz_date = handler.headers.get("X-Amz-Date", "")
        try:
            t = time.mktime(time.strptime(amz_date, "%Y%m%dT%H%M%SZ")) - time.timezone
        except ValueError:
            raise ApiError(400, "InvalidSignatureException", "Bad X-Amz-Date")
        if abs(time.time() - t) > MAX_SKEW or not amz_date.startswith(date):
            raise ApiError(400, "InvalidSignatureException", "Signature expired: %s" % amz_date)
        token = entry.get("token")
        if token and handler.headers.get("X-Amz-Security-Token") != token:
            raise ApiError(400, "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        # Recompute with botocore from exactly the signed headers.
        headers = {}
        for name in signed.split(";"):
            value = handler.headers.get(name)
            if value is None:
                raise ApiError(400, "InvalidSignatureException",
                               "Signed header %s missing" % name)
            headers[name] = value
        url = "http://%s%s" % (handler.headers.get("Host"), handler.path)
        request = AWSRequest(method=handler.command, url=url, data=body, headers=headers)
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(key_id, entry["secret"], token), "opsworks", region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature):
            raise ApiError(400, "InvalidSignatureException",
                           "The request signature we calculated does not match the signature "
                           "you provided. Check your AWS Secret Access Key and signing method.")
        return key_id, entry.get("policy")

    # ---- authorization (IAM policy evaluation, the subset we use) -----
    @staticmethod
    def _as_list(v):
        return v if isinstance(v, list) else [v]

    def authorize(self, key_id, policy, action, resource):
        if policy is None:
            return
        allowed = False
        for st in self._as_list(policy.get("Statement", [])):
            actions = [a.lower() for a in self._as_list(st.get("Action", []))]
            resources = self._as_list(st.get("Resource", []))
            if not any(fnmatch.fnmatchcase(("opsworks:" + action).lower(), a) for a in actions):
                continue
            if not any(fnmatch.fnmatchcase(resource, r) for r in resources):
                continue
            if st.get("Effect") == "Deny":
                allowed = False
                break
            allowed = allowed or st.get("Effect") == "Allow"
        if not allowed:
            raise ApiError(400, "AccessDeniedException",
                           "User: %s is not authorized to perform: opsworks:%s on resource: %s"
                           % (key_id, action, resource))

    # ---- faults -------------------------------------------------------
    def fault_applies(self, operation):
        ops = self.faults.get("operations")
        return not ops or operation in ops

    def take_fault(self, name, operation):
        with self.lock:
            if self.faults.get(name, 0) > 0 and self.fault_applies(operation):
                self.faults[name] -= 1
                return True
        return False

    def throttled(self, operation):
        limit = self.faults.get("throttle_above_rps")
        if not limit or not self.fault_applies(operation):
            return False
        now = time.time()
        with self.lock:
            self.recent = [t for t in self.recent if now - t < 1.0]
            self.recent.append(now)
            return len(self.recent) > limit

    # ---- operations --------------------------------------------------
    def instance_view(self, inst):
        keys = ("InstanceId", "Ec2InstanceId", "StackId", "Hostname", "PrivateIp", "PublicIp",
                "Status", "RegisteredBy", "CreatedAt", "Arn", "InfrastructureClass")
        return {k: inst[k] for k in keys if inst.get(k) is not None}

    def check_identity(self, identity):
        doc = identity.get("Document") if identity else None
        if not doc:
            raise ApiError(400, "ValidationException", "InstanceIdentity.Document is required")
        try:
            parsed = json.loads(doc)
        except ValueError:
            raise ApiError(400, "ValidationException", "InstanceIdentity.Document is not JSON")
        iid = parsed.get("instanceId")
        if not isinstance(iid, str) or not re.match(r"^i-[0-9a-f]{8,17}$", iid):
            raise ApiError(400, "ValidationException", "InstanceIdentity.Document has no instanceId")
        if self.args.identity_pubkey:
            sig = identity.get("Signature") or ""
            with tempfile.TemporaryDirectory() as tmp:
                with open(os.path.join(tmp, "doc"), "w") as f:
                    f.write(doc)
                try:
                    raw = base64.b64decode(sig, validate=True)
                except ValueError:
                    raw = b""
                with open(os.path.join(tmp, "sig"), "wb") as f:
                    f.write(raw)
                ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify",
                                     self.args.identity_pubkey, "-signature",
                                     os.path.join(tmp, "sig"), os.path.join(tmp, "doc")],
                                    capture_output=True).returncode == 0
            if not ok:
                raise ApiError(400, "ValidationException",
                               "InstanceIdentity.Signature does not verify")
        return iid

    def op_RegisterInstance(self, key_id, policy, p):
        sid = p["StackId"]
        self.authorize(key_id, policy, "RegisterInstance", self.stack_arn(sid))
        if sid not in self.stacks:
            raise ApiError(400, "ResourceNotFoundException", "Unable to find stack with ID %s" % sid)
        ec2_id = self.check_identity(p.get("InstanceIdentity"))
        with self.lock:
            # OpsWorks refuses to register one EC2 instance twice; the
            # documented error is a ValidationException.
            for inst in self.registry.values():
                if inst["Ec2InstanceId"] == ec2_id and inst["StackId"] == sid:
                    raise ApiError(400, "ValidationException",
                                   "Instance %s is already registered" % ec2_id)
            oid = str(uuid.uuid4())
            self.registry[oid] = {
                "InstanceId": oid, "Ec2InstanceId": ec2_id, "StackId": sid,
                "Hostname": p.get("Hostname"), "PrivateIp": p.get("PrivateIp"),
                "PublicIp": p.get("PublicIp"), "Status": "registered",
                "RegisteredBy": key_id, "CreatedAt": time.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "Arn": "arn:aws:opsworks:%s:%s:instance/%s" % (self.args.region, self.args.account, oid),
                "InfrastructureClass": "ec2",
                "RsaPublicKeyFingerprint": p.get("RsaPublicKeyFingerprint"),
            }
        self.note("RegisterInstance %s %s as %s", p.get("Hostname"), ec2_id, oid)
        return {"InstanceId": oid}

    def op_DeregisterInstance(self, key_id, policy, p):
        with self.lock:
            inst = self.registry.get(p["InstanceId"])
        if inst is None:
            raise ApiError(400, "ResourceNotFoundException",
                           "Unable to find instance with ID %s" % p["InstanceId"])
        self.authorize(key_id, policy, "DeregisterInstance", self.stack_arn(inst["StackId"]))
        with self.lock:
            self.registry.pop(p["InstanceId"], None)
        self.note("DeregisterInstance %s (%s)", p["InstanceId"], inst["Hostname"])
        return {}

    def op_DescribeInstances(self, key_id, policy, p):
        given = [k for k in ("StackId", "LayerId", "InstanceIds") if k in p]
        if len(given) != 1:
            raise ApiError(400, "ValidationException",
                           "Please provide no more than one of StackId, LayerId, InstanceIds")
        with self.lock:
            insts = list(self.registry.values())
        if "StackId" in p:
            self.authorize(key_id, policy, "DescribeInstances", self.stack_arn(p["StackId"]))
            if p["StackId"] not in self.stacks:
                raise ApiError(400, "ResourceNotFoundException",
                               "Unable to find stack with ID %s" % p["StackId"])
            insts = [i for i in insts if i["StackId"] == p["StackId"]]
        elif "InstanceIds" in p:
            insts = [i for i in insts if i["InstanceId"] in p["InstanceIds"]]
            for i in insts:
                self.authorize(key_id, policy, "DescribeInstances", self.stack_arn(i["StackId"]))
        else:
            insts = []
        return {"Instances": [self.instance_view(i) for i in insts]}

    def op_DescribeStacks(self, key_id, policy, p):
        ids = p.get("StackIds") or list(self.stacks)
        out = []
        for sid in ids:
            self.authorize(key_id, policy, "DescribeStacks", self.stack_arn(sid))
            if sid not in self.stacks:
                raise ApiError(400, "ResourceNotFoundException", "Unable to find stack with ID %s" % sid)
            out.append({"StackId": sid, "Name": self.stacks[sid], "Arn": self.stack_arn(sid),
                        "Region": self.args.region})
        return {"Stacks": out}

    def op_DescribeStackProvisioningParameters(self, key_id, policy, p):
        self.authorize(key_id, policy, "DescribeStackProvisioningParameters",
                       self.stack_arn(p["StackId"]))
        if p["StackId"] not in self.stacks:
            raise ApiError(400, "ResourceNotFoundException", "Unable to find stack")
        return {"AgentInstallerUrl": "https://example.invalid/agent.tgz", "Parameters": {}}

    # ---- dispatch ----------------------------------------------------
    def handle(self, handler, body):
        target = handler.headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX):
            raise ApiError(400, "UnknownOperationException", "Unknown target %s" % target)
        operation = target[len(TARGET_PREFIX):]
        if operation not in self.model.operation_names:
            raise ApiError(400, "UnknownOperationException", "Unknown operation %s" % operation)
        if handler.headers.get("Content-Type", "").split(";")[0] != "application/x-amz-json-1.1":
            raise ApiError(400, "SerializationException", "Content-Type must be application/x-amz-json-1.1")
        key_id, policy = self.authenticate(handler, body)
        if self.throttled(operation):
            raise ApiError(400, "ThrottlingException", "Rate exceeded")
        if self.take_fault("error_5xx", operation):
            raise ApiError(500, "InternalFailure", "Injected internal failure")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise ApiError(400, "SerializationException", "Body is not JSON")
        op_model = self.model.operation_model(operation)
        report = self.validator.validate(params, op_model.input_shape)
        if report.has_errors():
            raise ApiError(400, "ValidationException", report.generate_report())
        if operation not in IMPLEMENTED:
            raise ApiError(400, "UnknownOperationException",
                           "%s is not implemented by this fake" % operation)
        result = getattr(self, "op_" + operation)(key_id, policy, params)
        report = (self.validator.validate(result, op_model.output_shape)
                  if op_model.output_shape is not None else None)
        if op_model.output_shape is None and result:
            raise ApiError(500, "InternalFailure", "fake bug: %s has no output" % operation)
        if report is not None and report.has_errors():
            raise ApiError(500, "InternalFailure", "fake bug: reply does not fit the model: "
                           + report.generate_report())
        with self.lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
        return result


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, payload, request_id=None):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", request_id or str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def control(self, body):
        fake = self.server.fake
        with fake.lock:
            if self.command == "GET" and self.path == "/_fake/registry":
                return list(fake.registry.values())
            if self.command == "GET" and self.path == "/_fake/calls":
                return dict(fake.calls, _rejected=dict(fake.rejected))
            if self.command == "POST" and self.path == "/_fake/reset":
                fake.registry.clear(); fake.calls.clear(); fake.rejected.clear()
                return {}
            if self.command == "POST" and self.path == "/_fake/faults":
                fake.faults = json.loads(body or b"{}")
                return fake.faults
            if self.command == "POST" and self.path == "/_fake/stacks":
                p = json.loads(body)
                fake.stacks[p["StackId"]] = p.get("Name", "stack")
                return {}
            if self.command == "POST" and self.path == "/_fake/register":
                p = json.loads(body)
                oid = p.get("InstanceId") or str(uuid.uuid4())
                p.update({"InstanceId": oid, "Status": p.get("Status", "registered")})
                fake.registry[oid] = p
                return {"InstanceId": oid}
        return None

    def dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.server.fake
        if self.path.startswith("/_fake/"):
            result = self.control(body)
            if result is None:
                return self.send(404, {"message": "no such control path"})
            return self.send(200, result)
        operation = self.headers.get("X-Amz-Target", "")[len(TARGET_PREFIX):]
        if fake.faults.get("latency_ms") and fake.fault_applies(operation):
            time.sleep(fake.faults["latency_ms"] / 1000.0)
        if fake.take_fault("reset", operation):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fake.take_fault("garbage", operation):
            return self.send(200, b"\x00<html>not json")
        try:
            result = fake.handle(self, body)
            self.send(200, result)
        except ApiError as e:
            fake.reject(e.code)
            fake.note("%s rejected: %s: %s", operation or "?", e.code, e.message)
            self.send(e.status, {"__type": e.code, "message": e.message})

    do_POST = dispatch
    do_GET = dispatch


def main():
    ap = argparse.ArgumentParser(description="Fake AWS OpsWorks Stacks endpoint")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--account", default="123456789012")
    ap.add_argument("--credentials", required=True)
    ap.add_argument("--stack", action="append")
    ap.add_argument("--identity-pubkey")
    ap.add_argument("--log")
    args = ap.parse_args()
    # The default listen backlog of 5 would make parallel clients wait for
    # SYN retransmits; a real endpoint accepts far more.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    server.daemon_threads = True
    server.fake = Fake(args)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
