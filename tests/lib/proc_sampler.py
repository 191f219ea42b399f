"""Sample every process's argv and environment until told to stop.

proc_sampler.py SECRETS_FILE OUT_JSON STOP_FILE

SECRETS_FILE holds one secret per line (never on our own command line).
Every 20 ms each /proc/PID/cmdline and /proc/PID/environ is searched for
each secret and for password-bearing options ("password=", "-w"). The
report counts the samples, the helper processes seen (adcli, ldap*), so a
run that saw nothing cannot pass by accident, and lists every hit. Helpers
started by our programs (parent slurm-identity*) must also run confined:
LDAPNOINIT=1 in their environment and / as working directory ("ours_seen",
"unconfined").
"""
import json
import os
import sys
import time

HELPERS = {"adcli", "ldapsearch", "ldapmodify", "ldapdelete", "ldapadd"}


def started_by_us(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            ppid = f.read().rsplit(")", 1)[1].split()[1]
        with open("/proc/%s/comm" % ppid) as f:
            return f.read().startswith("slurm-identity")
    except (OSError, IndexError):
        return False


def main():
    secrets_file, out, stop = sys.argv[1:4]
    with open(secrets_file) as f:
        secrets = [line.rstrip("\n").encode() for line in f if line.strip()]
    me = str(os.getpid())
    report = {"samples": 0, "helpers_seen": {}, "hits": [], "password_options": [],
              "ours_seen": 0, "unconfined": []}
    seen = set()
    # Bounded in time even if nobody tells it to stop (its test killed).
    deadline = time.monotonic() + 1800
    while not os.path.exists(stop) and time.monotonic() < deadline:
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
                if started_by_us(pid):
                    report["ours_seen"] += 1
                    try:
                        cwd = os.readlink("/proc/%s/cwd" % pid)
                    except OSError:
                        cwd = "?"
                    if b"LDAPNOINIT=1" not in env.split(b"\0") or cwd != "/":
                        report["unconfined"].append({"name": name, "cwd": cwd,
                                                     "ldapnoinit": b"LDAPNOINIT=1" in env})
            for i, s in enumerate(secrets):
                where = [w for w, blob in (("argv", cmd), ("environ", env)) if s in blob]
                if where:
                    report["hits"].append({"secret": i, "pid": pid, "name": name, "where": where})
        time.sleep(0.02)
    with open(out, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
