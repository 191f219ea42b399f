/* ad_delegation.h: the rights DomainUser needs over ComputerOU, and only
 * those: no domain admin, no machine account quota.
 *
 * The controller creates computer objects in ComputerOU (with their
 * one-time password, userAccountControl, dNSHostName and our mark in the
 * description), resets those it made before for a new life, and deletes
 * them (with the tree-delete control). On an OU that is: create and
 * delete computer objects; on the computer objects below it: Reset
 * Password, write userAccountControl (Account Restrictions), write
 * description, and delete with what they hold. Creating an object sets its
 * first attributes (dNSHostName among them) without a right of its own;
 * the node's adcli writes the rest as the computer itself. `slurm-identity policy --role directory` prints them for
 * a Samba DC (samba-tool dsacl set, SDDL) and a Windows DC (dsacls), the
 * tests apply exactly that, and `check` asks the DC which of them the
 * account holds.
 */
#ifndef SLURM_IDENTITY_AD_DELEGATION_H
#define SLURM_IDENTITY_AD_DELEGATION_H

#include <stdio.h>

#include "common/conf.h"

/* The delegation as a shell script for a Samba DC, with the dsacls lines
 * for Windows and a word on AWS Managed Microsoft AD. -1 with err when
 * the configuration does not say where (ComputerOU) or who. */
int ad_delegation_print(const struct identity_conf *conf, FILE *out,
			char *err, size_t errlen);

/* The LDAP attributes the controller writes on a computer object, as the
 * DC lists them in allowedAttributesEffective; NULL-terminated. */
extern const char *const ad_written_attributes[];

/* The rights a refused delete or create needs, said for people. */
extern const char ad_right_to_delete[];
extern const char ad_right_to_create[];

/* What to grant for attribute attr (one of ad_written_attributes), said
 * for people. */
const char *ad_right_for(const char *attr);

#endif
