#!/bin/sh
# e2e.sh -- two communities federated end to end, every piece real:
#
#   127.0.20.53:5353  dnsmasq: sip.acme.test, sip.chicago.test, SRV
#   127.0.20.5:13890  slapd holding conf/examples/acme.test.ldif
#   127.0.20.10       acme's stconnector (udp/tcp 5060, tls 5061)
#   127.0.20.11       acme's stgateway (clients udp/tcp 5060, connector
#                     tls 5070), directory over LDAP (the slapd above)
#   127.0.20.20       chicago's stconnector
#   127.0.20.21       chicago's stgateway, directory from the LDIF file
#   127.0.20.101/102  baresip as asmith (Alice.Smith@acme.test), carol
#   127.0.20.111/112  baresip as bob.jones (Bob.Jones@chicago.test), kim
#   127.0.20.121      sipp on acme's side (a watcher, a MESSAGE sender)
#   127.0.20.122      sipp on chicago's side (bob.jones's second device
#                     publishing away/busy/closed, lee's watcher, ...)
#   127.0.20.99       a host that is not chicago's proxy
#
# The community files come from conf/examples with these addresses, the
# privacy attribute (description) switched on and acme's directory on
# LDAP (the connectors keep the sample's 60 s retryInterval: started
# before their gateways, they count them up at their first request);
# gateway and connector talk TLS inside each community, as the samples
# say.  Certificates from certtool; gateway and connector, and the two
# connectors, talk TLS with verification required.
#
# baresip shows what a chat user sees (its contact list, presence
# changes, messages); sipp is the scripted peer where a state must be set
# or observed exactly (baresip can publish only open/closed and shows
# "away" as Offline).  linphonec is not used: it binds the wildcard
# address and its requests leave from an address the kernel picks
# (127.0.0.1), outside the addresses reserved for this test, and it has
# no option to choose the source address.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init e2e
D=$TE_DIR
SC=$top_builddir/connector/stconnector
GW=$top_builddir/gateway/stgateway
SIPP=$top_srcdir/test/e2e/sipp
FED=$top_srcdir/test/connector/fed
EX=$top_srcdir/conf/examples

NET=127.0.20
DNS=$NET.53
LDAPIP=$NET.5
A_CN=$NET.10
A_GW=$NET.11
C_CN=$NET.20
C_GW=$NET.21
A_SIPP=$NET.121
C_SIPP=$NET.122
SPOOF=$NET.99
MAXMS=2000

for tool in slapd slapadd dnsmasq baresip sipp certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

# ------------------------------------------------------------------
# helpers

now_ms() { date +%s%3N; }

# wait_ms FILE ERE MS: wait until a line of FILE matches ERE (polled
# every 20 ms); $elapsed is the time in ms since $t0
wait_ms()
{
	_end=$(($(now_ms) + $3))
	while :; do
		if [ -f "$1" ] && tr -d '\r' <"$1" |
		    sed 's/\x1b\[[0-9;]*m//g' | grep -Eq -- "$2"; then
			elapsed=$(($(now_ms) - t0))
			return 0
		fi
		[ "$(now_ms)" -gt "$_end" ] && break
		sleep 0.02
	done
	elapsed=$(($(now_ms) - t0))
	echo "  no match in $1 after $3 ms: $2"
	[ -f "$1" ] && tr -d '\r' <"$1" | tail -8 | sed 's/^/  | /'
	return 1
}

within() { [ "$elapsed" -le "$MAXMS" ] || { echo "  took $elapsed ms"; return 1; }; }

has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -30; return 1; }
}

hasnt()
{
	! grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  unexpected in $1: $2"; \
		grep -E -- "$2" "$1" | sed 's/^/  | /'; return 1; }
}

json()
{
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
def c(n):
    return [x for x in s["communities"] if x["name"] == n][0]
try:
    ok = eval(sys.argv[2])
except Exception as e:
    print("  %s: %r" % (type(e).__name__, e)); ok = False
sys.exit(0 if ok else 1)' "$1" "$2" || { echo "  false: $2"; return 1; }
}

