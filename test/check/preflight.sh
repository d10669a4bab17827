#!/bin/sh
# preflight.sh -- `stconnector check` and `stgateway check` open what
# the daemons will open: a garbage certificate, a key that is not the
# certificate's, an expired certificate, one about to expire, one
# without the connector's IP, a garbage CA file, a user that does not
# exist, a run directory the user cannot write, a malformed LDIF file,
# and (--directory) an LDAP bind and search base on a real slapd.  Each
# is refused with its FILE:LINE and what to do; a good file passes.
. "$top_srcdir/test/lib/testenv.sh"
te_init preflight

SC=$top_builddir/connector/stconnector
GW=$top_builddir/gateway/stgateway
EX=$top_srcdir/conf/examples
D=$TE_DIR
A=$D/acme
X=$A/acme.test.xml
LDAPIP=127.0.115.1

run() # PROG ARGS...: $rc, $D/out, $D/err
{
	"$@" >"$D/out" 2>"$D/err"
	rc=$?
}

has() # FILE LINE: the exact line is in FILE
{
	grep -qxF -- "$2" "$1" || { echo "  missing in $1: $2"; \
		sed 's/^/  | /' "$1"; return 1; }
}

hasre() # FILE ERE
{
	grep -qE -- "$2" "$1" || { echo "  no match in $1: $2"; \
		sed 's/^/  | /' "$1"; return 1; }
}

# cert NAME DAYS|DATES [NO-IP]: certificate for sip.acme.test signed by
# the test CA with acme.key; DAYS is expiration_days, or "past".
cert()
{
	{
		echo 'cn = "sip.acme.test"'
		echo "serial = $(date +%s%N | cut -c8-16)"
		if [ "$2" = past ]; then
			echo 'activation_date = "2020-01-01 00:00:00"'
			echo 'expiration_date = "2021-06-30 00:00:00"'
		else
			echo "expiration_days = $2"
		fi
		echo 'dns_name = "sip.acme.test"'
		[ -z "$3" ] && echo 'ip_address = "127.0.0.10"'
		echo tls_www_server
		echo tls_www_client
		echo signing_key
	} >"$D/$1.tmpl"
	certtool --no-text --generate-certificate \
		--load-privkey "$D/pki/sip.acme.test.key" \
		--load-ca-certificate "$D/pki/ca.pem" \
		--load-ca-privkey "$D/pki/ca.key" --template "$D/$1.tmpl" \
		--outfile "$D/$1.pem" 2>/dev/null
}

good() # the sample, made whole again
{
	cp "$D/pki/sip.acme.test.chain.pem" "$A/certs/sip.acme.test.pem"
	cp "$D/pki/sip.acme.test.key" "$A/certs/sip.acme.test.key"
	chmod 600 "$A/certs/sip.acme.test.key"
	cp "$D/pki/ca.pem" "$A/certs/ca.pem"
	cp "$EX/acme.test.ldif" "$A/"
	cp "$EX/acme.test.xml" "$X"
	chmod 755 "$A/run"
}

te_certs "$D/pki" sip.acme.test:127.0.0.10 ||
	te_fail "certtool made the test certificates"
mkdir -p "$A/certs" "$A/run"
good
l_tls=$(grep -n '<Tls' "$X" | cut -d: -f1)
l_cn=$(grep -n '<CommunityConnector' "$X" | cut -d: -f1)
l_gw=$(grep -n '<CommunityGateway' "$X" | cut -d: -f1)
C=$A/certs/sip.acme.test.pem

# ---- a good file passes both ----
run "$SC" check -c "$X"
te_check "good: stconnector check exit 0" [ "$rc" = 0 ]
te_check "good: configuration OK" has "$D/out" "configuration OK"
te_check "good: nothing on stderr" [ ! -s "$D/err" ]
te_check "good: days left printed" hasre "$D/out" \
	'^tls expires: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5} UTC \(82[45] days left\)$'
te_check "good: the names the certificate carries" has "$D/out" \
	"tls names: DNS:sip.acme.test IP:127.0.0.10"
