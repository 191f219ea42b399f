# moto.sh: start and stop a moto_server of the test's own on loopback.
#
# IAM is enforced once the setup's unauthenticated calls are spent:
# INITIAL_NO_AUTH_ACTION_COUNT is set to what moto_setup.py needs (it counts
# its own calls and writes how many it made); after that every call must be
# signed by a key moto issued and allowed by that user's policy.

MOTO_NO_AUTH_ACTIONS=${MOTO_NO_AUTH_ACTIONS:-}

moto_start() {
	# moto_start DIR [NO_AUTH_COUNT]: pid in DIR/pid, port in DIR/port.
	local dir=$1 count=${2:-${MOTO_NO_AUTH_ACTIONS:-200}} port i
	mkdir -p "$dir"
	for i in $(seq 1 20); do
		port=$((30000 + RANDOM % 20000))
		ss -Hltn "sport = :$port" | grep -q . || break
	done
	INITIAL_NO_AUTH_ACTION_COUNT=$count moto_server -H 127.0.0.1 -p "$port" \
		>"$dir/moto.log" 2>&1 </dev/null &
	echo $! >"$dir/pid"
	echo "$port" >"$dir/port"
	for i in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$port/moto-api/" -o /dev/null && return 0
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.2
	done
	echo "# moto_server did not start:"; sed 's/^/# /' "$dir/moto.log"
	return 1
}

moto_stop() {
	local dir=$1
	[ -f "$dir/pid" ] || return 0
	kill "$(cat "$dir/pid")" 2>/dev/null
	rm -f "$dir/pid"
	return 0
}
