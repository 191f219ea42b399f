# The rights DomainUser (svc-hpc-join) needs over ComputerOU, and nothing else:
# no domain admin, no machine account quota.
#
#   create and delete computer objects in the OU
#   on computer objects below it: reset the password of a computer object (a node's new life)
#   on computer objects below it: write userAccountControl (Account Restrictions)
#   on computer objects below it: write description (where slurm-identity marks its accounts)
#   on computer objects below it: delete a computer object with what it holds (tree delete)
#
# Samba AD DC: run this on the DC as root (samba-tool reads the local
# sam.ldb; add -H ldap://DC -U ADMIN to work from elsewhere).
set -e
user='svc-hpc-join'
ou='OU=HPC,OU=Computers,DC=corp,DC=example,DC=com'
sid=$(samba-tool user show "$user" --attributes=objectSid | sed -n 's/^objectSid: //p')
[ -n "$sid" ] || { echo "no SID for $user" >&2; exit 1; }
samba-tool dsacl set --objectdn="$ou" --sddl="(OA;CI;CCDC;bf967a86-0de6-11d0-a285-00aa003049e2;;$sid)"
samba-tool dsacl set --objectdn="$ou" --sddl="(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967a86-0de6-11d0-a285-00aa003049e2;$sid)"
samba-tool dsacl set --objectdn="$ou" --sddl="(OA;CIIO;RPWP;4c164200-20c0-11d0-a768-00aa006e0529;bf967a86-0de6-11d0-a285-00aa003049e2;$sid)"
samba-tool dsacl set --objectdn="$ou" --sddl="(OA;CIIO;WP;bf967950-0de6-11d0-a285-00aa003049e2;bf967a86-0de6-11d0-a285-00aa003049e2;$sid)"
samba-tool dsacl set --objectdn="$ou" --sddl="(OA;CIIO;SDDT;;bf967a86-0de6-11d0-a285-00aa003049e2;$sid)"
#
# Windows DC (an elevated prompt, as a domain admin, once):
#   dsacls "OU=HPC,OU=Computers,DC=corp,DC=example,DC=com" /I:T /G "svc-hpc-join@corp.example.com:CCDC;computer"
#   dsacls "OU=HPC,OU=Computers,DC=corp,DC=example,DC=com" /I:S /G "svc-hpc-join@corp.example.com:CA;Reset Password;computer"
#   dsacls "OU=HPC,OU=Computers,DC=corp,DC=example,DC=com" /I:S /G "svc-hpc-join@corp.example.com:RPWP;userAccountControl;computer"
#   dsacls "OU=HPC,OU=Computers,DC=corp,DC=example,DC=com" /I:S /G "svc-hpc-join@corp.example.com:WP;description;computer"
#   dsacls "OU=HPC,OU=Computers,DC=corp,DC=example,DC=com" /I:S /G "svc-hpc-join@corp.example.com:SDDT;;computer"
#
# AWS Managed Microsoft AD: no domain admin exists. Its admin (a member
# of AWS Delegated Administrators) holds full control of the directory's
# own OU (OU=<NetBIOS name>,DC=corp,DC=example,DC=com) and may delegate below it: put
# ComputerOU there, make a service account for the controller, and run
# the dsacls lines above as that admin from a domain-joined Windows host.
# Binding as the admin itself works too, with far more than these rights.
#
# Then `slurm-identity check` asks the DC what svc-hpc-join may do in the OU.
