# x_ac_slurm.m4: find the Slurm headers and libslurm.
#
# --with-slurm=DIR names the prefix Slurm was installed under (default /usr).
# Defines SLURM_CPPFLAGS, SLURM_LDFLAGS, SLURM_LIBS and slurmplugdir (where
# SPANK plugins are installed, from --with-slurm-plugindir or a guess),
# SLURM_RELEASE ("24.11") and HAVE_* for the fields that differ between
# releases.

AC_DEFUN([X_AC_SLURM], [
  AC_ARG_WITH([slurm],
    [AS_HELP_STRING([--with-slurm=DIR], [prefix where Slurm is installed @<:@/usr@:>@])],
    [x_ac_slurm_dir="$withval"], [x_ac_slurm_dir=/usr])
  AC_ARG_WITH([slurm-plugindir],
    [AS_HELP_STRING([--with-slurm-plugindir=DIR], [where to install spank_identity.so @<:@LIBDIR/slurm@:>@])],
    [slurmplugdir="$withval"], [slurmplugdir='${libdir}/slurm'])

  SLURM_CPPFLAGS=""
  SLURM_LDFLAGS=""
  AS_IF([test "$x_ac_slurm_dir" != /usr], [
    SLURM_CPPFLAGS="-I$x_ac_slurm_dir/include"
    SLURM_LDFLAGS="-L$x_ac_slurm_dir/lib -Wl,-rpath,$x_ac_slurm_dir/lib"
  ])
  x_ac_slurm_save_CPPFLAGS="$CPPFLAGS"
  x_ac_slurm_save_LDFLAGS="$LDFLAGS"
  CPPFLAGS="$CPPFLAGS $SLURM_CPPFLAGS"
  LDFLAGS="$LDFLAGS $SLURM_LDFLAGS"
  AC_CHECK_HEADERS([slurm/slurm.h slurm/spank.h slurm/slurm_version.h], [],
    [AC_MSG_ERROR([Slurm headers not found under $x_ac_slurm_dir/include; on Debian: apt-get install libslurm-dev (or use --with-slurm=DIR)])])
  AC_CHECK_LIB([slurm], [slurm_hostlist_create], [SLURM_LIBS="-lslurm"],
    [AC_MSG_ERROR([libslurm not found under $x_ac_slurm_dir; on Debian: apt-get install libslurm-dev (or use --with-slurm=DIR)])])
  AC_CHECK_LIB([slurm], [slurm_init], [],
    [AC_MSG_ERROR([libslurm is older than 22.05 (no slurm_init); slurm-identity needs Slurm 22.05 or later])])
  # What differs between releases (slurm_compat.c): 26.05 dropped
  # update_node_msg_t.reason_uid; 23.11 added InstanceId/InstanceType.
  AC_CHECK_MEMBERS([update_node_msg_t.reason_uid, update_node_msg_t.instance_id,
                    node_info_t.instance_id], [], [], [[#include <slurm/slurm.h>]])
  # 26.05 renamed slurm_free_ctl_conf to slurm_free_conf.
  AC_CHECK_DECLS([slurm_free_conf, slurm_free_ctl_conf], [], [],
    [[#include <slurm/slurm.h>]])
  # The release line, for packages that must match it (a SPANK plugin
  # built for one release is refused by another).
  AC_COMPUTE_INT([x_ac_slurm_version_number], [SLURM_VERSION_NUMBER],
    [[#include <slurm/slurm_version.h>]],
    [AC_MSG_ERROR([cannot read SLURM_VERSION_NUMBER from slurm/slurm_version.h])])
  SLURM_RELEASE=`printf '%d.%02d' $((x_ac_slurm_version_number >> 16)) $(((x_ac_slurm_version_number >> 8) & 255))`
  AC_MSG_NOTICE([building for Slurm release $SLURM_RELEASE])
  AC_DEFINE_UNQUOTED([SLURM_RELEASE_BUILT], ["$SLURM_RELEASE"], [Slurm release line built against])
  CPPFLAGS="$x_ac_slurm_save_CPPFLAGS"
  LDFLAGS="$x_ac_slurm_save_LDFLAGS"
  LIBS=`echo "$LIBS" | sed -e 's/-lslurm//'`
  AC_SUBST([SLURM_CPPFLAGS])
  AC_SUBST([SLURM_LDFLAGS])
  AC_SUBST([SLURM_LIBS])
  AC_SUBST([SLURM_RELEASE])
  AC_SUBST([slurmplugdir])
])
