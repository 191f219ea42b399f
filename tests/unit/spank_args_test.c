/* spank_args_test.c: plugstack.conf arguments are parsed strictly. */
#include "config.h"

#include <string.h>

#include "spank/args.h"
#include "tap.h"

static const char *parse(int argc, char **argv, struct spank_identity_args *a)
{
	static char err[256];

	err[0] = '\0';
	if (args_parse(argc, argv, a, err, sizeof(err)) == 0)
		return "";
	return err;
}

int main(void)
{
	struct spank_identity_args a;
	char *ok_args[] = { "statedir=/var/lib/si/", "wait=30", "home=create",
			    "home_base=/shared/home", "home_mode=0750", "skel=/etc/skel" };
	char *a1[] = { "wait=-1" }, *a2[] = { "wait=5s" }, *a3[] = { "bogus=1" };
	char *a4[] = { "statedir=relative" }, *a5[] = { "home_mode=0777" };
	char *a6[] = { "home=maybe" }, *a7[] = { "home_base=/" };
	char *a8[] = { "novalue" }, *a9[] = { "home_base=/a/../etc" };

	tap_is_str(parse(0, NULL, &a), "", "no arguments: defaults");
	tap_is_str(a.state_dir, "/var/spool/slurm-identity", "default statedir");
	tap_is_str(a.home_base, "/home", "default home_base");
	tap_is_int(a.home_mode, 0700, "default mode 0700");
	tap_ok(a.create_home && a.wait_seconds == 0, "create homes, no wait");
	tap_is_str(parse(6, ok_args, &a), "", "all arguments");
	tap_is_str(a.state_dir, "/var/lib/si", "trailing slash dropped");
	tap_is_int(a.wait_seconds, 30, "wait");
	tap_is_int(a.home_mode, 0750, "octal mode");
	tap_is_str(a.home_base, "/shared/home", "home_base");
	tap_is_str(parse(1, a1, &a), "wait: \"-1\" is not 0-3600 seconds", "negative wait");
	tap_is_str(parse(1, a2, &a), "wait: \"5s\" is not 0-3600 seconds", "unit suffix refused");
	tap_is_str(parse(1, a3, &a), "unknown argument \"bogus\"", "unknown key");
	tap_is_str(parse(1, a4, &a), "statedir: \"relative\" is not an absolute, normal path",
		   "relative path");
	tap_is_str(parse(1, a5, &a),
		   "home_mode: \"0777\" is not an octal mode without group/other write",
		   "world-writable home mode refused");
	tap_is_str(parse(1, a6, &a), "home: \"maybe\" is not create or off", "bad home");
	tap_is_str(parse(1, a7, &a), "home_base: / is not allowed", "root as base refused");
	tap_is_str(parse(1, a8, &a), "bad argument \"novalue\" (expected key=value)",
		   "bare word refused");
	tap_is_str(parse(1, a9, &a), "home_base: \"/a/../etc\" is not an absolute, normal path",
		   "dot-dot refused");
	{
		/* Other spellings of / (and of any path) are refused too. */
		static const char *const odd[] = { "/.", "/./", "//.", "//", "/home/.",
						   "/home//x", "/home/..", "/./home" };
		size_t i;

		for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
			char buf[64], want[128], *av[1] = { buf };

			snprintf(buf, sizeof(buf), "home_base=%s", odd[i]);
			snprintf(want, sizeof(want),
				 "home_base: \"%s\" is not an absolute, normal path", odd[i]);
			tap_is_str(parse(1, av, &a), want, buf);
		}
	}
	{
		/* Which homes are ours: one component below the base. */
		static const struct {
			const char *home;
			bool managed;
		} homes[] = {
			{ "/home/alice", true },  { "/home2/x", false },
			{ "/homes/x", false },    { "/home/grp/x", false },
			{ "/home", false },       { "/home/", false },
			{ "/home/.", false },     { "/home/..", false },
			{ "/var/home/x", false },
		};
		char *base[] = { "home_base=/home/" };
		size_t i;

		parse(1, base, &a);
		for (i = 0; i < sizeof(homes) / sizeof(homes[0]); i++)
			tap_ok(args_home_managed(&a, homes[i].home) == homes[i].managed,
			       "%s is %s", homes[i].home,
			       homes[i].managed ? "managed" : "left alone");
	}
	return tap_done();
}
