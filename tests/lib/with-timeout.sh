#!/bin/bash
# with-timeout.sh TEST [ARG...]: run one test with a deadline, so that an
# unbounded wait cannot eat the whole CI run without a word, in namespaces
# of its own (isolate.sh), and say how long it took.
#
# SI_TEST_TIMEOUT seconds (default 1500). Past it, timeout(1) sends
# SIGTERM to the test's process group (the test's EXIT trap stops what it
# started), then SIGKILL 60 s later; the line below makes the TAP driver
# report the test as an error that names itself.
set -u
limit=${SI_TEST_TIMEOUT:-1500}
started=$(date +%s)
timeout --kill-after=60 "$limit" bash "$(dirname "$0")/isolate.sh" "$@"
rc=$?
echo "# $(basename "$1"): $(($(date +%s) - started)) s"
if [ $rc = 124 ] || [ $rc = 137 ]; then
	echo "Bail out! $(basename "$1") timed out after $limit s (SI_TEST_TIMEOUT)"
fi
exit $rc
