"""Send raw, SigV4-signed JSON requests to a fake endpoint.

For the checks aws-cli cannot make because it validates parameters before
sending: a body with an unknown member or a wrong type, a body that is not
JSON, an operation the fake does not implement, a client clock that is off,
a burst of requests. Signing is botocore's own add_auth, as the SDK does it.
Run with Debian's /usr/bin/python3 (botocore 1.29).

  signed_call.py --endpoint URL --key AKID --secret S [--token T]
      [--region us-east-1] [--operation OP | --target X-Amz-Target]
      [--content-type CT] [--clock-skew SECONDS] [--unsigned]
      [--repeat N] [BODY]

Prints one line per request: "STATUS CODE MESSAGE" for an error (CODE is
the __type), "STATUS - BODY" for success.
"""
import argparse
import datetime
import http.client
import json
import sys
import time
import urllib.parse

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def skew_clock(seconds):
    """Make botocore's signer believe the time is off by seconds."""
    real = datetime.datetime

    class Shifted(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() + datetime.timedelta(seconds=seconds)

    # add_auth reads datetime.datetime.utcnow() through its module's import.
    botocore.auth.datetime = type(sys)("shifted_datetime")
    botocore.auth.datetime.datetime = Shifted


def build(args, body):
    url = urllib.parse.urlsplit(args.endpoint)
    headers = {"Host": url.netloc, "Content-Type": args.content_type,
               "X-Amz-Target": args.target or "OpsWorks_20130218." + args.operation}
    request = AWSRequest(method="POST", url=args.endpoint.rstrip("/") + "/", data=body,
                         headers=headers)
    if not args.unsigned:
        SigV4Auth(Credentials(args.key, args.secret, args.token), args.service,
                  args.region).add_auth(request)
    return url, dict(request.headers.items())


def send(url, headers, body):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def describe(status, data):
    if 200 <= status < 300:
        return "%d - %s" % (status, data.decode("utf-8", "replace"))
    try:
        err = json.loads(data)
        return "%d %s %s" % (status, err.get("__type", "?"), err.get("message", ""))
    except ValueError:
        return "%d ? %r" % (status, data[:200])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--key", default="")
    ap.add_argument("--secret", default="")
    ap.add_argument("--token")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--service", default="opsworks")
    ap.add_argument("--operation", default="DescribeStacks")
    ap.add_argument("--target", help="the raw X-Amz-Target, overriding --operation")
    ap.add_argument("--content-type", default="application/x-amz-json-1.1")
    ap.add_argument("--clock-skew", type=float, default=0, help="seconds to add to the clock")
    ap.add_argument("--unsigned", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("body", nargs="?", default="{}")
    args = ap.parse_args()
    if args.clock_skew:
        skew_clock(args.clock_skew)
    body = args.body.encode("utf-8")
    for _ in range(args.repeat):
        url, headers = build(args, body)
        started = time.monotonic()
        status, data = send(url, headers, body)
        print(describe(status, data), flush=True)
        print("# %.3f s" % (time.monotonic() - started), file=sys.stderr)


if __name__ == "__main__":
    main()
