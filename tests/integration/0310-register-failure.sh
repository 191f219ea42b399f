#!/bin/bash
# 0310-register-failure.sh: OpsWorks failing during registration (5xx on
# every attempt): the node is drained with an "identity: opsworks:" reason
# shown by sinfo -R, the job is requeued, retries are bounded, nothing is
# left registered; once OpsWorks recovers the node power-cycles and the
# job runs on a fresh, registered instance.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/lib/aws_env.sh"

opsworks_cluster_test regfail 1 SchedulerParameters=nohold_on_prolog_fail

fake_count() { opsworks_fake GET /_fake/calls | python3 -c "import json,sys; c=json.load(sys.stdin); print(c.get('_rejected', {}).get('$1', 0) if '$1'[0] != '+' else c.get('$1'[1:], 0))"; }
registered() { opsworks_fake GET /_fake/registry | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
job_field() { scontrol show job "$1" 2>/dev/null | grep -o "$2=[^ ]*" | head -1 | cut -d= -f2; }

opsworks_fake POST /_fake/faults '{"error_5xx": 1000, "operations": ["RegisterInstance"]}' >/dev/null
job=$(sbatch -N1 --parsable --wrap 'hostname' -o /dev/null)
ok $? "job submitted ($job)"
# Drained and power-cycled at once: the reason is kept in the Comment.
comment() { node_comment n1; }
wait_for "comment | grep -q '^identity: opsworks: register: '" 90
ok $? "node drained with an identity reason, kept in its Comment: $(comment)" || dump_logs 30
comment | grep -q 'InternalFailure'
ok $? "the reason names the AWS error"
SLURM_IDENTITY_CONF=$CLUSTER_DIR/etc/identity.conf "$top_builddir/slurm-identity" status n1 --json |
	python3 -c 'import json,sys; r = json.load(sys.stdin)[0]; assert (r["reason"] or "").startswith("identity: opsworks: register: "), r'
ok $? "slurm-identity status shows why the node was cycled"
wait_for '[ "$(job_field $job Restarts)" -ge 1 ] 2>/dev/null' 60
ok $? "job requeued (Restarts=$(job_field $job Restarts), state $(job_field $job JobState))"
[ "$(fake_count InternalFailure)" = 3 ]
ok $? "registration tried exactly MaxAttempts=3 times ($(fake_count InternalFailure))"
[ "$(registered)" = 0 ]
ok $? "nothing registered"
grep -q "n1: error: draining for a power cycle: identity: opsworks: register:" "$CLUSTER_DIR/log/identity.log"
ok $? "the failure is logged with node and backend"

# OpsWorks recovers: the node comes back through a power cycle by itself.
# (Slurm holds a requeued batch job back for about two minutes; the test
# lets it go at once instead of waiting.)
opsworks_fake POST /_fake/faults '{}' >/dev/null
wait_for '[ "$(node_state n1)" = idle~ ] || [ "$(node_state n1)" = "idle~+drain" ] || [ "$(node_state n1)" = drained~ ]' 60
ok $? "the failed node was powered down for a fresh try ($(node_state n1))"
scontrol update jobid="$job" StartTime=now
wait_for '[ "$(job_field $job JobState)" = COMPLETED ]' 120
ok $? "after a power cycle the job ran (state $(job_field $job JobState))" || dump_logs 30
[ "$(fake_count +RegisterInstance)" = 1 ]
ok $? "the fresh instance registered once"
[ -z "$(comment)" ]
ok $? "and its good registration cleared the failure from the Comment"
wait_for '[ "$(node_state n1)" = idle~ ]' 90 && wait_for '[ "$(registered)" = 0 ]' 20
ok $? "after suspend nothing is left registered ($(registered))"
tap_done
