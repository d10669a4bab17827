#!/bin/sh
# check_dns.sh -- `stconnector check --dns` against a real dnsmasq on
# 127.0.7.53: the trust addresses and hops it prints for a Proxy
# community, an SRV community (two _sips._tcp targets, one with IPv6,
# plus a _sip._udp target) and an A-only community over UDP; the UDP
# warning; exit 0.  Then a file with a community that does not resolve:
# exit 1 and a message naming it; only a warning and exit 0 when the
# file's connector does not enable that community.

. "$top_srcdir/test/lib/testenv.sh"

te_init check_dns
BIN=$top_builddir/connector/stconnector
DNS=127.0.7.53
PORT=15358

cat >"$TE_DIR/records" <<EOT
local-ttl=300
host-record=sip.prox.test,127.0.7.10,fd00:7::10
srv-host=_sips._tcp.srv.test,a1.srv.test,5061,10,0
srv-host=_sips._tcp.srv.test,a2.srv.test,5062,20,0
srv-host=_sip._udp.srv.test,u1.srv.test,5060,10,0
host-record=a1.srv.test,127.0.7.21
host-record=a2.srv.test,127.0.7.22,fd00:7::22
host-record=u1.srv.test,127.0.7.23
host-record=aonly.test,127.0.7.30
host-record=acme.test,127.0.7.9
EOT
te_check "dnsmasq started" te_dnsmasq $DNS $PORT "$TE_DIR/records"

cat >"$TE_DIR/good.xml" <<EOT
<?xml version="1.0"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <ExternCommunity name="prox" transport="tls" port="5061">
    <Domain>prox.test</Domain><Proxy>sip.prox.test</Proxy>
  </ExternCommunity>
  <ExternCommunity name="srvc"><Domain>srv.test</Domain></ExternCommunity>
  <ExternCommunity name="aonly" transport="udp" port="5070">
    <Domain>aonly.test</Domain>
  </ExternCommunity>
  <ExternCommunity name="wild"><Domain>*.wild.test</Domain></ExternCommunity>
  <Dns timeout="1000"><Server>$DNS:$PORT</Server></Dns>
</CommunityConfig>
EOT
sed 's#<Dns #<ExternCommunity name="nowhere"><Domain>nowhere.test</Domain></ExternCommunity>\n  <Dns #' \
	"$TE_DIR/good.xml" >"$TE_DIR/bad.xml"

"$BIN" check --dns -c "$TE_DIR/good.xml" >"$TE_DIR/good.out" \
	2>"$TE_DIR/good.err"
rc=$?
te_check "good file: exit 0" [ "$rc" = 0 ]

has() { grep -Fqx -- "$2" "$TE_DIR/$1"; }

te_check "proxy: trust v4 and v6" \
	has good.out "    trust accepts: 127.0.7.10 fd00:7::10"
te_check "proxy: hop 1 is its IPv4 at the community port over tls" \
	has good.out "    hop 1: tls 127.0.7.10:5061 tls-name sip.prox.test (target sip.prox.test, ttl 300 s)"
te_check "proxy: hop 2 is its IPv6" \
	has good.out "    hop 2: tls [fd00:7::10]:5061 tls-name sip.prox.test (target sip.prox.test, ttl 300 s)"
te_check "srv: resolved by _sips._tcp" \
	has good.out "    resolved by srv _sips._tcp.srv.test"
te_check "srv: every target of every SRV name trusted" \
	has good.out "    trust accepts: 127.0.7.21 127.0.7.22 fd00:7::22 127.0.7.23"
te_check "srv: priority 10 first, TLS name the domain" \
	has good.out "    hop 1: tls 127.0.7.21:5061 tls-name srv.test (target a1.srv.test, ttl 300 s)"
te_check "srv: then priority 20, v4 and v6" \
	sh -c "grep -Fqx '    hop 2: tls 127.0.7.22:5062 tls-name srv.test (target a2.srv.test, ttl 300 s)' '$TE_DIR/good.out' &&
	       grep -Fqx '    hop 3: tls [fd00:7::22]:5062 tls-name srv.test (target a2.srv.test, ttl 300 s)' '$TE_DIR/good.out'"
te_check "a-only: udp hop at the configured port" \
	has good.out "    hop 1: udp 127.0.7.30:5070 (target aonly.test, ttl 300 s)"
te_check "a-only: UDP warning" \
	has good.out "    warning: extern community aonly is reached over udp: UDP is open to source-address spoofing; prefer tls"
te_check "no UDP warning for the tls communities" \
	[ "$(grep -c 'UDP is open' "$TE_DIR/good.out")" = 1 ]
te_check "wildcard community: resolved per request" \
	grep -Fq "dns: extern community wild: only wildcard domains and no proxy" "$TE_DIR/good.out"
