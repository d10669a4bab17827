#!/bin/sh
# federation.sh -- our community federated with an XMPP community that
# runs a real Prosody and nothing of ours, end to end:
#
#   127.0.129.53:5353  dnsmasq: SRV _xmpp-server._tcp.xmpp.test -> first
#                      down.xmpp.test (127.0.129.99, nothing listens),
#                      then Prosody; _xmpp-server._tcp.acme.test -> our
#                      connector
#   127.0.0.1          Prosody serving xmpp.test (c2s 5222, s2s 5269),
#                      certificates from this test's CA, s2s_secure_auth:
#                      Prosody cannot choose the source address of its
#                      outgoing streams, the kernel gives 127.0.0.1 for
#                      every loopback destination, and our trust check
#                      wants the stream from an address of xmpp.test
#   127.0.129.10       acme's stconnector (SIP 5060/5061, XMPP 5269)
#   127.0.129.11       acme's stgateway (clients udp 5060, connector tcp
#                      5070), the LDIF directory of conf/examples
#   127.0.129.101      baresip as asmith (Alice.Smith@acme.test)
#   127.0.129.121-3    sipp as asmith's second device (PUBLISH of the
#                      exact states baresip cannot set, and watchers
#                      that log every NOTIFY: the states baresip cannot
#                      show)
#   127.0.129.111-2    slixmpp (test/xmpp/xmppc.py) as bob@xmpp.test
#                      (approves what he is asked) and eve@xmpp.test
#                      (refuses)
#   127.0.129.66       a server claiming xmpp.test, with xmpp.test's own
#                      certificate, from an address that is not its
#   127.0.129.69       a stream with a comment in it (restricted XML)
#
# Shown, as the users see it:
# - asmith adds bob: bob is asked by Alice.Smith@acme.test and approves;
#   asmith sees bob through available, away, do not disturb and
#   offline, each within 2 s;
# - bob adds asmith: approved by her federation privacy (all); he sees
#   her through the same four states, each within 2 s;
# - chat both ways, each side shown the other by address; a message to
#   an unknown user of ours gets item-not-found;
# - eve refuses asmith: asmith sees her offline and nothing more;
# - carol (privacy none) refuses bob's subscription;
# - a stream claiming xmpp.test from another address: refused and
#   counted (untrusted_ip), the real streams stay up; one with a
#   certificate of another CA: refused in the TLS handshake, counted
#   (tls_refused) for the community it claimed;
# - Prosody killed (-9): asmith sees bob offline within 5 s, nobody
#   stays online; Prosody back and bob logged in again: each sees the
#   other online again;
# - status shows the streams both ways, TLS valid, how each was
#   authenticated (SASL EXTERNAL both ways: Prosody offers and uses it
#   when both certificates are valid, test/xmpp/sasl.sh).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/prosody.sh"

te_init xmpp-federation
D=$TE_DIR
NET=127.0.129
DNS=$NET.53
CNIP=$NET.10
GWIP=$NET.11
XDOM=xmpp.test
XIP=127.0.0.1
XC2S=5222
XF_XDOM2=other.test	# never resolved: the DNS-down case
. "$top_srcdir/test/lib/baresip.sh"
. "$top_srcdir/test/lib/xfed.sh"
command -v prosody >/dev/null 2>&1 || PATH=$PATH:/usr/sbin

# ---- DNS, certificates, Prosody ----------------------------------------
cat >"$D/records" <<EOT
host-record=sip.acme.test,$CNIP
host-record=xmpp.test,$XIP
host-record=down.xmpp.test,$NET.99
srv-host=_xmpp-server._tcp.xmpp.test,down.xmpp.test,5269,0,0
srv-host=_xmpp-server._tcp.xmpp.test,xmpp.test,5269,10,0
srv-host=_xmpp-server._tcp.acme.test,sip.acme.test,5269,0,0
EOT
te_check "dnsmasq serves both domains' _xmpp-server._tcp" \
	te_dnsmasq $DNS 5353 "$D/records"