te_check "good: chain of two" hasre "$D/out" \
	'^tls certificate: CN=sip.acme.test,O=stconnector tests; issuer CN=stconnector test CA,O=stconnector tests; serial [0-9a-f]+; 2 in chain$'
te_check "good: CA file" has "$D/out" "tls ca: $A/certs/ca.pem, 1 certificate"
run "$GW" check -c "$X"
te_check "good: stgateway check exit 0" [ "$rc" = 0 ]
te_check "good: stgateway reads the LDIF file" has "$D/out" \
	"directory file: $A/acme.test.ldif read"
te_check "good: stgateway configuration OK" has "$D/out" "configuration OK"

# ---- the certificate ----
echo "this is not a certificate" >"$C"
run "$SC" check -c "$X"
te_check "garbage certificate: exit 1" [ "$rc" = 1 ]
te_check "garbage certificate: no OK" sh -c "! grep -q 'configuration OK' '$D/out'"
te_check "garbage certificate: named" has "$D/err" \
	"$X:$l_tls: Tls certificate $C: no PEM certificate in the file (expected -----BEGIN CERTIFICATE-----); give the PEM certificate chain, this deployment's certificate first"
te_check "garbage certificate: count" has "$D/err" \
	"$X: 1 problem: the connector would not start, or fail later"
run "$GW" check -c "$X"
te_check "garbage certificate: stgateway refuses it too" [ "$rc" = 1 ]
good

certtool --no-text --generate-privkey --key-type=ecdsa \
	--outfile "$A/certs/sip.acme.test.key" 2>/dev/null
chmod 600 "$A/certs/sip.acme.test.key"
run "$SC" check -c "$X"
te_check "other key: exit 1" [ "$rc" = 1 ]
te_check "other key: named" has "$D/err" \
	"$X:$l_tls: Tls $A/certs/sip.acme.test.key is not the private key of the certificate $C; give the key the certificate was made with (or make a new certificate for this key)"
echo "junk" >"$A/certs/sip.acme.test.key"
run "$SC" check -c "$X"
te_check "garbage key: exit 1" [ "$rc" = 1 ]
te_check "garbage key: named" hasre "$D/err" \
	"^$X:$l_tls: Tls key $A/certs/sip.acme.test.key: not a readable unencrypted PEM private key: .*; give the PEM private key \(unencrypted, mode 600\)\$"
good

cert expired past && cp "$D/expired.pem" "$C"
run "$SC" check -c "$X"
te_check "expired: exit 1" [ "$rc" = 1 ]
te_check "expired: date and days printed" hasre "$D/out" \
	'^tls expired: 2021-06-30 00:00 UTC \([0-9]+ days ago\)$'
te_check "expired: named" hasre "$D/err" \
	"^$X:$l_tls: Tls certificate $C expired on 2021-06-30 00:00 UTC \([0-9]+ days ago\); install a new certificate and run reload\$"
good

cert soon 10 && cp "$D/soon.pem" "$C"
run "$SC" check -c "$X"
te_check "expires in 10 days: still OK (exit 0)" [ "$rc" = 0 ]
te_check "expires in 10 days: warning" hasre "$D/out" \
	"^$X:$l_tls: warning: Tls certificate $C expires in (9|10) days \(.* UTC\); renew it, then run reload\$"
good

cert noip 365 no-ip && cp "$D/noip.pem" "$C"
run "$SC" check -c "$X"
te_check "no IP SAN: exit 1" [ "$rc" = 1 ]
te_check "no IP SAN: names the gateway link and the fix" has "$D/err" \
	"$X:$l_tls: Tls certificate $C has no IP-address subjectAltName 127.0.0.10: the gateway link to CommunityConnector \"acme-edge\" will fail its check; make the certificate again with ip_address = \"127.0.0.10\" (certtool template)"
good

echo "not a CA" >"$A/certs/ca.pem"
run "$SC" check -c "$X"
te_check "garbage CA file: exit 1" [ "$rc" = 1 ]
te_check "garbage CA file: named" has "$D/err" \
	"$X:$l_tls: Tls ca $A/certs/ca.pem: no PEM certificate in the file (expected -----BEGIN CERTIFICATE-----); give the PEM file of the CA certificates that issue the peers' certificates"
