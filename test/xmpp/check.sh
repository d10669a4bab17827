#!/bin/sh
# check.sh -- `stconnector check --dns` and `check --peer` for XMPP
# communities, against real Prosody servers:
#
#   127.0.135.53:5353  dnsmasq: SRV _xmpp-server._tcp of xmpp.test,
#                      wrong.test, closed.test and acme.test (ours)
#   127.0.135.20       Prosody serving xmpp.test (s2s 5269), its
#                      certificate from this test's CA
#   127.0.135.21       Prosody serving wrong.test with a certificate for
#                      other.test (from the same CA)
#   127.0.135.10       our connector's file (acme.test, xmppPort 5269):
#                      nothing of ours runs, check probes from there
#
# Only inbound streams to Prosody are made: the servers need no
# addresses of their own on 127.0.0.1.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/prosody.sh"

te_init xmpp-check
D=$TE_DIR
CN=$top_builddir/connector/stconnector
NET=127.0.135
DNS=$NET.53
XIP=$NET.20
WIP=$NET.21
CNIP=$NET.10

for tool in prosody dnsmasq certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

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
hasnot() # FILE ERE
{
	! grep -qE -- "$2" "$1" || { echo "  unexpected in $1: $2"; \
		sed 's/^/  | /' "$1"; return 1; }
}