te_check "certificates: our connector (sip.acme.test, acme.test), Prosody" \
	te_certs "$D/certs" sip.acme.test:$CNIP:acme.test xmpp.test:$XIP
ps_config "$D/prosody" xmpp.test $XIP "$D/certs" $DNS:5353
ps_adduser "$D/prosody" bob bobpw
ps_adduser "$D/prosody" eve evepw
te_check "Prosody serves xmpp.test on $XIP" ps_start "$D/prosody"

# ---- our community -----------------------------------------------------
xf_community
xf_start

te_check "bob@xmpp.test logs in at Prosody (slixmpp)" xuser bob bobpw $NET.111

# ---- asmith adds bob -------------------------------------------------------
mark "$D/x.bob.log"
te_check "asmith registers with baresip, bob@xmpp.test in her contacts" \
	bs alice $NET.101 $GWIP "<sip:asmith@acme.test;transport=udp>;auth_pass=alicepw" \
	'"Bob" <sip:bob@xmpp.test>;presence=p2p' '<sip:bob@xmpp.test>'
te_check "bob is asked by alice.smith@acme.test and approves" \
	waits "$D/x.bob.log" "^subscribe-request from=alice\\.smith@acme\\.test answered=subscribed" 8
te_check "asmith's baresip shows bob Online" sees alice Online Bob 5
te_check "our stream found Prosody past the first SRV target, which is down" \
	has "$D/cn.log" "xmpp stream out community=jabber peer=$NET\\.99:5269 domain=xmpp\\.test unreachable reason=.*trying the next of 2"
# her second device shows the exact states
xf_watch wbob asmith alicepw $NET.122 5092 bob@xmpp.test
te_check "asmith's second device: bob open" \
	te_wait_for "$D/wbob.log" "NOTIFY state=active basic=<basic>open act= -" 8
xf_bob_states

# ---- bob adds asmith -------------------------------------------------------
mark "$D/x.bob.log"
x bob "subscribe alice.smith@acme.test"
te_check "bob's request is approved by our side (privacy all)" \
	waits "$D/x.bob.log" "^subscribed from=alice\\.smith@acme\\.test" 5
te_check "bob sees asmith online" \
	waits "$D/x.bob.log" "^presence from=alice\\.smith@acme\\.test type=available" 5
xf_asmith_states

# ---- chat both ways ------------------------------------------------------
mark "$D/x.bob.log"
bs_cmd alice "/message hello bob, from acme $$"
te_check "bob has asmith's message, from alice.smith@acme.test" \
	waits "$D/x.bob.log" "^message from=alice\\.smith@acme\\.test type=chat body=hello bob, from acme $$" 5
x bob "message alice.smith@acme.test hi alice, from xmpp $$"
te_check "asmith's baresip shows bob's message, from bob@xmpp.test" \
	sh -c "for i in \$(seq 50); do tr -d '\\r' <'$D/bs.alice/out.log' | grep -q 'bob@xmpp.test.*hi alice, from xmpp $$' && exit 0; sleep 0.1; done; exit 1"
mark "$D/x.bob.log"
x bob "message nobody@acme.test anyone there?"
te_check "bob's message to nobody@acme.test: item-not-found" \
	waits "$D/x.bob.log" "^error from=nobody@acme\\.test kind=message condition=item-not-found" 5

# ---- eve refuses asmith ------------------------------------------------------
te_check "eve@xmpp.test logs in, refusing whoever asks" xuser eve evepw $NET.112
x eve "approve no"
mark "$D/x.eve.log"
xf_watch weve asmith alicepw $NET.123 5093 eve@xmpp.test
te_check "eve is asked by alice.smith@acme.test and refuses" \
	waits "$D/x.eve.log" "^subscribe-request from=alice\\.smith@acme\\.test answered=unsubscribed" 8
te_check "our gateway takes the refusal and does not ask again" \
	te_wait_for "$D/gw.log" "federation subscription rejected presentity=sip:eve@xmpp.test watcher=sip:asmith@acme.test" 5