te_check "good file: dns OK" has good.out "dns OK"
te_check "good file: nothing on stderr" [ ! -s "$TE_DIR/good.err" ]

"$BIN" check --dns -c "$TE_DIR/bad.xml" >"$TE_DIR/bad.out" \
	2>"$TE_DIR/bad.err"
rc=$?
te_check "unresolvable: exit 1" [ "$rc" = 1 ]
te_check "unresolvable: named, with the reason" \
	has bad.err "stconnector check: error: extern community nowhere (nowhere.test) does not resolve: no such name (NXDOMAIN)"
te_check "unresolvable: counted" \
	has bad.err "stconnector check: 1 external community did not resolve"
te_check "unresolvable: the others still shown" \
	has bad.out "    trust accepts: 127.0.7.10 fd00:7::10"
te_check "unresolvable: no dns OK" [ "$(grep -c 'dns OK' "$TE_DIR/bad.out")" = 0 ]

# A community the connector does not enable is still resolved, but its
# failure is a warning: nobody is routed to it.  (Our own domain
# acme.test resolves to the connector, so that our side is in order.)
conn() # ENABLED: bad.xml plus a connector enabling prox, nowhere ENABLED
{
	sed "s#<Dns #<CommunityGateway name=\"gw\"><ClientListen transport=\"udp\" address=\"127.0.7.11\" port=\"5060\"/><ConnectorListen transport=\"tcp\" address=\"127.0.7.11\" port=\"5070\"/></CommunityGateway>\n  <CommunityConnector name=\"edge\" ip=\"127.0.7.9\"><Gateway>gw</Gateway><SupportedCommunity name=\"prox\" enabled=\"true\"/><SupportedCommunity name=\"nowhere\" enabled=\"$1\"/></CommunityConnector>\n  <Dns #" \
		"$TE_DIR/bad.xml" >"$TE_DIR/conn-$1.xml"
	"$BIN" check --dns -c "$TE_DIR/conn-$1.xml" >"$TE_DIR/conn-$1.out" \
		2>"$TE_DIR/conn-$1.err"
	rc=$?
}
conn false
te_check "disabled and unresolvable: exit 0" [ "$rc" = 0 ]
te_check "disabled and unresolvable: a warning naming it" \
	has conn-false.err "stconnector check: warning: extern community nowhere (nowhere.test) does not resolve: no such name (NXDOMAIN) (not enabled here)"
te_check "disabled and unresolvable: shown as warning only" \
	has conn-false.out "    does not resolve: no such name (NXDOMAIN) (not enabled here: warning only)"
te_check "disabled and unresolvable: dns OK" has conn-false.out "dns OK"
te_check "disabled and unresolvable: no error line" \
	[ "$(grep -c 'error' "$TE_DIR/conn-false.err")" = 0 ]
conn true
te_check "enabled and unresolvable: exit 1" [ "$rc" = 1 ]
te_check "enabled and unresolvable: an error naming it" \
	has conn-true.err "stconnector check: error: extern community nowhere (nowhere.test) does not resolve: no such name (NXDOMAIN)"

# static NAT: partners see advertiseIp, so our records are compared
# with it, not with the bound ip (127.0.109.9, never bound by check)
nat() # NAME IP ADVERTISE-IP: good.xml plus a connector
{
	sed "s#<Dns #<CommunityGateway name=\"gw\"><ClientListen transport=\"udp\" address=\"127.0.7.11\" port=\"5060\"/><ConnectorListen transport=\"tcp\" address=\"127.0.7.11\" port=\"5070\"/></CommunityGateway>\n  <CommunityConnector name=\"edge\" ip=\"$2\" advertiseIp=\"$3\" advertise=\"sip.acme.test\"><Gateway>gw</Gateway><SupportedCommunity name=\"prox\" enabled=\"true\"/></CommunityConnector>\n  <Dns #" \
		"$TE_DIR/good.xml" >"$TE_DIR/$1.xml"
	"$BIN" check --dns -c "$TE_DIR/$1.xml" >"$TE_DIR/$1.out" \
		2>"$TE_DIR/$1.err"
	rc=$?
}
nat nat-ok 127.0.109.9 127.0.7.9
te_check "static NAT, published public address: exit 0" [ "$rc" = 0 ]
te_check "static NAT, published public address: accepted" \
	has nat-ok.out "    connector edge 127.0.7.9: accepted"
nat nat-bad 127.0.7.9 127.0.109.9
te_check "static NAT, public address not published: exit 1" [ "$rc" = 1 ]
te_check "static NAT, public address not published: NOT accepted" \
	has nat-bad.out "    connector edge 127.0.109.9: NOT accepted"
te_check "static NAT, public address not published: the error names it" \
	grep -q "CommunityConnector \"edge\" (127.0.109.9).*publish 127.0.109.9" \
	"$TE_DIR/nat-bad.err"

te_stop "$TE_DNS_PID"
te_done
