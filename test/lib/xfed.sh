# xfed.sh -- our community (acme.test) federated with one XMPP community
# that runs a real XMPP server and nothing of ours: the parts every such
# test shares.  Source after testenv.sh and baresip.sh, with these set:
#
#   D      the test directory          NET   the test's 127.a.b prefix
#   DNS    the dnsmasq address (5353)  CNIP  our connector, GWIP our gateway
#   XDOM   the XMPP domain             XIP   the XMPP server's address
#   XC2S   its client port
#
# has FILE ERE            FILE has a line matching ERE (else shows FILE)
# mark FILE; waits FILE ERE SECONDS
#                         a line matching ERE appears in FILE, after the
#                         lines it had at mark, within SECONDS
# since FILE              the lines FILE got after mark
# xf_community            writes $D/acme.xml: gateway, connector, the
#                         XMPP community "jabber" for XDOM, the LDIF
#                         directory of conf/examples; XF_CN_ATTRS more
#                         attributes of the CommunityConnector; XF_XDOM2
#                         a second XMPP community "jabber2" for that
#                         domain
# xf_start                checks the file, starts connector (CNPID) and
#                         gateway (GWPID), waits for the link
# xuser NAME PASSWORD IP [JID]
#                         NAME@XDOM (or JID: a second login of one user)
#                         logged in from IP (test/xmpp/xmppc.py):
#                         commands with `x NAME LINE`, what the user sees
#                         in $D/x.NAME.log; its PID in XU_NAME
# xf_pub BASIC ACTIVITY   asmith's second device (sipp, $NET.121)
#                         publishes BASIC (open/closed) with an RPID
#                         ACTIVITY (unknown, away, busy)
# xf_watch NAME USER PASSWORD IP PORT CONTACT
#                         a local watcher (sipp) USER@acme.test of CONTACT;
#                         each NOTIFY it gets is a line in $D/NAME.log
# xf_streams_ok           status shows jabber up, streams in and out ready
#                         with TLS valid
# xf_bob_states           bob (logged in, approved asmith) goes through
#                         away, dnd, unavailable, available: asmith's
#                         device wbob (xf_watch) and her baresip see each
#                         within 2 s
# xf_asmith_states        asmith (watched by bob) publishes away, busy,
#                         closed, open: bob sees each within 2 s
: "${D:?}" "${NET:?}" "${DNS:?}" "${CNIP:?}" "${GWIP:?}" "${XDOM:?}" \
	"${XIP:?}" "${XC2S:?}"
XF_CN=$top_builddir/connector/stconnector
XF_GW=$top_builddir/gateway/stgateway
XF_XC=$top_srcdir/test/xmpp/xmppc.py

for tool in dnsmasq certtool baresip sipp; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -15; return 1; }
}

mark() { eval "M_$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)=\$(wc -l <\"\$1\" 2>/dev/null || echo 0)"; }
since()
{
	_v=M_$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)
	eval "_from=\${$_v:-0}"
	tail -n +"$((_from + 1))" "$1" 2>/dev/null
}
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

xf_community()
{
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
    <Domain>$XDOM</Domain>
  </ExternCommunity>
$( [ -n "${XF_XDOM2:-}" ] && printf '  <ExternCommunity name="jabber2" protocol="xmpp"><Domain>%s</Domain></ExternCommunity>' "$XF_XDOM2")
  <CommunityConnector name="acme-edge" ip="$CNIP" control="$D/run/cn.sock"
                      pidFile="$D/run/cn.pid" retryInterval="2" ${XF_CN_ATTRS:-}>
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="jabber" enabled="true"/>
$( [ -n "${XF_XDOM2:-}" ] && echo '    <SupportedCommunity name="jabber2" enabled="true"/>')
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
}

xf_start()
{
	"$XF_CN" check -c "$D/acme.xml" >"$D/check.out" 2>&1
	te_check "stconnector check: configuration OK" \
		has "$D/check.out" "configuration OK"
	te_spawn "$D/cn.log" "$XF_CN" -f -c "$D/acme.xml"
	CNPID=$TE_LASTPID
	te_check "stconnector starts, listening for XMPP servers on $CNIP:5269" \
		te_wait_tcp $CNIP 5269 10
	te_spawn "$D/gw.log" "$XF_GW" -f -c "$D/acme.xml"
	GWPID=$TE_LASTPID
	te_check "stgateway: connector link up" \
		te_wait_for "$D/gw.log" "gw: connector up name=acme-edge" 10
}