te_check "asmith's device shows eve closed" \
	has "$D/weve.log" "NOTIFY state=active basic=<basic>closed"
n=$(wc -l <"$D/weve.log")
x eve "presence away"
x eve "presence available"
sleep 2
te_check "asmith sees nothing more of eve" \
	sh -c "! tail -n +$((n + 1)) '$D/weve.log' | grep -q 'basic=<basic>open'"

# ---- carol's privacy is none: bob's subscription refused ------------------
mark "$D/x.bob.log"
x bob "subscribe carol@acme.test"
te_check "bob asks carol@acme.test (privacy none): unsubscribed" \
	waits "$D/x.bob.log" "^unsubscribed from=carol@acme\\.test" 5
sleep 0.5
te_check "bob sees no presence of carol" \
	sh -c "! grep -q '^presence from=carol@acme.test' '$D/x.bob.log'"

# ---- a server claiming xmpp.test from another address ---------------------
/usr/bin/python3 "$top_srcdir/test/xmpp/rogue.py" $NET.66 $CNIP 5269 \
	xmpp.test acme.test "$D/certs/xmpp.test.pem" "$D/certs/xmpp.test.key" \
	"$D/certs/ca.pem" >"$D/rogue.out" 2>&1
te_check "a stream claiming xmpp.test from $NET.66 is refused" \
	has "$D/rogue.out" "^result type=invalid"
te_check "... with the stream error policy-violation" \
	has "$D/rogue.out" "^stream-error policy-violation"
te_check "... logged as untrusted-ip" \
	has "$D/cn.log" "untrusted-ip.*$NET\\.66"
te_check "a certificate of another CA, for xmpp.test" \
	te_certs "$D/certs2" xmpp.test:$XIP
/usr/bin/python3 "$top_srcdir/test/xmpp/rogue.py" $NET.68 $CNIP 5269 \
	xmpp.test acme.test "$D/certs2/xmpp.test.pem" "$D/certs2/xmpp.test.key" \
	"$D/certs/ca.pem" >"$D/rogue2.out" 2>&1
te_check "a stream claiming xmpp.test with a certificate of another CA: TLS refused" \
	has "$D/rogue2.out" "^tls refused"
te_check "... counted tls-failure for jabber, before any claim was made" \
	has "$D/cn.log" "reject reason=tls-failure community=jabber src=$NET\\.68 detail=\"xmpp handshake certificate=untrusted\""
# a stream whose XML is not what RFC 6120 allows (a comment), before
# it names any community: refused, logged and counted as malformed
/usr/bin/python3 - $NET.69 $CNIP >"$D/badxml.out" 2>&1 <<'EOT'
import socket, sys
s = socket.create_connection((sys.argv[2], 5269), 5, (sys.argv[1], 0))
s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
          b"xmlns:stream='http://etherx.jabber.org/streams' "
          b"to='acme.test' version='1.0'><!-- hello -->")
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
print(got.decode())
EOT
te_check "a stream with a comment in it: restricted-xml" \
	has "$D/badxml.out" "<restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
te_check "... logged as malformed, with what was wrong" \
	has "$D/cn.log" "reject reason=malformed community=- src=$NET\\.69 detail=\"xmpp stream error restricted-xml: comment\""
"$XF_CN" status --json -c "$D/acme.xml" >"$D/status.json" 2>&1
te_check "... and counted" /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(" ", s["totals"]["rejections"])
sys.exit(0 if s["totals"]["rejections"]["malformed"] >= 1 else 1)' "$D/status.json"
te_check "stconnector status: jabber's streams, in and out, TLS valid, authenticated; one untrusted; the translation's counts" \
	/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
c = [c for c in s["xmpp"]["communities"] if c["name"] == "jabber"][0]
d = {(x["direction"], x["state"], x["tls"], x["auth"]) for x in c["streams"]}
ok = (c["link"] == "up" and ("out", "ready", "valid", "sasl-external") in d
      and ("in", "ready", "valid", "sasl-external") in d
      and c["untrusted_ip"] == 1 and c["tls_refused"] == 1
      and c["stanzas_in"] > 0 and c["stanzas_out"] > 0)
