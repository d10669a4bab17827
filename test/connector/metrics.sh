#!/bin/sh
# metrics.sh -- both daemons' metrics endpoint: promtool validates the
# exposition, the series carry their labels (community, gateway,
# transport, reason), and a real Prometheus server scrapes both daemons
# and answers queries about them.
. "$top_srcdir/test/lib/testenv.sh"
te_init metrics

SC=$top_builddir/connector/stconnector
GW=$top_builddir/gateway/stgateway
D=$TE_DIR
F=$D/community.xml
CN=127.0.115.60
GWIP=127.0.115.61
PROM=127.0.115.62
CNM=$CN:19464
GWM=$GWIP:19465

hasre() # FILE ERE
{
	grep -qE -- "$2" "$1" || { echo "  no match in $1: $2"; \
		sed 's/^/  | /' "$1" | head -40; return 1; }
}

cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/users.ldif"
mkdir -p "$D/run"
cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" control="run/gw.sock" pidFile="run/gw.pid"
                    metrics="$GWM">
    <ClientListen transport="udp" address="$GWIP" port="15060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="15070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tcp" port="15061">
    <Domain>chicago.test</Domain><Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="15060"
                      control="run/cn.sock" pidFile="run/cn.pid"
                      metrics="$CNM">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <CommunityConnectivity><TrustedIP>$CN</TrustedIP></CommunityConnectivity>
  <Directory backend="file"><File>users.ldif</File></Directory>
  <Dns timeout="500"><Server>127.0.115.63:15353</Server></Dns>
</CommunityConfig>
EOF

te_spawn "$D/gw.log" "$GW" -f -c "$F"
te_spawn "$D/cn.log" "$SC" -f -c "$F"
te_wait_tcp $CN 19464 10 || te_fail "stconnector serves metrics on $CNM"
te_wait_tcp $GWIP 19465 10 || te_fail "stgateway serves metrics on $GWM"
te_check "the log names the endpoint" \
	grep -q "metrics: listening address=$CNM path=/metrics" "$D/cn.log"

# a refused request, so that a reason counter moves: an unknown
# community's MESSAGE from nowhere we trust
printf 'OPTIONS sip:x@nowhere.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.115.64:15099;branch=z9hG4bK1\r\nFrom: <sip:a@nowhere.test>;tag=1\r\nTo: <sip:x@acme.test>\r\nCall-ID: m1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' |
	timeout 2 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.115.64", 15099))
s.sendto(sys.stdin.buffer.read(), (sys.argv[1], 15060))
s.settimeout(1.5)
try: s.recv(4096)
except Exception: pass' $CN

for d in stconnector:$CNM stgateway:$GWM; do
	n=${d%%:*}
	curl -s -D "$D/$n.hdr" -o "$D/$n.prom" "http://${d#*:}/metrics"
	te_check "$n: GET /metrics answers 200" \
		grep -q "^HTTP/1.1 200" "$D/$n.hdr"
	te_check "$n: text format 0.0.4" \
		grep -qi "^Content-Type: text/plain; version=0.0.4" "$D/$n.hdr"
	promtool check metrics <"$D/$n.prom" >"$D/$n.promtool" 2>&1
	te_check "$n: promtool check metrics accepts the exposition" [ $? = 0 ] ||
		sed 's/^/  | /' "$D/$n.promtool"
done
curl -s -o /dev/null -w '%{http_code}' "http://$CNM/nothing" >"$D/code"
te_check "another path: 404" [ "$(cat "$D/code")" = 404 ]

P=$D/stconnector.prom
te_check "connector: uptime in seconds" hasre "$P" '^stconnector_uptime_seconds [0-9]+\.[0-9]{3}$'
te_check "connector: refusals by reason" hasre "$P" \
	'^stconnector_totals_rejections\{reason="untrusted-ip"\} [0-9]+$'
te_check "connector: the refusal above is counted (unknown-community)" hasre "$P" \
	'^stconnector_totals_rejections\{reason="unknown-community"\} [1-9]'
