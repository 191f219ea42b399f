/* ad_delegation.c: the rights DomainUser needs over ComputerOU
 * (ad_delegation.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ad_delegation.h"

/* Schema ids (the same in every AD forest and in Samba). */
#define COMPUTER_CLASS "bf967a86-0de6-11d0-a285-00aa003049e2"
#define RESET_PASSWORD "00299570-246d-11d0-a768-00aa006e0529"
#define ACCOUNT_RESTRICTIONS "4c164200-20c0-11d0-a768-00aa006e0529"
#define DESCRIPTION_ATTR "bf967950-0de6-11d0-a285-00aa003049e2"

/* One right: what it is for, its ACE in SDDL up to the trustee (the
 * account's SID and ")" follow), and the same as a dsacls grant: its
 * inheritance and what follows "account:". */
struct right {
	const char *what;
	const char *ace;
	const char *inherit;
	const char *grant;
};

static const struct right rights[] = {
	{ "create and delete computer objects in the OU",
	  "(OA;CI;CCDC;" COMPUTER_CLASS ";;",
	  "/I:T", "CCDC;computer" },
	{ "reset the password of a computer object (a node's new life)",
	  "(OA;CIIO;CR;" RESET_PASSWORD ";" COMPUTER_CLASS ";",
	  "/I:S", "CA;Reset Password;computer" },
	{ "write userAccountControl (Account Restrictions)",
	  "(OA;CIIO;RPWP;" ACCOUNT_RESTRICTIONS ";" COMPUTER_CLASS ";",
	  "/I:S", "RPWP;userAccountControl;computer" },
	{ "write description (where slurm-identity marks its accounts)",
	  "(OA;CIIO;WP;" DESCRIPTION_ATTR ";" COMPUTER_CLASS ";",
	  "/I:S", "WP;description;computer" },
	{ "delete a computer object with what it holds (tree delete)",
	  "(OA;CIIO;SDDT;;" COMPUTER_CLASS ";",
	  "/I:S", "SDDT;;computer" },
};

#define NRIGHTS (sizeof(rights) / sizeof(rights[0]))

const char ad_right_to_delete[] =
	"needs Delete and Delete Subtree on it, not denied on the object (slurm-identity policy --role directory)";
const char ad_right_to_create[] =
	"needs Create Computer objects there and Reset Password on them (slurm-identity policy --role directory)";

/* dNSHostName is written only when an account is made, which creating
 * it allows. */
const char *const ad_written_attributes[] = {
	"description", "userAccountControl", NULL
};

const char *ad_right_for(const char *attr)
{
	if (strcasecmp(attr, "description") == 0)
		return rights[3].what;
	if (strcasecmp(attr, "userAccountControl") == 0)
		return rights[2].what;
	return "write it";
}

/* "OU=Nodes,DC=ad,DC=example,DC=com" -> "ad.example.com". */
static void domain_of(const char *dn, char *out, size_t len)
{
	size_t n = 0;
	const char *p = dn;

	out[0] = '\0';
	while (p && *p) {
		if (strncasecmp(p, "DC=", 3) == 0) {
			size_t l = strcspn(p + 3, ",");

			n += (size_t)snprintf(out + n, n < len ? len - n : 0,
					      "%s%.*s", n ? "." : "", (int)l,
					      p + 3);
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
}

/* The domain's base DN: the DC= components that end dn. */
static const char *base_of(const char *dn)
{
	const char *p = dn;

	while (p && *p) {
		if (strncasecmp(p, "DC=", 3) == 0)
			return p;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return dn;
}

/* A value inside single quotes for the shell. */
static void put_quoted(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}

int ad_delegation_print(const struct identity_conf *conf, FILE *out,
			char *err, size_t errlen)
{
	const char *user = conf->domain_user, *ou = conf->computer_ou;
	char domain[256], sam[256], who[512];
	size_t i;

	if (!ou) {
		snprintf(err, errlen,
			 "ComputerOU= is not set: the rights are delegated on the OU that holds the nodes' accounts");
		return -1;
	}
	if (!user) {
		snprintf(err, errlen,
			 "DomainUser= is not set: name the account the controller binds as");
		return -1;
	}
	domain_of(ou, domain, sizeof(domain));
	/* samba-tool wants the account name; dsacls takes a UPN or a DN as
	 * it is, a bare name as name@domain. */
	if (strchr(user, '=')) {
		size_t n = strncasecmp(user, "CN=", 3) == 0 ? strcspn(user + 3, ",") : 0;

		snprintf(sam, sizeof(sam), "%.*s", (int)n, user + 3);
		snprintf(who, sizeof(who), "%s", user);
	} else if (strchr(user, '@')) {
		snprintf(sam, sizeof(sam), "%.*s", (int)strcspn(user, "@"), user);
		snprintf(who, sizeof(who), "%s", user);
	} else {
		snprintf(sam, sizeof(sam), "%s", user);
		snprintf(who, sizeof(who), "%s@%s", user, domain);
	}
	fprintf(out,
		"# The rights DomainUser (%s) needs over ComputerOU, and nothing else:\n"
		"# no domain admin, no machine account quota.\n#\n", user);
	for (i = 0; i < NRIGHTS; i++)
		fprintf(out, "#   %s%s\n", i == 0 ? "" : "on computer objects below it: ",
			rights[i].what);
	fprintf(out,
		"#\n"
		"# Samba AD DC: run this on the DC as root (samba-tool reads the local\n"
		"# sam.ldb; add -H ldap://DC -U ADMIN to work from elsewhere).\n"
		"set -e\n"
		"user=");
	put_quoted(out, sam);
	fprintf(out, "\nou=");
	put_quoted(out, ou);
	fprintf(out,
		"\nsid=$(samba-tool user show \"$user\" --attributes=objectSid | sed -n 's/^objectSid: //p')\n"
		"[ -n \"$sid\" ] || { echo \"no SID for $user\" >&2; exit 1; }\n");
	for (i = 0; i < NRIGHTS; i++) {
		fprintf(out, "samba-tool dsacl set --objectdn=\"$ou\" --sddl=\"%s$sid)\"\n",
			rights[i].ace);
	}
	fprintf(out,
		"#\n"
		"# Windows DC (an elevated prompt, as a domain admin, once):\n");
	for (i = 0; i < NRIGHTS; i++)
		fprintf(out, "#   dsacls \"%s\" %s /G \"%s:%s\"\n", ou,
			rights[i].inherit, who, rights[i].grant);
	fprintf(out,
		"#\n"
		"# AWS Managed Microsoft AD: no domain admin exists. Its admin (a member\n"
		"# of AWS Delegated Administrators) holds full control of the directory's\n"
		"# own OU (OU=<NetBIOS name>,%s) and may delegate below it: put\n"
		"# ComputerOU there, make a service account for the controller, and run\n"
		"# the dsacls lines above as that admin from a domain-joined Windows host.\n"
		"# Binding as the admin itself works too, with far more than these rights.\n"
		"#\n"
		"# Then `slurm-identity check` asks the DC what %s may do in the OU.\n",
		base_of(ou), user);
	return 0;
}