# certs DIR NAME IP... : CA (once) and a certificate for NAME with
# every IP as a SAN (the community's connector and gateway)
certs()
{
	_d=$1 _n=$2
	shift 2
	mkdir -p "$_d"
	if [ ! -f "$_d/ca.pem" ]; then
		printf 'cn = "e2e CA"\nserial = 1\nexpiration_days = 30\nca\ncert_signing_key\n' >"$_d/ca.tmpl"
		certtool --no-text --generate-privkey --key-type=ecdsa \
			--curve=secp256r1 --outfile "$_d/ca.key" 2>/dev/null &&
		certtool --no-text --generate-self-signed --load-privkey "$_d/ca.key" \
			--template "$_d/ca.tmpl" --outfile "$_d/ca.pem" 2>/dev/null ||
			return 1
	fi
	{
		echo "cn = \"$_n\""
		echo "serial = $(($(date +%s%N) % 1000000000))"
		echo "expiration_days = 30"
		echo "dns_name = \"$_n\""
		for _ip in "$@"; do echo "ip_address = \"$_ip\""; done
		echo "tls_www_server"
		echo "tls_www_client"
		echo "signing_key"
		echo "encryption_key"
	} >"$_d/$_n.tmpl"
	certtool --no-text --generate-privkey --key-type=ecdsa \
		--curve=secp256r1 --outfile "$_d/$_n.key" 2>/dev/null &&
	chmod 600 "$_d/$_n.key" &&
	certtool --no-text --generate-certificate --load-privkey "$_d/$_n.key" \
		--load-ca-certificate "$_d/ca.pem" --load-ca-privkey "$_d/ca.key" \
		--template "$_d/$_n.tmpl" --outfile "$_d/$_n.pem" 2>/dev/null
}

# conf SIDE ENABLED: SIDE's community file from conf/examples on this
# test's addresses, the other community enabled (true/false)
conf()
{
	_f=$D/$1/$1.xml
	sed -e "s#127\\.0\\.0\\.53:5353#$DNS:5353#" \
	    -e "s#127\\.0\\.0\\.\\(1[01]\\|2[01]\\)\"#$NET.\\1\"#g" \
	    -e "s#<TrustedIP>127\\.0\\.0\\.\\([0-9]*\\)<#<TrustedIP>$NET.\\1<#" \
	    -e 's#password="userPassword"/>#password="userPassword" privacy="description"/>#' \
	    -e 's#<Trace enable="false"#<Trace enable="true"#' \
	    -e "s#\\(<SupportedCommunity name=\"[a-z]*\" enabled=\\)\"true\"#\\1\"$2\"#" \
	    "$EX/$1.test.xml" >"$_f.tmp"
	if [ "$1" = acme ]; then
		sed -e 's#<Directory backend="file">#<Directory backend="ldap">#' \
		    -e "s#<File>acme.test.ldif</File>#<Ldap bindDN=\"cn=admin,dc=acme,dc=test\" passwordFile=\"bindpw\" base=\"dc=acme,dc=test\" scope=\"sub\" timeout=\"2000\"><Url>ldap://$LDAPIP:13890</Url></Ldap>#" \
		    "$_f.tmp" >"$_f"
	else
		mv "$_f.tmp" "$_f"
	fi
	rm -f "$_f.tmp"
}

# connector SIDE IP: start it in the foreground, wait until it listens
connector()
{
	te_spawn "$D/$1/cn.log.$(now_ms)" "$SC" -f -c "$D/$1/$1.xml"
	eval "CN_$1=\$TE_LASTPID"
	te_wait_tcp "$2" 5061 5 && te_wait_udp "$2" 5060 5
}

gateway()
{
	te_spawn "$D/$1/gw.log" "$GW" -f -c "$D/$1/$1.xml"
	eval "GW_$1=\$TE_LASTPID"
	te_wait_udp "$2" 5060 5 && te_wait_tcp "$2" 5070 5
}

. "$top_srcdir/test/lib/baresip.sh"

PORT=5200
# msg NAME SRCIP GWIP FROM(local id@domain) PASS TO TEXT: $code
msg()
{
	PORT=$((PORT + 1))
	sipp -sf "$SIPP/message.xml" -key from "$4" -key to "$6" -key text "$7" \
		-au "${4%@*}" -ap "$5" -auth_uri "$6" -i "$2" -p $PORT -m 1 \
		-timeout 6s -timeout_error -nostdin -trace_logs \
		-log_file "$D/$1.log" "$3:5060" >"$D/$1.out" 2>&1
	code=$(sed -n 's/^FINAL code=\([0-9]*\) .*/\1/p' "$D/$1.log" 2>/dev/null)
	phrase=$(sed -n 's/^FINAL code=[0-9]* phrase=\(.*\) (.*/\1/p' \
		"$D/$1.log" 2>/dev/null)
	echo "  $1: $4 -> $6: ${code:-no answer} $phrase"
}

