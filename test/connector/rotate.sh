#!/bin/sh
# rotate.sh -- reload applies or says, for stconnector and stgateway.  A new certificate put in place
# and `stconnector reload` is what gnutls-cli sees on its next
# handshake (serial and fingerprint change) without a restart; a key
# that is not the certificate's, or a Trace file that cannot be opened,
# fails the reload with the reason and keeps what runs; what a reload
# cannot apply is listed in its answer and as pending_restart in status.
# `log LEVEL` changes the log level of a running daemon; `status
# SECTION` prints only that part.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-rotate

SC=$top_builddir/connector/stconnector
D=$TE_DIR
F=$D/community.xml
IP=127.0.115.30
CLI=127.0.115.31
SOCK=$D/run/cn.sock

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

# conf TLSPORT EXTRA-CONNECTOR-ATTRS TRACE-ENABLE TRACE-FILE
conf()
{
	cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw">
    <ClientListen transport="udp" address="127.0.115.32" port="15060"/>
    <ConnectorListen transport="tcp" address="127.0.115.32" port="15070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tls" port="15061">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$IP" port="15060"
                      tlsPort="$1" control="run/cn.sock"
                      pidFile="run/cn.pid" $2>
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <Tls certificate="live.pem" key="live.key" ca="pki/ca.pem"
       verify="required"/>
  <Trace enable="$3" file="$4" level="1"/>
</CommunityConfig>
EOF
}

# served [ADDR PORT]: the serial and SHA-256 fingerprint gnutls-cli is shown by
# the connector on a new connection, as "SERIAL FINGERPRINT"
served() # [ADDR PORT]
{
	gnutls-cli --x509cafile "$D/pki/ca.pem" \
		--x509certfile "$D/pki/sip.chicago.test.pem" \
		--x509keyfile "$D/pki/sip.chicago.test.key" \
		--verify-hostname sip.acme.test -p "${2:-15061}" \
		--save-cert "$D/served.pem" "${1:-$IP}" </dev/null \
		>"$D/cli.out" 2>&1
	printf '%s %s' \
		"$(certtool -i --infile "$D/served.pem" 2>/dev/null |
		   sed -n 's/^[[:space:]]*Serial Number (hex): //p')" \
		"$(certtool --fingerprint --hash sha256 \
		   --infile "$D/served.pem" 2>/dev/null)"
}

# newcert NAME SERIAL: a certificate for sip.acme.test signed by the CA
newcert()
{
	cat >"$D/$1.tmpl" <<EOT
cn = "sip.acme.test"
serial = $2
expiration_days = $3
dns_name = "sip.acme.test"
ip_address = "$IP"
tls_www_server
tls_www_client
signing_key
EOT
	certtool --no-text --generate-privkey --key-type=ecdsa \
		--outfile "$D/$1.key" 2>/dev/null &&
	chmod 600 "$D/$1.key" &&
	certtool --no-text --generate-certificate --load-privkey "$D/$1.key" \
		--load-ca-certificate "$D/pki/ca.pem" \
		--load-ca-privkey "$D/pki/ca.key" --template "$D/$1.tmpl" \
		--outfile "$D/$1.pem" 2>/dev/null
}

te_certs "$D/pki" sip.chicago.test:$CLI || te_fail "certtool: the CA"
newcert old 4660 400 || te_fail "certtool: the first certificate"
newcert new 22136 20 || te_fail "certtool: the second certificate"
newcert other 30583 400 || te_fail "certtool: a third key"
cp "$D/old.pem" "$D/live.pem"
cp "$D/old.key" "$D/live.key"
mkdir -p "$D/run"
conf 15061 "" false run/trace.log

te_spawn "$D/cn.log" "$SC" -f -c "$F"
CNPID=$TE_LASTPID
te_wait_tcp $IP 15061 10 || { te_fail "connector listens on tls $IP:15061";
	sed 's/^/  | /' "$D/cn.log"; te_done; exit 1; }

s1=$(served)
te_check "before: gnutls-cli is served the first certificate (serial 1234)" \
	[ "${s1%% *}" = 1234 ]
te_check "before: the handshake verified" grep -q "Handshake was completed" "$D/cli.out"

# ---- rotation: new files at the same paths, then reload ----
cp "$D/new.pem" "$D/live.pem"
cp "$D/new.key" "$D/live.key"
"$SC" reload -s "$SOCK" >"$D/out" 2>&1
rc=$?
te_check "rotation: reload exit 0" [ "$rc" = 0 ]
te_check "rotation: reload ok" has "$D/out" "reload ok: $F"
te_check "rotation: the answer says the certificate is in use, days left" \
	hasre "$D/out" "^tls: certificate $D/live.pem loaded for new connections \((19|20) days left\)\$"
