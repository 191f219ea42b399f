"""A strict stand-in for AWS OpsWorks Stacks, which AWS retired in 2024.

There is no real service left to test against, so this fake holds every
request to what the real one documented and enforced, taken from the
OpsWorks service model that Debian's python3-botocore (1.29) still ships:

* SigV4 is recomputed with botocore's own SigV4Auth (never our own HMAC
  code), with the credential scope, clock skew, session token and body hash
  checked the way AWS's front end does;
* each access key may carry an IAM policy, evaluated for the action and the
  stack ARN (explicit Deny wins, no Allow means AccessDeniedException);
* every request body is checked against the operation's input shape and
  every reply against its output shape (a reply that does not fit is a bug
  in this fake: 500 and a clear log line);
* RegisterInstance checks the EC2 identity document and, given
  --identity-pubkey, its RSA-SHA256 signature.

It keeps a registry the tests read, counts calls, and injects latency,
throttling, 5xx answers, connection resets and garbage bodies.

Run it with Debian's /usr/bin/python3 (the image's newer botocore dropped
the OpsWorks model):

  fake_opsworks.py --credentials FILE [--bind 127.0.0.1] [--port 0]
      [--port-file FILE] [--region us-east-1] [--account 123456789012]
      [--stack ID[:NAME]]... [--identity-pubkey PEM] [--log FILE]

--credentials names a JSON object, re-read on every request:
  {"AKID": {"secret": "...", "policy": <IAM policy document or null>,
            "token": "<session token, optional>", "arn": "<optional>"}}

Control API (plain HTTP, unsigned, only under /_fake/):
  GET  /_fake/registry   registered instances, a JSON list
  GET  /_fake/count      how many are registered, a JSON number (cheap to poll)
  GET  /_fake/calls      {"<Operation>": n, ..., "_rejected": {"<code>": n}}
  GET  /_fake/faults     the faults in force
  GET  /_fake/stacks     the stacks, a JSON list
  POST /_fake/reset      clear registry, counters and faults (stacks stay)
  POST /_fake/faults     {"latency_ms", "throttle_above_rps", "error_5xx",
                          "error_5xx_status", "reset", "garbage",
                          "clock_offset_s", "operations"}; {} clears them
  POST /_fake/stacks     {"StackId": ..., "Name": ...}
  POST /_fake/register   {"StackId", "Ec2InstanceId", "Hostname", ...}
                         plants a registration (leak tests)

calls[op] counts requests that passed authentication, model validation and
authorization, whatever happened next (ResourceNotFoundException included);
_rejected counts every error answer by its code, plus "connection_reset"
and "garbage_body" for those faults.

Faults, all limited to "operations" when that list is given: latency_ms
delays every answer; throttle_above_rps answers ThrottlingException (400)
to a signed request that would make more than that many let through within
one second (0: every one); error_5xx makes the next N signed requests fail with 500
InternalFailure (503 ServiceUnavailable with error_5xx_status 503); reset
closes the next N connections with a TCP reset and no answer; garbage
answers the next N with 200 and a body that is not JSON. clock_offset_s
(not limited by "operations") sets the service's clock that many seconds
off ours, for signature times and the Date header: past 15 minutes, every
request is refused as AWS refuses a skewed one.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

SERVICE = "opsworks"
TARGET_PREFIX = "OpsWorks_20130218."
CONTENT_TYPE = "application/x-amz-json-1.1"
IMPLEMENTED = ("RegisterInstance", "DeregisterInstance", "DescribeInstances",
               "DescribeStacks", "DescribeStackProvisioningParameters")
# AWS refuses a signature whose X-Amz-Date is more than 15 minutes off.
MAX_SKEW = datetime.timedelta(minutes=15)
AMZ_DATE = "%Y%m%dT%H%M%SZ"
EC2_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
# The hostname rule `aws opsworks register` enforces (awscli's
# customizations/opsworks.py); OpsWorks hostnames are DNS labels.
HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.I)
FAULT_KEYS = {"latency_ms": (int, float), "throttle_above_rps": (int, float),
              "error_5xx": int, "error_5xx_status": int, "reset": int,
              "garbage": int, "clock_offset_s": (int, float), "operations": list}
BAD_SIGNATURE = ("The request signature we calculated does not match the signature you "
                 "provided. Check your AWS Secret Access Key and signing method. "
                 "Consult the service documentation for details.")
BAD_TOKEN = "The security token included in the request is invalid."


class ApiError(Exception):
    """An error answer: HTTP status, AWS error code (__type), message."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def fail(code, message, status=400):
    raise ApiError(status, code, message)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(t):
    # OpsWorks wrote its DateTime strings as "2015-03-13T21:14:39+00:00".
    return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")


# ---------------------------------------------------------------------------
# The service model: shape checks for requests and replies
# ---------------------------------------------------------------------------

def _type_error(value, path, wanted):
    shown = "null" if value is None else json.dumps(value)[:40]
    return "Value %s at '%s' failed to satisfy constraint: Member must be %s" % (
        shown, path, wanted)