good

# ---- the user and what it writes ----
sed -i 's#pidFile="run/stconnector.pid"#& user="stc-no-such-user"#' "$X"
run "$SC" check -c "$X"
te_check "missing user: exit 1" [ "$rc" = 1 ]
te_check "missing user: named, with the fix" has "$D/err" \
	"$X:$l_cn: CommunityConnector \"acme-edge\": user \"stc-no-such-user\" does not exist; create it (systemd-sysusers with the installed sysusers.d file, or useradd --system stc-no-such-user)"
sed -i 's#pidFile="run/stgateway.pid"#& user="stc-no-such-user"#' "$X"
run "$GW" check -c "$X"
te_check "missing user: stgateway names its own record" has "$D/err" \
	"$X:$l_gw: CommunityGateway \"acme-gw\": user \"stc-no-such-user\" does not exist; create it (systemd-sysusers with the installed sysusers.d file, or useradd --system stc-no-such-user)"
good

# what the daemon hands its socket to, and where it serves metrics
sed -i 's#pidFile="run/stconnector.pid"#& controlGroup="stc-no-such-group" metrics="127.0.0.10"#' "$X"
run "$SC" check -c "$X"
te_check "missing controlGroup, bad metrics: exit 1" [ "$rc" = 1 ]
te_check "missing controlGroup: named" has "$D/err" \
	"$X:$l_cn: CommunityConnector \"acme-edge\": controlGroup \"stc-no-such-group\" does not exist; create it (groupadd --system stc-no-such-group) or name another"
te_check "metrics without a port: named" has "$D/err" \
	"$X:$l_cn: CommunityConnector \"acme-edge\": metrics \"127.0.0.10\" is not ADDRESS:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)"
good
sed -i 's#pidFile="run/stconnector.pid"#& controlGroup="daemon" metrics="127.0.0.10:9464"#' "$X"
run "$SC" check -c "$X"
te_check "existing controlGroup, metrics ADDRESS:PORT: exit 0" [ "$rc" = 0 ]
good

# nobody may not write a directory owned by someone else, mode 755
if [ "$(id -u)" = 0 ]; then
	chown root "$A/run"
fi
if [ "$(stat -c %u "$A/run")" != "$(id -u nobody)" ]; then
	sed -i 's#pidFile="run/stconnector.pid"#& user="nobody"#' "$X"
	run "$SC" check -c "$X"
	te_check "run directory not the user's: exit 1" [ "$rc" = 1 ]
	te_check "run directory not the user's: pidFile named" has "$D/err" \
		"$X:$l_cn: CommunityConnector \"acme-edge\": pidFile $A/run/stconnector.pid: user nobody cannot create files in $A/run; chown nobody $A/run (or run the daemon as its owner)"
	te_check "run directory not the user's: control named" has "$D/err" \
		"$X:$l_cn: CommunityConnector \"acme-edge\": control $A/run/stconnector.sock: user nobody cannot create files in $A/run; chown nobody $A/run (or run the daemon as its owner)"
	chmod 777 "$A/run"
	run "$SC" check -c "$X"
	te_check "run directory writable by all: exit 0" [ "$rc" = 0 ]
	te_check "key the user cannot read: a warning about reload" has "$D/out" \
		"$X:$l_tls: warning: CommunityConnector \"acme-edge\": Tls key $A/certs/sip.acme.test.key cannot be read by user nobody: the daemon starts (it reads it as root), but a reload (certificate rotation) will fail; chown nobody $A/certs/sip.acme.test.key"
	good
else
	te_fail "the test directory belongs to nobody: cannot test"
fi

rmdir "$A/run"
run "$SC" check -c "$X"
te_check "missing run directory: exit 1" [ "$rc" = 1 ]
te_check "missing run directory: named" has "$D/err" \
	"$X:$l_cn: CommunityConnector \"acme-edge\": pidFile $A/run/stconnector.pid: directory $A/run does not exist; create it, owned by $(id -un) (under /run, the installed tmpfiles.d file does: systemd-tmpfiles --create)"
