# tap.sh: TAP output for shell tests.
TAP_N=0
TAP_FAILED=0

# A test stopped at its deadline (tests/lib/with-timeout.sh sends its
# process group SIGTERM) exits through its EXIT trap, which stops what
# it started; without this, bash would die on the signal and skip it.
trap 'exit 143' TERM

ok() {
	# ok CONDITION-STATUS DESCRIPTION: "ok" if the status is 0.
	local status=$1; shift
	TAP_N=$((TAP_N + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	return "$status"
}

check() {
	# check DESCRIPTION COMMAND...: run the command, report it.
	local desc=$1; shift
	"$@"
	ok $? "$desc"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

bail() {
	echo "Bail out! $*"
	exit 1
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# A fresh scratch directory, removed at exit unless KEEP_TEST_DIR is set.
test_dir() {
	local d
	d=$(mktemp -d "/tmp/si-${1:-test}.XXXXXX")
	chmod 755 "$d"
	echo "$d"
}

# make distcheck (and anyone who wants only the fast tests) sets this.
if [ -n "${SI_UNIT_ONLY:-}" ]; then
	skip_all "integration tests skipped (SI_UNIT_ONLY is set)"
fi
