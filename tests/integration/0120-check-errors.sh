#!/bin/bash
# 0120-check-errors.sh: `slurm-identity check` fails clearly, in one line
# per failure and with exit status 1, for a bad configuration, missing
# credentials, an unreachable endpoint and an endpoint that never answers.
set -u
. "$top_srcdir/tests/lib/tap.sh"

D=$(test_dir check)
hang_pid=
trap '[ -n "$hang_pid" ] && kill $hang_pid 2>/dev/null; [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$D"' EXIT
cli=$top_builddir/slurm-identity
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_REGION=us-east-1
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL

run_check() {
	"$cli" -c "$D/identity.conf" check >"$D/out" 2>"$D/err"
	echo $?
}
one_line() {
	[ "$(wc -l <"$D/err")" = 1 ] && grep -q "$1" "$D/err"
}

printf 'ClusterName=x\nBogusKey=1\n' >"$D/identity.conf"
chmod 644 "$D/identity.conf"
rc=$(run_check)
[ "$rc" = 1 ] && one_line "^slurm-identity: check: $D/identity.conf:2: unknown key \"BogusKey\"$"
ok $? "unknown key: exit 1 and file:line ($(cat "$D/err"))"

printf 'Backends=opsworks\n' >"$D/identity.conf"
rc=$(run_check)
[ "$rc" = 1 ] && one_line "OpsWorksStackId is not set"
ok $? "incomplete backend configuration named ($(cat "$D/err"))"

printf 'ClusterName=x\n' >"$D/identity.conf"
chmod 666 "$D/identity.conf"
rc=$(run_check)
[ "$rc" = 1 ] && one_line "insecure: writable by group or other (perms=0666)"
ok $? "world-writable configuration refused ($(cat "$D/err"))"
grep -q '^fix: chown root and chmod 0644' "$D/out"
ok $? "and the remedy is printed ($(cat "$D/out"))"
chmod 644 "$D/identity.conf"

rc=$(run_check)
[ "$rc" = 1 ] && one_line "^slurm-identity: check: credentials: none in the environment, /dev/null or /dev/null (profile default), and the instance role: IMDS disabled"
ok $? "no credentials anywhere: one line ($(cat "$D/err"))"

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret
t0=$(date +%s)
rc=$(AWS_ENDPOINT_URL=http://127.0.0.1:9 run_check)
[ "$rc" = 1 ] && one_line "identity: sts GetCallerIdentity: no answer: cannot connect"
ok $? "unreachable endpoint: one line after retries ($(cat "$D/err"), $(( $(date +%s) - t0 ))s)"

# An endpoint that accepts connections and never answers.
port_file=$D/hang.port
python3 - "$port_file" <<'EOP' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except socket.timeout:
        pass
EOP
hang_pid=$!
for i in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
printf 'ClusterName=x\nRequestTimeout=1\nMaxAttempts=2\n' >"$D/identity.conf"
t0=$(date +%s.%N)
rc=$(AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$port_file") run_check)
secs=$(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo "?")
[ "$rc" = 1 ] && one_line "identity: sts GetCallerIdentity: no answer: timed out"
ok $? "hung endpoint cut by RequestTimeout ($(cat "$D/err"))"
awk -v s="$secs" 'BEGIN { exit !(s != "?" && s < 6) }'
ok $? "two 1 s attempts end within 6 s (took ${secs}s)"
tap_done