mkdir "$A/run"

sed -i 's#<Trace enable="false" file="run/trace.log"#<Trace enable="true" file="nowhere/trace.log"#' "$X"
l_tr=$(grep -n '<Trace' "$X" | cut -d: -f1)
run "$SC" check -c "$X"
te_check "trace directory missing: exit 1" [ "$rc" = 1 ]
te_check "trace directory missing: named at the Trace line" has "$D/err" \
	"$X:$l_tr: CommunityConnector \"acme-edge\": Trace file $A/nowhere/trace.log: directory $A/nowhere does not exist; create it, owned by $(id -un) (under /run, the installed tmpfiles.d file does: systemd-tmpfiles --create)"
good

# ---- the directory ----
l_bad=$(($(wc -l <"$A/acme.test.ldif") + 3))
printf '\ndn: uid=zed,ou=people,dc=acme,dc=test\nuid zed\n' >>"$A/acme.test.ldif"
run "$GW" check -c "$X"
te_check "bad LDIF: exit 1" [ "$rc" = 1 ]
te_check "bad LDIF: FILE:LINE of the LDIF file" hasre "$D/err" \
	"^$A/acme.test.ldif:$l_bad: .*; fix that line of the LDIF file\$"
te_check "bad LDIF: no OK" sh -c "! grep -q 'configuration OK' '$D/out'"
good

# LDAP: a real slapd on $LDAPIP, bound and searched with --directory
te_slapd "$D/ldap" $LDAPIP 13890 dc=acme,dc=test "$EX/acme.test.ldif" ||
	te_fail "slapd started"
echo secret >"$A/bindpw"
chmod 600 "$A/bindpw"
ldap_conf() # BASE
{
	sed -e 's#<Directory backend="file">#<Directory backend="ldap">#' \
	    -e "s#<File>acme.test.ldif</File>#<Ldap bindDN=\"cn=admin,dc=acme,dc=test\" passwordFile=\"bindpw\" base=\"$1\" scope=\"sub\" timeout=\"2000\"><Url>ldap://$LDAPIP:13890</Url></Ldap>#" \
	    "$EX/acme.test.xml" >"$X"
}
ldap_conf dc=acme,dc=test
l_dir=$(grep -n '<Directory' "$X" | cut -d: -f1)
run "$GW" check -c "$X"
te_check "ldap without --directory: exit 0, not contacted" has "$D/out" \
	"directory ldap: ldap://$LDAPIP:13890 (not contacted; --directory binds and reads the search base)"
run "$GW" check --directory -c "$X"
te_check "ldap --directory: exit 0" [ "$rc" = 0 ]
te_check "ldap --directory: bind and base search" hasre "$D/out" \
	"^directory ldap: ldap://$LDAPIP:13890 bind and search base \"dc=acme,dc=test\" ok \([0-9]+ ms\)\$"
ldap_conf dc=nowhere,dc=test
run "$GW" check --directory -c "$X"
te_check "ldap wrong base: exit 1" [ "$rc" = 1 ]
te_check "ldap wrong base: named" hasre "$D/err" \
	"^$X:$l_dir: Directory: LDAP ldap://$LDAPIP:13890: search base \"dc=nowhere,dc=test\" does not exist\$"
ldap_conf dc=acme,dc=test
echo wrong >"$A/bindpw"
run "$GW" check --directory -c "$X"
te_check "ldap wrong password: exit 1" [ "$rc" = 1 ]
te_check "ldap wrong password: the bind is named" hasre "$D/err" \
	"^$X:$l_dir: Directory: LDAP ldap://$LDAPIP:13890: bind failed: Invalid credentials\$"
te_stop "$TE_SLAPD_PID"
echo secret >"$A/bindpw"
run "$GW" check --directory -c "$X"
te_check "ldap server down: exit 1" [ "$rc" = 1 ]
te_check "ldap server down: named" hasre "$D/err" \
	"^$X:$l_dir: Directory: LDAP ldap://$LDAPIP:13890: bind failed: Can't contact LDAP server\$"

te_done