def check_shape(shape, value, path, errors):
    """Append to errors every way value (decoded JSON) breaks shape.

    Mirrors what AWS's JSON protocol accepts, with one deliberate
    strictness: a member the model does not know is an error (the real
    service ignored it), so a misspelt member in a client is caught here.
    """
    kind = shape.type_name
    if kind == "structure":
        return _check_structure(shape, value, path, errors)
    if kind == "list":
        if not isinstance(value, list):
            return errors.append(_type_error(value, path, "a list"))
        _check_range(shape, len(value), path, errors, "length")
        for i, item in enumerate(value):
            check_shape(shape.member, item, "%s.%d" % (path, i + 1), errors)
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return errors.append(_type_error(value, path, "a map"))
        _check_range(shape, len(value), path, errors, "length")
        for k, v in value.items():
            check_shape(shape.key, k, "%s.key" % path, errors)
            check_shape(shape.value, v, "%s.%s" % (path, k), errors)
        return None
    if kind == "string":
        return _check_string(shape, value, path, errors)
    if kind == "boolean":
        if not isinstance(value, bool):
            errors.append(_type_error(value, path, "a boolean"))
        return None
    if kind in ("integer", "long"):
        # JSON true/false decode as Python bools, which are ints: refuse them.
        if isinstance(value, bool) or not isinstance(value, int):
            return errors.append(_type_error(value, path, "an integer"))
        return _check_range(shape, value, path, errors, "value")
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return errors.append(_type_error(value, path, "a number"))
        return _check_range(shape, value, path, errors, "value")
    if kind == "timestamp":
        # The JSON protocol sends timestamps as epoch seconds.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(_type_error(value, path, "a timestamp in epoch seconds"))
        return None
    if kind == "blob":
        try:
            base64.b64decode(value, validate=True)
        except (TypeError, ValueError):
            errors.append(_type_error(value, path, "base64 data"))
        return None
    errors.append("'%s' has shape type %s, which this fake cannot check" % (path, kind))
    return None


def _check_structure(shape, value, path, errors):
    if not isinstance(value, dict):
        return errors.append(_type_error(value, path or "<body>", "a structure"))
    prefix = path + "." if path else ""
    for name in shape.required_members:
        if name not in value:
            errors.append("Value null at '%s%s' failed to satisfy constraint: "
                          "Member must not be null" % (prefix, name))
    for name, member_value in value.items():
        member = shape.members.get(name)
        if member is None:
            errors.append("Unknown member '%s%s': not in the OpsWorks model's %s"
                          % (prefix, name, shape.name))
        else:
            check_shape(member, member_value, prefix + name, errors)
    return None


# Service models write patterns for Java: Unicode classes Python's re
# lacks. Used inside [...] in the models; these ranges cover what requests
# here carry (letters incl. Latin-1 and beyond, digits, spaces).
JAVA_CLASSES = {r"\p{L}": "A-Za-z\u00C0-\uFFFF", r"\p{N}": "0-9", r"\p{Z}": " \u00A0"}


def java_regex(pattern):
    if pattern:
        for java, py in JAVA_CLASSES.items():
            pattern = pattern.replace(java, py)
    return pattern


def _check_string(shape, value, path, errors):
    if not isinstance(value, str):
        return errors.append(_type_error(value, path, "a string"))
    _check_range(shape, len(value), path, errors, "length")
    if shape.enum and value not in shape.enum:
        errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must "
                      "satisfy enum value set: [%s]" % (value, path, ", ".join(shape.enum)))
    pattern = java_regex(shape.metadata.get("pattern"))
    if pattern and not re.fullmatch(pattern, value):
        errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must "
                      "satisfy regular expression pattern: %s" % (value, path, pattern))
    return None


def _check_range(shape, n, path, errors, what):
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and n < low:
        errors.append("Value at '%s' failed to satisfy constraint: Member must have %s "
                      "greater than or equal to %s" % (path, what, low))
    if high is not None and n > high:
        errors.append("Value at '%s' failed to satisfy constraint: Member must have %s "
                      "less than or equal to %s" % (path, what, high))


def shape_errors(shape, value):
    """The errors as one AWS-style message, or None when value fits."""
    errors = []
    check_shape(shape, value, "", errors)
    if not errors:
        return None
    return "%d validation error%s detected: %s" % (
        len(errors), "" if len(errors) == 1 else "s", "; ".join(errors))


def parse_json_body(body):
    """The request body as a dict, or SerializationException.

    Duplicate keys and NaN/Infinity are refused: JSON parsers disagree on
    them, so a client must not send them.
    """
    def no_duplicates(pairs):
        obj = {}
        for k, v in pairs:
            if k in obj:
                fail("SerializationException", "Duplicate member %r in the request body" % k)
            obj[k] = v
        return obj

    def no_constant(name):
        fail("SerializationException", "%s is not valid JSON" % name)

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        fail("SerializationException", "The request body is not UTF-8")
    if not text.strip():
        # aws-cli and the SDKs always send at least "{}".
        fail("SerializationException", "The request body is empty; send {} for no members")
    try:
        value = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except ValueError as e:
        fail("SerializationException", "The request body is not valid JSON: %s" % e)
    if not isinstance(value, dict):
        fail("SerializationException", "The request body must be a JSON object")
    return value


# ---------------------------------------------------------------------------
# SigV4, verified by botocore
# ---------------------------------------------------------------------------

class ExactHeadersSigV4(SigV4Auth):
    """botocore's SigV4 signer, canonicalising exactly the headers given.

    botocore leaves user-agent, expect and x-amzn-trace-id out when it signs
    for itself; a client that chose to sign them is still right, and AWS
    then includes them. The request handed in holds only the headers the
    client named in SignedHeaders, so take them all.
    """

    def headers_to_sign(self, request):
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name.lower()] = value
        return headers


