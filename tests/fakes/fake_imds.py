"""A local EC2 instance metadata service (IMDSv2) for one instance.

Behaves as the real one does where a client can tell: a session token
first (PUT /latest/api/token with a TTL header, refused when the request
carries X-Forwarded-For), then GETs carrying the token (401 without one
unless the config allows IMDSv1, and 401 for an unknown or expired token
even then); directory listings; the instance role's credentials; the
instance identity document in AWS's pretty-printed form, with its
RSA-SHA256 /signature (and a PKCS7 /pkcs7) made with a test key, so a peer
can verify it as it would AWS's. The config file is re-read on every
request, so a test can change the instance or rotate its credentials.

Stdlib only (plus the openssl command for signing); runs under any python3.

  fake_imds.py --config FILE --signing-key PEM [--bind 127.0.0.1]
               [--port 0] [--port-file FILE]

Config (JSON): instance_id, region (required); availability_zone,
account_id, private_ip, public_ip, local_hostname, instance_type, image_id,
pending_time, architecture, role_name, credentials {AccessKeyId,
SecretAccessKey, Token, Expiration}, imdsv1 (default false),
token_ttl_max (default 21600).

Control API (under /_fake/, no token needed):
  GET  /_fake/calls        {"PUT token": tokens issued, "GET <path>": n,
                            "<status>": n for every non-2xx answer}
  GET  /_fake/certificate  the PEM certificate that verifies /pkcs7
  POST /_fake/faults       {"fail_token": n, "latency_ms": ms,
                            "status": code, "status_count": n}; {} clears
  POST /_fake/expire-tokens  every token issued so far stops working
  POST /_fake/reset        clear counters, faults and tokens
"""
import argparse
import atexit
import base64
import datetime
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_PATH = "/latest/api/token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
DEFAULT_TTL_MAX = 21600
FAULT_KEYS = ("fail_token", "latency_ms", "status", "status_count")