# publish NAME ACTIVITY-XML BASIC: bob.jones's second device
publish()
{
	PORT=$((PORT + 1))
	sipp -sf "$SIPP/publish.xml" -key from bob.jones@chicago.test \
		-key activity "$2" -key basic "$3" -au bob.jones -ap bobjpw \
		-auth_uri bob.jones@chicago.test -i $C_SIPP -p $PORT -m 1 \
		-timeout 5s -timeout_error -nostdin -trace_logs \
		-log_file "$D/pub.$1.log" "$C_GW:5060" >"$D/pub.$1.out" 2>&1
}

# watch NAME SRCIP GWIP FROM PASS TO: a sipp watcher in the background
watch()
{
	PORT=$((PORT + 1))
	te_spawn "$D/$1.out" sipp -sf "$SIPP/watch.xml" -key from "$4" \
		-key to "$6" -au "${4%@*}" -ap "$5" -auth_uri "$6" -i "$2" \
		-p $PORT -m 1 -timeout 120s -nostdin -trace_logs \
		-log_file "$D/$1.log" "$3:5060"
	eval "W_$1=\$TE_LASTPID"
}

# status SIDE [--json]
status()
{
	if [ "${2:-}" = --json ]; then
		"$SC" status --json -c "$D/$1/$1.xml" >"$D/$1.json" 2>&1
	else
		"$SC" status --all -c "$D/$1/$1.xml" >"$D/$1.txt" 2>&1
	fi
	src=$?
}

# ------------------------------------------------------------------
# DNS, certificates, slapd, community files

cat >"$D/records" <<EOT
local-ttl=5
host-record=sip.acme.test,$A_CN
host-record=sip.chicago.test,$C_CN
srv-host=_sips._tcp.acme.test,sip.acme.test,5061,0,0
srv-host=_sips._tcp.chicago.test,sip.chicago.test,5061,0,0
EOT
te_check "dnsmasq serves sip.acme.test and sip.chicago.test on $DNS:5353" \
	te_dnsmasq $DNS 5353 "$D/records"
mkcerts()
{
	certs "$D/certs" sip.acme.test $A_CN $A_GW &&
		certs "$D/certs" sip.chicago.test $C_CN $C_GW
}
te_check "certificates (certtool) for sip.acme.test and sip.chicago.test" mkcerts

te_check "slapd answers on $LDAPIP:13890 (acme's directory)" \
	te_slapd "$D" "$LDAPIP" 13890 "dc=acme,dc=test" "$EX/acme.test.ldif"

for s in acme chicago; do
	mkdir -p "$D/$s/run"
	ln -s ../certs "$D/$s/certs"
	cp "$EX/$s.test.ldif" "$D/$s/"
done
printf 'secret\n' >"$D/acme/bindpw"
chmod 600 "$D/acme/bindpw"
conf acme true
conf chicago true
te_check "acme's file (LDAP directory) is valid" "$SC" check -c "$D/acme/acme.xml"
te_check "chicago's file (LDIF directory) is valid" "$SC" check -c "$D/chicago/chicago.xml"

# ------------------------------------------------------------------
# the daemons

te_check "acme's connector listens on $A_CN" connector acme $A_CN
te_check "chicago's connector listens on $C_CN" connector chicago $C_CN
te_check "acme's gateway listens on $A_GW" gateway acme $A_GW
te_check "chicago's gateway listens on $C_GW" gateway chicago $C_GW

# ------------------------------------------------------------------
# users: chicago first, so that acme's first SUBSCRIBEs find them

te_check "chicago: bob.jones registers (baresip)" bs bobj $NET.111 $C_GW \
	"<sip:bob.jones@chicago.test;transport=udp>;auth_pass=bobjpw" \
	'"Alice" <sip:Alice.Smith@acme.test>;presence=p2p
"carol" <sip:carol@acme.test>;presence=p2p' '<sip:Alice.Smith@acme.test>'
te_check "chicago: kim registers (baresip, HA1 secret)" bs kim $NET.112 $C_GW \
	"<sip:kim@chicago.test;transport=udp>;auth_pass=kimpw" \
	'"Alice" <sip:Alice.Smith@acme.test>;presence=p2p' '<sip:Alice.Smith@acme.test>'