te_check "connector: per community, labelled" hasre "$P" \
	'^stconnector_communities_enabled\{community="chicago",transport="tcp"\} 1$'
te_check "connector: per community refusals, by reason" hasre "$P" \
	'^stconnector_communities_rejections\{community="chicago",transport="tcp",reason="not-enabled"\} 0$'
te_check "connector: per gateway, labelled" hasre "$P" \
	'^stconnector_gateways_messages_in\{gateway="acme-gw"'
te_check "connector: per listener, by transport" hasre "$P" \
	'^stconnector_listeners_port\{transport="udp",address="127.0.115.60"\} 15060$'
te_check "connector: one TYPE line per metric" sh -c \
	"[ \$(grep -c '^# TYPE stconnector_totals_rejections ' '$P') = 1 ]"
G=$D/stgateway.prom
te_check "gateway: registrations" hasre "$G" '^stgateway_registrations_users 0$'
te_check "gateway: microseconds as seconds" hasre "$G" \
	'^stgateway_directory_avg_seconds [0-9]+\.[0-9]{6}$'
te_check "connector: days as seconds" hasre "$P" \
	'^stconnector_communities_tls_seconds_to_expiry\{community="chicago",transport="tcp"\} 0$'
te_check "gateway: directory counters" hasre "$G" '^stgateway_directory_lookups [0-9]+$'
te_check "gateway: listeners by transport" hasre "$G" \
	'^stgateway_listeners_msgs_in\{transport="udp",address="127.0.115.61:15060"\} [0-9]+$'

# ---- the status summaries say where the metrics are ----
"$SC" status -c "$F" >"$D/cn.sum" 2>&1
te_check "connector summary: the metrics URL" \
	hasre "$D/cn.sum" "^metrics: +http://$CNM/metrics\$"
te_check "connector summary: the refusal by its reason" \
	hasre "$D/cn.sum" '^refused: +1: unknown-community 1$'
"$GW" status -c "$F" >"$D/gw.sum" 2>&1
te_check "gateway summary: the metrics URL" \
	hasre "$D/gw.sum" "^metrics: +http://$GWM/metrics\$"

# ---- a real Prometheus scrapes both ----
cat >"$D/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: stconnector
    static_configs: [{targets: ["$CNM"]}]
  - job_name: stgateway
    static_configs: [{targets: ["$GWM"]}]
EOF
promtool check config "$D/prometheus.yml" >"$D/promcfg.out" 2>&1
te_check "promtool accepts the scrape configuration" [ $? = 0 ]
te_spawn "$D/prometheus.log" prometheus --config.file="$D/prometheus.yml" \
	--storage.tsdb.path="$D/tsdb" --web.listen-address=$PROM:19090
te_wait_tcp $PROM 19090 30 || te_fail "prometheus listens on $PROM:19090"

# query EXPR: the API's answer in $D/q.json
query()
{
	curl -s -G --data-urlencode "query=$1" \
		"http://$PROM:19090/api/v1/query" >"$D/q.json"
}
_n=150
until query 'up == 1' && python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["data"]["result"]
sys.exit(0 if len(r) == 2 else 1)' "$D/q.json" 2>/dev/null; do
	_n=$((_n - 1))
	[ $_n -le 0 ] && break
	sleep 0.2
done
te_check "prometheus: both daemons scraped and up" [ $_n -gt 0 ] ||
	sed 's/^/  | /' "$D/q.json"
query 'stconnector_totals_rejections{reason="unknown-community"}'
te_check "prometheus: the connector's refusal, by reason" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["data"]["result"]
sys.exit(0 if r and r[0]["metric"]["job"] == "stconnector" and float(r[0]["value"][1]) >= 1 else 1)' "$D/q.json"
query 'stgateway_registrations_users'
te_check "prometheus: the gateway's registrations" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["data"]["result"]
sys.exit(0 if r and r[0]["metric"]["job"] == "stgateway" else 1)' "$D/q.json"

te_done