# records OUR-SRV-TARGET:PORT: the zone, our XMPP SRV record as given
records()
{
	cat >"$D/records" <<EOT
local-ttl=60
host-record=sip.acme.test,$CNIP
host-record=elsewhere.acme.test,$NET.99
host-record=xmpp.test,$XIP
host-record=wrong.test,$WIP
srv-host=_sips._tcp.acme.test,sip.acme.test,5061,0,0
srv-host=_xmpp-server._tcp.acme.test,${1%:*},${1#*:},0,0
srv-host=_xmpp-server._tcp.xmpp.test,xmpp.test,5269,0,0
srv-host=_xmpp-server._tcp.wrong.test,wrong.test,5269,0,0
srv-host=_xmpp-server._tcp.closed.test,xmpp.test,5999,0,0
EOT
	te_dnsmasq $DNS 5353 "$D/records"
}

te_check "dnsmasq serves the zone" records sip.acme.test:5269
DNSPID=$TE_DNS_PID
te_check "certificates: ours, xmpp.test, other.test" \
	te_certs "$D/certs" sip.acme.test:$CNIP:acme.test xmpp.test:$XIP \
	other.test:$WIP
# wrong.test's server shows other.test's certificate
cp "$D/certs/other.test.pem" "$D/certs/wrong.test.pem"
cp "$D/certs/other.test.key" "$D/certs/wrong.test.key"
ps_config "$D/px" xmpp.test $XIP "$D/certs" $DNS:5353
te_check "Prosody serves xmpp.test on $XIP" ps_start "$D/px"
ps_config "$D/pw" wrong.test $WIP "$D/certs" $DNS:5353
te_check "Prosody serves wrong.test on $WIP (other.test's certificate)" \
	ps_start "$D/pw"

cat >"$D/acme.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw">
    <ClientListen transport="udp" address="$NET.11" port="5060"/>
    <ConnectorListen transport="tcp" address="$NET.11" port="5070"/>
  </CommunityGateway>
  <ExternCommunity name="jabber" protocol="xmpp">
    <Domain>xmpp.test</Domain>
  </ExternCommunity>
  <ExternCommunity name="wrongname" protocol="xmpp">
    <Domain>wrong.test</Domain>
  </ExternCommunity>
  <ExternCommunity name="closed" protocol="xmpp">
    <Domain>closed.test</Domain>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CNIP" control="$D/cn.sock">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="jabber" enabled="true"/>
    <SupportedCommunity name="wrongname" enabled="true"/>
    <SupportedCommunity name="closed" enabled="true"/>
  </CommunityConnector>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="required"/>
  <Dns timeout="2000"><Server>$DNS:5353</Server></Dns>
</CommunityConfig>
EOT

# ---- check --dns ---------------------------------------------------------
"$CN" check --dns -c "$D/acme.xml" >"$D/dns.out" 2>"$D/dns.err"
rc=$?
cat "$D/dns.err" >>"$D/all.err"
te_check "check --dns: exit 0" [ "$rc" = 0 ] || sed 's/^/  | /' "$D/dns.err"
te_check "check: the summary says jabber is XMPP, without SIP transports" \
	has "$D/dns.out" \
	"extern community jabber: xmpp.test; xmpp, proxy (by DNS of the domain), port 5269 (STARTTLS)"
te_check "check: the summary shows the connector's xmppPort" has "$D/dns.out" \
	"connector acme-edge: $CNIP port 5060, tls port 5061, xmpp port 5269; gateways acme-gw"
te_check "check --dns: jabber said to be XMPP" has "$D/dns.out" \
	"dns: extern community jabber (xmpp), domain xmpp.test"
te_check "check --dns: resolved by its _xmpp-server._tcp record" has "$D/dns.out" \
	"    resolved by srv _xmpp-server._tcp.xmpp.test"
te_check "check --dns: the trust set its streams are checked against" \
	has "$D/dns.out" "    trust accepts: $XIP"
te_check "check --dns: the SRV target with its port" hasre "$D/dns.out" \
	"^    hop 1: xmpp $XIP:5269 starttls tls-name xmpp.test \(target xmpp.test, ttl [0-9]+ s\)\$"
te_check "check --dns: no SIP transports for an XMPP community" \
	hasnot "$D/dns.out" "accepted on: tls"
te_check "check --dns: our domain as XMPP partners resolve it" has "$D/dns.out" \
	"dns: our community acme, domain acme.test, xmpp (as XMPP partners resolve it: _xmpp-server._tcp, then A/AAAA at 5269)"
te_check "check --dns: by our _xmpp-server._tcp record" has "$D/dns.out" \
	"    resolved by srv _xmpp-server._tcp.acme.test"
te_check "check --dns: where partners connect" has "$D/dns.out" \
	"    xmpp partners connect to: $CNIP:5269 (target sip.acme.test)"
te_check "check --dns: our connector reached at its xmppPort" has "$D/dns.out" \
	"    connector acme-edge $CNIP:5269 (xmppPort): reached"
te_check "check --dns: dns OK" has "$D/dns.out" "dns OK"

# ---- check --peer: Prosody --------------------------------------------------
"$CN" check -c "$D/acme.xml" --peer jabber >"$D/peer.out" 2>"$D/peer.err"
rc=$?
cat "$D/peer.err" >>"$D/all.err"
te_check "peer jabber: exit 0" [ "$rc" = 0 ] || sed 's/^/  | /' "$D/peer.out" "$D/peer.err"
te_check "peer jabber: resolved by SRV" hasre "$D/peer.out" \
	"^resolve xmpp.test: ok \([0-9.]+ ms\): srv _xmpp-server._tcp.xmpp.test, 1 hop, first tcp $XIP:5269; trust accepts $XIP\$"
te_check "peer jabber: tcp connect from our address" hasre "$D/peer.out" \
	"^tcp connect $XIP:5269 from $CNIP: ok \([0-9.]+ ms\)\$"
te_check "peer jabber: stream opened, STARTTLS required" hasre "$D/peer.out" \
	"^stream to=xmpp.test from=acme.test: ok \([0-9.]+ ms\): the peer's header and features: starttls \(required\)(, .*)?\$"
te_check "peer jabber: starttls proceeds" hasre "$D/peer.out" \
	"^starttls: ok \([0-9.]+ ms\): proceed\$"
te_check "peer jabber: tls valid for xmpp.test" hasre "$D/peer.out" \
	"^tls handshake \(name xmpp.test\): ok \([0-9.]+ ms\): verdict valid, peer CN=xmpp.test,O=stconnector tests, [0-9]+ days left, \(TLS1\.[23]\)"
# Prosody offers SASL EXTERNAL only when our certificate is valid for
# acme.test
te_check "peer jabber: features over TLS: dialback and SASL EXTERNAL" hasre "$D/peer.out" \
	"^features: ok \([0-9.]+ ms, the stream restarted over TLS\): dialback, sasl external\$"
te_check "peer jabber: authentication not attempted, said so" hasre "$D/peer.out" \
	"^authentication not attempted: dialback needs the running connector's secret\$"
te_check "peer jabber: closed cleanly" hasre "$D/peer.out" \
	"^close: ok \([0-9.]+ ms\): </stream:stream> sent, the peer (ended its stream|closed the connection)\$"
te_check "peer jabber: reachable" has "$D/peer.out" \
	"peer jabber: reachable, a stream would open (authentication not attempted)"
te_check "Prosody: our stream came in, unauthenticated, and ended cleanly" \
	hasre "$D/px/prosody.log" "Incoming s2s stream acme\\.test->xmpp\\.test closed: stream closed"
te_check "Prosody: no dialback asked of it" \
	hasnot "$D/px/prosody.log" "db:result"

# ---- check --peer: a certificate for another name ----------------------
"$CN" check -c "$D/acme.xml" --peer wrongname >"$D/peer.out" 2>"$D/peer.err"
rc=$?
cat "$D/peer.err" >>"$D/all.err"
te_check "peer wrongname: exit 1" [ "$rc" = 1 ] || sed 's/^/  | /' "$D/peer.out"
te_check "peer wrongname: the stream opens" hasre "$D/peer.out" \
	"^stream to=wrong.test from=acme.test: ok "
te_check "peer wrongname: tls refused, verdict name-mismatch" hasre "$D/peer.out" \
	"^tls handshake \(name wrong.test\): failed \([0-9.]+ ms\): the peer's certificate was refused; verdict name-mismatch, peer CN=other.test,O=stconnector tests\$"
te_check "peer wrongname: no features step after it" \
	hasnot "$D/peer.out" "^features:"
te_check "peer wrongname: not reachable" has "$D/peer.out" \
	"peer wrongname: NOT reachable: the first failed step is above"

# ---- check --peer: the SRV record points at a closed port ---------------
"$CN" check -c "$D/acme.xml" --peer closed >"$D/peer.out" 2>"$D/peer.err"
rc=$?
cat "$D/peer.err" >>"$D/all.err"
te_check "peer closed: exit 1" [ "$rc" = 1 ] || sed 's/^/  | /' "$D/peer.out"
te_check "peer closed: resolved to port 5999" hasre "$D/peer.out" \
	"^resolve closed.test: ok \([0-9.]+ ms\): srv _xmpp-server._tcp.closed.test, 1 hop, first tcp $XIP:5999;"
te_check "peer closed: connect refused" hasre "$D/peer.out" \
	"^tcp connect $XIP:5999 from $CNIP: failed \([0-9.]+ ms\): Connection refused\$"
te_check "peer closed: no stream step" hasnot "$D/peer.out" "^stream "
te_check "peer closed: not reachable" has "$D/peer.out" \
	"peer closed: NOT reachable: the first failed step is above"

# ---- check --dns: our XMPP record elsewhere, then missing ----------------
te_stop "$DNSPID"
te_check "dnsmasq: our _xmpp-server._tcp points elsewhere" \
	records elsewhere.acme.test:5269
DNSPID=$TE_DNS_PID
"$CN" check --dns -c "$D/acme.xml" >"$D/dns.out" 2>"$D/dns.err"
rc=$?
cat "$D/dns.err" >>"$D/all.err"
te_check "ours elsewhere: exit 1" [ "$rc" = 1 ]
te_check "ours elsewhere: where partners would connect" has "$D/dns.out" \
	"    xmpp partners connect to: $NET.99:5269 (target elsewhere.acme.test)"
te_check "ours elsewhere: our connector NOT reached" has "$D/dns.out" \
	"    connector acme-edge $CNIP:5269 (xmppPort): NOT reached"
te_check "ours elsewhere: the error names the record and the fix" has "$D/dns.err" \
	"stconnector check: error: our domain acme.test resolves for XMPP partners (srv _xmpp-server._tcp.acme.test) without CommunityConnector \"acme-edge\" ($CNIP:5269): they open their streams, and ask for our dialback keys, elsewhere; point _xmpp-server._tcp.acme.test at $CNIP port 5269"
te_check "ours elsewhere: no dns OK" hasnot "$D/dns.out" "^dns OK"

te_stop "$DNSPID"
sed -i '/_xmpp-server._tcp.acme.test/d' "$D/records"
te_check "dnsmasq: no _xmpp-server._tcp for acme.test" \
	te_dnsmasq $DNS 5353 "$D/records"
DNSPID=$TE_DNS_PID
"$CN" check --dns -c "$D/acme.xml" >"$D/dns.out" 2>"$D/dns.err"
rc=$?
cat "$D/dns.err" >>"$D/all.err"
te_check "ours missing: a warning only, exit 0" [ "$rc" = 0 ] || sed 's/^/  | /' "$D/dns.err"
te_check "ours missing: said not to resolve" hasre "$D/dns.out" \
	"^    does not resolve: "
te_check "ours missing: the warning" hasre "$D/dns.err" \
	"^stconnector check: warning: our domain acme.test has no _xmpp-server._tcp record nor address .*: XMPP partners cannot open streams to us"

te_check "no sanitizer report from check" \
	hasnot "$D/all.err" "Sanitizer|runtime error"
ps_stop "$D/pw"
ps_stop "$D/px"
te_done
