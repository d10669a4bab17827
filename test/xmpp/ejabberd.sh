#!/bin/sh
# ejabberd.sh -- our community federated with an XMPP community that
# runs a real ejabberd (test/lib/ejabberd.sh) and nothing of ours, end
# to end:
#
#   127.0.134.53:5353  dnsmasq: SRV _xmpp-server._tcp.ejab.test -> ejabberd,
#                      _xmpp-server._tcp.acme.test -> our connector
#   127.0.134.54:53    a forwarder to it, the only nameserver of the
#                      resolv.conf ejabberd's C library reads (it looks
#                      up SRV targets with getaddrinfo)
#   127.0.134.20       ejabberd serving ejab.test (c2s 5222, s2s 5269),
#                      its outgoing streams from this address too,
#                      certificates from this test's CA
#   127.0.134.10       acme's stconnector (SIP 5060/5061, XMPP 5269)
#   127.0.134.11       acme's stgateway (clients udp 5060, connector tcp
#                      5070), the LDIF directory of conf/examples
#   127.0.134.101      baresip as asmith (Alice.Smith@acme.test)
#   127.0.134.121      sipp as asmith's second device (PUBLISH of the
#                      exact states baresip cannot set)
#   127.0.134.111      slixmpp (test/xmpp/xmppc.py) as bob@ejab.test
#   127.0.134.112      slixmpp trusting another CA
#
# Shown, as the users and the administrator see it:
# - ejabberd runs as a child of the test, everything it writes in the
#   test's directory, its resolvers knowing no nameserver but the
#   test's; bob logs in over c2s with STARTTLS verified (a client
#   trusting another CA does not get in);
# - bob adds Alice.Smith@acme.test: approved by her federation privacy
#   (all); ejabberd finds our connector through the test's DNS and
#   connects from its own address; bob sees asmith available and
#   unavailable within 2 s of each change;
# - chat both ways, each side shown the other by address;
# - asmith adds bob (baresip, presence p2p): bob is asked by
#   alice.smith@acme.test and approves; asmith's baresip shows him
#   Online, Offline once he is unavailable, Online when he is back;
# - both streams authenticated by SASL EXTERNAL (XEP-0178), which
#   ejabberd offers and uses once certificates are valid both ways;
# - status shows the streams both ways ready with TLS valid.
# (Not yet shown with ejabberd: away and do not disturb either way,
# ejabberd restarted.)
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/ejabberd.sh"

te_init xmpp-ejabberd
D=$TE_DIR
NET=127.0.134
DNS=$NET.53
STUB=$NET.54
CNIP=$NET.10
GWIP=$NET.11
XDOM=ejab.test
XIP=$NET.20
XC2S=5222
. "$top_srcdir/test/lib/baresip.sh"
. "$top_srcdir/test/lib/xfed.sh"

# ---- DNS, certificates, ejabberd -------------------------------------------
cat >"$D/records" <<EOT
host-record=sip.acme.test,$CNIP
host-record=ejab.test,$XIP
srv-host=_xmpp-server._tcp.ejab.test,ejab.test,5269,0,0
srv-host=_xmpp-server._tcp.acme.test,sip.acme.test,5269,0,0
EOT
te_check "dnsmasq serves both domains' _xmpp-server._tcp" \
	te_dnsmasq $DNS 5353 "$D/records"
te_check "certificates: our connector (sip.acme.test, acme.test), ejabberd" \
	te_certs "$D/certs" sip.acme.test:$CNIP:acme.test ejab.test:$XIP
te_check "a CA ejabberd's certificate does not come from" \
	te_certs "$D/other" other.test:$NET.99

if ej_start "$D/ej" $XIP ejab.test "$D/certs" $DNS 5353 $STUB; then
	te_ok "ejabberd serves ejab.test on $XIP (started in ${EJ_STARTED_IN}s)"
else
	te_fail "ejabberd serves ejab.test on $XIP"
	te_done
	exit 1
fi
te_check "ejabberd is a child of the test, not a service" \
	test "$(ps -o ppid= -p "$EJ_PID" | tr -d ' ')" = "$$"
te_check "its log and spool are in the test directory" \
	test -s "$D/ej/log/ejabberd.log" -a -s "$D/ej/spool/schema.DAT"
ej_eval 'inet:get_rc()' >"$D/rc" 2>&1
te_check "its DNS client's only nameserver is dnsmasq $DNS:5353" \
	has "$D/rc" "\\{nameservers,\\{127,0,134,53\\},5353\\}"
te_check "  and no other" test "$(grep -c nameserver "$D/rc")" = 1
# What its C library resolves: a name only the machine's /etc/hosts knows
# is asked of the test's DNS (through the forwarder), and not found.
ej_eval 'net:getaddrinfo("localhost", "1")' >"$D/gai" 2>&1
te_check "its C library does not know localhost" has "$D/gai" "^\\{error,"
te_check "  it asked the forwarder" \
	has "$D/ej/log/stub.log" "query\\[A\\] localhost from 127\\."
