#!/bin/bash
# 0150-secret-memory.sh: a secret read from identity.conf lives only in
# our wiped secret buffers. The memory of the worker slurm-identity-resume
# starts (forked from the hook: the hook's memory, and the directory work
# the resume queued) is searched twice: while it waits on a domain controller that accepts and never
# answers, and while it waits on one that took its LDAP bind (the
# password, in the OpenLDAP library's buffers) and never answers the
# search. The DomainPassword line (what a stdio buffer of the file would
# hold after parsing) must not be there, the password only in our secret
# buffers, and the secret pages must be locked. The silent DC also shows
# that the wait sleeps (OpenLDAP 2.5 spun through the TLS handshake) and
# ends at the connection's timeout.
set -u
. "$top_srcdir/tests/lib/tap.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (network namespace, /proc/PID/mem)"
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

# A self-signed certificate for the DC that takes the bind.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$D/dc.key" -out "$D/dc.crt" >/dev/null 2>&1 ||
	bail "cannot make a certificate"
echo "LdapTlsReqCert=never" >>"$D/identity.conf"

# scan MODE: in a network namespace of its own, 127.0.0.1:636 is a DC
# that (silent) accepts and never answers, or (bind) answers the LDAP
# bind with success over TLS and never answers what follows. The hook's
# memory is searched while it waits.
scan() {
	rm -f "$D/listening" "$D/ready" "$D/hook-state" "$D/scan" "$D/gave-up" "$D/cpu"
	unshare --net bash -c '
	D=$1 top_builddir=$2 mode=$3
	ip link set lo up
	python3 - "$D" "$mode" <<"EOP" &
import socket, ssl, sys
d, mode = sys.argv[1], sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 636)); s.listen(8)
held = []
open(d + "/listening", "w").close()
while True:
    c, _ = s.accept(); held.append(c)
    if mode == "silent":
        open(d + "/ready", "w").close()
        continue
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d + "/dc.crt", d + "/dc.key")
    t = ctx.wrap_socket(c, server_side=True); held.append(t)
    req = t.recv(4096)
    # BindRequest: 30 len 02 01 id 60 ...; answer BindResponse success.
    if len(req) > 5 and req[0] == 0x30 and req[2:4] == b"\x02\x01" and req[5] == 0x60:
        t.sendall(b"\x30\x0c\x02\x01" + req[4:5] + b"\x61\x07\x0a\x01\x00\x04\x00\x04\x00")
        t.recv(4096)	# the search, never answered
        open(d + "/ready", "w").close()
EOP
	listener=$!
	for i in $(seq 1 100); do [ -e "$D/listening" ] && break; sleep 0.1; done
	SLURM_IDENTITY_CONF=$D/identity.conf SLURM_CONF=/dev/null AWS_REGION=us-east-1 \
		AWS_EC2_METADATA_DISABLED=true "$top_builddir/slurm-identity-resume" n1 &
	resume=$! started=$SECONDS
	for i in $(seq 1 300); do [ -e "$D/ready" ] && break; sleep 0.1; done
	# The resume returned at once; the worker it started is the one
	# waiting on the DC (its pid in the lock file it holds).
	wait $resume
	hook=$(cat "$D/state/queue/.worker.lock" 2>/dev/null)
	[ -e "$D/ready" ] && [ -n "$hook" ] && kill -0 $hook 2>/dev/null && echo waiting >"$D/hook-state"
	# What the wait costs: OpenLDAP 2.5 spun on the socket through the
	# TLS handshake. CPU ticks of the hook over a 2 s window (a span to
	# measure in, not a wait for an event).
	if [ "$mode" = silent ] && [ -e "$D/ready" ]; then
		t0=$(awk "{ print \$14 + \$15 }" /proc/$hook/stat)
		sleep 2
		t1=$(awk "{ print \$14 + \$15 }" /proc/$hook/stat)
		echo $((t1 - t0)) >"$D/cpu"
	fi
	python3 - "$hook" "$D/secret" >"$D/scan" <<"EOP"
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
	# The silent DC: the connection gives up after its timeout (30 s).
	if [ "$mode" = silent ]; then
		for i in $(seq 1 900); do kill -0 $hook 2>/dev/null || break; sleep 0.1; done
		kill -0 $hook 2>/dev/null || echo $((SECONDS - started)) >"$D/gave-up"
	fi
	kill -9 $hook $listener 2>/dev/null
	wait 2>/dev/null
	' sh "$D" "$top_builddir" "$1"
}

for mode in silent bind; do
	case $mode in
	silent) what="waiting on a DC that never answers" ;;
	bind) what="waiting on its search after the DC took the bind" ;;
	esac
	scan $mode
	[ "$(cat "$D/hook-state" 2>/dev/null)" = waiting ]
	ok $? "$mode: the resume's worker is $what"
	if [ $mode = silent ]; then
		ticks=$(cat "$D/cpu" 2>/dev/null)
		[ -n "$ticks" ] && [ "$ticks" -lt 50 ]
		ok $? "silent: the worker sleeps while it waits (${ticks:-?} of 200 ticks of CPU in 2 s)"
	fi
	read -r result <"$D/scan"
	echo "# memory of the worker: $result"
	case $result in *" line=0 "*) true ;; *) false ;; esac
	ok $? "$mode: no copy of the DomainPassword line (no stdio buffer of identity.conf left)"
	secrets=$(echo "$result" | sed -n 's/^secret=\([0-9]*\).*/\1/p')
	[ "${secrets:-0}" -ge 1 ] && [ "${secrets:-0}" -le 2 ]
	ok $? "$mode: the password itself only in our secret buffers ($secrets: the configuration's and the domain's)"
	locked=$(echo "$result" | sed -n 's/.*locked_kb=\([0-9]*\).*/\1/p')
	[ "${locked:-0}" -gt 0 ]
	ok $? "$mode: secret pages are locked in memory (VmLck ${locked:-0} kB)"
	if [ $mode = silent ]; then
		took=$(cat "$D/gave-up" 2>/dev/null)
		[ -n "$took" ] && [ "$took" -le 75 ] &&
			grep -q "ldap connect: Timed out" "$D/identity.log"
		ok $? "silent: the worker gave up on the DC after its timeout (${took:-never} s): $(grep -o "ldap connect: [^(]*" "$D/identity.log" | head -1)"
	fi
done
tap_done
