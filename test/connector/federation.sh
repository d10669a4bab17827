#!/bin/sh
# federation.sh -- two stconnectors federating acme.test and chicago.test
# end to end, with real components on loopback:
#
#   127.0.0.53:5353  dnsmasq: sip.acme.test, sip.chicago.test (A from an
#                    addn-hosts file, TTL 5 s), _sips._tcp / _sip._tcp SRV
#   127.0.0.10       acme's connector (udp/tcp 5060, tls 5061)
#   127.0.0.20       chicago's connector (udp/tcp 5060, tls 5061)
#   127.0.0.11:5070  acme's gateway (sipp: answers MESSAGE, SUBSCRIBE with
#                    a NOTIFY along the Record-Route set, OPTIONS); its
#                    requests come from other ports of 127.0.0.11
#   127.0.0.21:5070  chicago's gateway, the same
#   127.0.0.99       a host that claims to speak for chicago.test
#
# Community files are derived from conf/examples (gateways reached over
# udp since sipp has no TLS; a disabled community "boston" on acme's
# side; "*.chicago.test" local to chicago), certificates from certtool,
# TLS verification required.  Phase 1 links the connectors over TLS,
# phase 2 over TCP.  Shown: relaying both ways with the 200 back,
# SUBSCRIBE/NOTIFY along the Record-Route path, the refusals
# (untrusted-ip, not-enabled, unknown-community, not-local) and their
# counters, a wildcard domain, the DNS TTL, a next hop that is down and
# recovers, a reload that disables a community, and status field by
# field (text and JSON).
. "$top_srcdir/test/lib/testenv.sh"
te_init federation

SC=$top_builddir/connector/stconnector
FED=$top_srcdir/test/connector/fed
EX=$top_srcdir/conf/examples
D=$TE_DIR
DNS=127.0.0.53
DNSPORT=5353
A_CN=127.0.0.10
C_CN=127.0.0.20
A_GW=127.0.0.11
C_GW=127.0.0.21
SPOOF=127.0.0.99
TTL=5

# ------------------------------------------------------------------
# helpers

# has FILE ERE: a line of FILE matches (else show the file)
has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -40; return 1; }
}

hasnt()
{
	! grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  unexpected in $1: $2"; \
		grep -E -- "$2" "$1" | sed 's/^/  | /'; return 1; }
}

# json FILE PYTHON-EXPR: EXPR is true of the JSON document s in FILE;
# c(NAME) is a community, g(NAME) a gateway
json()
{
	python3 -c '
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except Exception as e:
    print("  not JSON: %s" % e); sys.exit(1)
def c(n):
    return [x for x in s["communities"] if x["name"] == n][0]
def g(n):
    return [x for x in s["gateways"] if x["name"] == n][0]
try:
    ok = eval(sys.argv[2])
except Exception as e:
    print("  %s: %r" % (type(e).__name__, e)); ok = False
sys.exit(0 if ok else 1)' "$1" "$2" || { echo "  false: $2"; return 1; }
}