t = s["xmpp"]["translation"]
ok = (ok and t["messages_out"] >= 1 and t["messages_in"] >= 1
      and t["errors_sent"].get("item-not-found") == 1
      and t["watching_xmpp"] >= 1 and t["watched_by_xmpp"] >= 1)
print(" ", c)
print(" ", t)
sys.exit(0 if ok else 1)' "$D/status.json"
"$XF_CN" status -c "$D/acme.xml" >"$D/summary.out" 2>&1
te_check "stconnector status (summary): jabber by its streams, the XMPP listener" \
	sh -c "grep -Eq 'jabber: +up, xmpp streams ready: 1 in, 1 out, [0-9]+ stanzas in, [0-9]+ out, 2 refused' '$D/summary.out' &&
	       grep -Eq 'jabber2: +idle, xmpp, no stream yet' '$D/summary.out' &&
	       grep -q 'xmpp $CNIP:5269' '$D/summary.out' || { cat '$D/summary.out'; exit 1; }"
mark "$D/x.bob.log"
bs_cmd alice "/message still there? $$"
te_check "the real streams stay up: bob has asmith's next message" \
	waits "$D/x.bob.log" "^message from=alice\\.smith@acme\\.test type=chat body=still there\\? $$" 5

# ---- Prosody killed and back -------------------------------------------------
mark "$D/wbob.log"
kill -9 "$PS_PID"
te_check "Prosody killed: asmith's device sees bob closed within 5 s" \
	waits "$D/wbob.log" "NOTIFY state=active basic=<basic>closed" 5
te_check "... and her baresip shows him Offline" sees alice Offline Bob 5
te_stop "$XU_bob"
te_stop "$XH_bob"
mv "$D/x.bob.log" "$D/x.bob.before-restart.log"
te_check "Prosody starts again" ps_start "$D/prosody"
mark "$D/wbob.log"
te_check "bob logs in again" xuser bob bobpw $NET.111
te_check "asmith's device sees bob open again within 10 s" \
	waits "$D/wbob.log" "NOTIFY state=active basic=<basic>open" 10
te_check "... and her baresip shows him Online" sees alice Online Bob 5
mark "$D/x.bob.log"
x bob "probe alice.smith@acme.test"
te_check "bob sees asmith available again" \
	waits "$D/x.bob.log" "^presence from=alice\\.smith@acme\\.test type=available" 10
te_check "stconnector status: jabber up again, streams both ways" xf_streams_ok

# ---- the DNS down, the streams up ---------------------------------------
kill "$TE_DNS_PID"
/usr/bin/python3 "$top_srcdir/test/xmpp/rogue.py" $NET.67 $CNIP 5269 \
	other.test acme.test "$D/certs/xmpp.test.pem" "$D/certs/xmpp.test.key" \
	"$D/certs/ca.pem" >"$D/nodns.out" 2>&1
te_check "DNS down: a stream for other.test, whose addresses cannot be had, is refused for now" \
	has "$D/nodns.out" "^stream-error remote-connection-failed"
te_check "... counted dns-failure, not untrusted-ip" \
	has "$D/cn.log" "reject reason=dns-failure community=jabber2 src=$NET\\.67"
mark "$D/x.bob.log"
bs_cmd alice "/message dns or not $$"
te_check "DNS down: chat with bob goes on over the streams up" \
	waits "$D/x.bob.log" "^message from=alice\\.smith@acme\\.test type=chat body=dns or not $$" 5

bs_cmd alice /quit
te_stop "$W_wbob"
te_stop "$W_weve"
te_stop "$GWPID"
te_stop "$CNPID"
te_check "Prosody was never sent SIP (no SIP probes of an XMPP community)" \
	sh -c "! grep -q 'OPTIONS sip:' '$D/prosody/prosody.log'"
te_check "no sanitizer report" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log' '$D/gw.log'"
te_done
