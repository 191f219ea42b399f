#!/bin/sh
# sigv4_botocore.sh: our signer against botocore's SigV4Auth (TAP).
[ -n "${SI_UNIT_ONLY:-}" ] && { echo "1..0 # SKIP SI_UNIT_ONLY is set"; exit 0; }
py=${PYTHON3:-python3}
if ! "$py" -c 'import botocore' 2>/dev/null; then
	echo "1..0 # SKIP botocore not available to $py"
	exit 0
fi
exec "$py" "$top_srcdir/tests/unit/sigv4_botocore.py" "$top_builddir/tests/unit/sigv4_sign" 150