te_check "rotation: nothing pending" sh -c "! grep -q '^pending restart' '$D/out'"
s2=$(served)
te_check "rotation: gnutls-cli is served the new certificate (serial 5678)" \
	[ "${s2%% *}" = 5678 ]
te_check "rotation: a fingerprint was read" \
	[ "$(printf '%s' "${s2#* }" | wc -c)" = 64 ]
te_check "rotation: the fingerprint changed" [ "${s1#* }" != "${s2#* }" ]
te_check "rotation: the fingerprint is the new file's" [ "${s2#* }" = \
	"$(certtool --fingerprint --hash sha256 --infile "$D/new.pem")" ]
te_check "rotation: the log says so" grep -q "cn: tls credentials-reloaded cert=$D/live.pem" "$D/cn.log"
te_check "rotation: the log warns of the 20 days" \
	grep -Eq "cn: tls certificate-expires days=(19|20) cert=$D/live.pem" "$D/cn.log"
te_check "rotation: the daemon kept running" kill -0 "$CNPID"

# ---- a key that is not the certificate's: refused, old one kept ----
cp "$D/other.key" "$D/live.key"
"$SC" reload -s "$SOCK" >"$D/out" 2>&1
rc=$?
te_check "wrong key: reload exit 1" [ "$rc" = 1 ]
te_check "wrong key: running configuration unchanged" has "$D/out" \
	"reload failed: the running configuration is unchanged"
l_tls=$(grep -n '<Tls' "$F" | cut -d: -f1)
te_check "wrong key: the reason" has "$D/out" \
	"$F:$l_tls: Tls: $D/live.key is not the private key of the certificate $D/live.pem"
s3=$(served)
te_check "wrong key: still served the rotated certificate" [ "$s3" = "$s2" ]
cp "$D/new.key" "$D/live.key"

# ---- a trace file that cannot be opened fails the reload ----
conf 15061 "" true nowhere/trace.log
l_tr=$(grep -n '<Trace' "$F" | cut -d: -f1)
"$SC" reload -s "$SOCK" >"$D/out" 2>&1
rc=$?
te_check "trace unopenable: reload exit 1" [ "$rc" = 1 ]
te_check "trace unopenable: the reason" has "$D/out" \
	"$F:$l_tr: Trace file $D/nowhere/trace.log cannot be opened: No such file or directory"
"$SC" status config -s "$SOCK" >"$D/status" 2>&1
te_check "trace unopenable: status says the reload failed" \
	hasre "$D/status" "^last_reload: +failed\$"
conf 15061 "" true run/trace.log
"$SC" reload -s "$SOCK" >"$D/out" 2>&1
te_check "trace openable: reload exit 0" [ $? = 0 ]
te_check "trace openable: the answer names it" has "$D/out" "trace: $D/run/trace.log"
served >/dev/null
te_check "trace openable: the next handshake's traffic is traced" \
	[ -f "$D/run/trace.log" ]

# ---- what a reload cannot apply ----
conf 15062 'user="nobody" controlGroup="daemon"' true run/trace.log
"$SC" reload -s "$SOCK" >"$D/out" 2>&1
rc=$?
te_check "restart fields: reload exit 0" [ "$rc" = 0 ]
te_check "restart fields: listed in the answer" has "$D/out" \
	"pending restart: listeners, controlGroup, user (the running values stay until a restart)"
"$SC" status -s "$SOCK" >"$D/status" 2>&1
te_check "restart fields: status lists them" \
	hasre "$D/status" "^pending_restart: +listeners, controlGroup, user\$"
"$SC" status --json -s "$SOCK" >"$D/status.json" 2>&1
te_check "restart fields: status --json" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["config"]["pending_restart"] == "listeners, controlGroup, user" else 1)' "$D/status.json"
te_check "restart fields: the old TLS port still serves" te_wait_tcp $IP 15061 1
te_check "restart fields: the log names them" \
	grep -q 'cn: reload needs-restart fields="listeners, controlGroup, user"' "$D/cn.log"
# a later reload with other changes still lists them (against the start)
conf 15062 'user="nobody" controlGroup="daemon"' false run/trace.log
"$SC" reload -s "$SOCK" >"$D/out" 2>&1
te_check "restart fields: still pending on the next reload" has "$D/out" \
	"pending restart: listeners, controlGroup, user (the running values stay until a restart)"
conf 15061 "" false run/trace.log
"$SC" reload -s "$SOCK" >"$D/out" 2>&1
"$SC" status -s "$SOCK" >"$D/status" 2>&1
te_check "back to the running values: nothing pending" \
	hasre "$D/status" "^pending_restart: +none\$"
# a metrics endpoint is bound at start only: the summary shows the bound one
conf 15061 "metrics=\"$IP:19480\"" false run/trace.log
"$SC" reload -s "$SOCK" >"$D/out" 2>&1
te_check "metrics added by a reload: pending restart" has "$D/out" \
	"pending restart: metrics (the running values stay until a restart)"
"$SC" status -s "$SOCK" >"$D/status" 2>&1
te_check "metrics added by a reload: the summary lists it pending, none bound" sh -c \
	"grep -Eq '^pending_restart: +metrics\$' '$D/status' && grep -Eq '^metrics: +off\$' '$D/status'"
conf 15061 "" false run/trace.log
"$SC" reload -s "$SOCK" >/dev/null 2>&1
# the XMPP listener's port is bound once too
conf 15061 'xmppPort="15269"' false run/trace.log
"$SC" reload -s "$SOCK" >"$D/out" 2>&1
te_check "xmppPort changed by a reload: pending restart" has "$D/out" \
	"pending restart: xmppPort (the running values stay until a restart)"
conf 15061 "" false run/trace.log
"$SC" reload -s "$SOCK" >/dev/null 2>&1


# ---- log LEVEL at run time ----
"$SC" log debug -s "$SOCK" >"$D/out" 2>&1
te_check "log debug: exit 0" [ $? = 0 ]
te_check "log debug: the answer" has "$D/out" "log level: debug (was info)"
te_check "log debug: logged" grep -q "log: level-changed from=info to=debug" "$D/cn.log"
"$SC" log loud -s "$SOCK" >"$D/out" 2>&1
te_check "log loud: usage error (exit 2)" [ $? = 2 ]
te_check "log loud: the levels named" has "$D/out" \
	"error: log: give one of error, warning, info, debug (now: debug)"
"$SC" log warning -s "$SOCK" >"$D/out" 2>&1
te_check "log warning: exit 0" [ $? = 0 ]
n1=$(grep -c "cn: reloaded file=" "$D/cn.log")
"$SC" reload -s "$SOCK" >/dev/null 2>&1
n2=$(grep -c "cn: reloaded file=" "$D/cn.log")
te_check "log warning: info lines are no longer written (reloaded)" \
	[ "$n1" = "$n2" -a "$n1" -gt 0 ]
"$SC" log info -s "$SOCK" >/dev/null 2>&1
"$SC" reload -s "$SOCK" >/dev/null 2>&1
n3=$(grep -c "cn: reloaded file=" "$D/cn.log")
te_check "log info: they are again" [ "$n3" -gt "$n2" ]

# ---- status SECTION ----
"$SC" status communities -s "$SOCK" >"$D/st.out" 2>&1
rc=$?
te_check "status communities: answered (exit 0 or 1)" [ "$rc" -le 1 ]
te_check "status communities: who and health kept" \
	hasre "$D/st.out" "^connector: +acme-edge\$"
te_check "status communities: the section" has "$D/st.out" "# communities"
te_check "status communities: no other section" \
	sh -c "! grep -q '^# listeners' '$D/st.out' && ! grep -q '^# config' '$D/st.out'"
te_check "status communities: an up or idle link has no retry countdown" \
	sh -c "! grep -q 'next_retry_in' '$D/st.out'"
"$SC" status --json config listeners -s "$SOCK" >"$D/st.json" 2>&1
te_check "status --json config listeners: only those" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
parts = [k for k, v in s.items() if isinstance(v, dict) or
         (isinstance(v, list) and v and isinstance(v[0], dict))]
sys.exit(0 if sorted(parts) == ["config", "listeners"] and "health" in s
         and isinstance(s["degraded_because"], list) else 1)' "$D/st.json"
"$SC" status nosuch -s "$SOCK" >"$D/st.out" 2>&1
te_check "status nosuch: usage error (exit 2)" [ $? = 2 ]
te_check "status nosuch: the sections there are" hasre "$D/st.out" \
	"^error: status: no section nosuch; there are: config, .*communities"
"$SC" status --all -s "$SOCK" >"$D/st.out" 2>&1
te_check "status --all: the whole tree" sh -c \
	"grep -q '^# listeners' '$D/st.out' && grep -q '^# communities' '$D/st.out'"

te_stop "$CNPID"

# ---- the gateway: its connector listener over TLS ----
GWIP=127.0.115.33
G=$D/gw.xml
GW=$top_builddir/gateway/stgateway
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/users.ldif"
gwconf() # CLIENT-PORT TRACE-ENABLE TRACE-FILE
{
	cat >"$G" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" control="run/gw.sock"
                    pidFile="run/gw.pid">
    <ClientListen transport="udp" address="$GWIP" port="$1"/>
    <ConnectorListen transport="tls" address="$GWIP" port="15071"/>
  </CommunityGateway>
  <CommunityConnectivity><TrustedIP>$IP</TrustedIP></CommunityConnectivity>
  <Directory backend="file"><File>users.ldif</File></Directory>
  <Tls certificate="live.pem" key="live.key" ca="pki/ca.pem"
       verify="required"/>
  <Trace enable="$2" file="$3" level="1"/>
</CommunityConfig>
EOF
}
GSOCK=$D/run/gw.sock
cp "$D/old.pem" "$D/live.pem"
cp "$D/old.key" "$D/live.key"
gwconf 15060 false run/gw-trace.log
te_spawn "$D/gw.log" "$GW" -f -c "$G"
GWPID=$TE_LASTPID
te_wait_tcp $GWIP 15071 10 || { te_fail "gateway listens on tls $GWIP:15071";
	sed 's/^/  | /' "$D/gw.log"; te_done; exit 1; }
g1=$(served $GWIP 15071)
te_check "gateway before: served the first certificate (serial 1234)" \
	[ "${g1%% *}" = 1234 ]
cp "$D/new.pem" "$D/live.pem"
cp "$D/new.key" "$D/live.key"
"$GW" reload -s "$GSOCK" >"$D/out" 2>&1
te_check "gateway rotation: reload exit 0" [ $? = 0 ]
te_check "gateway rotation: the answer says the certificate is in use" \
	hasre "$D/out" "^tls: certificate $D/live.pem loaded for new connections \((19|20) days left\)\$"
g2=$(served $GWIP 15071)
te_check "gateway rotation: gnutls-cli is served the new certificate (serial 5678)" \
	[ "${g2%% *}" = 5678 ]
te_check "gateway rotation: the fingerprint changed" [ "${g1#* }" != "${g2#* }" ]

cp "$D/other.key" "$D/live.key"
"$GW" reload -s "$GSOCK" >"$D/out" 2>&1
te_check "gateway wrong key: reload exit 1" [ $? = 1 ]
l_tls=$(grep -n '<Tls' "$G" | cut -d: -f1)
te_check "gateway wrong key: the reason" has "$D/out" \
	"$G:$l_tls: Tls: $D/live.key is not the private key of the certificate $D/live.pem"
te_check "gateway wrong key: still the rotated certificate" \
	[ "$(served $GWIP 15071)" = "$g2" ]
cp "$D/new.key" "$D/live.key"

gwconf 15060 true nowhere/gw-trace.log
l_tr=$(grep -n '<Trace' "$G" | cut -d: -f1)
"$GW" reload -s "$GSOCK" >"$D/out" 2>&1
te_check "gateway trace unopenable: reload exit 1" [ $? = 1 ]
te_check "gateway trace unopenable: the reason" has "$D/out" \
	"$G:$l_tr: Trace file $D/nowhere/gw-trace.log cannot be opened: No such file or directory"

gwconf 15062 false run/gw-trace.log
"$GW" reload -s "$GSOCK" >"$D/out" 2>&1
te_check "gateway restart fields: reload exit 0" [ $? = 0 ]
te_check "gateway restart fields: listed in the answer" has "$D/out" \
	"pending restart: ClientListen (the running values stay until a restart)"
"$GW" status -s "$GSOCK" >"$D/status" 2>&1
te_check "gateway restart fields: status lists them" \
	hasre "$D/status" "^pending_restart: +ClientListen\$"
"$GW" log debug -s "$GSOCK" >"$D/out" 2>&1
te_check "stgateway log debug: exit 0" [ $? = 0 ]
te_check "stgateway log debug: the answer" has "$D/out" "log level: debug (was info)"
"$GW" status federation -s "$GSOCK" >"$D/st.out" 2>&1
te_check "stgateway status federation: the links" has "$D/st.out" "# federation"
te_check "stgateway status federation: no contradicting stub" \
	sh -c "! grep -q 'none-available' '$D/st.out'"
te_check "stgateway status federation: no other section" \
	sh -c "! grep -q '^# sip' '$D/st.out'"
te_stop "$GWPID"
te_done
