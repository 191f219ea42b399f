#!/bin/sh
# run-all.sh: install what the tests need, build, and run the whole suite.
#
# 1. Debian packages (tests/install-deps.sh)
# 2. a -Werror build and `make check` (unit and integration tests, two at
#    a time) against this machine's Slurm (22.05 on Debian 12)
# 3. beside 2, from the start, one stream of its own: the release matrix,
#    Slurm 24.11 (Debian 13, trixie) and 26.05 (Debian sid), each built and
#    tested in a Debian root of that release (tests/release/; a release
#    whose root cannot be built here is reported as skipped, and as failed
#    when CI=true); then distcheck, the Debian package, and an ASan+UBSan
#    build running the unit tests again
# Ends with a count per release and one summary line:
# "N passed, N failed, N skipped".
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

# section TITLE: a heading with the time since the start.
section() { echo "== $* (+$(($(date +%s) - started)) s)"; }

autoreconf -fi >/dev/null 2>&1 || { echo "run-all: autoreconf failed"; exit 1; }

# The builds that are not this machine's tests: the tarball, the Debian
# package, the sanitizers. They run after the release matrix, in its
# stream, while make check still runs; their output goes to
# _matrix/builds.log, their status to _matrix/builds.rc.
builds() {
	local status=0
	section "make distcheck (tarball builds, installs, passes the unit tests)"
	# Its own build tree: make check is running in _build.
	mkdir -p _build-dist
	(cd _build-dist && ../configure -q --enable-werror) &&
		SI_UNIT_ONLY=1 make -C _build-dist -s distcheck >_build-dist/distcheck.log 2>&1 ||
		{ tail -40 _build-dist/distcheck.log; echo "run-all: distcheck failed"; status=1; }

	section "Debian package: dpkg-buildpackage, install, run, remove"
	# The package must hold Slurm to the release line it was built for.
	want_dep=$(slurmd -V | awk '{ split($2, v, "."); printf "slurm-wlm-basic-plugins (<< %d.%02d~)", v[1], v[2] + 1 }')
	pkg=$(mktemp -d)
	mkdir "$pkg/slurm-identity"
	git ls-files -co --exclude-standard | grep -v '^_build' | tar -cf - -T - | tar -xf - -C "$pkg/slurm-identity"
	if (cd "$pkg/slurm-identity" && dpkg-buildpackage -b -us -uc >"$pkg/build.log" 2>&1) &&
		dpkg -i "$pkg"/slurm-identity_*_amd64.deb >/dev/null &&
		/usr/sbin/slurm-identity version &&
		dpkg-deb -f "$pkg"/slurm-identity_*_amd64.deb Depends | grep -q "$want_dep" &&
		dpkg -r slurm-identity >/dev/null; then
		echo "run-all: package built, installed and removed"
	else
		tail -30 "$pkg/build.log"; echo "run-all: packaging failed"; status=1
	fi
	rm -rf "$pkg"

	section "sanitizers (ASan+UBSan): unit tests"
	mkdir -p _build-asan
	(cd _build-asan && ../configure -q --enable-werror --enable-sanitizers) || return 1
	make -C _build-asan -s -j"$jobs" >/dev/null || { make -C _build-asan; return 1; }
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		make -C _build-asan -s unit-check || status=1
	return $status
}

# The release matrix runs beside this machine's tests, from the start:
# its runs have namespaces of their own (tests/release/run.sh), and its
# roots take a few minutes to bootstrap the first time (cached after).
releases=${SI_RELEASES-"trixie:24.11 sid:26.05"}
rm -rf _matrix
mkdir -p _matrix
(
	for r in $releases; do
		rel=${r%%:*}
		rm -f "_build-$rel"/tests/*/*.trs "_build-$rel"/tests/*/*.log
		sh tests/release/run.sh "$rel" >"_matrix/$rel.log" 2>&1
		echo $? >"_matrix/$rel.rc"
		echo $(($(date +%s) - started)) >"_matrix/$rel.end"
	done
	builds >_matrix/builds.log 2>&1
	echo $? >_matrix/builds.rc
) &
matrix=$!
# Leaving early (a broken build) ends the matrix too: its run is one
# unshare whose PID namespace ends with it.
trap 'kill -9 $(ps -o pid= --ppid "$matrix" 2>/dev/null) "$matrix" 2>/dev/null' EXIT

