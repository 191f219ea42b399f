"""Compare our SigV4 signer with botocore's SigV4Auth on random requests.

botocore is an implementation we did not write: each generated request
(unsorted and repeated query keys, UTF-8, spaces, folded header values,
duplicate headers, session tokens, bodies) is signed by both, and the
signatures must match. Prints TAP.
"""
import json
import random
import subprocess
import sys
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGNER = sys.argv[1]
CASES = int(sys.argv[2]) if len(sys.argv) > 2 else 150
rng = random.Random(20261124)

ALPHABET = "abcXYZ019-_.~ +/=&%é中!*'()"


def word(lo=1, hi=8):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(lo, hi)))


def quote(s):
    return urllib.parse.quote(s, safe="-_.~")


def make_case():
    pairs = [(word(), word(0, 6)) for _ in range(rng.randint(0, 5))]
    if pairs and rng.random() < 0.3:
        pairs.append((pairs[0][0], word()))          # repeated key
    query = "&".join(quote(k) + "=" + quote(v) for k, v in pairs)
    segments = [quote(word()) for _ in range(rng.randint(0, 3))]
    path = "/" + "/".join(segments)
    headers = [["Host", rng.choice(["example.amazonaws.com", "127.0.0.1:5000"])],
               ["X-Amz-Date", "20261124T061500Z"]]
    for _ in range(rng.randint(0, 4)):
        name = rng.choice(["X-Custom", "x-custom", "Content-Type", "My-Header"])
        value = rng.choice(["  padded  value ", "a  b   c", "plain", "v1\n  v2"])
        headers.append([name, value])
    if rng.random() < 0.3:
        headers.append(["X-Amz-Security-Token", "tok/" + word(10, 30)])
    body = "" if rng.random() < 0.4 else json.dumps({"k": word(), "n": rng.randint(0, 9)})
    return {
        "method": rng.choice(["GET", "POST"]),
        "path": path,
        "query": query,
        "headers": headers,
        "body": body,
        "region": rng.choice(["us-east-1", "eu-west-3"]),
        "service": rng.choice(["ssm", "ec2", "opsworks", "sts"]),
        "amz_date": "20261124T061500Z",
        "secret": word(20, 40),
    }


def botocore_signature(case):
    host = case["headers"][0][1]
    url = "http://" + host + case["path"] + ("?" + case["query"] if case["query"] else "")
    request = AWSRequest(method=case["method"], url=url, data=case["body"].encode())
    # botocore keeps one value per header name; join repeats as SigV4 does.
    merged = {}
    for name, value in case["headers"]:
        key = name.lower()
        folded = " ".join(value.split())
        merged[key] = merged[key] + "," + folded if key in merged else folded
    for key, value in merged.items():
        request.headers[key] = value
    request.context["timestamp"] = case["amz_date"]
    auth = SigV4Auth(Credentials("AKIDEXAMPLE", case["secret"]), case["service"], case["region"])
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request), canonical


def main():
    cases = [make_case() for _ in range(CASES)]
    proc = subprocess.run([SIGNER], input="".join(json.dumps(c) + "\n" for c in cases),
                          capture_output=True, text=True, check=True)
    ours = proc.stdout.split()
    print("1..%d" % (len(cases) + 1))
    print("%s 1 - signer answered every case" % ("ok" if len(ours) == len(cases) else "not ok"))
    failed = 0
    for i, case in enumerate(cases):
        theirs, canonical = botocore_signature(case)
        ok = i < len(ours) and ours[i] == theirs
        failed += not ok
        label = "%s %s?%s" % (case["method"], case["path"][:30], case["query"][:30])
        print("%s %d - botocore agrees: %s" % ("ok" if ok else "not ok", i + 2, label))
        if not ok:
            print("# botocore canonical request:\n# " + canonical.replace("\n", "\n# "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