def parse_authorization(value):
    """Split an AWS4-HMAC-SHA256 Authorization header into its parameters."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        fail("IncompleteSignatureException",
             "Unsupported AWS 'algorithm': '%s' (only AWS4-HMAC-SHA256)" % algorithm)
    params = {}
    for part in rest.split(","):
        key, eq, val = part.strip().partition("=")
        if eq:
            params[key] = val
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in params]
    if missing:
        fail("IncompleteSignatureException",
             " ".join("Authorization header requires '%s' parameter." % k for k in missing)
             + " Authorization=" + value)
    return params


def check_request_time(amz_date, now):
    """The signing time from X-Amz-Date, refused past AWS's 15 minutes."""
    try:
        signed = datetime.datetime.strptime(amz_date, AMZ_DATE).replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        fail("IncompleteSignatureException",
             "X-Amz-Date must be in the ISO-8601 basic format yyyyMMdd'T'HHmmss'Z', got '%s'"
             % amz_date)
    fmt = lambda t: t.strftime(AMZ_DATE)
    if signed < now - MAX_SKEW:
        fail("InvalidSignatureException",
             "Signature expired: %s is now earlier than %s (%s - 15 min.)"
             % (amz_date, fmt(now - MAX_SKEW), fmt(now)))
    if signed > now + MAX_SKEW:
        fail("InvalidSignatureException",
             "Signature not yet current: %s is still later than %s (%s + 15 min.)"
             % (amz_date, fmt(now + MAX_SKEW), fmt(now)))


def check_scope(scope, amz_date, region):
    """Credential=AKID/date/region/service/aws4_request, as AWS checks it."""
    parts = scope.split("/")
    if len(parts) != 5:
        fail("IncompleteSignatureException",
             "Credential must have exactly 5 slash-delimited elements, e.g. "
             "keyid/date/region/service/term, got '%s'" % scope)
    key_id, date, scope_region, service, terminator = parts
    if date != amz_date[:8]:
        fail("InvalidSignatureException",
             "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
             "date from HTTP: '%s' != '%s', from 'X-Amz-Date'." % (date, amz_date[:8]))
    if scope_region != region:
        fail("InvalidSignatureException",
             "Credential should be scoped to a valid region, not '%s'." % scope_region)
    if service != SERVICE:
        fail("InvalidSignatureException",
             "Credential should be scoped to correct service: '%s'." % SERVICE)
    if terminator != "aws4_request":
        fail("InvalidSignatureException",
             "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'."
             % terminator)
    return key_id


def signed_request(method, path, headers, body, signed_names):
    """A botocore AWSRequest holding only the headers the client signed."""
    chosen = HTTPHeaders()
    for name in signed_names:
        values = headers.get_all(name)
        if not values:
            fail("InvalidSignatureException",
                 "Header '%s' is named in SignedHeaders but is not in the request" % name)
        for v in values:
            chosen[name] = v
    # The Host header verbatim (with its port): it is what the client signed.
    url = "http://%s%s" % (headers.get("Host"), path)
    return AWSRequest(method=method, url=url, data=body, headers=chosen)