section "build (-Werror)"
mkdir -p _build
(cd _build && ../configure -q --enable-werror) || exit 1
make -C _build -s -j"$jobs" >/dev/null || { make -C _build; exit 1; }

section "make check (two scenarios at a time, each in its own namespaces)"
make -C _build -s -j"$jobs" check || status=1

section "release matrix and builds (started with the build)"
wait "$matrix"
trap - EXIT
cat _matrix/builds.log
[ "$(cat _matrix/builds.rc 2>/dev/null)" = 0 ] || { echo "run-all: builds exited $(cat _matrix/builds.rc 2>/dev/null)"; status=1; }
for r in $releases; do
	rel=${r%%:*} line=${r#*:}
	section "release matrix: Slurm $line (Debian $rel)"
	rc=$(cat "_matrix/$rel.rc" 2>/dev/null || echo 1)
	if [ "$rc" = 77 ]; then
		echo "run-all: Slurm $line: no $rel root could be built here:"
		tail -5 "_matrix/$rel.log" | sed 's/^/run-all:   /'
	else
		grep -E '^(FAIL|ERROR|XPASS):' "_matrix/$rel.log"
		grep -E '^(==|# (TOTAL|PASS|FAIL|ERROR|SKIP):)' "_matrix/$rel.log"
		[ "$rc" = 0 ] || echo "run-all: Slurm $line exited $rc (log: _matrix/$rel.log)"
		echo "run-all: Slurm $line finished at +$(cat "_matrix/$rel.end" 2>/dev/null) s"
	fi
done

# Count every TAP result, per release and in all.
count() { # count DIR...: sets p f s
	local trs
	p=0 f=0 s=0
	for trs in $(find "$@" -name '*.trs' -not -path '*/slurm-identity-*/*' 2>/dev/null); do
		p=$((p + $(grep -c -E '^:test-result: (PASS|XFAIL)' "$trs")))
		f=$((f + $(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$trs")))
		s=$((s + $(grep -c '^:test-result: SKIP' "$trs")))
	done
}
for log in $(find _build _build-asan -name test-suite.log 2>/dev/null); do
	grep -q -E '^# (FAIL|ERROR): +[1-9]' "$log" && sed -n '1,200p' "$log"
done
count _build _build-asan
pass=$p fail=$f skip=$s
echo "run-all: Slurm $(slurmd -V 2>/dev/null | cut -d' ' -f2) (this machine): $p passed, $f failed, $s skipped"
for r in $releases; do
	rel=${r%%:*} line=${r#*:}
	rc=$(cat "_matrix/$rel.rc" 2>/dev/null || echo 1)
	if [ "$rc" = 77 ] && [ "${CI:-}" = true ]; then
		# CI must test every release line: a missing root fails it.
		echo "run-all: Slurm $line (Debian $rel): FAILED, no root could be built (CI=true)"
		fail=$((fail + 1))
		continue
	elif [ "$rc" = 77 ]; then
		echo "run-all: Slurm $line (Debian $rel): skipped, no root could be built"
		skip=$((skip + 1))
		continue
	fi
	count "_build-$rel"
	# A run that broke before its tests reported is a failure, not zero.
	[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
	echo "run-all: Slurm $line (Debian $rel): $p passed, $f failed, $s skipped"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
# Every skip, with its reason: a skip is a test that did not run.
for log in $(find _build _build-asan $(for r in $releases; do echo "_build-${r%%:*}"; done) \
	-path '*/tests/*' -name '*.log' -not -path '*/slurm-identity-*/*' 2>/dev/null); do
	grep -h '^SKIP:' "$log" | sed "s|^|run-all: skipped ($(echo "$log" | cut -d/ -f1)): |"
done
echo "run-all: $(($(date +%s) - started)) s"
[ "$fail" -gt 0 ] && status=1
echo "$pass passed, $fail failed, $skip skipped"
exit $status
