#!/bin/bash
# 0150-secret-memory.sh: a secret read from identity.conf lives only in
# our wiped secret buffers. While slurm-identity-resume waits on a domain
# controller that accepts but never answers, its memory is searched: the
# DomainPassword line (what a stdio buffer of the file would hold after
# parsing) must not be there, and the secret pages must be locked.
set -u
. "$top_srcdir/tests/lib/tap.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (network namespace, /proc/PID/mem)"
command -v ldapsearch >/dev/null || skip_all "ldap-utils not installed"
D=$(test_dir secretmem)
trap '[ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"' EXIT
password="Pw-$(openssl rand -hex 16)"
mkdir -p "$D/state" && chmod 700 "$D/state"
cat >"$D/identity.conf" <<EOC
ClusterName=memtest
Backends=ad
DomainName=test.domain
DomainUser=Administrator
DomainController=127.0.0.1
StateDir=$D/state
LogFile=$D/identity.log
EOC
echo "DomainPassword=$password" >>"$D/identity.conf"
chmod 600 "$D/identity.conf"
printf '%s' "$password" >"$D/secret"

# In a network namespace of its own: 127.0.0.1:636 is a listener that
# accepts and never answers, so the hook waits in its LDAP search.
unshare --net bash -c '
	D=$1 top_builddir=$2
	ip link set lo up
	python3 - <<EOP &
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 636)); s.listen(8)
held = []
open("$D/listening", "w").close()
while True:
    c, _ = s.accept(); held.append(c)
EOP
	listener=$!
	for i in $(seq 1 100); do [ -e "$D/listening" ] && break; sleep 0.1; done
	SLURM_IDENTITY_CONF=$D/identity.conf SLURM_CONF=/dev/null AWS_REGION=us-east-1 \
		AWS_EC2_METADATA_DISABLED=true "$top_builddir/slurm-identity-resume" n1 &
	hook=$!
	for i in $(seq 1 200); do pgrep -P $hook ldapsearch >/dev/null && break; sleep 0.1; done
	pgrep -P $hook ldapsearch >/dev/null && echo waiting >"$D/hook-state"
	python3 - "$hook" "$D/secret" >"$D/scan" <<EOP
import re, sys
pid, secret = sys.argv[1], open(sys.argv[2], "rb").read()
line = b"DomainPassword=" + secret
found = {"secret": 0, "line": 0}
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for m in maps:
        start, end = (int(x, 16) for x in m.split()[0].split("-"))
        if "rw" not in m.split()[1]:
            continue
        try:
            mem.seek(start)
            blob = mem.read(end - start)
        except OSError:
            continue
        found["secret"] += blob.count(secret)
        found["line"] += blob.count(line)
locked = [l for l in open("/proc/%s/status" % pid) if l.startswith("VmLck")][0].split()[1]
print("secret=%d line=%d locked_kb=%s" % (found["secret"], found["line"], locked))
EOP
	kill -9 $hook $listener 2>/dev/null
	wait 2>/dev/null
' sh "$D" "$top_builddir"

[ "$(cat "$D/hook-state" 2>/dev/null)" = waiting ]
ok $? "the resume hook is waiting on the silent domain controller"
read -r scan <"$D/scan"
echo "# memory of the hook: $scan"
case $scan in *" line=0 "*) true ;; *) false ;; esac
ok $? "no copy of the DomainPassword line (no stdio buffer of identity.conf left)"
secrets=$(echo "$scan" | sed -n 's/^secret=\([0-9]*\).*/\1/p')
[ "${secrets:-0}" -ge 1 ] && [ "${secrets:-0}" -le 2 ]
ok $? "the password itself only in our secret buffers ($secrets: the configuration's and the domain's)"
locked=$(echo "$scan" | sed -n 's/.*locked_kb=\([0-9]*\).*/\1/p')
[ "${locked:-0}" -gt 0 ]
ok $? "secret pages are locked in memory (VmLck ${locked:-0} kB)"
tap_done
