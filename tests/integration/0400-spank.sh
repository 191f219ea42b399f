#!/bin/bash
# 0400-spank.sh: spank_identity.so on a real cluster: a user without a home
# directory gets one (from the skeleton, owned by the user, mode 0700); a
# symlink planted at a home path is refused, not followed; a step on a node
# whose identity is not ready is refused with a clear message.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"

P=$(test_dir spankcfg)
opsworks_cluster_test spank 1 "PlugStackConfig=$P/plugstack.conf"
H=$CLUSTER_DIR/home
mkdir -p "$H" "$CLUSTER_DIR/skel" "$CLUSTER_DIR/victim"
chmod 755 "$H" "$CLUSTER_DIR/victim"
echo 'export FROM_SKEL=1' >"$CLUSTER_DIR/skel/.bashrc"
plugin=$(cluster_spank_plugin "$P") || bail "copy the plugin"
echo "required $plugin statedir=$CLUSTER_DIR/identity home_base=$H skel=$CLUSTER_DIR/skel wait=2" \
	>"$P/plugstack.conf"
for u in si-alice si-bob; do
	userdel "$u" >/dev/null 2>&1
	useradd -M -U -d "$H/$u" -s /bin/sh "$u" || bail "useradd $u"
done
# Homes that are not ours to manage: a sibling whose name starts like the
# base, and one nested deeper. Their jobs must run, untouched.
for u in si-carol:"${H}2/si-carol" si-dave:"$H/grp/si-dave"; do
	userdel "${u%%:*}" >/dev/null 2>&1
	useradd -M -U -d "${u#*:}" -s /bin/sh "${u%%:*}" || bail "useradd ${u%%:*}"
done
cleanup() {
	userdel si-alice >/dev/null 2>&1
	userdel si-bob >/dev/null 2>&1
	userdel si-carol >/dev/null 2>&1
	userdel si-dave >/dev/null 2>&1
	rm -rf "$P"
	opsworks_cluster_cleanup
}
trap cleanup EXIT
ln -s "$CLUSTER_DIR/victim" "$H/si-bob"
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
as_user() { local u=$1; shift; (cd /tmp && runuser -u "$u" -- env SLURM_CONF="$SLURM_CONF" "$@"); }

job=$(as_user si-alice sbatch --parsable -o /dev/null --wrap "touch $H/si-alice/ran")
wait_for '[ "$(job_state $job)" = COMPLETED ]' 120
ok $? "job of a user without a home directory completed ($(job_state $job))" || dump_logs 20
[ -d "$H/si-alice" ] && [ "$(stat -c '%U %a' "$H/si-alice")" = "si-alice 700" ]
ok $? "home directory created, owned by the user, mode 0700 ($(stat -c '%U %a' "$H/si-alice" 2>&1))"
[ -f "$H/si-alice/.bashrc" ] && [ "$(stat -c %U "$H/si-alice/.bashrc")" = si-alice ]
ok $? "skeleton copied and owned by the user"
[ -f "$H/si-alice/ran" ]
ok $? "the job ran in it"

job=$(as_user si-bob sbatch --parsable -o /dev/null --wrap "touch $H/si-bob/ran")
wait_for '[ "$(job_state $job)" = FAILED ] || [ "$(job_state $job)" = COMPLETED ]' 60
[ "$(job_state $job)" = FAILED ]
ok $? "job of a user whose home is a planted symlink failed ($(job_state $job))"
[ ! -e "$CLUSTER_DIR/victim/ran" ] && [ "$(stat -c %U "$CLUSTER_DIR/victim")" = root ]
ok $? "the symlink was not followed (target untouched, still root's)"
grep -q "si-bob is a symlink: refused, not followed" "$CLUSTER_DIR"/log/slurmd-n1.log
ok $? "the refusal is logged"

for u in si-carol si-dave; do
	job=$(as_user $u sbatch --parsable -o /dev/null --wrap "true")
	wait_for '[ "$(job_state $job)" = COMPLETED ] || [ "$(job_state $job)" = FAILED ]' 60
	[ "$(job_state $job)" = COMPLETED ]
	ok $? "job of $u, whose home $(getent passwd $u | cut -d: -f6) is not under home_base's direct children, ran ($(job_state $job))"
done
[ ! -e "${H}2" ] && [ ! -e "$H/grp" ]
ok $? "and those homes were left alone (not created)"

node_file=$CLUSTER_DIR/nodes/n1/state/node/n1
job=$(sbatch --parsable -o "$CLUSTER_DIR/gate.out" --wrap \
	"sed -i s/phase=ready/phase=failed/ $node_file; srun -n1 sh -c \"echo TASKRAN\"; echo srun=\$?; sed -i s/phase=failed/phase=ready/ $node_file")
wait_for '[ "$(job_state $job)" = COMPLETED ] || [ "$(job_state $job)" = FAILED ]' 60
grep -q '^srun=[1-9]' "$CLUSTER_DIR/gate.out"
ok $? "a step on a node whose identity is not ready is refused"
grep -q '^identity: node n1 identity is failed: tasks not started' "$CLUSTER_DIR/gate.out" && ! grep -q TASKRAN "$CLUSTER_DIR/gate.out"
ok $? "the user is told why ($(grep identity "$CLUSTER_DIR/gate.out" | head -1))"
tap_done