def utc_iso(t=None):
    return datetime.datetime.fromtimestamp(t if t is not None else time.time(),
                                           datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def aws_json(obj):
    """JSON the way IMDS prints it: two-space indent and "key" : value."""
    return json.dumps(obj, indent=2, separators=(",", " : "))


class Signer:
    """RSA signatures of the identity document with the test key."""

    def __init__(self, key_path):
        self.key_path = key_path
        self.lock = threading.Lock()
        self.cache = {}
        self.tmp = None
        self.cert = None

    def signature(self, document):
        """base64 RSA-SHA256 of the document, as /signature gives it."""
        return self._cached(("signature", document), lambda: base64.b64encode(
            self._openssl(["dgst", "-sha256", "-sign", self.key_path], document)).decode())

    def pkcs7(self, document):
        """A detached PKCS7 signature, base64 without PEM armour (as /pkcs7)."""
        def make():
            pem = self._openssl(["smime", "-sign", "-binary", "-noattr", "-md", "sha256",
                                 "-signer", self.certificate(), "-inkey", self.key_path,
                                 "-outform", "PEM"], document).decode()
            return "\n".join(line for line in pem.strip().splitlines()
                             if not line.startswith("-----"))
        return self._cached(("pkcs7", document), make)

    def certificate(self):
        """A self-signed certificate for the key, made once."""
        with self.lock:
            if self.cert is None:
                self.tmp = tempfile.mkdtemp(prefix="fake-imds-")
                atexit.register(shutil.rmtree, self.tmp, True)
                path = os.path.join(self.tmp, "cert.pem")
                subprocess.run(["openssl", "req", "-new", "-x509", "-key", self.key_path,
                                "-subj", "/CN=fake-imds", "-days", "3650", "-out", path],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                self.cert = path
            return self.cert

    def _openssl(self, args, document):
        return subprocess.run(["openssl"] + args, input=document.encode(), check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout

    def _cached(self, key, make):
        # The document changes only when the config does: sign each once.
        with self.lock:
            if key in self.cache:
                return self.cache[key]
        value = make()
        with self.lock:
            self.cache[key] = value
        return value


class State:
    def __init__(self, config_path, signer):
        self.config_path = config_path
        self.signer = signer
        self.lock = threading.Lock()
        self.tokens = {}
        self.calls = {}
        self.faults = {}

    def config(self):
        with open(self.config_path) as f:
            cfg = json.load(f)
        for key in ("instance_id", "region"):
            if not isinstance(cfg.get(key), str):
                raise ValueError("config %s: %s (a string) is required" % (self.config_path, key))
        return cfg

    def count(self, key):
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1

    def take(self, name):
        """Consume one of the next-N faults called name."""
        with self.lock:
            if self.faults.get(name, 0) > 0:
                self.faults[name] -= 1
                return True
        return False

    def issue_token(self, ttl):
        token = secrets.token_urlsafe(42)
        with self.lock:
            now = time.monotonic()
            # Forget expired tokens so a long test does not grow the table.
            self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now}
            self.tokens[token] = now + ttl
        return token

    def token_valid(self, token):
        with self.lock:
            return self.tokens.get(token, 0) > time.monotonic()


# ---------------------------------------------------------------------------
# The metadata tree
# ---------------------------------------------------------------------------

def identity_document(cfg):
    """The document, in AWS's key order and pretty-printing."""
    region = cfg["region"]
    return aws_json({
        "accountId": cfg.get("account_id", "123456789012"),
        "architecture": cfg.get("architecture", "x86_64"),
        "availabilityZone": cfg.get("availability_zone", region + "a"),
        "billingProducts": None,
        "devpayProductCodes": None,
        "marketplaceProductCodes": None,
        "imageId": cfg.get("image_id", "ami-12c6146b"),
        "instanceId": cfg["instance_id"],
        "instanceType": cfg.get("instance_type", "t3.micro"),
        "kernelId": None,
        "pendingTime": cfg.get("pending_time", "2026-01-01T00:00:00Z"),
        "privateIp": cfg.get("private_ip", "10.0.0.10"),
        "ramdiskId": None,
        "region": region,
        "version": "2017-09-30",
    })


def iam_tree(cfg):
    """The iam/ subtree, or None: an instance without a role has no iam/."""
    role = cfg.get("role_name")
    if not role:
        return None
    account = cfg.get("account_id", "123456789012")
    creds = {}
    if cfg.get("credentials"):
        c = cfg["credentials"]
        # Real IMDS shows when the role's credentials were last refreshed.
        creds[role] = lambda: aws_json({
            "Code": "Success", "LastUpdated": utc_iso(), "Type": "AWS-HMAC",
            "AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
            "Token": c.get("Token", ""), "Expiration": c["Expiration"]})
    return {
        "info": lambda: aws_json({
            "Code": "Success", "LastUpdated": utc_iso(),
            "InstanceProfileArn": "arn:aws:iam::%s:instance-profile/%s" % (account, role),
            # Stable across restarts: derived from the role name.
            "InstanceProfileId": "AIPA" + hashlib.sha256(role.encode()).hexdigest()[:17].upper()}),
        # Listed even with no credentials yet, as during instance start-up.
        "security-credentials": creds or {role: None},
    }


def metadata_tree(cfg, signer):
    """/latest as nested dicts; leaves are strings or functions making them."""
    region = cfg["region"]
    hostname = cfg.get("local_hostname", "ip-10-0-0-10.ec2.internal")
    meta = {
        "ami-id": cfg.get("image_id", "ami-12c6146b"),
        "hostname": hostname,
        "instance-id": cfg["instance_id"],
        "instance-type": cfg.get("instance_type", "t3.micro"),
        "local-hostname": hostname,
        "local-ipv4": cfg.get("private_ip", "10.0.0.10"),
        "placement": {"availability-zone": cfg.get("availability_zone", region + "a"),
                      "region": region},
    }
    if cfg.get("public_ip"):
        meta["public-ipv4"] = cfg["public_ip"]
    iam = iam_tree(cfg)
    if iam:
        meta["iam"] = iam
    document = identity_document(cfg)
    identity = {
        "document": document,
        "signature": lambda: signer.signature(document),
        "pkcs7": lambda: signer.pkcs7(document),
        "rsa2048": lambda: signer.pkcs7(document),
    }
    return {"meta-data": meta, "dynamic": {"instance-identity": identity}}


def lookup(tree, path):
    """The text at path, a listing for a directory, or None."""
    if not path.startswith("/latest/"):
        return None
    node = tree
    for part in [p for p in path[len("/latest/"):].split("/") if p]:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, dict):
        # Directories list their entries, subdirectories with a slash.
        return "\n".join(k + "/" if isinstance(v, dict) else k for k, v in node.items())
    return node() if callable(node) else node


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

class Server(ThreadingHTTPServer):
    # The default listen backlog of 5 makes parallel clients wait for SYN
    # retransmits.
    request_queue_size = 128
    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    server_version = "EC2ws"
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body leave in two writes: without TCP_NODELAY the
        # body waits for the client's delayed ACK (40 ms) on every
        # kept-alive request (see fake_opsworks.py).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self):
        return self.server_version  # "EC2ws" alone, as the real one says

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (utc_iso(), fmt % args))

    def reply(self, status, body="", ctype="text/plain", headers=()):
        data = body.encode()
        if status >= 300:
            self.server.state.count(str(status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def fault_delay(self):
        latency = self.server.state.faults.get("latency_ms")
        if latency:
            time.sleep(latency / 1000.0)

    def do_PUT(self):
        st = self.server.state
        self.read_body()
        if self.path != TOKEN_PATH:
            return self.reply(404, "Not Found")
        self.fault_delay()
        # IMDS refuses tokens to anything that came through a proxy.
        if self.headers.get("X-Forwarded-For") is not None:
            return self.reply(403, "Forbidden")
        if st.take("fail_token"):
            return self.reply(500, "Internal Server Error")
        cfg = self.config_or_500()
        if cfg is None:
            return None
        ttl_max = int(cfg.get("token_ttl_max", DEFAULT_TTL_MAX))
        try:
            ttl = int(self.headers.get(TTL_HEADER, ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= ttl_max:
            return self.reply(400, "Bad Request")
        token = st.issue_token(ttl)
        st.count("PUT token")
        return self.reply(200, token, headers=[(TTL_HEADER, str(ttl))])

    def do_GET(self):
        st = self.server.state
        if self.path.startswith("/_fake/"):
            return self.control_get()
        self.fault_delay()
        cfg = self.config_or_500()
        if cfg is None:
            return None
        token = self.headers.get(TOKEN_HEADER)
        # A token that is sent must be good even where IMDSv1 is allowed.
        if token is not None and not st.token_valid(token) or \
                token is None and not cfg.get("imdsv1", False):
            return self.reply(401, "Unauthorized", "text/html")
        st.count("GET " + self.path)
        if st.take("status_count"):
            return self.reply(int(st.faults.get("status", 500)), "Injected fault")
        if self.path == TOKEN_PATH:
            return self.reply(405, "Method Not Allowed")
        try:
            body = lookup(metadata_tree(cfg, st.signer), self.path)
        except (subprocess.CalledProcessError, OSError) as e:
            sys.stderr.write("fake_imds: signing failed: %s %s\n" % (e, getattr(e, "stderr", "")))
            return self.reply(500, "Internal Server Error")
        if body is None:
            return self.reply(404, "Not Found", "text/html")
        return self.reply(200, body)

    def do_POST(self):
        st = self.server.state
        body = self.read_body()
        try:
            spec = json.loads(body) if body.strip() else {}
        except ValueError:
            return self.reply(400, "control body is not JSON")
        if self.path == "/_fake/faults":
            unknown = set(spec) - set(FAULT_KEYS)
            if unknown:
                return self.reply(400, "unknown faults: %s" % ", ".join(sorted(unknown)))
            if "status" in spec:
                spec.setdefault("status_count", 1)
            with st.lock:
                st.faults = spec
            return self.reply(200, json.dumps(spec), "application/json")
        if self.path == "/_fake/expire-tokens":
            with st.lock:
                st.tokens.clear()
            return self.reply(200, "{}", "application/json")
        if self.path == "/_fake/reset":
            with st.lock:
                st.tokens.clear()
                st.calls.clear()
                st.faults = {}
            return self.reply(200, "{}", "application/json")
        return self.reply(404, "Not Found")

    def control_get(self):
        st = self.server.state
        if self.path == "/_fake/calls":
            with st.lock:
                calls = dict(st.calls)
            return self.reply(200, json.dumps(calls), "application/json")
        if self.path == "/_fake/certificate":
            with open(st.signer.certificate()) as f:
                return self.reply(200, f.read())
        return self.reply(404, "Not Found")

    def config_or_500(self):
        try:
            return self.server.state.config()
        except (OSError, ValueError) as e:
            sys.stderr.write("fake_imds: unusable config: %s\n" % e)
            self.reply(500, "Internal Server Error")
            return None


def write_port_file(path, port):
    """Write the port so a reader never sees a partial file."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="Fake EC2 instance metadata service (IMDSv2)")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--config", required=True, help="JSON instance description, re-read per request")
    ap.add_argument("--signing-key", required=True, help="RSA private key (PEM) that signs the "
                    "identity document")
    args = ap.parse_args()
    server = Server((args.bind, args.port), Handler)
    server.state = State(args.config, Signer(args.signing_key))
    # Leave through the finally below on SIGTERM (the default action would
    # skip it and leave the certificate's temporary directory behind).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.port_file:
        write_port_file(args.port_file, server.server_address[1])
    try:
        server.serve_forever()
    finally:
        if server.state.signer.tmp:
            shutil.rmtree(server.state.signer.tmp, True)


if __name__ == "__main__":
    main()
