# x_ac_pkg.m4: a required pkg-config dependency with a helpful error.
#
# X_AC_PKG_REQUIRED(VARIABLE-PREFIX, MODULES, DEBIAN-PACKAGE)
# Like PKG_CHECK_MODULES, but a missing module stops configure with the
# name of the Debian package that provides it.

AC_DEFUN([X_AC_PKG_REQUIRED], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found by pkg-config; on Debian: apt-get install $3])])
])