te_check "  which asked dnsmasq" has "$D/dnsmasq.log" "query\\[A\\] localhost from"

te_check "bob@ejab.test registered (ejabberdctl)" ej_register bob bobpw

# ---- c2s with STARTTLS -----------------------------------------------------
rm -f "$D/x.mallory.in"
mkfifo "$D/x.mallory.in"
te_spawn "$D/x.mallory.log" sh -c "exec /usr/bin/python3 '$XF_XC' \
	bob@ejab.test bobpw $NET.112 $XIP $XC2S '$D/other/ca.pem' \
	<'$D/x.mallory.in'"
sleep 86400 >"$D/x.mallory.in" &
TE_PIDS="$TE_PIDS $!"
te_check "a client trusting another CA refuses ejabberd's certificate" \
	te_wait_for "$D/x.mallory.log" "^disconnected" 15
te_check "  and never logs in" sh -c "! grep -q '^online' '$D/x.mallory.log'"
te_check "bob logs in at ejabberd over STARTTLS, certificate verified" \
	xuser bob bobpw $NET.111

# ---- our community ---------------------------------------------------------
xf_community
xf_start

# ---- asmith adds bob -------------------------------------------------------
mark "$D/x.bob.log"
te_check "asmith registers with baresip, bob@ejab.test in her contacts" \
	bs alice $NET.101 $GWIP "<sip:asmith@acme.test;transport=udp>;auth_pass=alicepw" \
	'"Bob" <sip:bob@ejab.test>;presence=p2p' '<sip:bob@ejab.test>'
te_check "bob is asked by alice.smith@acme.test and approves" \
	waits "$D/x.bob.log" "^subscribe-request from=alice\\.smith@acme\\.test answered=subscribed" 8
te_check "asmith's baresip shows bob Online" sees alice Online Bob 5

# ---- the streams -----------------------------------------------------------
te_check "our stream to ejabberd: authenticated (SASL EXTERNAL), TLS valid" \
	has "$D/cn.log" "xmpp stream out community=jabber peer=$XIP:5269 domain=ejab\\.test authenticated auth=sasl-external tls=valid"
te_check "ejabberd found our connector through the test's DNS: SRV" \
	has "$D/dnsmasq.log" "query\\[SRV\\] _xmpp-server\\._tcp\\.acme\\.test from"
te_check "  and the address of its target, through its C library" \
	has "$D/ej/log/stub.log" "query\\[A\\] sip\\.acme\\.test from 127\\."
te_check "ejabberd's stream to us: from its own address $XIP, SASL EXTERNAL, TLS valid" \
	has "$D/cn.log" "xmpp stream in community=jabber peer=$XIP:[0-9]+ domain=ejab\\.test authenticated auth=sasl-external tls=valid"

# ---- bob adds asmith -------------------------------------------------------
mark "$D/x.bob.log"
x bob "subscribe alice.smith@acme.test"
te_check "bob's request is approved by our side (privacy all)" \
	waits "$D/x.bob.log" "^subscribed from=alice\\.smith@acme\\.test" 15
te_check "bob sees asmith online" \
	waits "$D/x.bob.log" "^presence from=alice\\.smith@acme\\.test type=available show=-" 5
pub()	# BASIC ACTIVITY WANT-RE
{
	mark "$D/x.bob.log"
	xf_pub "$1" "$2" || return 1
	waits "$D/x.bob.log" "$3" 2
}
te_check "asmith's devices closed: bob sees her unavailable within 2 s" \
	pub closed unknown "^presence from=alice\\.smith@acme\\.test type=unavailable"
te_check "asmith active again: bob sees her available within 2 s" \
	pub open unknown "^presence from=alice\\.smith@acme\\.test type=available show=-"

# ---- chat both ways --------------------------------------------------------
mark "$D/x.bob.log"
bs_cmd alice "/message hello bob, from acme $$"
te_check "bob has asmith's message, from alice.smith@acme.test" \
	waits "$D/x.bob.log" "^message from=alice\\.smith@acme\\.test type=chat body=hello bob, from acme $$" 5
x bob "message alice.smith@acme.test hi alice, from ejabberd $$"
te_check "asmith's baresip shows bob's message, from bob@ejab.test" \
	sh -c "for i in \$(seq 50); do tr -d '\\r' <'$D/bs.alice/out.log' | grep -q 'bob@ejab.test.*hi alice, from ejabberd $$' && exit 0; sleep 0.1; done; exit 1"

# ---- bob goes away ---------------------------------------------------------
x bob "presence unavailable"
te_check "bob unavailable: asmith's baresip shows him Offline" \
	sees alice Offline Bob 5
x bob "presence available"
te_check "bob available again: Online again" sees alice Online Bob 5

# ---- status ----------------------------------------------------------------
te_check "stconnector status: jabber's streams in and out ready, TLS valid" \
	xf_streams_ok

bs_cmd alice /quit
x bob quit
te_stop "$GWPID"
te_stop "$CNPID"
ej_stop
te_check "no sanitizer report" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log' '$D/gw.log'"
te_done