te_check "acme: asmith registers against LDAP (baresip)" bs alice $NET.101 $A_GW \
	"<sip:asmith@acme.test;transport=udp>;auth_pass=alicepw" \
	'"Bob.Jones" <sip:Bob.Jones@chicago.test>;presence=p2p
"kim" <sip:kim@chicago.test>;presence=p2p' '<sip:Bob.Jones@chicago.test>'
te_check "acme: carol (privacy none) registers (baresip)" bs carol $NET.102 $A_GW \
	"<sip:carol@acme.test;transport=udp>;auth_pass=carolpw" \
	'"Bob.Jones" <sip:Bob.Jones@chicago.test>;presence=p2p' '<sip:Bob.Jones@chicago.test>'

# ---- an external user added by email address, presence seen
te_check "asmith (added Bob.Jones@chicago.test) sees him Online" \
	sees alice Online Bob.Jones
te_check "asmith sees kim@chicago.test Online" sees alice Online kim
te_check "bob.jones sees Alice.Smith@acme.test Online" sees bobj Online Alice
te_check "kim sees Alice.Smith@acme.test Online" sees kim Online Alice

# ---- chat both ways (baresip to baresip)
bs_cmd alice "/message hello from acme"
te_check "chat: bob.jones receives asmith's message from Alice.Smith@acme.test" \
	te_wait_for "$D/bs.bobj/out.log" 'sip:Alice.Smith@acme.test: "hello from acme"' 5
bs_cmd bobj "/message hi alice from chicago"
te_check "chat: asmith receives bob.jones's message from Bob.Jones@chicago.test" \
	te_wait_for "$D/bs.alice/out.log" 'sip:Bob.Jones@chicago.test: "hi alice from chicago"' 5
te_check "chat: the local IDs asmith / bob.jones never crossed the federation" \
	sh -c "! grep -q 'sip:asmith@' '$D/bs.bobj/out.log' && ! grep -q 'sip:bob.jones@' '$D/bs.alice/out.log'"

# ---- presence states, each within $MAXMS ms on the other side
watch wbob $A_SIPP $A_GW bob@acme.test bobpw Bob.Jones@chicago.test
t0=$(now_ms)
te_check "watcher (acme's bob, sipp) gets Bob.Jones: active (open)" \
	wait_ms "$D/wbob.log" "^NOTIFY state=active basic=open activity= " 5000
n_notify() { grep -c '^NOTIFY ' "$D/wbob.log" 2>/dev/null; }

# state NAME ACTIVITY-XML BASIC ERE: publish, wait for a NEW matching NOTIFY
state()
{
	_k=$(n_notify)
	t0=$(now_ms)
	publish "$1" "$2" "$3" || { echo "  PUBLISH failed"; tail -3 "$D/pub.$1.log" 2>/dev/null; }
	elapsed=99999
	wait_ms "$D/wbob.log" "$4" 5000 || { elapsed=99999; return 1; }
	# the match must be a new NOTIFY
	_end=$(($(now_ms) + 3000))
	until tail -n +"$((_k + 1))" "$D/wbob.log" | grep -Eq -- "$4"; do
		[ "$(now_ms)" -gt "$_end" ] && { echo "  no new NOTIFY"; elapsed=99999; return 1; }
		sleep 0.02
	done
	elapsed=$(($(now_ms) - t0))
	echo "  $1: seen on acme's side after $elapsed ms"
}
te_check "away: Bob.Jones publishes away, acme's watcher sees it" \
	state away '<rpid:away/>' open '^NOTIFY state=active basic=open activity=away '
te_check "away: reflected within $MAXMS ms ($elapsed ms)" within
te_check "DND: Bob.Jones publishes busy, acme's watcher sees it" \
	state busy '<rpid:busy/>' open '^NOTIFY state=active basic=open activity=busy '
te_check "DND: reflected within $MAXMS ms ($elapsed ms)" within
te_check "DND: asmith's baresip shows Bob.Jones Busy" \
	te_wait_for "$D/bs.alice/out.log" "<sip:Bob.Jones@chicago.test> changed status from .* to Busy" 3
