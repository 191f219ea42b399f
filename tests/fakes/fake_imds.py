"""A local EC2 instance metadata service (IMDSv2) for one instance.

Token first (PUT /latest/api/token with a TTL header), then GETs carrying
the token; the instance identity document is signed with a test RSA key so
a peer can verify it as it would AWS's signature. The config file is read
on every request, so a test can change the instance or its credentials.
Stdlib only (plus the openssl command for signing).
"""
import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_TTL_MAX = 21600


class State:
    def __init__(self, config_path, signing_key):
        self.config_path = config_path
        self.signing_key = signing_key
        self.tokens = {}
        self.calls = {}
        self.faults = {}
        self.lock = threading.Lock()

    def config(self):
        with open(self.config_path) as f:
            return json.load(f)

    def count(self, key):
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1


def identity_document(cfg):
    doc = {
        "accountId": cfg.get("account_id", "123456789012"),
        "architecture": "x86_64",
        "availabilityZone": cfg.get("availability_zone", cfg["region"] + "a"),
        "billingProducts": None,
        "devpayProductCodes": None,
        "marketplaceProductCodes": None,
        "imageId": cfg.get("image_id", "ami-12c6146b"),
        "instanceId": cfg["instance_id"],
        "instanceType": cfg.get("instance_type", "t3.micro"),
        "kernelId": None,
        "pendingTime": cfg.get("pending_time", "2026-11-24T06:00:00Z"),
        "privateIp": cfg.get("private_ip", "10.0.0.10"),
        "ramdiskId": None,
        "region": cfg["region"],
        "version": "2017-09-30",
    }
    return json.dumps(doc, indent=2)


def sign(key_path, data):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data.encode())
        f.flush()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path, f.name],
                             capture_output=True, check=True).stdout
    return base64.b64encode(sig).decode()


class Handler(BaseHTTPRequestHandler):
    server_version = "EC2ws"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    def reply(self, status, body="", ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path != "/latest/api/token":
            return self.reply(404, "Not Found")
        if self.headers.get("X-Forwarded-For"):
            return self.reply(403, "Forbidden")
        if st.faults.get("fail_token", 0) > 0:
            st.faults["fail_token"] -= 1
            return self.reply(500, "Internal Error")
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= TOKEN_TTL_MAX:
            return self.reply(400, "Bad Request")
        token = secrets.token_urlsafe(32)
        with st.lock:
            st.tokens[token] = time.time() + ttl
        st.count("PUT token")
        self.reply(200, token)

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b"{}"
        if self.path == "/_fake/faults":
            with st.lock:
                st.faults = json.loads(body or b"{}")
            return self.reply(200, "{}", "application/json")
        self.reply(404, "Not Found")

    def do_GET(self):
        st = self.server.state
        if self.path == "/_fake/calls":
            with st.lock:
                return self.reply(200, json.dumps(st.calls), "application/json")
        cfg = st.config()
        token = self.headers.get("X-aws-ec2-metadata-token")
        with st.lock:
            valid = token is not None and st.tokens.get(token, 0) > time.time()
        if not valid and not cfg.get("imdsv1", False):
            st.count("401")
            return self.reply(401, "Unauthorized")
        st.count("GET " + self.path)
        if st.faults.get("latency_ms"):
            time.sleep(st.faults["latency_ms"] / 1000.0)
        if st.faults.get("status_count", 0) > 0:
            st.faults["status_count"] -= 1
            return self.reply(st.faults.get("status", 500), "Fault")
        body = self.lookup(cfg, self.path)
        if body is None:
            return self.reply(404, "Not Found")
        self.reply(200, body)

    def lookup(self, cfg, path):
        md = "/latest/meta-data/"
        simple = {
            md + "instance-id": cfg["instance_id"],
            md + "local-ipv4": cfg.get("private_ip", "10.0.0.10"),
            md + "public-ipv4": cfg.get("public_ip"),
            md + "local-hostname": cfg.get("local_hostname"),
            md + "hostname": cfg.get("local_hostname"),
            md + "instance-type": cfg.get("instance_type", "t3.micro"),
            md + "ami-id": cfg.get("image_id", "ami-12c6146b"),
            md + "placement/region": cfg["region"],
            md + "placement/availability-zone": cfg.get("availability_zone", cfg["region"] + "a"),
            md + "iam/security-credentials/": cfg.get("role_name"),
        }
        if path in simple:
            return simple[path]
        role = cfg.get("role_name")
        if role and path == md + "iam/security-credentials/" + role and cfg.get("credentials"):
            c = dict(cfg["credentials"])
            c.update({"Code": "Success", "Type": "AWS-HMAC",
                      "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            return json.dumps(c, indent=2)
        if path == "/latest/dynamic/instance-identity/document":
            return identity_document(cfg)
        if path == "/latest/dynamic/instance-identity/signature":
            return sign(self.server.state.signing_key, identity_document(cfg))
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--config", required=True)
    ap.add_argument("--signing-key", required=True)
    args = ap.parse_args()
    # The default listen backlog of 5 would make parallel clients wait for
    # SYN retransmits; a real endpoint accepts far more.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args.config, args.signing_key)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
