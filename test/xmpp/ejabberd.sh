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
#   127.0.134.121-3    sipp as asmith's second device (PUBLISH of the
#                      exact states baresip cannot set, and watchers
#                      that log every NOTIFY: the states baresip cannot
#                      show)
#   127.0.134.111      slixmpp (test/xmpp/xmppc.py) as bob@ejab.test
#                      (approves what he is asked)
#   127.0.134.112      slixmpp trusting another CA
#   127.0.134.113      slixmpp as eve@ejab.test (refuses)
#
# Shown, as the users and the administrator see it:
# - ejabberd runs as a child of the test, everything it writes in the
#   test's directory, its resolvers knowing no nameserver but the
#   test's; bob logs in over c2s with STARTTLS verified (a client
#   trusting another CA does not get in);
# - asmith adds bob (baresip, presence p2p): bob is asked by
#   alice.smith@acme.test and approves; ejabberd finds our connector
#   through the test's DNS and connects from its own address; asmith
#   sees bob through away, do not disturb, offline and available, each
#   within 2 s, her baresip Offline and Online with him;
# - bob adds Alice.Smith@acme.test: approved by her federation privacy
#   (all); he sees her through away, do not disturb, unavailable and
#   available, each within 2 s;
# - chat both ways, each side shown the other by address; a message to
#   an unknown user of ours gets item-not-found;
# - eve refuses asmith: our gateway takes the refusal, asmith sees her
#   offline and nothing more;
# - ejabberd killed (-9): asmith sees bob offline within 5 s; ejabberd
#   started again on the same spool and bob logged in again: each sees
#   the other online again, the streams are up both ways again;
# - both streams authenticated by SASL EXTERNAL (XEP-0178), which
#   ejabberd offers and uses once certificates are valid both ways;
# - status shows the streams both ways ready with TLS valid.
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

# ---- bob's states, as asmith's second device shows them --------------------
xf_watch wbob asmith alicepw $NET.122 5092 bob@ejab.test
te_check "asmith's second device: bob open" \
	te_wait_for "$D/wbob.log" "NOTIFY state=active basic=<basic>open act= -" 8
xf_bob_states

# ---- bob adds asmith -------------------------------------------------------
mark "$D/x.bob.log"
x bob "subscribe alice.smith@acme.test"
te_check "bob's request is approved by our side (privacy all)" \
	waits "$D/x.bob.log" "^subscribed from=alice\\.smith@acme\\.test" 15
te_check "bob sees asmith online" \
	waits "$D/x.bob.log" "^presence from=alice\\.smith@acme\\.test type=available show=-" 5
xf_asmith_states

# ---- chat both ways --------------------------------------------------------
mark "$D/x.bob.log"
bs_cmd alice "/message hello bob, from acme $$"
te_check "bob has asmith's message, from alice.smith@acme.test" \
	waits "$D/x.bob.log" "^message from=alice\\.smith@acme\\.test type=chat body=hello bob, from acme $$" 5
x bob "message alice.smith@acme.test hi alice, from ejabberd $$"
te_check "asmith's baresip shows bob's message, from bob@ejab.test" \
	sh -c "for i in \$(seq 50); do tr -d '\\r' <'$D/bs.alice/out.log' | grep -q 'bob@ejab.test.*hi alice, from ejabberd $$' && exit 0; sleep 0.1; done; exit 1"
mark "$D/x.bob.log"
x bob "message nobody@acme.test anyone there?"
te_check "bob's message to nobody@acme.test: item-not-found" \
	waits "$D/x.bob.log" "^error from=nobody@acme\\.test kind=message condition=item-not-found" 5

# ---- eve refuses asmith ----------------------------------------------------
te_check "eve@ejab.test registered (ejabberdctl)" ej_register eve evepw
te_check "eve@ejab.test logs in, refusing whoever asks" xuser eve evepw $NET.113
x eve "approve no"
mark "$D/x.eve.log"
xf_watch weve asmith alicepw $NET.123 5093 eve@ejab.test
te_check "eve is asked by alice.smith@acme.test and refuses" \
	waits "$D/x.eve.log" "^subscribe-request from=alice\\.smith@acme\\.test answered=unsubscribed" 8
te_check "our gateway takes the refusal and does not ask again" \
	te_wait_for "$D/gw.log" "federation subscription rejected presentity=sip:eve@ejab.test watcher=sip:asmith@acme.test" 5
te_check "asmith's device shows eve closed" \
	has "$D/weve.log" "NOTIFY state=active basic=<basic>closed"
n=$(wc -l <"$D/weve.log")
x eve "presence away"
x eve "presence available"
sleep 2
te_check "asmith sees nothing more of eve" \
	sh -c "! tail -n +$((n + 1)) '$D/weve.log' | grep -q 'basic=<basic>open'"

# ---- status ----------------------------------------------------------------
te_check "stconnector status: jabber's streams in and out ready, TLS valid" \
	xf_streams_ok

# ---- ejabberd killed and back ----------------------------------------------
mark "$D/wbob.log"
ej_kill
te_check "ejabberd killed: asmith's device sees bob closed within 5 s" \
	waits "$D/wbob.log" "NOTIFY state=active basic=<basic>closed" 5
te_check "... and her baresip shows him Offline" sees alice Offline Bob 5
te_stop "$XU_bob"
te_stop "$XH_bob"
mv "$D/x.bob.log" "$D/x.bob.before-restart.log"
if ej_again; then
	te_ok "ejabberd starts again on the same spool (in ${EJ_STARTED_IN}s)"
else
	te_fail "ejabberd starts again on the same spool"
fi
# bob's roster as ejabberd has it: {JID, subscription} for each contact
ej_eval '[{jid:encode(element(4, R)), element(6, R)} || R <- mod_roster:get_roster(<<"bob">>, <<"ejab.test">>)]' >"$D/roster" 2>&1
te_check "the spool kept bob's roster: alice.smith@acme.test, subscribed both ways" \
	has "$D/roster" '\{<<"alice\.smith@acme\.test">>,both\}'
mark "$D/wbob.log"
te_check "bob logs in again (his password from the spool)" xuser bob bobpw $NET.111
te_check "asmith's device sees bob open again within 10 s" \
	waits "$D/wbob.log" "NOTIFY state=active basic=<basic>open" 10
te_check "... and her baresip shows him Online" sees alice Online Bob 5
mark "$D/x.bob.log"
x bob "probe alice.smith@acme.test"
te_check "bob sees asmith available again" \
	waits "$D/x.bob.log" "^presence from=alice\\.smith@acme\\.test type=available" 10
te_check "stconnector status: jabber up again, streams both ways" xf_streams_ok

bs_cmd alice /quit
x bob quit
te_stop "$XU_eve"
te_stop "$XH_eve"
te_stop "$W_wbob"
te_stop "$W_weve"
te_stop "$GWPID"
te_stop "$CNPID"
ej_stop
te_check "no sanitizer report" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log' '$D/gw.log'"
te_done