xuser()
{
	rm -f "$D/x.$1.in"
	mkfifo "$D/x.$1.in"
	te_spawn "$D/x.$1.log" sh -c "exec /usr/bin/python3 '$XF_XC' \
		${4:-$1@$XDOM} $2 $3 $XIP $XC2S '$D/certs/ca.pem' <'$D/x.$1.in'"
	eval "XU_$1=\$TE_LASTPID"
	sleep 86400 >"$D/x.$1.in" &
	TE_PIDS="$TE_PIDS $!"
	eval "XH_$1=\$!"
	te_wait_for "$D/x.$1.log" "^online" 10
}
x() { te_fifo_write "$D/x.$1.in" "$2"; }

xf_pub()
{
	sipp -sf "$top_srcdir/test/gateway/sipp/publish.xml" -key from asmith \
		-key domain acme.test -key basic "$1" -key activity "$2" \
		-au asmith -ap alicepw -auth_uri asmith@acme.test -i $NET.121 \
		-p 5091 -nostdin -timeout 5 -timeout_error -m 1 \
		$GWIP:5060 >>"$D/pub.out" 2>&1
}

xf_watch()
{
	te_spawn "$D/$1.out" sipp -sf "$top_srcdir/test/xmpp/sipp/watch.xml" \
		-key from "$2" -key to "$6" -au "$2" -ap "$3" \
		-auth_uri "$6" -i "$4" -p "$5" -nostdin \
		-trace_logs -log_file "$D/$1.log" -m 1 $GWIP:5060
	eval "W_$1=\$TE_LASTPID"
}

xf_streams_ok()
{
	"$XF_CN" status --json -c "$D/acme.xml" >"$D/status.json" 2>&1
	/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
c = [c for c in s["xmpp"]["communities"] if c["name"] == "jabber"][0]
d = {(x["direction"], x["state"], x["tls"]) for x in c["streams"]}
ok = (c["link"] == "up" and ("out", "ready", "valid") in d
      and ("in", "ready", "valid") in d)
print(" ", c)
sys.exit(0 if ok else 1)' "$D/status.json"
}

bobis()	# SHOW WANT-RE: bob sets SHOW, asmith's device logs WANT-RE
{
	mark "$D/wbob.log"
	x bob "presence $1"
	waits "$D/wbob.log" "$2" 2
}

xf_bob_states()
{
	te_check "bob away: asmith sees him away within 2 s" \
		bobis away "NOTIFY state=active basic=<basic>open act=<rpid:away"
	te_check "bob do not disturb: asmith sees him busy within 2 s" \
		bobis dnd "NOTIFY state=active basic=<basic>open act=<rpid:busy"
	te_check "bob unavailable: asmith sees him closed within 2 s" \
		bobis unavailable "NOTIFY state=active basic=<basic>closed"
	te_check "... and her baresip shows him Offline" \
		sees alice Offline Bob 5
	te_check "bob available: asmith sees him open within 2 s" \
		bobis available "NOTIFY state=active basic=<basic>open act= -"
	te_check "... and her baresip shows him Online" sees alice Online Bob 5
}

asmithis()	# BASIC ACTIVITY WANT-RE: asmith publishes, bob sees WANT-RE
{
	mark "$D/x.bob.log"
	xf_pub "$1" "$2" || return 1
	waits "$D/x.bob.log" "$3" 2
}

xf_asmith_states()
{
	te_check "asmith away: bob sees her away within 2 s" \
		asmithis open away "^presence from=alice\\.smith@acme\\.test type=available show=away"
	te_check "asmith do not disturb: bob sees her dnd within 2 s" \
		asmithis open busy "^presence from=alice\\.smith@acme\\.test type=available show=dnd"
	te_check "asmith's devices closed: bob sees her unavailable within 2 s" \
		asmithis closed unknown "^presence from=alice\\.smith@acme\\.test type=unavailable"
	te_check "asmith active again: bob sees her available within 2 s" \
		asmithis open unknown "^presence from=alice\\.smith@acme\\.test type=available show=-"
}
