#!/bin/sh
# run-all.sh: install what the tests need, build, and run the whole suite.
#
# 1. Debian packages (tests/install-deps.sh)
# 2. a -Werror build and `make check` (unit and integration tests)
# 3. an ASan+UBSan build running the unit tests again
# Ends with one summary line: "N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
status=0
started=$(date +%s)

if [ "$(id -u)" = 0 ]; then
	sh tests/install-deps.sh || exit 1
else
	echo "run-all: not root, assuming the packages are installed"
fi

echo "== build (-Werror)"
autoreconf -fi >/dev/null 2>&1 || { echo "run-all: autoreconf failed"; exit 1; }
mkdir -p _build
(cd _build && ../configure -q --enable-werror) || exit 1
make -C _build -s -j"$jobs" >/dev/null || { make -C _build; exit 1; }

echo "== make check"
make -C _build -s -j1 check || status=1

echo "== make distcheck (tarball builds, installs, passes the unit tests)"
SI_UNIT_ONLY=1 make -C _build -s distcheck >_build/distcheck.log 2>&1 ||
	{ tail -40 _build/distcheck.log; echo "run-all: distcheck failed"; status=1; }

echo "== Debian package: dpkg-buildpackage, install, run, remove"
pkg=$(mktemp -d)
mkdir "$pkg/slurm-identity"
git ls-files -co --exclude-standard | grep -v '^_build' | tar -cf - -T - | tar -xf - -C "$pkg/slurm-identity"
if (cd "$pkg/slurm-identity" && dpkg-buildpackage -b -us -uc >"$pkg/build.log" 2>&1) &&
	dpkg -i "$pkg"/slurm-identity_*_amd64.deb >/dev/null &&
	/usr/sbin/slurm-identity version && dpkg -r slurm-identity >/dev/null; then
	echo "run-all: package built, installed and removed"
else
	tail -30 "$pkg/build.log"; echo "run-all: packaging failed"; status=1
fi
rm -rf "$pkg"

echo "== sanitizers (ASan+UBSan): unit tests"
mkdir -p _build-asan
(cd _build-asan && ../configure -q --enable-werror --enable-sanitizers) || exit 1
make -C _build-asan -s -j"$jobs" >/dev/null || { make -C _build-asan; exit 1; }
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -C _build-asan -s unit-check || status=1

# Count every TAP result of both builds.
pass=0 fail=0 skip=0
for trs in $(find _build _build-asan -name '*.trs' -not -path '*/slurm-identity-*/*' 2>/dev/null); do
	p=$(grep -c '^:test-result: PASS' "$trs")
	x=$(grep -c '^:test-result: XFAIL' "$trs")
	f=$(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$trs")
	s=$(grep -c '^:test-result: SKIP' "$trs")
	pass=$((pass + p + x)) fail=$((fail + f)) skip=$((skip + s))
done
for log in $(find _build _build-asan -name test-suite.log 2>/dev/null); do
	grep -q -E '^# (FAIL|ERROR): +[1-9]' "$log" && sed -n '1,200p' "$log"
done
echo "run-all: $(($(date +%s) - started)) s"
[ "$fail" -gt 0 ] && status=1
echo "$pass passed, $fail failed, $skip skipped"
exit $status