def authenticate(method, path, headers, body, credential, region, log, now=None):
    """Check the request's SigV4 signature; return (key_id, credential entry).

    credential(key_id) gives the key's entry, or None for an unknown key;
    now is the service's time (default: this machine's).
    """
    auth = headers.get("Authorization")
    if not auth:
        fail("MissingAuthenticationTokenException", "Missing Authentication Token")
    params = parse_authorization(auth)
    amz_date = headers.get("X-Amz-Date")
    if not amz_date:
        # AWS also takes an RFC 1123 Date header; clients of this project
        # always send X-Amz-Date, so only that is accepted here.
        fail("IncompleteSignatureException",
             "Authorization header requires existence of either a 'X-Amz-Date' or a "
             "'Date' header. Authorization=" + auth)
    signed_names = params["SignedHeaders"].split(";")
    if "host" not in signed_names:
        fail("IncompleteSignatureException",
             "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    if "x-amz-date" not in signed_names:
        # Unsigned, the date could be replaced to replay the request later.
        fail("IncompleteSignatureException",
             "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
    check_request_time(amz_date, now or utc_now())
    key_id = check_scope(params["Credential"], amz_date, region)
    entry = credential(key_id)
    if entry is None:
        fail("UnrecognizedClientException", BAD_TOKEN)
    # A session key is valid only with its token, a long-term key only
    # without one.
    if (headers.get("X-Amz-Security-Token") or None) != (entry.get("token") or None):
        fail("UnrecognizedClientException", BAD_TOKEN)
    content_sha = headers.get("X-Amz-Content-SHA256")
    if content_sha is not None and content_sha != hashlib.sha256(body).hexdigest():
        # botocore trusts this header when it is present; AWS checks it.
        fail("InvalidSignatureException",
             "The provided 'x-amz-content-sha256' header does not match what was computed.")
    request = signed_request(method, path, headers, body, signed_names)
    request.context["timestamp"] = amz_date
    signer = ExactHeadersSigV4(Credentials(key_id, entry["secret"], entry.get("token")),
                               SERVICE, region)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, params["Signature"]):
        log("signature mismatch for %s; canonical request was:\n%s\nstring to sign:\n%s"
            % (key_id, canonical, string_to_sign))
        fail("InvalidSignatureException", BAD_SIGNATURE)
    return key_id, entry


# ---------------------------------------------------------------------------
# IAM: the part of policy evaluation identity policies need
# ---------------------------------------------------------------------------

STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource"}


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _wildcard(pattern, text, arn):
    """IAM wildcard match: * any run of characters, ? exactly one.

    For ARNs (arn=True), IAM matches within the colon-separated segments: a
    wildcard does not cross a colon, except a * that ends a segment, which
    may run on past it.
    """
    out = []
    for i, ch in enumerate(pattern):
        if ch == "*":
            ends_segment = i + 1 == len(pattern) or pattern[i + 1] == ":"
            out.append(".*" if not arn or ends_segment else "[^:]*")
        elif ch == "?":
            out.append("[^:]" if arn else ".")
        else:
            out.append(re.escape(ch))
    flags = 0 if arn else re.IGNORECASE
    return re.fullmatch("".join(out), text, flags) is not None


def _statement_applies(st, action, resource):
    if "Action" in st:
        hit = any(_wildcard(a, action, False) for a in _as_list(st["Action"]))
    else:
        hit = not any(_wildcard(a, action, False) for a in _as_list(st["NotAction"]))
    if not hit:
        return False
    if "Resource" in st:
        return any(_wildcard(r, resource, True) for r in _as_list(st["Resource"]))
    return not any(_wildcard(r, resource, True) for r in _as_list(st["NotResource"]))


def for_service(policy, service):
    """The statements that can apply to an action of service. A statement
    whose every Action names another service never decides a request here,
    whatever its Condition says (one user's policy covers several
    services: the node's has conditioned SSM and EC2 statements)."""
    if not isinstance(policy, dict) or "Statement" not in policy:
        return policy
    keep = []
    for st in _as_list(policy["Statement"]):
        actions = st.get("Action") if isinstance(st, dict) else None
        if actions is None or any(not isinstance(a, str) or
                                  _wildcard(a.split(":", 1)[0], service, False)
                                  for a in _as_list(actions)):
            keep.append(st)
    return dict(policy, Statement=keep)


def check_policy(policy):
    """Refuse, loudly, a policy this evaluator would get wrong."""
    if not isinstance(policy, dict) or "Statement" not in policy:
        raise ValueError("a policy is an object with a Statement")
    for st in _as_list(policy["Statement"]):
        unknown = set(st) - STATEMENT_KEYS
        if unknown:
            # Condition, Principal, ...: evaluating them wrongly would let a
            # test pass that real IAM fails; better to stop here.
            raise ValueError("policy statement element(s) %s not supported by this fake"
                             % ", ".join(sorted(unknown)))
        if st.get("Effect") not in ("Allow", "Deny"):
            raise ValueError("Effect must be Allow or Deny, not %r" % st.get("Effect"))
        if ("Action" in st) == ("NotAction" in st):
            raise ValueError("a statement needs exactly one of Action, NotAction")
        if ("Resource" in st) == ("NotResource" in st):
            raise ValueError("a statement needs exactly one of Resource, NotResource")


def evaluate(policy, action, resource):
    """'allow', 'deny' (explicit) or 'implicit' (no statement allows)."""
    verdict = "implicit"
    for st in _as_list(policy["Statement"]):
        if _statement_applies(st, action, resource):
            if st["Effect"] == "Deny":
                return "deny"
            verdict = "allow"
    return verdict


# ---------------------------------------------------------------------------
# The instance identity document
# ---------------------------------------------------------------------------

def verify_rsa_sha256(pubkey_path, document, signature_b64):
    """True when signature_b64 is an RSA-SHA256 signature of document."""
    try:
        raw = base64.b64decode("".join(signature_b64.split()), validate=True)
    except ValueError:
        return False
    with tempfile.TemporaryDirectory(prefix="fake-opsworks-") as tmp:
        doc_path, sig_path = os.path.join(tmp, "document"), os.path.join(tmp, "signature")
        with open(doc_path, "wb") as f:
            f.write(document.encode("utf-8"))
        with open(sig_path, "wb") as f:
            f.write(raw)
        result = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pubkey_path,
                                 "-signature", sig_path, doc_path],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return result.returncode == 0


# ---------------------------------------------------------------------------
# The fake service: state, faults and operations
# ---------------------------------------------------------------------------

