#!/bin/sh
# quiet.sh -- a federation with an XMPP community that goes quiet keeps
# its link: streams we close for quiet (xmppIdleTimeout) take nobody
# offline, the contacts watched there are probed again at once (silence
# proves nothing about the partner), the next stanza either way gets
# through, and a partner that dies while nobody speaks is noticed by
# the probes: its contacts read Offline without anybody saying a word.
#
#   127.0.137.53:5353  dnsmasq (SRV _xmpp-server._tcp.xmpp.test -> 5309)
#   127.0.0.1          Prosody serving xmpp.test, s2s 5309, c2s 5262
#                      (its own ports: other tests run a Prosody on
#                      127.0.0.1 too; see federation.sh for why there)
#   127.0.137.10/.11   acme's stconnector (xmppIdleTimeout 5 s) and
#                      stgateway
#   127.0.137.122      sipp: asmith's device watching bob@xmpp.test
#   127.0.137.121      sipp: asmith's device publishing her state
#   127.0.137.101      baresip: asmith registered
#   127.0.137.111      slixmpp as bob@xmpp.test, who watches asmith
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/prosody.sh"

te_init xmpp-quiet
D=$TE_DIR
NET=127.0.137
DNS=$NET.53
CNIP=$NET.10
GWIP=$NET.11
XDOM=xmpp.test
XIP=127.0.0.1
XC2S=5262
PS_S2S_PORT=5309
PS_C2S_PORT=5262
XF_CN_ATTRS='xmppIdleTimeout="5"'
. "$top_srcdir/test/lib/baresip.sh"
. "$top_srcdir/test/lib/xfed.sh"
command -v prosody >/dev/null 2>&1 || PATH=$PATH:/usr/sbin

cat >"$D/records" <<EOT
host-record=sip.acme.test,$CNIP
host-record=xmpp.test,$XIP
srv-host=_xmpp-server._tcp.xmpp.test,xmpp.test,$PS_S2S_PORT,0,0
srv-host=_xmpp-server._tcp.acme.test,sip.acme.test,5269,0,0
EOT
te_check "dnsmasq serves both domains' _xmpp-server._tcp" \
	te_dnsmasq $DNS 5353 "$D/records"
te_check "certificates: our connector, Prosody" \
	te_certs "$D/certs" sip.acme.test:$CNIP:acme.test xmpp.test:$XIP
ps_config "$D/prosody" xmpp.test $XIP "$D/certs" $DNS:5353
ps_adduser "$D/prosody" bob bobpw
te_check "Prosody serves xmpp.test on $XIP:$PS_S2S_PORT" ps_start "$D/prosody"
xf_community
xf_start
te_check "bob@xmpp.test logs in at Prosody" xuser bob bobpw $NET.111
te_check "asmith registers with baresip" \
	bs alice $NET.101 $GWIP "<sip:asmith@acme.test;transport=udp>;auth_pass=alicepw" \
	'"Bob" <sip:bob@xmpp.test>' '<sip:bob@xmpp.test>'

# both ways: asmith watches bob, bob watches asmith
mark "$D/x.bob.log"
xf_watch wbob asmith alicepw $NET.122 5092 bob@xmpp.test
te_check "bob approves asmith" \
	waits "$D/x.bob.log" "^subscribe-request from=alice\\.smith@acme\\.test answered=subscribed" 8
te_check "asmith's device sees bob open" \
	te_wait_for "$D/wbob.log" "NOTIFY state=active basic=<basic>open" 8
x bob "subscribe alice.smith@acme.test"
te_check "bob sees asmith available" \
	waits "$D/x.bob.log" "^presence from=alice\\.smith@acme\\.test type=available" 5

# nothing said for 5 s: both streams closed for quiet
idle_closes()	# N SECONDS: the connector logged N quiet closes within SECONDS
{
	_i=0
	while [ $_i -lt $(($2 * 10)) ]; do
		[ "$(grep -c 'xmpp stream .* community=jabber .*closed reason=idle' "$D/cn.log")" -ge "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	grep 'closed reason' "$D/cn.log" | sed 's/^/  | /'
	return 1
}
still_open() { ! since "$D/wbob.log" | grep -q 'basic=<basic>closed'; }
mark "$D/wbob.log"
mark "$D/cn.log"
te_check "both streams closed for quiet within 15 s" idle_closes 2 15
"$XF_CN" status --json -c "$D/acme.xml" >"$D/status.json" 2>&1
te_check "the watched contacts are probed again" \
	waits "$D/cn.log" "xmpp community=jabber quiet: asking its contacts' presence again" 5
te_check "status: jabber's link still up, quiet closes and the recheck counted" \
	/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
c = [c for c in s["xmpp"]["communities"] if c["name"] == "jabber"][0]
print(" ", c)
sys.exit(0 if c["link"] == "up" and c["quiet_closes"] >= 1
         and c["quiet_rechecks"] >= 1 else 1)' "$D/status.json"
# (both streams were up before the mark: one of ours authenticated
# since is a new one)
te_check "the probe opens a new stream of ours, Prosody authenticates it" \
	waits "$D/cn.log" "xmpp stream out community=jabber .* authenticated" 5
te_check "asmith still sees bob open: nothing was said, nothing changed" \
	still_open

# the next stanza opens a new stream
mark "$D/wbob.log"
x bob "presence away"
te_check "bob away: asmith sees it within 2 s, over a new stream" \
	waits "$D/wbob.log" "NOTIFY state=active basic=<basic>open act=<rpid:away" 2
mark "$D/x.bob.log"
xf_pub open busy
te_check "asmith busy: bob sees dnd within 2 s" \
	waits "$D/x.bob.log" "^presence from=alice\\.smith@acme\\.test type=available show=dnd" 2

# quiet again, then the partner dies while nobody talks
n=$(grep -c 'closed reason=idle' "$D/cn.log")
te_check "quiet again: the streams close" idle_closes $((n + 2)) 15
mark "$D/wbob.log"
kill -9 "$PS_PID"
te_stop "$XU_bob"
sleep 1
te_check "Prosody gone while nobody speaks: asmith sees bob closed within 12 s" \
	waits "$D/wbob.log" "NOTIFY state=active basic=<basic>closed" 12
"$XF_CN" status --json -c "$D/acme.xml" >"$D/status2.json" 2>&1
te_check "status: jabber's link down" \
	/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
c = [c for c in s["xmpp"]["communities"] if c["name"] == "jabber"][0]
print(" ", c)
sys.exit(0 if c["link"] == "down" else 1)' "$D/status2.json"

te_check "bob was asked for approval once: the probes never repeat the request" \
	test "$(grep -c '^subscribe-request from=alice\.smith@acme\.test' "$D/x.bob.log")" -eq 1
bs_cmd alice /quit
te_stop "$W_wbob"
te_stop "$GWPID"
te_stop "$CNPID"
te_check "no sanitizer report" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log' '$D/gw.log'"
te_done
