#!/bin/sh
# 0140-fakes-selftest.sh: the fakes proven against clients we did not write
# (see tests/fakes/selftest.sh).
exec bash "$top_srcdir/tests/fakes/selftest.sh"
