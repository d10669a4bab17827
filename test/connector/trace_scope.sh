#!/bin/sh
# trace_scope.sh -- a Trace record scoped to one community, then to one
# user: the trace holds only that partner's (that user's) messages
# while another partner's traffic flows through the same connector.
#
#   127.0.110.60  stconnector (udp 5060), Trace on
#   127.0.110.61  sipp as acme's gateway (ConnectorListen udp 5070)
#   127.0.110.62  sipp as chicago's connector (Proxy 127.0.110.62)
#   127.0.110.63  sipp as paris's connector (Proxy 127.0.110.63)
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-trace-scope

SC=$top_builddir/connector/stconnector
FED=$top_srcdir/test/connector/fed
D=$TE_DIR
F=$D/community.xml
T=$D/run/sip.trace
CN=127.0.110.60 GW=127.0.110.61 CHI=127.0.110.62 PAR=127.0.110.63
mkdir -p "$D/run"
PATH=$PATH:/usr/sbin

conf()  # SCOPE-ATTRIBUTE
{
	cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw">
    <ClientListen transport="udp" address="$GW" port="5080"/>
    <ConnectorListen transport="udp" address="$GW" port="5070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="udp">
    <Domain>chicago.test</Domain><Proxy>$CHI</Proxy>
  </ExternCommunity>
  <ExternCommunity name="paris" transport="udp">
    <Domain>paris.test</Domain><Domain>*.paris.test</Domain><Proxy>$PAR</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="5060"
                      tlsPort="5061" control="run/cn.sock"
                      pidFile="run/cn.pid">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
    <SupportedCommunity name="paris" enabled="true"/>
  </CommunityConnector>
  <Trace enable="true" file="run/sip.trace" level="1" $1/>
</CommunityConfig>
EOF
}

PORT=5100
msg()  # PEER-IP FROM TEXT: one inbound MESSAGE to alice@acme.test
{
	PORT=$((PORT + 1))
	sipp -sf "$FED/uac_message.xml" -key from "$2" -key to alice@acme.test \
		-key text "$3" -i "$1" -p $PORT -m 1 -timeout 5s -timeout_error \
		-nostdin -trace_logs -log_file "$D/$3.log" $CN:5060 \
		>"$D/$3.out" 2>&1
	grep -q "^FINAL code=200" "$D/$3.log"
}

conf 'community="chicago"'
te_check "check accepts a Trace scoped to a community" "$SC" check -c "$F"
te_spawn "$D/gw.out" sipp -sf "$FED/gw_uas.xml" -i $GW -p 5070 -aa -nostdin \
	-trace_logs -log_file "$D/gw.log"
te_check "gateway (sipp) listens" te_wait_udp $GW 5070 5
te_spawn "$D/daemon.log" "$SC" -f -c "$F"
PID=$TE_LASTPID
te_check "connector listening" te_wait_udp $CN 5060 10

te_check "chicago -> alice: 200" msg $CHI bob@chicago.test chi1
te_check "paris -> alice: 200" msg $PAR carol@paris.test par1
te_check "chicago -> alice again: 200" msg $CHI bob@chicago.test chi2
te_check "paris (a subdomain) -> alice: 200" msg $PAR dave@lab.paris.test par2
sleep 1
te_check "trace: chicago's MESSAGEs in and out" \
	[ "$(grep -c '^From: <sip:bob@chicago.test>' "$T")" -ge 4 ]
te_check "trace: their answers too" \
	[ "$(grep -c '^SIP/2.0 200 ' "$T")" -ge 4 ]
te_check "trace: nothing of paris" sh -c "! grep -q 'paris.test' '$T'"
te_check "trace: no keepalive OPTIONS to the gateway" \
	sh -c "! grep -q '^OPTIONS ' '$T'"
te_check "paris's traffic did flow (the gateway got it)" \
	grep -q "carol@paris.test" "$D/gw.log"

# scope to one user
mv "$T" "$T.1"
conf 'user="sip:carol@paris.test"'
"$SC" reload -c "$F" >"$D/reload.out" 2>&1
te_check "reload ok" grep -q '^reload ok' "$D/reload.out"
te_check "chicago -> alice: 200" msg $CHI bob@chicago.test chi3
te_check "carol@paris.test -> alice: 200" msg $PAR carol@paris.test par3
te_check "dave@paris.test -> alice: 200" msg $PAR dave@paris.test par4
sleep 1
te_check "user trace: carol's MESSAGE in and out, and the answers" \
	[ "$(grep -c '^From: <sip:carol@paris.test>' "$T")" -ge 4 ]
te_check "user trace: nothing of dave" sh -c "! grep -q 'dave@' '$T'"
te_check "user trace: nothing of chicago" sh -c "! grep -q 'chicago.test' '$T'"

conf 'community="chicago" user="carol@paris.test"'
"$SC" check -c "$F" >"$D/check2.out" 2>&1
te_check "check refuses community and user together" test $? -ne 0
te_check "and says why" grep -q "community and user exclude each other" "$D/check2.out"
conf 'community="nowhere"'
"$SC" check -c "$F" >"$D/check3.out" 2>&1
te_check "check refuses an unknown community" grep -q 'Trace: community "nowhere" is not an ExternCommunity' "$D/check3.out"

te_stop $PID
te_check "daemon stopped cleanly" \
	sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$D/daemon.log'"
te_done