class Fake:
    def __init__(self, args):
        self.args = args
        self.model = botocore.session.get_session().get_service_model(SERVICE)
        self.lock = threading.Lock()  # guards all the state below
        self.log_lock = threading.Lock()
        self.stacks = {}
        self.registry = {}
        self.calls = {}
        self.rejected = {}
        self.faults = {}
        self.admitted = []
        self.log_file = open(args.log, "a") if args.log else None
        now = utc_now()
        for spec in args.stack or []:
            sid, _, name = spec.partition(":")
            self.add_stack(sid, name or "stack", now)

    # -- bookkeeping --------------------------------------------------------
    def log(self, text, to_stderr=False):
        line = "%s %s\n" % (utc_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"), text)
        # Its own lock: log() is called with and without self.lock held.
        with self.log_lock:
            if self.log_file:
                self.log_file.write(line)
                self.log_file.flush()
            if to_stderr:
                sys.stderr.write(line)
                sys.stderr.flush()

    def reject(self, reason):
        with self.lock:
            self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def count(self, operation):
        with self.lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1

    def arn(self, kind, ident):
        return "arn:aws:opsworks:%s:%s:%s/%s/" % (self.args.region, self.args.account, kind, ident)

    def add_stack(self, sid, name, created):
        self.stacks[sid] = {"StackId": sid, "Name": name, "Arn": self.arn("stack", sid),
                            "Region": self.args.region, "CreatedAt": iso(created)}

    def credential(self, key_id):
        """The credentials file's entry for key_id (None if absent).

        Read on every request so a test can add keys; only the caller's
        entry is checked, so one bad policy does not break every key.
        """
        try:
            with open(self.args.credentials) as f:
                creds = json.load(f)
            if not isinstance(creds, dict):
                raise ValueError("the file must hold a JSON object")
            entry = creds.get(key_id)
            if entry is None:
                return None
            if not isinstance(entry, dict) or not isinstance(entry.get("secret"), str):
                raise ValueError("%s: needs a \"secret\" string" % key_id)
            if entry.get("policy") is not None:
                check_policy(for_service(entry["policy"], SERVICE))
        except (OSError, ValueError) as e:
            self.log("BUG in the test setup: credentials file %s: %s"
                     % (self.args.credentials, e), to_stderr=True)
            fail("InternalFailure", "fake: unusable credentials file: %s" % e, 500)
        return entry

    # -- faults -------------------------------------------------------------
    def fault_applies(self, operation):
        ops = self.faults.get("operations")
        return not ops or operation in ops

    def take_fault(self, name, operation):
        """Consume one of the next-N faults called name, if it applies."""
        with self.lock:
            if self.faults.get(name, 0) > 0 and self.fault_applies(operation):
                self.faults[name] -= 1
                return True
        return False

    def throttled(self, operation):
        """True when letting this request through would make more than
        throttle_above_rps requests let through within the last second.

        Only admitted requests count, as in AWS's token buckets: a
        throttled request uses up no capacity, so clients that back off
        get through instead of keeping each other throttled.
        """
        with self.lock:
            limit = self.faults.get("throttle_above_rps")
            if limit is None or not self.fault_applies(operation):
                return False
            now = time.monotonic()
            self.admitted = [t for t in self.admitted if now - t < 1.0]
            if len(self.admitted) + 1 > limit:
                return True
            self.admitted.append(now)
            return False

    def now(self):
        """The service's clock: ours, off by the clock_offset_s fault."""
        return utc_now() + datetime.timedelta(seconds=self.faults.get("clock_offset_s", 0))

    def set_faults(self, spec):
        for key, value in spec.items():
            if key not in FAULT_KEYS:
                raise ValueError("unknown fault %r (known: %s)" % (key, ", ".join(FAULT_KEYS)))
            if isinstance(value, bool) or not isinstance(value, FAULT_KEYS[key]):
                raise ValueError("fault %r has the wrong type" % key)
        if spec.get("error_5xx_status", 500) not in (500, 503):
            raise ValueError("error_5xx_status is 500 or 503")
        with self.lock:
            self.faults = dict(spec)
            self.admitted = []
            return dict(self.faults)

    def injected_5xx(self):
        if self.faults.get("error_5xx_status") == 503:
            fail("ServiceUnavailable", "Service unavailable (injected by the fake)", 503)
        fail("InternalFailure", "The request processing has failed because of an unknown "
             "error, exception or failure (injected by the fake)", 500)

    # -- authorization ------------------------------------------------------
    def authorize(self, caller, operation, resource):
        policy = caller["entry"].get("policy")
        if policy is None:
            return
        action = "%s:%s" % (SERVICE, operation)
        verdict = evaluate(for_service(policy, SERVICE), action, resource)
        if verdict == "allow":
            return
        why = ("with an explicit deny in an identity-based policy" if verdict == "deny"
               else "because no identity-based policy allows the %s action" % action)
        fail("AccessDeniedException", "User: %s is not authorized to perform: %s on "
             "resource: %s %s" % (caller["arn"], action, resource, why))

    def allowed(self, caller, operation, resource):
        try:
            self.authorize(caller, operation, resource)
            return True
        except ApiError:
            return False

    # -- registry -----------------------------------------------------------
    def new_record(self, fields, caller_arn):
        """A registry record; planted ones get the same defaults."""
        oid = fields.get("InstanceId") or str(uuid.uuid4())
        record = {"InstanceId": oid, "Ec2InstanceId": None, "StackId": None,
                  "Hostname": None, "PrivateIp": None, "PublicIp": None,
                  "RsaPublicKeyFingerprint": None, "RegisteredAt": iso(utc_now()),
                  "Status": "registered", "RegisteredBy": caller_arn,
                  "InfrastructureClass": "ec2", "AvailabilityZone": None,
                  "InstanceType": None, "AmiId": None}
        record.update({k: v for k, v in fields.items() if v is not None})
        record["Arn"] = self.arn("instance", oid)
        return record

    def instance_view(self, rec):
        """A registry record as the model's Instance shape."""
        keys = ("InstanceId", "Ec2InstanceId", "StackId", "Hostname", "PrivateIp",
                "PublicIp", "Status", "RegisteredBy", "Arn", "InfrastructureClass",
                "AvailabilityZone", "InstanceType", "AmiId")
        view = {k: rec[k] for k in keys if rec.get(k) is not None}
        view["CreatedAt"] = rec["RegisteredAt"]
        view["AgentVersion"] = "INHERIT"
        return view

    def find_instance(self, oid):
        with self.lock:
            rec = self.registry.get(oid)
        if rec is None:
            fail("ResourceNotFoundException", "Unable to find instance with ID %s" % oid)
        return rec

    def require_stack(self, sid):
        with self.lock:
            stack = self.stacks.get(sid)
        if stack is None:
            fail("ResourceNotFoundException", "Unable to find stack with ID %s" % sid)
        return stack

    # -- operations ---------------------------------------------------------
    # Each takes the caller and the validated parameters, authorizes against
    # the resource it touches, and returns the reply.

    def check_identity(self, identity):
        """The EC2 instance id from InstanceIdentity, after its checks."""
        # The model makes InstanceIdentity optional because on-premises
        # machines register without one; this fake models EC2 only.
        document = (identity or {}).get("Document")
        if document is None:
            fail("ValidationException", "InstanceIdentity.Document is required to register "
                 "an EC2 instance (this fake does not model on-premises instances)")
        try:
            doc = json.loads(document)
        except ValueError:
            fail("ValidationException", "InstanceIdentity.Document is not a JSON document")
        if not isinstance(doc, dict) or not isinstance(doc.get("instanceId"), str) \
                or not EC2_ID.match(doc["instanceId"]):
            fail("ValidationException",
                 "InstanceIdentity.Document has no valid instanceId (i-xxxxxxxx)")
        # A document from another region or account describes an instance
        # this stack cannot manage.
        if doc.get("region", self.args.region) != self.args.region:
            fail("ValidationException", "InstanceIdentity.Document is for region %s, the "
                 "stack is in %s" % (doc["region"], self.args.region))
        if doc.get("accountId", self.args.account) != self.args.account:
            fail("ValidationException", "InstanceIdentity.Document is for account %s, not %s"
                 % (doc["accountId"], self.args.account))
        if self.args.identity_pubkey:
            signature = identity.get("Signature")
            if not signature or not verify_rsa_sha256(self.args.identity_pubkey,
                                                      document, signature):
                fail("ValidationException", "InstanceIdentity.Signature does not verify "
                     "against InstanceIdentity.Document")
        return doc

    def op_RegisterInstance(self, caller, p):
        sid = p["StackId"]
        self.authorize(caller, "RegisterInstance", self.arn("stack", sid))
        self.require_stack(sid)
        doc = self.check_identity(p.get("InstanceIdentity"))
        if "Hostname" in p and not HOSTNAME.match(p["Hostname"]):
            fail("ValidationException", "Invalid hostname: '%s'. Hostnames must consist of "
                 "alphanumeric characters and dashes only and must not start or end with a "
                 "dash." % p["Hostname"])
        record = self.new_record({
            "Ec2InstanceId": doc["instanceId"], "StackId": sid, "Hostname": p.get("Hostname"),
            "PrivateIp": p.get("PrivateIp"), "PublicIp": p.get("PublicIp"),
            "RsaPublicKeyFingerprint": p.get("RsaPublicKeyFingerprint"),
            "AvailabilityZone": doc.get("availabilityZone"),
            "InstanceType": doc.get("instanceType"), "AmiId": doc.get("imageId"),
        }, caller["arn"])
        with self.lock:
            # An instance belongs to one stack at a time. The model's docs say
            # so for Elastic IPs and volumes ("If the address is already
            # registered, you must first deregister it") and say nothing for
            # instances; we take the same rule: a second RegisterInstance of
            # one EC2 instance, into this stack or another, is refused until
            # it is deregistered.
            for other in self.registry.values():
                if other["Ec2InstanceId"] == doc["instanceId"]:
                    fail("ValidationException", "Instance %s is already registered (as %s in "
                         "stack %s)" % (doc["instanceId"], other["InstanceId"],
                                        other["StackId"]))
            self.registry[record["InstanceId"]] = record
        self.log("registered %s (%s) as %s in stack %s" % (
            doc["instanceId"], p.get("Hostname", "-"), record["InstanceId"], sid))
        return {"InstanceId": record["InstanceId"]}

    def op_DeregisterInstance(self, caller, p):
        rec = self.find_instance(p["InstanceId"])
        self.authorize(caller, "DeregisterInstance", self.arn("stack", rec["StackId"]))
        with self.lock:
            if self.registry.pop(p["InstanceId"], None) is None:
                # Lost a race with another DeregisterInstance.
                fail("ResourceNotFoundException",
                     "Unable to find instance with ID %s" % p["InstanceId"])
        self.log("deregistered %s (%s, %s)" % (rec["InstanceId"], rec["Ec2InstanceId"],
                                               rec["Hostname"]))
        return None

    def op_DescribeInstances(self, caller, p):
        given = [k for k in ("StackId", "LayerId", "InstanceIds") if k in p]
        if not given:
            fail("ValidationException",
                 "Please provide either one or more instance IDs or one stack ID or one layer ID")
        if len(given) > 1:
            fail("ValidationException", "Please provide only one of StackId, LayerId, "
                 "InstanceIds (got %s)" % ", ".join(given))
        if "LayerId" in p:
            # This fake has no layers: registered instances need none.
            fail("ResourceNotFoundException", "Unable to find layer with ID %s" % p["LayerId"])
        if "StackId" in p:
            self.authorize(caller, "DescribeInstances", self.arn("stack", p["StackId"]))
            self.require_stack(p["StackId"])
            with self.lock:
                found = [r for r in self.registry.values() if r["StackId"] == p["StackId"]]
        else:
            found = [self.find_instance(oid) for oid in p["InstanceIds"]]
            for rec in found:
                self.authorize(caller, "DescribeInstances", self.arn("stack", rec["StackId"]))
        return {"Instances": [self.instance_view(r) for r in found]}

    def op_DescribeStacks(self, caller, p):
        if "StackIds" in p:
            stacks = []
            for sid in p["StackIds"]:
                self.authorize(caller, "DescribeStacks", self.arn("stack", sid))
                stacks.append(self.require_stack(sid))
        else:
            # "If you omit this parameter, DescribeStacks returns a
            # description of every stack": every stack the caller may see.
            with self.lock:
                every = list(self.stacks.values())
            stacks = [s for s in every if self.allowed(caller, "DescribeStacks", s["Arn"])]
        return {"Stacks": [self.stack_view(s) for s in stacks]}

    @staticmethod
    def stack_view(stack):
        view = dict(stack)
        # Fixed values a Chef 12 Linux stack of the time showed.
        view.update({"DefaultOs": "Amazon Linux 2", "HostnameTheme": "Layer_Dependent",
                     "ConfigurationManager": {"Name": "Chef", "Version": "12"},
                     "UseCustomCookbooks": False, "UseOpsworksSecurityGroups": True,
                     "DefaultRootDeviceType": "ebs", "AgentVersion": "LATEST"})
        return view

    def op_DescribeStackProvisioningParameters(self, caller, p):
        sid = p["StackId"]
        self.authorize(caller, "DescribeStackProvisioningParameters", self.arn("stack", sid))
        self.require_stack(sid)
        # .invalid addresses: nothing may fetch an agent from a fake.
        region = self.args.region
        return {"AgentInstallerUrl": "https://opsworks-agent.invalid/%s/installer.tgz" % region,
                "Parameters": {"instance_service_region": region,
                               "instance_service_endpoint": "opsworks-instance-service.invalid",
                               "instance_service_port": "443",
                               "assets_download_bucket": "opsworks-assets.invalid"}}

    # -- one request --------------------------------------------------------
    def handle(self, method, path, headers, body, operation):
        """Answer one API request: (status, reply dict), or raise ApiError."""
        caller_key, entry = authenticate(method, path, headers, body, self.credential,
                                         self.args.region, self.log, self.now())
        caller = {"key": caller_key, "entry": entry,
                  "arn": entry.get("arn") or "arn:aws:iam::%s:user/%s" % (self.args.account,
                                                                          caller_key)}
        target = headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX) or operation not in self.model.operation_names:
            fail("UnknownOperationException", "Unknown operation: X-Amz-Target %r" % target)
        if self.throttled(operation):
            fail("ThrottlingException", "Rate exceeded")
        if self.take_fault("error_5xx", operation):
            self.injected_5xx()
        ctype = headers.get("Content-Type", "").split(";")[0].strip()
        if ctype != CONTENT_TYPE:
            fail("SerializationException", "Content-Type must be %s, not %r" % (CONTENT_TYPE, ctype))
        params = parse_json_body(body)
        if operation not in IMPLEMENTED:
            fail("UnknownOperationException",
                 "%s is in the OpsWorks model but this fake does not implement it" % operation)
        op_model = self.model.operation_model(operation)
        problem = shape_errors(op_model.input_shape, params)
        if problem:
            fail("ValidationException", problem)
        try:
            reply = getattr(self, "op_" + operation)(caller, params)
        except ApiError as e:
            # A call the service acted on counts, whatever its outcome; one
            # the caller was not allowed to make does not.
            if e.code != "AccessDeniedException":
                self.count(operation)
            raise
        self.count(operation)
        return self.checked_reply(op_model, reply)

    def checked_reply(self, op_model, reply):
        """The reply, once it fits the output shape; a misfit is our bug."""
        if op_model.output_shape is None:
            if reply:
                problem = "%s has no output shape but the fake built %r" % (op_model.name, reply)
            else:
                return {}
        else:
            problem = shape_errors(op_model.output_shape, reply)
        if problem:
            self.log("BUG in fake_opsworks: %s reply does not fit the model: %s"
                     % (op_model.name, problem), to_stderr=True)
            fail("InternalFailure", "fake_opsworks bug: reply does not fit the model: "
                 + problem, 500)
        return reply

    # -- control API --------------------------------------------------------
    def control(self, method, path, body):
        """(status, JSON-able reply) for /_fake/ requests."""
        try:
            spec = json.loads(body) if body.strip() else {}
        except ValueError:
            return 400, {"message": "control body is not JSON"}
        routes = {
            ("GET", "/_fake/registry"): self.ctl_registry,
            ("GET", "/_fake/count"): self.ctl_count,
            ("GET", "/_fake/calls"): self.ctl_calls,
            ("GET", "/_fake/faults"): lambda _: dict(self.faults),
            ("GET", "/_fake/stacks"): lambda _: list(self.stacks.values()),
            ("POST", "/_fake/reset"): self.ctl_reset,
            ("POST", "/_fake/faults"): self.set_faults,
            ("POST", "/_fake/stacks"): self.ctl_add_stack,
            ("POST", "/_fake/register"): self.ctl_plant,
        }
        route = routes.get((method, path))
        if route is None:
            return 404, {"message": "no control route %s %s" % (method, path)}
        try:
            return 200, route(spec)
        except (ValueError, KeyError, TypeError) as e:
            return 400, {"message": "bad control request: %s" % e}

    def ctl_registry(self, _):
        with self.lock:
            return sorted(self.registry.values(), key=lambda r: r["RegisteredAt"])

    def ctl_count(self, _):
        with self.lock:
            return len(self.registry)

    def ctl_calls(self, _):
        with self.lock:
            return dict(self.calls, _rejected=dict(self.rejected))

    def ctl_reset(self, _):
        with self.lock:
            self.registry.clear()
            self.calls.clear()
            self.rejected.clear()
            self.faults = {}
            self.admitted = []
        return {}

    def ctl_add_stack(self, spec):
        if not isinstance(spec.get("StackId"), str):
            raise ValueError("StackId (a string) is required")
        with self.lock:
            self.add_stack(spec["StackId"], spec.get("Name", "stack"), utc_now())
            return self.stacks[spec["StackId"]]

    def ctl_plant(self, spec):
        if not isinstance(spec.get("StackId"), str):
            raise ValueError("StackId (a string) is required")
        record = self.new_record(spec, spec.get("RegisteredBy", "fake:planted"))
        with self.lock:
            self.registry[record["InstanceId"]] = record
        return {"InstanceId": record["InstanceId"]}


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