te_check "active: Bob.Jones publishes open, acme's watcher sees it" \
	state active '' open '^NOTIFY state=active basic=open activity= '
te_check "active: reflected within $MAXMS ms ($elapsed ms)" within
te_check "active: asmith's baresip shows Bob.Jones Online" \
	te_wait_for "$D/bs.alice/out.log" "<sip:Bob.Jones@chicago.test> changed status from Busy to Online" 3
te_check "offline: Bob.Jones publishes closed, acme's watcher sees it" \
	state offline '' closed '^NOTIFY state=active basic=closed '
te_check "offline: reflected within $MAXMS ms ($elapsed ms)" within
te_check "offline: asmith's baresip shows Bob.Jones Offline" \
	te_wait_for "$D/bs.alice/out.log" "<sip:Bob.Jones@chicago.test> changed status from Online to Offline" 3
te_check "back: Bob.Jones publishes open again" \
	state back '' open '^NOTIFY state=active basic=open activity= '

# ---- privacy: carol (none) is not visible to chicago, yet sees chicago
watch wcarol $C_SIPP $C_GW kim@chicago.test kimpw carol@acme.test
t0=$(now_ms)
wait_ms "$D/wcarol.log" "^(SUBSCRIBE refused|NOTIFY )" 4000
te_check "privacy: chicago's watcher of carol@acme.test is refused (403/404) or told closed" \
	has "$D/wcarol.log" "^(SUBSCRIBE refused code=40[34] |NOTIFY state=[a-z]+ basic=closed |NOTIFY state=terminated )"
te_check "privacy: carol (privacy none) is never shown open to chicago" \
	hasnt "$D/wcarol.log" "basic=open"
te_check "privacy: bob.jones's baresip does not show carol Online" \
	notsees bobj Online carol 1
te_check "privacy: carol still sees Bob.Jones@chicago.test Online" \
	sees carol Online Bob.Jones
watch wlee $C_SIPP $C_GW lee@chicago.test leepw Alice.Smith@acme.test
t0=$(now_ms)
te_check "privacy: lee (privacy none) still sees Alice.Smith@acme.test open" \
	wait_ms "$D/wlee.log" "^NOTIFY state=active basic=open" 4000

# ---- a user who logs off shows offline on the other side
bs_cmd kim /quit
t0=$(now_ms)
te_check "logoff: kim quits, asmith sees kim Offline" \
	wait_ms "$D/bs.alice/out.log" "<sip:kim@chicago.test> changed status from Online to Offline" 5000
echo "  kim offline on acme's side after $elapsed ms"

# ---- a message to an offline user: an error to its sender
msg off $A_SIPP $A_GW asmith@acme.test alicepw kim@chicago.test "are you there"
te_check "message to offline kim@chicago.test: the sender gets 480 (got ${code:-none})" \
	[ "${code:-}" = 480 ]

# ---- a host that is not chicago's proxy
PORT=$((PORT + 1))
sipp -sf "$FED/uac_message.xml" -key from mallory@chicago.test \
	-key to Alice.Smith@acme.test -key text "spoofed-$$" -i $SPOOF -p $PORT \
	-m 1 -timeout 4s -timeout_error -nostdin -trace_logs \
	-log_file "$D/spoof.log" $A_CN:5060 >"$D/spoof.out" 2>&1
te_check "spoof: mallory@chicago.test from $SPOOF refused 403" \
	has "$D/spoof.log" "^FINAL code=403 "
te_check "spoof: asmith never got it" hasnt "$D/bs.alice/out.log" "spoofed-$$"
status acme --json
te_check "spoof: acme's status counts it untrusted-ip" json "$D/acme.json" \
	'c("chicago")["rejections"]["untrusted-ip"] >= 1'

# ---- chicago disabled in acme's file, stconnector reload
conf acme false
"$SC" reload -c "$D/acme/acme.xml" >"$D/reload.out" 2>&1
te_check "disable: stconnector reload ok" has "$D/reload.out" "^reload ok"
msg dis-a2c $A_SIPP $A_GW asmith@acme.test alicepw Bob.Jones@chicago.test "disabled-a2c"
te_check "disable: asmith -> Bob.Jones refused 403 (got ${code:-none} $phrase)" \
	[ "${code:-}" = 403 ]
