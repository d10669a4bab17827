#!/bin/sh
# slapd-prep.sh DIR LDIF -- everything a throw-away slapd needs in DIR:
# certificates made with certtool (a CA, a server certificate for
# ldap.acme.test / 127.0.5.1, and a second, unrelated CA), slapd.conf
# with the mdb backend, and the database loaded from LDIF with slapadd.
# The test program then runs slapd itself, as its own child, and stops
# it by PID.  Nothing here starts a process that outlives the script.
set -eu

D=$1
LDIF=$2
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/test/lib/testenv.sh"

mkdir -p "$D/db" "$D/certs" "$D/other"
te_certs "$D/certs" ldap.acme.test:127.0.5.1
te_certs "$D/other" rogue.test:127.0.5.9

cat >"$D/slapd.conf" <<EOT
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $D/slapd.pid
argsfile $D/slapd.args
loglevel none
TLSCertificateFile $D/certs/ldap.acme.test.pem
TLSCertificateKeyFile $D/certs/ldap.acme.test.key
database mdb
maxsize 104857600
suffix "dc=acme,dc=test"
rootdn "cn=admin,dc=acme,dc=test"
rootpw secret
directory $D/db
index objectClass eq
index uid eq
index mail eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
EOT

slapadd -q -f "$D/slapd.conf" -l "$LDIF"
printf 'secret\n' >"$D/bindpw"
chmod 600 "$D/bindpw"
printf 'secret\n' >"$D/bindpw.open"
chmod 644 "$D/bindpw.open"
