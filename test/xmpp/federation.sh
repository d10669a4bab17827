#!/bin/sh
# federation.sh -- our community federated with an XMPP community that
# runs a real Prosody and nothing of ours, end to end:
#
#   127.0.129.53:5353  dnsmasq: SRV _xmpp-server._tcp.xmpp.test -> Prosody,
#                      _xmpp-server._tcp.acme.test -> our connector
#   127.0.0.1          Prosody serving xmpp.test (c2s 5222, s2s 5269),
#                      certificates from this test's CA, s2s_secure_auth:
#                      Prosody cannot choose the source address of its
#                      outgoing streams, the kernel gives 127.0.0.1 for
#                      every loopback destination, and our trust check
#                      wants the stream from an address of xmpp.test
#   127.0.129.10       acme's stconnector (SIP 5060/5061, XMPP 5269)
#   127.0.129.11       acme's stgateway (clients udp 5060, connector tcp
#                      5070), the LDIF directory of conf/examples
#   127.0.129.101      baresip as asmith (Alice.Smith@acme.test)
#   127.0.129.121-3    sipp as asmith's second device (PUBLISH of the
#                      exact states baresip cannot set) and as local
#                      watchers that log every NOTIFY
#   127.0.129.111      slixmpp (test/xmpp/xmppc.py) as bob@xmpp.test
#
# Shown, as the users see it: bob@xmpp.test subscribes to asmith and is
# approved by her federation privacy (all); he sees her available and
# unavailable within 2 s of each change; chat both ways, each side shown
# the other by address; carol (privacy none) refuses bob's subscription;
# status shows the streams both ways with TLS valid and how each was
# authenticated (SASL EXTERNAL both ways: Prosody offers and uses it
# when the certificates are valid, test/xmpp/sasl.sh).  (Not yet shown: asmith subscribing to an XMPP user,
# away and do not disturb towards XMPP, Prosody restarted.)
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/prosody.sh"

te_init xmpp-federation
D=$TE_DIR
CN=$top_builddir/connector/stconnector
GW=$top_builddir/gateway/stgateway
SX=$top_srcdir/test/xmpp/sipp
SP=$top_srcdir/test/gateway/pres
XC=$top_srcdir/test/xmpp/xmppc.py
NET=127.0.129
DNS=$NET.53
XIP=127.0.0.1
CNIP=$NET.10
GWIP=$NET.11
. "$top_srcdir/test/lib/baresip.sh"

for tool in prosody dnsmasq certtool baresip sipp; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()	# FILE ERE
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -15; return 1; }
}
# waits FILE ERE SECONDS: a line matching ERE appears in FILE after the
# lines it had when the step began (mark FILE)
mark() { eval "M_$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)=\$(wc -l <\"\$1\" 2>/dev/null || echo 0)"; }
waits()
{
	_v=M_$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)
	eval "_from=\${$_v:-0}"
	_i=0 _n=$(($3 * 10))
	while [ $_i -le $_n ]; do
		tail -n +"$((_from + 1))" "$1" 2>/dev/null | grep -Eq -- "$2" &&
			return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "  not in $1 within $3 s: $2"
	tail -n +"$((_from + 1))" "$1" 2>/dev/null | tail -8 | sed 's/^/  | /'
	return 1
}

# ---- DNS, certificates, Prosody ----------------------------------------
cat >"$D/records" <<EOT
host-record=sip.acme.test,$CNIP
host-record=xmpp.test,$XIP
srv-host=_xmpp-server._tcp.xmpp.test,xmpp.test,5269,0,0
srv-host=_xmpp-server._tcp.acme.test,sip.acme.test,5269,0,0
EOT
te_check "dnsmasq serves both domains' _xmpp-server._tcp" \
	te_dnsmasq $DNS 5353 "$D/records"
te_check "certificates: our connector (sip.acme.test, acme.test), Prosody" \
	te_certs "$D/certs" sip.acme.test:$CNIP:acme.test xmpp.test:$XIP
ps_config "$D/prosody" xmpp.test $XIP "$D/certs" $DNS:5353
ps_adduser "$D/prosody" bob bobpw
te_check "Prosody serves xmpp.test on $XIP" ps_start "$D/prosody"

# ---- our community -----------------------------------------------------
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
mkdir -p "$D/run"
cat >"$D/acme.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true"
                    ConvertID="true" control="$D/run/gw.sock"
                    pidFile="$D/run/gw.pid" retryInterval="5">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="5070"/>
  </CommunityGateway>
  <ExternCommunity name="jabber" protocol="xmpp">
    <Domain>xmpp.test</Domain>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CNIP" control="$D/run/cn.sock"
                      pidFile="$D/run/cn.pid" retryInterval="2">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="jabber" enabled="true"/>
  </CommunityConnector>
  <CommunityConnectivity><TrustedIP>$CNIP</TrustedIP></CommunityConnectivity>
  <Directory backend="file">
    <File>acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"
                privacy="description"/>
    <Privacy default="all"/>
    <Cache size="100" ttl="300" negativeTtl="30"/>
  </Directory>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="required"/>
  <Dns timeout="2000"><Server>$DNS:5353</Server></Dns>
