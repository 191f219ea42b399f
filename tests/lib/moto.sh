# moto.sh: a moto_server of the test's own on loopback, with IAM enforced.
#
#   moto_start DIR [NO_AUTH_COUNT]
#       Starts moto_server on a free 127.0.0.1 port (MOTO_BIND=0.0.0.0:
#       on every address, for other network namespaces). Writes DIR/pid,
#       DIR/port, DIR/endpoint (http://127.0.0.1:PORT) and DIR/moto.log.
#       Waits until it answers; fails (status 1, log on stdout as "# "
#       lines) after MOTO_START_TIMEOUT seconds (default 20).
#       NO_AUTH_COUNT (default 0) is INITIAL_NO_AUTH_ACTION_COUNT: how many
#       API calls moto serves before it checks signatures and policies.
#       With 0, IAM is enforced from the very first call; moto_setup.py
#       opens a setup window itself through moto's control API (POST
#       /moto-api/reset-auth) and closes it again, so no call count has to
#       be guessed and nothing the product sends is ever unauthenticated.
#   moto_stop DIR
#       Stops that moto_server (its pid only: TERM, then KILL after 5 s,
#       since a process started from a Slurm power program may have SIGTERM
#       blocked). Safe to call twice or when moto_start failed.
#
# MOTO_SERVER may name the moto_server program (default: the one on PATH).

moto_start() {
	local dir=${1:?moto_start DIR} count=${2:-0} prog pid port try deadline why
	local timeout=${MOTO_START_TIMEOUT:-20}
	prog=${MOTO_SERVER:-$(command -v moto_server)} || true
	if [ -z "$prog" ] || [ ! -x "$prog" ]; then
		echo "# moto_start: moto_server not found (set MOTO_SERVER)"
		return 1
	fi
	mkdir -p "$dir" || return 1
	rm -f "$dir/pid" "$dir/port" "$dir/endpoint"
	deadline=$((SECONDS + timeout))
	for try in 1 2 3; do
		# A port the kernel just handed out; if someone takes it before
		# moto binds, moto exits and we try another one.
		port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || return 1
		INITIAL_NO_AUTH_ACTION_COUNT=$count \
			"$prog" -H "${MOTO_BIND:-127.0.0.1}" -p "$port" >"$dir/moto.log" 2>&1 </dev/null &
		pid=$!
		echo "$pid" >"$dir/pid"
		why="did not answer within ${timeout}s"
		while [ $SECONDS -lt $deadline ]; do
			if ! kill -0 "$pid" 2>/dev/null; then
				wait "$pid" 2>/dev/null
				why="exited with status $?"
				break
			fi
			# The control API answers without counting as an API call.
			if curl -sf -m 2 -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
				echo "$port" >"$dir/port"
				echo "http://127.0.0.1:$port" >"$dir/endpoint"
				return 0
			fi
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && break	# alive but silent: timed out
		rm -f "$dir/pid"
		grep -q 'already in use' "$dir/moto.log" || break
	done
	echo "# moto_start: $prog on 127.0.0.1:$port $why; its log:"
	sed 's/^/# /' "$dir/moto.log"
	moto_stop "$dir"
	return 1
}

moto_stop() {
	local dir=${1:?moto_stop DIR} pid i
	[ -s "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	rm -f "$dir/pid"
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
