"""Sample every process's argv and environment until told to stop.

proc_sampler.py SECRETS_FILE OUT_JSON STOP_FILE

SECRETS_FILE holds one secret per line (never on our own command line).
Every 20 ms each /proc/PID/cmdline and /proc/PID/environ is searched for
each secret and for password-bearing options ("password=", "-w"). The
report counts the samples, the helper processes seen (adcli, ldap*), so a
run that saw nothing cannot pass by accident, and lists every hit.
"""
import json
import os
import sys
import time

HELPERS = {"adcli", "ldapsearch", "ldapmodify", "ldapdelete", "ldapadd"}


def main():
    secrets_file, out, stop = sys.argv[1:4]
    with open(secrets_file) as f:
        secrets = [line.rstrip("\n").encode() for line in f if line.strip()]
    me = str(os.getpid())
    report = {"samples": 0, "helpers_seen": {}, "hits": [], "password_options": []}
    seen = set()
    while not os.path.exists(stop):
        report["samples"] += 1
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or pid == me:
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read()
                with open("/proc/%s/environ" % pid, "rb") as f:
                    env = f.read()
            except OSError:
                continue
            argv = cmd.split(b"\0")
            name = os.path.basename(argv[0].decode(errors="replace")) if argv else ""
            if name in HELPERS and (pid, cmd) not in seen:
                seen.add((pid, cmd))
                report["helpers_seen"][name] = report["helpers_seen"].get(name, 0) + 1
                for a in argv:
                    if b"password=" in a.lower() or a == b"-w":
                        report["password_options"].append(a.decode(errors="replace"))
            for i, s in enumerate(secrets):
                where = [w for w, blob in (("argv", cmd), ("environ", env)) if s in blob]
                if where:
                    report["hits"].append({"secret": i, "pid": pid, "name": name, "where": where})
        time.sleep(0.02)
    with open(out, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
