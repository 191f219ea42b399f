#!/bin/bash
# 0010-cppcheck.sh: cppcheck finds nothing in the product's sources
# (warnings and portability, C11; an inline suppression names its reason
# beside the line it covers).
set -u
. "$top_srcdir/tests/lib/tap.sh"

command -v cppcheck >/dev/null || skip_all "cppcheck not installed"
out=$(cppcheck --quiet --std=c11 --enable=warning,portability --inline-suppr \
	--suppress=missingIncludeSystem --error-exitcode=1 \
	-I "$top_srcdir/src" -I "$top_builddir" "$top_srcdir/src" 2>&1)
rc=$?
[ $rc = 0 ] && [ -z "$out" ]
ok $? "cppcheck: src/ is clean (exit $rc)" || echo "$out" | sed 's/^/# /' | head -40
tap_done