class Server(ThreadingHTTPServer):
    # The default listen backlog of 5 makes parallel clients wait for SYN
    # retransmits; a real endpoint accepts far more.
    request_queue_size = 128
    daemon_threads = True

    def __init__(self, address, fake):
        super().__init__(address, Handler)
        self.fake = fake
        self.abort_lock = threading.Lock()
        self.to_abort = set()

    def handle_error(self, request, client_address):
        """A client that went away mid-request (its host died, it gave up)
        is a line in the log, not a bug of ours; anything else is."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            self.fake.log("client %s went away mid-request" % (client_address[0],))
            return
        super().handle_error(request, client_address)

    def abort(self, sock):
        """Have this connection closed with a TCP reset, not a response."""
        with self.abort_lock:
            self.to_abort.add(sock)

    def shutdown_request(self, request):
        with self.abort_lock:
            abort = request in self.to_abort
            self.to_abort.discard(request)
        if abort:
            # Linger 0: close() sends RST; skip the FIN shutdown() would send.
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_request(request)
        else:
            super().shutdown_request(request)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-opsworks"

    def setup(self):
        super().setup()
        # Headers and body leave in two writes; with Nagle on, the body
        # waits for the client's delayed ACK (40 ms on Linux) on every
        # kept-alive request, which no AWS endpoint does.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def date_time_string(self, timestamp=None):
        """The Date header, from the service's clock (clock_offset_s)."""
        if timestamp is None:
            timestamp = self.server.fake.now().timestamp()
        return super().date_time_string(timestamp)

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass  # one line per request goes to --log instead

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, payload, request_id, content_type=CONTENT_TYPE):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)  # also sends Date
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", request_id)
        self.end_headers()
        self.wfile.write(data)

    def dispatch(self):
        fake = self.server.fake
        body = self.read_body()
        request_id = str(uuid.uuid4())
        if self.path.startswith("/_fake/"):
            status, reply = fake.control(self.command, self.path, body)
            return self.send(status, reply, request_id, "application/json")
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else target
        started, wall = time.monotonic(), time.time()
        status, code = self.answer(fake, body, operation, request_id)
        # peer, start and end: whose calls overlapped whose (failover).
        fake.log("%s %s key=%s status=%s code=%s %.0fms peer=%s start=%.6f end=%.6f" % (
            request_id, operation or "-", self.access_key(), status, code or "-",
            (time.monotonic() - started) * 1000, self.client_address[0], wall, time.time()))

    def answer(self, fake, body, operation, request_id):
        """Answer an API request, faults first; return (status, error code)."""
        if fake.fault_applies(operation) and fake.faults.get("latency_ms"):
            time.sleep(fake.faults["latency_ms"] / 1000.0)
        if fake.take_fault("reset", operation):
            fake.reject("connection_reset")
            self.close_connection = True
            self.server.abort(self.connection)
            return "reset", "connection_reset"
        if fake.take_fault("garbage", operation):
            fake.reject("garbage_body")
            self.send(200, b"\x00<html>this is not JSON</html>", request_id)
            return 200, "garbage_body"
        if self.command != "POST" or self.path != "/":
            error = ApiError(404 if self.command == "POST" else 405, "UnknownOperationException",
                             "OpsWorks takes POST / only, not %s %s" % (self.command, self.path))
        else:
            try:
                reply = fake.handle(self.command, self.path, self.headers, body, operation)
                self.send(200, reply, request_id)
                return 200, None
            except ApiError as e:
                error = e
            except ConnectionError:
                raise  # the client went away: Server.handle_error says so
            except Exception:  # a bug here must answer, not drop the connection
                fake.log("BUG in fake_opsworks: %s" % traceback.format_exc(), to_stderr=True)
                error = ApiError(500, "InternalFailure", "fake_opsworks bug; see its log")
        fake.reject(error.code)
        fake.log("%s rejected %s: %s: %s" % (request_id, operation or "-", error.code,
                                             error.message))
        self.send(error.status, {"__type": error.code, "message": error.message}, request_id)
        return error.status, error.code

    def access_key(self):
        m = re.search(r"Credential=([^/,\s]+)", self.headers.get("Authorization", ""))
        return m.group(1) if m else "-"

    do_POST = dispatch
    do_GET = dispatch
    do_PUT = dispatch
    do_DELETE = dispatch


def write_port_file(path, port):
    """Write the port so a reader never sees a partial file."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="Strict fake AWS OpsWorks Stacks endpoint")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--account", default="123456789012")
    ap.add_argument("--credentials", required=True,
                    help="JSON {access_key_id: {secret, policy, token?, arn?}}, re-read per request")
    ap.add_argument("--stack", action="append", metavar="ID[:NAME]")
    ap.add_argument("--identity-pubkey", metavar="PEM",
                    help="verify InstanceIdentity.Signature with this RSA public key")
    ap.add_argument("--log")
    args = ap.parse_args()
    server = Server((args.bind, args.port), Fake(args))
    if args.port_file:
        write_port_file(args.port_file, server.server_address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