</CommunityConfig>
EOT
"$CN" check -c "$D/acme.xml" >"$D/check.out" 2>&1
te_check "stconnector check: configuration OK" has "$D/check.out" "configuration OK"
te_spawn "$D/cn.log" "$CN" -f -c "$D/acme.xml"
CNPID=$TE_LASTPID
te_check "stconnector starts, listening for XMPP servers on $CNIP:5269" \
	te_wait_tcp $CNIP 5269 10
te_spawn "$D/gw.log" "$GW" -f -c "$D/acme.xml"
GWPID=$TE_LASTPID
te_check "stgateway: connector link up" \
	te_wait_for "$D/gw.log" "gw: connector up name=acme-edge" 10

# ---- the XMPP users ----------------------------------------------------
# xuser NAME PASSWORD IP: NAME@xmpp.test logged in at Prosody; commands
# to $D/x.NAME.in, what the user sees in $D/x.NAME.log
xuser()
{
	rm -f "$D/x.$1.in"
	mkfifo "$D/x.$1.in"
	te_spawn "$D/x.$1.log" sh -c "exec /usr/bin/python3 '$XC' \
		$1@xmpp.test $2 $3 $XIP 5222 '$D/certs/ca.pem' <'$D/x.$1.in'"
	eval "XU_$1=\$TE_LASTPID"
	sleep 86400 >"$D/x.$1.in" &
	TE_PIDS="$TE_PIDS $!"
	eval "XH_$1=\$!"
	te_wait_for "$D/x.$1.log" "^online" 10
}
x() { te_fifo_write "$D/x.$1.in" "$2"; }
te_check "bob@xmpp.test logs in at Prosody (slixmpp)" xuser bob bobpw $NET.111

# ---- asmith, a baresip user --------------------------------------------
te_check "asmith registers with baresip" \
	bs alice $NET.101 $GWIP "<sip:asmith@acme.test;transport=udp>;auth_pass=alicepw" \
	'"Bob" <sip:bob@xmpp.test>' '<sip:bob@xmpp.test>'

# ---- bob subscribes back and sees asmith ---------------------------------
mark "$D/x.bob.log"
x bob "subscribe alice.smith@acme.test"
te_check "bob's request is approved by our side (privacy all)" \
	waits "$D/x.bob.log" "^subscribed from=alice\\.smith@acme\\.test" 5
te_check "bob sees asmith online" \
	waits "$D/x.bob.log" "^presence from=alice\\.smith@acme\\.test type=available show=-" 5
pub()	# BASIC ACTIVITY WANT-RE
{
	mark "$D/x.bob.log"
	sipp -sf "$top_srcdir/test/gateway/sipp/publish.xml" -key from asmith \
		-key domain acme.test -key basic "$1" -key activity "$2" \
		-au asmith -ap alicepw -auth_uri asmith@acme.test -i $NET.121 \
		-p 5091 -nostdin -timeout 5 -timeout_error -m 1 \
		$GWIP:5060 >>"$D/pub.out" 2>&1 || return 1
	waits "$D/x.bob.log" "$3" 2
}
te_check "asmith's devices closed: bob sees her unavailable within 2 s" \
	pub closed unknown "^presence from=alice\\.smith@acme\\.test type=unavailable"
te_check "asmith active again: bob sees her available within 2 s" \
	pub open unknown "^presence from=alice\\.smith@acme\\.test type=available show=-"

# ---- chat both ways ------------------------------------------------------
mark "$D/x.bob.log"
bs_cmd alice "/message hello bob, from acme $$"
te_check "bob has asmith's message, from alice.smith@acme.test" \
	waits "$D/x.bob.log" "^message from=alice\\.smith@acme\\.test type=chat body=hello bob, from acme $$" 5
x bob "message alice.smith@acme.test hi alice, from xmpp $$"
te_check "asmith's baresip shows bob's message, from bob@xmpp.test" \
	sh -c "for i in \$(seq 50); do tr -d '\\r' <'$D/bs.alice/out.log' | grep -q 'bob@xmpp.test.*hi alice, from xmpp $$' && exit 0; sleep 0.1; done; exit 1"
# ---- carol's privacy is none: bob's subscription refused ------------------
mark "$D/x.bob.log"
x bob "subscribe carol@acme.test"
te_check "bob asks carol@acme.test (privacy none): unsubscribed" \
	waits "$D/x.bob.log" "^unsubscribed from=carol@acme\\.test" 5
sleep 0.5
te_check "bob sees no presence of carol" \
	sh -c "! grep -q '^presence from=carol@acme.test' '$D/x.bob.log'"

# ---- status ------------------------------------------------------------
"$CN" status --json -c "$D/acme.xml" >"$D/status.json" 2>&1
te_check "stconnector status: jabber's streams, in and out, TLS valid, authenticated" \
	/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
c = [c for c in s["xmpp"]["communities"] if c["name"] == "jabber"][0]
d = {(x["direction"], x["state"], x["tls"], x["auth"]) for x in c["streams"]}
ok = (c["link"] == "up" and ("out", "ready", "valid", "sasl-external") in d
      and ("in", "ready", "valid", "sasl-external") in d
      and c["stanzas_in"] > 0 and c["stanzas_out"] > 0)
print(" ", c)
sys.exit(0 if ok else 1)' "$D/status.json"

bs_cmd alice /quit
te_stop "$GWPID"
te_stop "$CNPID"
te_check "no sanitizer report" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log' '$D/gw.log'"
te_done
