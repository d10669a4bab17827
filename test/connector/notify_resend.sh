#!/bin/sh
# notify_resend.sh -- a NOTIFY the connector refuses over a community's
# notifyRate is not lost: stgateway sends the newest state again after
# the 503's Retry-After.  A real stgateway (LDIF directory), dnsmasq and
# sipp:
#
#   127.0.121.70  stgateway for acme.test (clients udp 5060,
#                 ConnectorListen udp 5070)
#   127.0.121.71  acme's stconnector (udp 5060); chicago notifyRate 1
#   127.0.121.72  dnsmasq on 5353: sip.chicago.test -> 127.0.121.73
#   127.0.121.73  sipp as chicago's watcher of Alice.Smith@acme.test
#   127.0.121.74  sipp as asmith, publishing her presence
#
# Shown: chicago watches Alice (online: NOTIFY open, which uses the
# second's one NOTIFY); she turns busy at once; that NOTIFY is refused
# 503 with Retry-After: 1 by the connector, counted, and the gateway
# sends the current state again a second later: chicago sees her open.
# A watcher whose server answers 503 with a Retry-After past 32 bits is
# sent the state again after the longest wait (60 s), not after what
# the number wraps to.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-notify-resend

GWB=$top_builddir/gateway/stgateway
SC=$top_builddir/connector/stconnector
NX=$top_srcdir/test/connector/nresend
D=$TE_DIR
F=$D/acme.xml
GWIP=127.0.121.70 CNIP=127.0.121.71 DNS=127.0.121.72
CHI=127.0.121.73 UA=127.0.121.74
mkdir -p "$D/run"

cat >"$D/dns.conf" <<EOF
host-record=sip.chicago.test,$CHI
EOF
te_check "dnsmasq serves chicago.test" te_dnsmasq $DNS 5353 "$D/dns.conf"
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true"
                    ConvertID="true" control="run/gw.sock"
                    pidFile="run/gw.pid" retryInterval="2">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="udp" address="$GWIP" port="5070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="udp" port="5060"
                   notifyRate="1">
    <Domain>chicago.test</Domain><Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CNIP" port="5060"
                      tlsPort="5061" control="run/cn.sock"
                      pidFile="run/cn.pid" retryInterval="2">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <CommunityConnectivity><TrustedIP>$CNIP</TrustedIP></CommunityConnectivity>
  <Directory backend="file">
    <File>acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"
                privacy="description"/>
    <Privacy default="all"/>
  </Directory>
  <Dns timeout="2000"><Server>$DNS:5353</Server></Dns>
</CommunityConfig>
EOF

te_spawn "$D/cn.log" "$SC" -f -c "$F"
CNPID=$TE_LASTPID
te_check "stconnector starts" te_wait_for "$D/cn.log" "cn: started" 10
te_spawn "$D/gw.log" "$GWB" -f -c "$F"
GWPID=$TE_LASTPID
te_check "stgateway: connector link up" \
	te_wait_for "$D/gw.log" "gw: connector up name=acme-edge" 10

sipp -sf "$top_srcdir/test/gateway/pres/register.xml" -key user asmith \
	-key contact "$UA:5060" -au asmith -ap alicepw -auth_uri acme.test \
	-i $UA -p 5060 -m 1 -timeout 10 -timeout_error -nostdin \
	$GWIP:5060 >"$D/reg.out" 2>&1
te_check "asmith registers (online)" [ $? = 0 ]
te_spawn "$D/watch.out" sipp -sf "$NX/watch_uac.xml" -i $CHI -p 5081 \
	-key from Bob.Jones@chicago.test -key to Alice.Smith@acme.test \
	-m 1 -nostdin -timeout 30 -trace_logs -log_file "$D/watch.log" \
	$CNIP:5060
WPID=$TE_LASTPID
te_check "chicago watches Alice: NOTIFY open, no activity (online)" \
	te_wait_for "$D/watch.log" "^NOTIFY <basic>open -\$" 10
sipp -sf "$top_srcdir/test/gateway/sipp/publish.xml" -key from asmith \
	-key domain acme.test -key basic open -key activity busy \
	-au asmith -ap alicepw -auth_uri asmith@acme.test -i $UA -p 5090 \
	-nostdin -timeout 10 -timeout_error -m 1 -trace_logs \
	-log_file "$D/pub.log" $GWIP:5060 >"$D/pub.out" 2>&1
te_check "asmith publishes busy at once: 200" [ $? = 0 ]
te_check "the connector refused that NOTIFY over chicago's rate" \
	te_wait_for "$D/cn.log" "reject reason=rate-limit community=chicago .*method=NOTIFY" 5
te_check "the gateway sends it again after Retry-After: 1" \
	te_wait_for "$D/gw.log" "gw: notify deferred watcher=sip:Bob.Jones@chicago.test .*status=503 retry_in=1s" 5
te_check "chicago sees Alice busy (do not disturb)" \
	te_wait_for "$D/watch.log" "^NOTIFY <basic>open <rpid:busy" 5
"$SC" status -c "$F" rates >"$D/rates.out" 2>&1
te_check "status: the refusal counted for chicago, outbound" \
	grep -Eq "notify_out_limited: +[1-9]" "$D/rates.out"
te_stop $WPID

# A watcher's server busy for longer than 32 bits of seconds: the gateway
# waits its longest (60 s), not what the number wraps to.
sleep 1.2
te_spawn "$D/busy.out" sipp -sf "$NX/watch_busy.xml" -i $CHI -p 5082 \
	-key from Kim.Lee@chicago.test -key to Alice.Smith@acme.test \
	-m 1 -nostdin -timeout 30 -trace_logs -log_file "$D/busy.log" \
	$CNIP:5060
BPID=$TE_LASTPID
te_check "a second chicago watcher: its first NOTIFY" \
	te_wait_for "$D/busy.log" "^NOTIFY first" 10
sleep 1.2
sipp -sf "$top_srcdir/test/gateway/sipp/publish.xml" -key from asmith \
	-key domain acme.test -key basic open -key activity away \
	-au asmith -ap alicepw -auth_uri asmith@acme.test -i $UA -p 5091 \
	-nostdin -timeout 10 -timeout_error -m 1 -trace_logs \
	-log_file "$D/pub2.log" $GWIP:5060 >"$D/pub2.out" 2>&1
te_check "asmith publishes away: 200" [ $? = 0 ]
te_check "the watcher answered the NOTIFY 503, Retry-After: 4294967297" \
	te_wait_for "$D/busy.log" "^NOTIFY refused" 5
te_check "the gateway waits 60 s, its longest, before sending it again" \
	te_wait_for "$D/gw.log" "gw: notify deferred watcher=sip:Kim.Lee@chicago.test .*status=503 retry_in=60s" 5
te_stop $BPID
te_stop $GWPID
te_stop $CNPID
te_check "no sanitizer report" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log' '$D/gw.log'"
te_done
