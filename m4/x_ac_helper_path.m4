# x_ac_helper_path.m4: absolute path of a helper program.
#
# X_AC_HELPER_PATH(VARIABLE, PROGRAM, DEFAULT)
# slurmd and slurmctld start our programs with no PATH, so helpers are run
# by absolute path: found now, or DEFAULT, overridable with VARIABLE=path
# at configure time and again in identity.conf.

AC_DEFUN([X_AC_HELPER_PATH], [
  AC_PATH_PROG([$1], [$2], [$3], [$PATH:/usr/sbin:/usr/bin:/sbin:/bin])
  AC_DEFINE_UNQUOTED([$1][_PATH], ["$$1"], [Absolute path of $2])
])