# block FILE NAME: the "- name: NAME" item of a status text, up to the
# next item or section
block()
{
	awk -v n="$2" '
		$0 ~ "^- name: +" n "$" { on = 1; print; next }
		on && ($0 ~ /^- / || $0 ~ /^# /) { on = 0 }
		on { print }' "$1"
}

# blockhas FILE NAME ERE
blockhas()
{
	block "$1" "$2" | grep -Eq -- "$3" || { echo "  no match in $2 of $1: $3"; \
		block "$1" "$2" | sed 's/^/  | /'; return 1; }
}

# status SIDE [--json]: $D/SIDE.txt or $D/SIDE.json, exit code in $src
status()
{
	if [ "$2" = --json ]; then
		"$SC" status --json -c "$D/$1/$1.xml" >"$D/$1.json" 2>"$D/$1.err"
	else
		"$SC" status --all -c "$D/$1/$1.xml" >"$D/$1.txt" 2>"$D/$1.err"
	fi
	src=$?
}

# how many A queries for sip.chicago.test dnsmasq answered so far
nq()
{
	grep -c 'query\[A\] sip\.chicago\.test ' "$D/dnsmasq.log"
}

UACPORT=5100

# msg NAME SRCIP FROM TO DEST: send one MESSAGE (body "NAME-$$") from
# SRCIP to DEST (ip:port, udp); $code/$phrase: the final response
msg()
{
	UACPORT=$((UACPORT + 1))
	sipp -sf "$FED/uac_message.xml" -key from "$3" -key to "$4" \
		-key text "$1-$$" -i "$2" -p $UACPORT -m 1 -timeout 4s \
		-timeout_error -nostdin -trace_logs -log_file "$D/$1.log" \
		-trace_msg -message_file "$D/$1.msg" "$5" >"$D/$1.out" 2>&1
	code=$(sed -n 's/^FINAL code=\([0-9]*\) .*/\1/p' "$D/$1.log" 2>/dev/null)
	phrase=$(sed -n 's/^FINAL code=[0-9]* phrase=\(.*\) (.*/\1/p' \
		"$D/$1.log" 2>/dev/null)
	echo "  $1: $3 -> $4 via $5: ${code:-no answer} $phrase"
}

# sub NAME SRCIP FROM TO DEST: SUBSCRIBE and wait for the NOTIFY; $subrc
sub()
{
	UACPORT=$((UACPORT + 1))
	sipp -sf "$FED/uac_subscribe.xml" -key from "$3" -key to "$4" \
		-i "$2" -p $UACPORT -m 1 -timeout 5s -timeout_error -nostdin \
		-trace_logs -log_file "$D/$1.log" -trace_msg \
		-message_file "$D/$1.msg" "$5" >"$D/$1.out" 2>&1
	subrc=$?
	echo "  $1: SUBSCRIBE $3 -> $4 via $5: sipp exit $subrc"
}

# the NOTIFY request a UAC received, from its message trace
notify_of()
{
	tr -d '\r' <"$D/$1.msg" | awk '
		/message (received|sent)/ { want = 1; on = 0; next }
		/^-----/ { on = 0; next }
		want && NF { want = 0; on = ($0 ~ /^NOTIFY /) }
		on { print }'
}

# conf SIDE TRANSPORT PORT ENABLED: the community file of SIDE (acme or
# chicago) from conf/examples, the link to the other side over
# TRANSPORT:PORT, the other community enabled or not
conf()
{
	_f=$D/$1/$1.xml
	sed -e 's#<ConnectorListen transport="tls"#<ConnectorListen transport="udp"#' \
	    -e "s#<ExternCommunity name=\"\\([a-z]*\\)\" transport=\"tls\" port=\"5061\">#<ExternCommunity name=\"\\1\" transport=\"$2\" port=\"$3\">#" \
	    -e "s#<SupportedCommunity name=\"\\([a-z]*\\)\" enabled=\"true\"/>#<SupportedCommunity name=\"\\1\" enabled=\"$4\"/>#" \
	    "$EX/$1.test.xml" >"$_f.tmp"
	if [ "$1" = acme ]; then
		# a second external community, configured but not enabled
		# here; the test's own senders (sipp) speak plain UDP to
		# acme, so acme accepts chicago on udp too
		sed -e 's#^  <CommunityConnector #  <ExternCommunity name="boston" transport="tls" port="5061">\n    <Domain>boston.test</Domain>\n  </ExternCommunity>\n\n&#' \
		    -e 's#^\(    <SupportedCommunity name="chicago".*\)$#\1\n    <SupportedCommunity name="boston" enabled="false"/>#' \
		    -e 's#^\(  <ExternCommunity name="chicago" [^>]*\)>#\1 acceptTransports="udp">#' \
		    "$_f.tmp" >"$_f"
	else
		# every name below chicago.test is local to chicago
		sed -e 's#^    <Domain>chicago.test</Domain>$#&\n    <Domain>*.chicago.test</Domain>#' \
		    "$_f.tmp" >"$_f"
	fi
	rm -f "$_f.tmp"
}

# start SIDE: run its connector in the foreground, wait until it listens;
# a connector that exits during start-up fails at once, log printed
start()
{
	_ip=$A_CN
	[ "$1" = chicago ] && _ip=$C_CN
	te_spawn "$D/$1/daemon.log" "$SC" -f -c "$D/$1/$1.xml"
	eval "PID_$1=\$TE_LASTPID"
	# at most 10 s, and no longer than the daemon lives; say why not
	_p=$TE_LASTPID _n=100
	until grep -q "cn: started" "$D/$1/daemon.log" 2>/dev/null; do
		if ! te_alive "$_p" || [ $_n -le 0 ]; then
			echo "  $1's connector did not start:"
			sed 's/^/  | /' "$D/$1/daemon.log"
			return 1
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	te_wait_tcp "$_ip" 5060 5 && te_wait_tcp "$_ip" 5061 5 &&
		te_wait_udp "$_ip" 5060 5
}

stop()
{
	eval "te_stop \$PID_$1"
}

# ------------------------------------------------------------------
# DNS, certificates, community files

cat >"$D/hosts" <<EOT
$A_CN sip.acme.test
$C_CN sip.chicago.test
EOT
cat >"$D/records" <<EOT
local-ttl=$TTL
addn-hosts=$D/hosts
srv-host=_sips._tcp.acme.test,sip.acme.test,5061,0,0
srv-host=_sip._tcp.acme.test,sip.acme.test,5060,0,0
srv-host=_sips._tcp.chicago.test,sip.chicago.test,5061,0,0
srv-host=_sip._tcp.chicago.test,sip.chicago.test,5060,0,0
EOT
te_check "dnsmasq serves the test records on $DNS:$DNSPORT" \
	te_dnsmasq $DNS $DNSPORT "$D/records"
te_check "dns: sip.chicago.test is $C_CN, TTL $TTL" sh -c \
	"dig +noall +answer @$DNS -p $DNSPORT sip.chicago.test A | grep -Eq '^sip\\.chicago\\.test\\.[[:space:]]+$TTL[[:space:]]+IN[[:space:]]+A[[:space:]]+$C_CN\$'"
te_check "dns: _sips._tcp.chicago.test SRV" sh -c \
	"dig +short @$DNS -p $DNSPORT _sips._tcp.chicago.test SRV | grep -q '5061 sip.chicago.test'"

te_check "certificates for sip.acme.test and sip.chicago.test" \
	te_certs "$D/certs" sip.acme.test:$A_CN sip.chicago.test:$C_CN
for s in acme chicago; do
	mkdir -p "$D/$s/run"
	ln -s ../certs "$D/$s/certs"
	cp "$EX/$s.test.ldif" "$D/$s/"
done
conf acme tls 5061 true
conf chicago tls 5061 true
te_check "acme's file is valid" "$SC" check -c "$D/acme/acme.xml"
te_check "chicago's file is valid" "$SC" check -c "$D/chicago/chicago.xml"
"$SC" check --dns -c "$D/acme/acme.xml" >"$D/check-dns.out" 2>&1
te_check "check --dns: acme trusts $C_CN for chicago" \
	has "$D/check-dns.out" "trust accepts: $C_CN\$"
te_check "check --dns: acme's hop to chicago is tls $C_CN:5061" \
	has "$D/check-dns.out" "hop 1: tls $C_CN:5061 tls-name sip.chicago.test"

# ------------------------------------------------------------------
# the two gateways (sipp), up for the whole test

for gw in acme-gw:$A_GW chicago-gw:$C_GW; do
	n=${gw%%:*}
	te_spawn "$D/$n.out" sipp -sf "$FED/gw_uas.xml" -i "${gw#*:}" -p 5070 \
		-aa -nostdin -trace_logs -log_file "$D/$n.log" \
		-trace_msg -message_file "$D/$n.msg"
	te_check "$n (sipp) listens on ${gw#*:}:5070" \
		te_wait_udp "${gw#*:}" 5070 5
done

# ==================================================================
# Phase 1: the connectors linked over TLS

te_check "tls: acme's connector starts and listens (udp/tcp 5060, tls 5061)" \
	start acme
te_check "tls: chicago's connector starts and listens" start chicago

# ---- MESSAGE both ways
msg tls-a2c $A_GW alice@acme.test bob@chicago.test $A_CN:5060
te_check "tls: MESSAGE acme->chicago: sender gets 200" [ "$code" = 200 ]
te_check "tls: MESSAGE acme->chicago: chicago's gateway got it, From and To unchanged" \
	has "$D/chicago-gw.log" "^MESSAGE from=sip:alice@acme.test to=sip:bob@chicago.test .*body=tls-a2c-$$\$"
te_check "tls: MESSAGE acme->chicago: delivered by chicago's connector (top Via $C_CN)" \
	has "$D/chicago-gw.log" "^MESSAGE .*via=[^]]*$C_CN.*body=tls-a2c-$$\$"

msg tls-c2a $C_GW bob@chicago.test alice@acme.test $C_CN:5060
te_check "tls: MESSAGE chicago->acme: sender gets 200" [ "$code" = 200 ]
te_check "tls: MESSAGE chicago->acme: acme's gateway got it" \
	has "$D/acme-gw.log" "^MESSAGE from=sip:bob@chicago.test to=sip:alice@acme.test .*via=[^]]*$A_CN.*body=tls-c2a-$$\$"

# ---- SUBSCRIBE both ways, the NOTIFY back along the Record-Route path
sub tls-sub-a2c $A_GW alice@acme.test bob@chicago.test $A_CN:5060
te_check "tls: SUBSCRIBE acme->chicago: 2xx and NOTIFY received" \
	[ "$subrc" = 0 ]
te_check "tls: SUBSCRIBE acme->chicago: reached chicago's gateway record-routed" \
	has "$D/chicago-gw.log" "^SUBSCRIBE from=sip:alice@acme.test to=sip:bob@chicago.test .*rr=.*$C_CN"
te_check "tls: SUBSCRIBE acme->chicago: NOTIFY active/open came back" \
	has "$D/tls-sub-a2c.log" "^NOTIFY state=active basic=open"
notify_of tls-sub-a2c >"$D/tls-sub-a2c.notify"
te_check "tls: NOTIFY to acme passed chicago's then acme's connector (Via)" \
	sh -c "grep -i '^Via:' '$D/tls-sub-a2c.notify' | head -1 | grep -q '$A_CN' &&
	       grep -i '^Via:' '$D/tls-sub-a2c.notify' | grep -q '$C_CN'"
te_check "tls: chicago's gateway got the 200 to its NOTIFY" \
	has "$D/chicago-gw.log" "^NOTIFY answered"
te_check "tls: chicago's gateway routed its NOTIFY by the Record-Route set (chicago's, then acme's connector)" \
	has "$D/chicago-gw.msg" "^Route: <sip:$C_CN[:;][^>]*>, *<sip:$C_CN[:;][^>]*>, *<sip:$A_CN[:;]"
# double record-routing: each connector recorded its gateway side
# (udp 5060) and its federation side (tls 5061); chicago's gateway
# takes its own side first.  Topology hiding: acme's gateway side never
# left acme, so chicago's route set ends at acme's federation side
te_check "tls: the NOTIFY's Route set names each connector's own sides only" \
	has "$D/chicago-gw.msg" "^Route: <sip:$C_CN:5060;transport=udp;lr>, *<sip:$C_CN:5061;transport=tls;lr>, *<sip:$A_CN:5061;transport=tls;lr>[[:space:]]*\$"

sub tls-sub-c2a $C_GW bob@chicago.test alice@acme.test $C_CN:5060
te_check "tls: SUBSCRIBE chicago->acme: 2xx and NOTIFY received" \
	[ "$subrc" = 0 ]
te_check "tls: SUBSCRIBE chicago->acme: reached acme's gateway record-routed" \
	has "$D/acme-gw.log" "^SUBSCRIBE from=sip:bob@chicago.test to=sip:alice@acme.test .*rr=.*$A_CN"
notify_of tls-sub-c2a >"$D/tls-sub-c2a.notify"
te_check "tls: NOTIFY to chicago passed acme's then chicago's connector (Via)" \
	sh -c "grep -i '^Via:' '$D/tls-sub-c2a.notify' | head -1 | grep -q '$C_CN' &&
	       grep -i '^Via:' '$D/tls-sub-c2a.notify' | grep -q '$A_CN'"

# ---- a wildcard domain
msg tls-wild $A_GW alice@acme.test dave@eu.chicago.test $A_CN:5060
te_check "wildcard: dave@eu.chicago.test routed by *.chicago.test: 200" \
	[ "$code" = 200 ]
te_check "wildcard: chicago's gateway got it" \
	has "$D/chicago-gw.log" "^MESSAGE .*to=sip:dave@eu.chicago.test .*body=tls-wild-$$\$"

# ---- refusals
msg spoof1 $SPOOF mallory@chicago.test alice@acme.test $A_CN:5060
te_check "spoof: From @chicago.test from $SPOOF refused 403" [ "$code" = 403 ]
te_check "spoof: not delivered to acme's gateway" \
	hasnt "$D/acme-gw.log" "body=spoof1-$$"

msg boston $A_GW alice@acme.test carol@boston.test $A_CN:5060
te_check "not-enabled: carol@boston.test refused 403 ($phrase)" \
	[ "$code" = 403 ]
te_check "not-enabled: the reason phrase says so" \
	sh -c "echo '$phrase' | grep -qi 'not enabled'"

msg nowhere $A_GW alice@acme.test zed@nowhere.test $A_CN:5060
te_check "unknown-community: zed@nowhere.test refused 403" [ "$code" = 403 ]

msg notlocal $C_GW bob@chicago.test eve@eu.acme.test $C_CN:5060
te_check "not-local: eve@eu.acme.test (chicago routes *.acme.test to acme, not local there) refused 403" \
	[ "$code" = 403 ]
te_check "not-local: the reason phrase says so ($phrase)" \
	sh -c "echo '$phrase' | grep -qi 'not local'"
te_check "not-local: not delivered to acme's gateway" \
	hasnt "$D/acme-gw.log" "body=notlocal-$$"

# ---- status, field by field
status acme --json
te_check "status --json (acme): exit 0 (healthy)" [ "$src" = 0 ]
J=$D/acme.json
te_check "acme json: connector name, health ok" json "$J" \
	's["connector"] == "acme-edge" and s["health"] == "ok"'
te_check "acme json: listeners udp+tcp $A_CN:5060 and tls $A_CN:5061" json "$J" \
	"sorted((l['transport'], l['address'], l['port']) for l in s['listeners']) == [('tcp', '$A_CN', 5060), ('tls', '$A_CN', 5061), ('udp', '$A_CN', 5060)]"
te_check "acme json: communities chicago (enabled) and boston (disabled)" json "$J" \
	'[(x["name"], x["enabled"]) for x in s["communities"]] == [("chicago", True), ("boston", False)]'
te_check "acme json: chicago link up, no error" json "$J" \
	'c("chicago")["link"] == "up" and c("chicago")["last_error"] == ""'
te_check "acme json: boston link disabled" json "$J" \
	'c("boston")["link"] == "disabled"'
te_check "acme json: chicago next hop tls $C_CN:5061, ttl <= $TTL" json "$J" \
	"[(h['address'], h['port'], h['transport']) for h in c('chicago')['next_hops']] == [('$C_CN', 5061, 'tls')] and 0 <= c('chicago')['next_hops'][0]['ttl'] <= $TTL"
te_check "acme json: chicago messages out >= 4 (2 MESSAGE, SUBSCRIBE, wildcard)" json "$J" \
	'c("chicago")["messages_out"] >= 4'
te_check "acme json: chicago messages in >= 3 (MESSAGE, SUBSCRIBE, NOTIFY)" json "$J" \
	'c("chicago")["messages_in"] >= 3'
te_check "acme json: chicago rejections untrusted-ip=1 not-local=1, others 0" json "$J" \
	'c("chicago")["rejections"] == dict(c("chicago")["rejections"], **{"untrusted-ip": 1, "not-local": 1}) and sum(c("chicago")["rejections"].values()) == 2'
te_check "acme json: chicago last rejection names the reason" json "$J" \
	'c("chicago")["last_rejection"] != ""'
te_check "acme json: boston rejections not-enabled=1" json "$J" \
	'c("boston")["rejections"]["not-enabled"] == 1 and sum(c("boston")["rejections"].values()) == 1'
te_check "acme json: totals untrusted-ip=1 not-enabled=1 unknown-community=1 not-local=1" json "$J" \
	'(lambda r: r["untrusted-ip"] == 1 and r["not-enabled"] == 1 and r["unknown-community"] == 1 and r["not-local"] == 1 and r["tls-failure"] == 0)(s["totals"]["rejections"])'
te_check "acme json: totals in/out >= the community's" json "$J" \
	's["totals"]["messages_out"] >= c("chicago")["messages_out"] and s["totals"]["messages_in"] >= c("chicago")["messages_in"]'
te_check "acme json: gateway acme-gw up, udp $A_GW:5070, traffic counted" json "$J" \
	"g('acme-gw')['state'] == 'up' and g('acme-gw')['addresses'] == 'udp $A_GW:5070' and g('acme-gw')['messages_in'] >= 4 and g('acme-gw')['messages_out'] >= 2"
te_check "acme json: TLS peer is sip.chicago.test, verified" json "$J" \
	'(lambda t: t["known"] is True and "sip.chicago.test" in t["peer"] and t["verdict"] == "valid" and t["cipher"] != "" and 800 <= t["days_to_expiry"] <= 825)(c("chicago")["tls"])'

status chicago --json
J=$D/chicago.json
te_check "chicago json: health ok, acme link up" json "$J" \
	's["health"] == "ok" and c("acme")["enabled"] is True and c("acme")["link"] == "up"'
te_check "chicago json: TLS peer is sip.acme.test, verified" json "$J" \
	'(lambda t: t["known"] is True and "sip.acme.test" in t["peer"] and t["verdict"] == "valid" and t["cipher"] != "")(c("acme")["tls"])'
te_check "chicago json: acme in/out counted, no rejections" json "$J" \
	'c("acme")["messages_in"] >= 4 and c("acme")["messages_out"] >= 3 and sum(c("acme")["rejections"].values()) == 0'
te_check "chicago json: gateway chicago-gw up" json "$J" \
	'g("chicago-gw")["state"] == "up" and g("chicago-gw")["messages_out"] >= 4'

status acme
T=$D/acme.txt
te_check "status (acme, text): exit 0, health ok" \
	sh -c "[ $src = 0 ] && grep -Eq '^health: +ok\$' '$T'"
te_check "acme text: a tls listener" has "$T" "^- transport: +tls\$"
te_check "acme text: listeners on $A_CN" has "$T" "^  address: +$A_CN\$"
te_check "acme text: chicago enabled" blockhas "$T" chicago '^  enabled: +yes$'
te_check "acme text: chicago link up" blockhas "$T" chicago '^  link: +up$'
te_check "acme text: chicago untrusted-ip: 1" blockhas "$T" chicago '^ +untrusted-ip: +1$'
te_check "acme text: chicago not-local: 1" blockhas "$T" chicago '^ +not-local: +1$'
te_check "acme text: chicago TLS peer sip.chicago.test" blockhas "$T" chicago '^ +peer: +.*sip\.chicago\.test'
te_check "acme text: chicago TLS verdict valid" blockhas "$T" chicago '^ +verdict: +valid$'
te_check "acme text: boston not enabled" blockhas "$T" boston '^  enabled: +no$'
te_check "acme text: boston not-enabled: 1" blockhas "$T" boston '^ +not-enabled: +1$'
te_check "acme text: gateway acme-gw up" blockhas "$T" acme-gw '^  state: +up$'

# ---- a reload that disables chicago, without a restart
conf acme tls 5061 false
"$SC" reload -c "$D/acme/acme.xml" >"$D/reload.out" 2>&1
te_check "reload (chicago disabled): exit 0, ok" \
	has "$D/reload.out" "^reload ok: "
te_check "reload: the same daemon still runs" te_alive "$PID_acme"
status acme --json
te_check "after reload: chicago not enabled, link disabled, reload ok" json "$D/acme.json" \
	"c('chicago')['enabled'] is False and c('chicago')['link'] == 'disabled' and s['config']['last_reload'] == 'ok' and s['pid'] == $PID_acme"
msg rl-a2c $A_GW alice@acme.test bob@chicago.test $A_CN:5060
te_check "after reload: acme->chicago refused 403 not enabled" \
	sh -c "[ '$code' = 403 ] && echo '$phrase' | grep -qi 'not enabled'"
msg rl-c2a $C_GW bob@chicago.test alice@acme.test $C_CN:5060
te_check "after reload: chicago->acme refused 403 by acme" [ "$code" = 403 ]
te_check "after reload: neither reached a gateway" sh -c \
	"! grep -q 'body=rl-' '$D/acme-gw.log' && ! grep -q 'body=rl-' '$D/chicago-gw.log'"
status acme --json
te_check "after reload: chicago not-enabled counted twice, earlier counters kept" json "$D/acme.json" \
	'c("chicago")["rejections"]["not-enabled"] == 2 and c("chicago")["rejections"]["untrusted-ip"] == 1'
conf acme tls 5061 true
"$SC" reload -c "$D/acme/acme.xml" >"$D/reload2.out" 2>&1
te_check "reload (chicago enabled again): ok" has "$D/reload2.out" "^reload ok: "
msg rl-again $A_GW alice@acme.test bob@chicago.test $A_CN:5060
te_check "re-enabled: acme->chicago 200 again" [ "$code" = 200 ]

# ---- a next hop that is down, then back
stop chicago
msg down $A_GW alice@acme.test bob@chicago.test $A_CN:5060
te_check "hop down: the sender gets a final 503 or 408 (got ${code:-none})" \
	sh -c "[ '$code' = 503 ] || [ '$code' = 408 ]"
status acme --json
te_check "hop down: status exit 1 (degraded)" [ "$src" = 1 ]
te_check "hop down: chicago link down with the error, degraded because link" json "$D/acme.json" \
	's["health"] == "degraded" and "link" in s["degraded_because"] and c("chicago")["link"] == "down" and c("chicago")["last_error"] != ""'
status acme
te_check "hop down: text status shows link down" \
	blockhas "$D/acme.txt" chicago '^  link: +down$'
te_check "hop back: chicago's connector restarts" start chicago
"$SC" reset chicago -c "$D/acme/acme.xml" >"$D/reset.out" 2>&1
te_check "reset chicago: answered" has "$D/reset.out" "^reset chicago: error cleared"
msg back $A_GW alice@acme.test bob@chicago.test $A_CN:5060
te_check "hop back: acme->chicago 200 again" [ "$code" = 200 ]
status acme --json
te_check "hop back: status exit 0, link up, error cleared" json "$D/acme.json" \
	's["health"] == "ok" and c("chicago")["link"] == "up" and c("chicago")["last_error"] == ""'
te_check "hop back: status exit code 0" [ "$src" = 0 ]

# ---- the DNS TTL: sip.chicago.test gains $SPOOF; once the cached answer
# expires acme's trust check accepts that source
# First make sure acme holds a freshly resolved answer: repeat the
# request until dnsmasq sees acme's resolver ask again (at most TTL s),
# so that "right after the change" is well within the TTL.
n0=$(nq)
t0=$(date +%s)
i=0
while :; do
	i=$((i + 1))
	msg spoof2-$i $SPOOF mallory@chicago.test alice@acme.test $A_CN:5060
	[ "$(nq)" -gt "$n0" ] || [ $(($(date +%s) - t0)) -gt $((TTL + 2)) ] &&
		break
	sleep 0.5
done
te_check "ttl: before the change, $SPOOF still refused (403)" [ "$code" = 403 ]
te_check "ttl: acme asked dnsmasq again within the TTL" [ "$(nq)" -gt "$n0" ]
echo "$SPOOF sip.chicago.test" >>"$D/hosts"
kill -HUP "$TE_DNS_PID"
te_check "ttl: dnsmasq now answers $SPOOF too" sh -c \
	"n=0; while [ \$n -lt 20 ]; do dig +short @$DNS -p $DNSPORT sip.chicago.test A | grep -qx '$SPOOF' && exit 0; sleep 0.1; n=\$((n+1)); done; exit 1"
msg spoof3 $SPOOF mallory@chicago.test alice@acme.test $A_CN:5060
te_check "ttl: right after the change the cached answer holds: 403" \
	[ "$code" = 403 ]
# tried every 0.5 s until TTL + 3 s have passed
t0=$(date +%s)
i=0
while [ $(($(date +%s) - t0)) -le $((TTL + 3)) ]; do
	i=$((i + 1))
	msg spoof4-$i $SPOOF mallory@chicago.test alice@acme.test $A_CN:5060
	[ "$code" = 200 ] && break
	sleep 0.5
done
te_check "ttl: after the TTL ($TTL s) the new address is trusted: 200 (after $(($(date +%s) - t0)) s)" \
	[ "$code" = 200 ]
te_check "ttl: acme's gateway got the request from the new address" \
	has "$D/acme-gw.log" "body=spoof4-$i-$$"
status acme --json
te_check "ttl: untrusted-ip counted for the refused ones (>= 3)" json "$D/acme.json" \
	'c("chicago")["rejections"]["untrusted-ip"] >= 3'
printf '%s sip.acme.test\n%s sip.chicago.test\n' $A_CN $C_CN >"$D/hosts"
kill -HUP "$TE_DNS_PID"

# ==================================================================
# Phase 2: the same link over TCP

stop acme
stop chicago
conf acme tcp 5060 true
conf chicago tcp 5060 true
te_check "tcp: acme's connector starts" start acme
te_check "tcp: chicago's connector starts" start chicago

msg tcp-a2c $A_GW alice@acme.test bob@chicago.test $A_CN:5060
te_check "tcp: MESSAGE acme->chicago: 200" [ "$code" = 200 ]
te_check "tcp: chicago's gateway got it" \
	has "$D/chicago-gw.log" "^MESSAGE from=sip:alice@acme.test to=sip:bob@chicago.test .*body=tcp-a2c-$$\$"
msg tcp-c2a $C_GW bob@chicago.test alice@acme.test $C_CN:5060
te_check "tcp: MESSAGE chicago->acme: 200" [ "$code" = 200 ]
te_check "tcp: acme's gateway got it" \
	has "$D/acme-gw.log" "^MESSAGE from=sip:bob@chicago.test to=sip:alice@acme.test .*body=tcp-c2a-$$\$"
sub tcp-sub-a2c $A_GW alice@acme.test bob@chicago.test $A_CN:5060
te_check "tcp: SUBSCRIBE acme->chicago and its NOTIFY" [ "$subrc" = 0 ]
status acme --json
te_check "tcp json: chicago over tcp, hop $C_CN:5060 tcp, link up, no TLS session" json "$D/acme.json" \
	"c('chicago')['transport'] == 'tcp' and [(h['address'], h['port'], h['transport']) for h in c('chicago')['next_hops']] == [('$C_CN', 5060, 'tcp')] and c('chicago')['link'] == 'up' and c('chicago')['tls']['known'] is False"
te_check "tcp json: counters restart with the daemon" json "$D/acme.json" \
	'c("chicago")["messages_out"] >= 2 and c("chicago")["messages_in"] >= 2 and sum(c("chicago")["rejections"].values()) == 0'

# ---- the DNS TTL, outbound: sip.chicago.test moves to $SPOOF, where a
# sipp stands in for chicago's proxy (tcp 5060); once the TTL ran out the
# next request goes there
te_spawn "$D/moved.out" sipp -sf "$FED/gw_uas.xml" -t t1 -i $SPOOF -p 5060 \
	-aa -nostdin -trace_logs -log_file "$D/moved.log"
MOVED=$TE_LASTPID
te_check "moved: a stand-in proxy (sipp) listens on tcp $SPOOF:5060" \
	te_wait_tcp $SPOOF 5060 5
n0=$(nq)
t0=$(date +%s)
i=0
while :; do
	i=$((i + 1))
	msg fresh-$i $A_GW alice@acme.test bob@chicago.test $A_CN:5060
	[ "$(nq)" -gt "$n0" ] || [ $(($(date +%s) - t0)) -gt $((TTL + 2)) ] &&
		break
	sleep 0.5
done
te_check "moved: acme re-resolved sip.chicago.test within the TTL" \
	[ "$(nq)" -gt "$n0" ]
printf '%s sip.acme.test\n%s sip.chicago.test\n' $A_CN $SPOOF >"$D/hosts"
kill -HUP "$TE_DNS_PID"
te_check "moved: dnsmasq answers $SPOOF alone for sip.chicago.test" sh -c \
	"n=0; while [ \$n -lt 20 ]; do [ \"\$(dig +short @$DNS -p $DNSPORT sip.chicago.test A)\" = $SPOOF ] && exit 0; sleep 0.1; n=\$((n+1)); done; exit 1"
t0=$(date +%s)
i=0
while [ $(($(date +%s) - t0)) -le $((TTL + 3)) ]; do
	i=$((i + 1))
	msg moved-$i $A_GW alice@acme.test bob@chicago.test $A_CN:5060
	grep -q "body=moved-$i-$$" "$D/moved.log" 2>/dev/null && break
	sleep 0.5
done
te_check "moved: after the TTL the next request went to $SPOOF (after $(($(date +%s) - t0)) s, $i tries) and got 200" \
	sh -c "[ '$code' = 200 ] && grep -q 'body=moved-$i-$$' '$D/moved.log'"
te_check "moved: the first request after the change still went to the cached $C_CN" \
	has "$D/chicago-gw.log" "body=moved-1-$$\$"
status acme --json
te_check "moved: status shows the new next hop $SPOOF:5060 tcp" json "$D/acme.json" \
	"[(h['address'], h['port'], h['transport']) for h in c('chicago')['next_hops']] == [('$SPOOF', 5060, 'tcp')]"
te_stop $MOVED

stop acme
stop chicago
te_done
