# x_ac_flags.m4: warning, sanitizer and hardening options.
#
# --enable-werror turns every warning into an error (CI builds with it).
# --enable-sanitizers builds with AddressSanitizer and UBSan for tests.
# Hardening flags follow the usual distribution set.

AC_DEFUN([X_AC_WARNINGS], [
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors])],
    [], [enable_werror=no])
  WARN_CFLAGS="-Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter"
  AS_IF([test "$enable_werror" = yes], [WARN_CFLAGS="$WARN_CFLAGS -Werror"])
  AC_SUBST([WARN_CFLAGS])
])

AC_DEFUN([X_AC_SANITIZERS], [
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers], [build with -fsanitize=address,undefined])],
    [], [enable_sanitizers=no])
  SANITIZER_CFLAGS=""
  AS_IF([test "$enable_sanitizers" = yes],
    [SANITIZER_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"])
  AC_SUBST([SANITIZER_CFLAGS])
  AM_CONDITIONAL([SANITIZERS], [test "$enable_sanitizers" = yes])
])

AC_DEFUN([X_AC_HARDENING], [
  HARDEN_CFLAGS="-fstack-protector-strong -fPIC"
  HARDEN_LDFLAGS="-Wl,-z,relro,-z,now"
  AS_IF([test "$enable_sanitizers" != yes],
    [HARDEN_CPPFLAGS="-D_FORTIFY_SOURCE=2"], [HARDEN_CPPFLAGS=""])
  AC_SUBST([HARDEN_CFLAGS])
  AC_SUBST([HARDEN_CPPFLAGS])
  AC_SUBST([HARDEN_LDFLAGS])
])