msg dis-c2a $C_SIPP $C_GW bob.jones@chicago.test bobjpw Alice.Smith@acme.test "disabled-c2a"
te_check "disable: bob.jones -> Alice.Smith refused 403 (got ${code:-none} $phrase)" \
	[ "${code:-}" = 403 ]
te_check "disable: neither message was delivered" sh -c \
	"! grep -q 'disabled-' '$D/bs.alice/out.log' && ! grep -q 'disabled-' '$D/bs.bobj/out.log'"
status acme
te_check "disable: status says chicago is not enabled" \
	has "$D/acme.txt" "^  enabled: +no$"
status acme --json
te_check "disable: status --json: chicago disabled, not-enabled counted" json "$D/acme.json" \
	'c("chicago")["enabled"] is False and c("chicago")["link"] == "disabled" and c("chicago")["rejections"]["not-enabled"] >= 2'
conf acme true
"$SC" reload -c "$D/acme/acme.xml" >"$D/reload2.out" 2>&1
te_check "enable again: reload ok" has "$D/reload2.out" "^reload ok"
msg en-a2c $A_SIPP $A_GW asmith@acme.test alicepw Bob.Jones@chicago.test "enabled-again"
te_check "enable again: asmith -> Bob.Jones 200" [ "${code:-}" = 200 ]
te_check "enable again: bob.jones's baresip shows it" \
	te_wait_for "$D/bs.bobj/out.log" 'enabled-again' 3

# ---- chicago's connector killed with SIGKILL, then restarted
kill -KILL "$CN_chicago"
t0=$(now_ms)
te_check "SIGKILL: bob.jones sees Alice.Smith Offline (chicago lost its connector)" \
	wait_ms "$D/bs.bobj/out.log" "<sip:Alice.Smith@acme.test> changed status from Online to Offline" 8000
echo "  after $elapsed ms"
te_check "SIGKILL: chicago's connector restarts" connector chicago $C_CN
t0=$(now_ms)
te_check "restart: bob.jones sees Alice.Smith Online again" \
	wait_ms "$D/bs.bobj/out.log" "<sip:Alice.Smith@acme.test> changed status from Offline to Online" 15000
echo "  after $elapsed ms"
te_check "restart: asmith sees Bob.Jones Online" sees alice Online Bob.Jones
te_check "restart: kim (logged off) is not wrongly Online for asmith" \
	notsees alice Online kim 1
te_check "restart: carol is still not shown to bob.jones" \
	notsees bobj Online carol 1
msg after $A_SIPP $A_GW asmith@acme.test alicepw Bob.Jones@chicago.test "after-restart"
te_check "restart: asmith -> Bob.Jones 200 again" [ "${code:-}" = 200 ]

# ---- status of both connectors
status acme
te_check "status acme: healthy (exit 0)" [ "$src" = 0 ]
status chicago
te_check "status chicago: healthy (exit 0)" [ "$src" = 0 ]
status chicago --json
te_check "status chicago: acme's TLS peer sip.acme.test verified" json "$D/chicago.json" \
	'c("acme")["link"] in ("up", "idle") and "sip.acme.test" in c("acme")["tls"]["peer"] and c("acme")["tls"]["verdict"] == "valid"'
for s in acme chicago; do
	status $s --json
	te_check "status $s: its gateway up over TLS" json "$D/$s.json" \
		's["proxy"]["gateway_addresses"] and all(g["transport"] == "tls" and g["state"] == "up" for g in s["proxy"]["gateway_addresses"]) and [t for t in s["proxy"]["transports"] if t["transport"] == "tls"][0]["connections_in"] >= 1'
	te_check "$s's gateway: its link to the connector is TLS, up" \
		has "$D/$s/gw.log" "gw: connector up name=$s-edge.*transport=tls"
done
status acme --json
te_check "status acme: chicago link up over verified TLS, TLS peer sip.chicago.test" json "$D/acme.json" \
	'c("chicago")["link"] == "up" and "sip.chicago.test" in c("chicago")["tls"]["peer"] and c("chicago")["tls"]["verdict"] == "valid"'

for n in alice carol bobj; do bs_cmd $n /quit; done
sleep 0.3
for s in acme chicago; do
	eval "te_stop \$GW_$s"
	eval "te_stop \$CN_$s"
done
te_check "no sanitizer report from the daemons" sh -c \
	"! cat '$D'/acme/*.log* '$D'/chicago/*.log* | grep -Eq 'Sanitizer|runtime error'"
te_done
