#!/bin/sh
# sasl.sh -- how our connector and a real Prosody authenticate each
# other's domain (XEP-0178 SASL EXTERNAL, XEP-0220 dialback):
#
#   127.0.136.53:5353  dnsmasq: SRV _xmpp-server._tcp.xmpp.test -> Prosody
#                      (port 5289), _xmpp-server._tcp.acme.test -> our
#                      connector
#   127.0.0.1          Prosody serving xmpp.test (c2s 5242, s2s 5289):
#                      it cannot choose the source address of its
#                      outgoing streams, the kernel gives 127.0.0.1
#   127.0.136.10       acme's stconnector (SIP 5060/5061, XMPP 5269)
#   127.0.136.11       acme's stgateway
#   127.0.136.101      baresip as asmith (Alice.Smith@acme.test)
#   127.0.136.111/112  slixmpp (test/xmpp/xmppc.py) as bob@xmpp.test
#   127.0.136.98       connections that never authenticate
#   127.0.136.80-87    more of them, 8 from each
#   127.0.136.97       other.test's address in the DNS (a second XMPP
#                      community, jabber2; nothing listens)
#
# 1. Both certificates valid for their domains: Prosody offers EXTERNAL
#    to our outbound stream and we use it; we offer EXTERNAL to its
#    inbound stream and it uses it.  Chat goes both ways, status shows
#    both streams ready with auth "sasl-external", Prosody's log that it
#    accepted and used EXTERNAL with acme.test.
# 2. Prosody restarted with an s2s certificate for another name (its
#    users still see the good one): our outbound stream fails TLS, its
#    inbound stream gets no EXTERNAL offer from us, falls back to
#    dialback and is refused (tls-failure), asmith never sees bob's
#    message; status counts both refusals.
# 3. One stream, two communities: the peer authenticates xmpp.test
#    (jabber) by dialback, then claims other.test (jabber2, whose
#    addresses are not 127.0.0.1's) on the same stream.  The claim is
#    answered invalid and counted for jabber2; the stream stays
#    jabber's: bob's message after it reaches asmith, and when the peer
#    goes, jabber's link goes down with it (it must not stay up with no
#    stream, its contacts shown on presence that can no longer come).
# 4. Prosody refuses no EXTERNAL it offered, and sends none we would
#    refuse, so the rest is shown with a peer of the test's own
#    (test/xmpp/s2speer.py: Python's ssl on a raw socket, the same
#    xmpp.test certificate, 127.0.0.1:5289): it refuses our EXTERNAL,
#    and we open a new stream that authenticates by dialback (the
#    peer checks our key with db:verify at our listener) and delivers
#    asmith's message; from 127.0.0.1 it gets <failure/> with the RFC
#    6120 condition for a foreign authzid and for another mechanism,
#    then success, a stream restart and bob's message to asmith; from
#    127.0.136.99, not an address of xmpp.test, its EXTERNAL is refused
#    and the stream closed (untrusted-ip).  Status counts each.
# 5. Streams that never authenticate: one from 127.0.136.98 sends a
#    whitespace keep-alive every 2 s after STARTTLS and is closed
#    (connection-timeout) 20 s after it began all the same; while it
#    lasts, 70 more connections from that address: 7 are held, the rest
#    refused at once (8 from one address).  Then 64 held from
#    127.0.136.80-87, every place such streams may have (64 of the 256
#    streams): the peer's real stream from 127.0.0.1 still gets in (the
#    oldest held is closed for it), authenticates and delivers bob's
#    message.  Status and the log count each.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PS_S2S_PORT=5289
PS_C2S_PORT=5242
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/prosody.sh"

te_init xmpp-sasl
D=$TE_DIR
PEER=$top_srcdir/test/xmpp/s2speer.py
NET=127.0.136
DNS=$NET.53
XIP=127.0.0.1
CNIP=$NET.10
GWIP=$NET.11
XDOM=xmpp.test
XC2S=$PS_C2S_PORT
XF_XDOM2=other.test	# a second XMPP community, at $NET.97
. "$top_srcdir/test/lib/baresip.sh"
. "$top_srcdir/test/lib/xfed.sh"

for tool in prosody dnsmasq certtool baresip; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

hasnt()	# FILE ERE
{
	! grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  in $1: $2"; \
		grep -E -- "$2" "$1" | head -5 | sed 's/^/  | /'; return 1; }
}
# status PYTHON-EXPR: the connector's status (JSON) as s, jabber's
# community as c; the check passes when EXPR is true
status()
{
	"$XF_CN" status --json -c "$D/acme.xml" >"$D/status.json" 2>&1
	/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
c = [c for c in s["xmpp"]["communities"] if c["name"] == "jabber"][0]
ok = eval("(" + sys.argv[2] + ")")
if not ok:
    print(" ", json.dumps(c))
sys.exit(0 if ok else 1)' "$D/status.json" "$1"
}

# ---- DNS, certificates, Prosody ----------------------------------------
cat >"$D/records" <<EOT
host-record=sip.acme.test,$CNIP
host-record=xmpp.test,$XIP
host-record=other.test,$NET.97
srv-host=_xmpp-server._tcp.xmpp.test,xmpp.test,$PS_S2S_PORT,0,0
srv-host=_xmpp-server._tcp.acme.test,sip.acme.test,5269,0,0
EOT
te_check "dnsmasq serves both domains' _xmpp-server._tcp" \
	te_dnsmasq $DNS 5353 "$D/records"
te_check "certificates: our connector, Prosody, and one for other.test" \
	te_certs "$D/certs" sip.acme.test:$CNIP:acme.test xmpp.test:$XIP \
	other.test:$XIP
ps_config "$D/prosody" xmpp.test $XIP "$D/certs" $DNS:5353
ps_adduser "$D/prosody" bob bobpw
te_check "Prosody serves xmpp.test on $XIP:$PS_S2S_PORT" ps_start "$D/prosody"

# ---- our community -----------------------------------------------------
xf_community
xf_start

bsgot()	# TEXT: asmith's baresip shows a message from bob with TEXT
{
	for _i in $(seq 50); do
		bs_log alice | grep -q "bob@xmpp.test.*$1" && return 0
		sleep 0.1
	done
	return 1
}

te_check "bob@xmpp.test logs in at Prosody (slixmpp)" \
	xuser bob bobpw $NET.111
te_check "asmith registers with baresip" \
	bs alice $NET.101 $GWIP "<sip:asmith@acme.test;transport=udp>;auth_pass=alicepw" \
	'"Bob" <sip:bob@xmpp.test>' '<sip:bob@xmpp.test>'

# ---- 1. valid certificates: SASL EXTERNAL both ways ------------------------
mark "$D/x.bob.log"
mark "$D/cn.log"
bs_cmd alice "/message hello bob, from acme $$"
te_check "bob has asmith's message, from alice.smith@acme.test" \
	waits "$D/x.bob.log" "^message from=alice\\.smith@acme\\.test type=chat body=hello bob, from acme $$" 5
te_check "our outbound stream authenticated by SASL EXTERNAL" \
	waits "$D/cn.log" "xmpp stream out community=jabber peer=$XIP:$PS_S2S_PORT domain=xmpp\\.test authenticated auth=sasl-external tls=valid" 2
te_check "Prosody's log: it accepted EXTERNAL from acme.test" \
	has "$D/prosody/prosody.log" "Accepting SASL EXTERNAL identity from acme\\.test"
x bob "message alice.smith@acme.test hi alice, from xmpp $$"
te_check "asmith's baresip shows bob's message, from bob@xmpp.test" \
	bsgot "hi alice, from xmpp $$"
te_check "Prosody's log: its stream to acme.test used EXTERNAL" \
	has "$D/prosody/prosody.log" "SASL EXTERNAL with acme\\.test succeeded"
te_check "our inbound stream authenticated by SASL EXTERNAL" \
	has "$D/cn.log" "xmpp stream in community=jabber peer=$XIP:[0-9]+ domain=xmpp\\.test authenticated auth=sasl-external tls=valid"
te_check "Prosody's log: neither stream used dialback" \
	hasnt "$D/prosody/prosody.log" "Initiating dialback"
te_check "status: both streams ready, TLS valid, auth sasl-external" \
	status '
{(x["direction"], x["state"], x["tls"], x["auth"]) for x in c["streams"]}
>= {("out", "ready", "valid", "sasl-external"),
    ("in", "ready", "valid", "sasl-external")}
and c["link"] == "up" and c["stanzas_in"] > 0 and c["stanzas_out"] > 0
and c["sasl_fallbacks"] == 0 and c["sasl_refused"] == {}
and c["tls_refused"] == 0
and s["xmpp"]["auth_inbound"] == "sasl-external, dialback+cert"'

# ---- 2. Prosody's s2s certificate names other.test -------------------------
te_stop "$XU_bob"
ps_stop "$D/prosody"
te_check "Prosody stopped: our streams close, the link goes down" \
	te_wait_for "$D/cn.log" "xmpp link community=jabber state=down" 15
ps_config "$D/prosody2" xmpp.test $XIP "$D/certs" $DNS:5353
cp "$D/certs/other.test.pem" "$D/prosody2/certs/other.test.crt"
cp "$D/certs/other.test.key" "$D/prosody2/certs/other.test.key"
chmod 600 "$D/prosody2/certs/other.test.key"
# in the VirtualHost's scope: its s2s streams (both ways) show
# other.test, its c2s users still xmpp.test
cat >>"$D/prosody2/prosody.cfg.lua" <<EOT
	s2s_ssl = {
		certificate = "$D/prosody2/certs/other.test.crt";
		key = "$D/prosody2/certs/other.test.key";
	}
EOT
ps_adduser "$D/prosody2" bob bobpw
te_check "Prosody again, its s2s certificate for other.test" \
	ps_start "$D/prosody2"
te_check "bob@xmpp.test logs in again" \
	xuser bob2 bobpw $NET.112 bob@xmpp.test

cp "$D/cn.log" "$D/cn.log.1"
mark "$D/cn.log"
bs_cmd alice "/message are you there, from acme $$"
te_check "our outbound stream refused at TLS (the name is not xmpp.test)" \
	waits "$D/cn.log" "xmpp stream out community=jabber peer=$XIP:$PS_S2S_PORT domain=xmpp\\.test closed reason=\"tls name-mismatch\"" 5
sleep 0.5
te_check "bob does not get that message" \
	hasnt "$D/x.bob2.log" "are you there, from acme $$"

mark "$D/cn.log"
x bob2 "message alice.smith@acme.test still there? $$"
te_check "Prosody's inbound stream: no EXTERNAL offer, dialback refused, counted tls-failure" \
	waits "$D/cn.log" "reject reason=tls-failure community=jabber src=$XIP detail=\"xmpp domain=xmpp\\.test certificate=name-mismatch\"" 10
te_check "Prosody's log: it fell back to dialback, EXTERNAL never offered" \
	sh -c "grep -q 'Initiating dialback' '$D/prosody2/prosody.log' &&
		! grep -q 'Initiating SASL EXTERNAL' '$D/prosody2/prosody.log'"
tail -n +"$(($(wc -l <"$D/cn.log.1") + 1))" "$D/cn.log" >"$D/cn.log.2"
te_check "no stream of ours authenticated since" \
	sh -c "! grep -q 'authenticated auth=' '$D/cn.log.2'"
sleep 1
te_check "asmith's baresip never shows bob's message" \
	sh -c "! tr -d '\\r' <'$D/bs.alice/out.log' | grep -q 'still there? $$'"
te_check "status: link down, both refusals counted, no SASL answered" \
	status '
c["link"] == "down" and c["tls_refused"] >= 2 and c["sasl_refused"] == {}
and [k for k in s["communities"]
     if k["name"] == "jabber"][0]["rejections"]["tls-failure"] >= 1
and not [x for x in c["streams"] if x["auth"] != "none"]'


# ---- 3. one stream, a second community claimed on it ----------------------
ps_stop "$D/prosody2"
te_stop "$XU_bob2"
C=$D/certs
te_check "Prosody stopped again: jabber's link is down" \
	status 'c["link"] == "down" and not c["streams"]'
mark "$D/cn.log"
/usr/bin/python3 "$PEER" connect xmpp.test acme.test $XIP $CNIP 5269 \
	"$C/xmpp.test.pem" "$C/xmpp.test.key" "$C/ca.pem" \
	db:xmpp.test wait:1 db:other.test \
	"message:alice.smith@acme.test:after the other claim $$" wait:1 \
	>"$D/two.log" 2>&1
te_check "the peer authenticates xmpp.test by dialback on its stream" \
	has "$D/two.log" "^db-result xmpp\\.test type=valid"
te_check "  jabber's link came up with that stream" \
	waits "$D/cn.log" "xmpp link community=jabber state=up" 1
te_check "  other.test claimed on the same stream: answered invalid, the stream kept" \
	sh -c "grep -q '^db-result other.test type=invalid' '$D/two.log' &&
		! grep -q '^stream-error' '$D/two.log'"
te_check "  logged as a claim of another community's domain" \
	has "$D/cn.log" "xmpp stream in community=jabber peer=$XIP:[0-9]+ domain=other\\.test refused reason=other-community claimed=jabber2"
te_check "  bob's message after it, on the same stream, reaches asmith" \
	bsgot "after the other claim $$"
te_check "  the peer gone: jabber's link goes down with its stream" \
	waits "$D/cn.log" "xmpp link community=jabber state=down" 3
te_check "status: jabber down with no stream, the claim counted for jabber2, its link never up" \
	status '
c["link"] == "down" and not c["streams"] and c["untrusted_ip"] == 0
and [(k["link"], k.get("other_community_claims"), k["streams"],
      k["untrusted_ip"]) for k in s["xmpp"]["communities"]
     if k["name"] == "jabber2"] == [("down", 1, [], 0)]'
te_check "  nothing logged up for jabber2" \
	hasnt "$D/cn.log" "xmpp link community=jabber2 state=up"

# ---- 4. a peer of the test's own ----------------------------------------
te_spawn "$D/peer.log" /usr/bin/python3 "$PEER" serve xmpp.test $XIP \
	$PS_S2S_PORT "$C/xmpp.test.pem" "$C/xmpp.test.key" "$C/ca.pem" $CNIP 5269
te_check "the test's peer serves xmpp.test on $XIP:$PS_S2S_PORT" \
	te_wait_for "$D/peer.log" "^listening" 5
sleep 4		# our backoff after the refusals of 2.
mark "$D/cn.log"
mark "$D/peer.log"
bs_cmd alice "/message by dialback then $$"
te_check "our EXTERNAL (authzid acme.test) is refused by the peer" \
	waits "$D/peer.log" "^auth 1 mechanism=EXTERNAL authzid=acme\\.test" 5
te_check "we log it: dialback next" \
	waits "$D/cn.log" "xmpp stream out community=jabber peer=$XIP:$PS_S2S_PORT domain=xmpp\\.test sasl external failed condition=not-authorized next=dialback" 2
te_check "a new stream: our dialback key, valid by db:verify at our listener" \
	waits "$D/peer.log" "^verify 2 type=valid" 5
te_check "the peer has asmith's message, on the new stream" \
	waits "$D/peer.log" "^message 2 from=Alice\\.Smith@acme\\.test body=by dialback then $$" 5
te_check "no EXTERNAL on the new stream" hasnt "$D/peer.log" "^auth 2"
te_check "status: our stream ready by dialback, one fallback counted" \
	status '
("out", "ready", "valid", "dialback") in
{(x["direction"], x["state"], x["tls"], x["auth"]) for x in c["streams"]}
and c["sasl_fallbacks"] == 1 and c["link"] == "up"'

mark "$D/cn.log"
/usr/bin/python3 "$PEER" connect xmpp.test acme.test $XIP $CNIP 5269 \
	"$C/xmpp.test.pem" "$C/xmpp.test.key" "$C/ca.pem" \
	auth:EXTERNAL:evil.test auth:PLAIN:bob auth:EXTERNAL:= \
	"message:alice.smith@acme.test:hello from the peer $$" wait:1 \
	>"$D/in.log" 2>&1
te_check "inbound from $XIP: EXTERNAL offered with dialback" \
	has "$D/in.log" "^features 2 mechanisms=EXTERNAL dialback=yes"
te_check "  authzid evil.test: <failure><invalid-authzid/>" \
	has "$D/in.log" "^auth failure invalid-authzid"
te_check "  mechanism PLAIN: <failure><invalid-mechanism/>" \
	has "$D/in.log" "^auth failure invalid-mechanism"
te_check "  EXTERNAL, empty authzid: <success/>, the restarted stream offers no EXTERNAL" \
	sh -c "grep -q '^auth success' '$D/in.log' &&
		grep -q '^features 3 mechanisms=- dialback=yes' '$D/in.log' &&
		! grep -q '^stream-error' '$D/in.log'"
te_check "  we log the stream authenticated by sasl-external" \
	waits "$D/cn.log" "xmpp stream in community=jabber peer=$XIP:[0-9]+ domain=xmpp\\.test authenticated auth=sasl-external tls=valid" 2
te_check "  asmith's baresip shows the peer's message from bob@xmpp.test" \
	bsgot "hello from the peer $$"

mark "$D/cn.log"
/usr/bin/python3 "$PEER" connect xmpp.test acme.test $NET.99 $CNIP 5269 \
	"$C/xmpp.test.pem" "$C/xmpp.test.key" "$C/ca.pem" \
	auth:EXTERNAL:= wait:1 >"$D/in2.log" 2>&1
te_check "inbound from $NET.99 (not xmpp.test's): EXTERNAL refused, stream closed" \
	sh -c "grep -q '^auth failure not-authorized' '$D/in2.log' &&
		grep -q '^stream-error policy-violation' '$D/in2.log'"
te_check "  counted untrusted-ip" \
	waits "$D/cn.log" "reject reason=untrusted-ip community=jabber src=$NET\\.99" 2
te_check "status: each refused EXTERNAL counted by its condition" \
	status '
c["sasl_refused"] == {"invalid-authzid": 1, "invalid-mechanism": 1,
                      "not-authorized": 1}
and c["untrusted_ip"] == 1'

# ---- 5. streams that never authenticate ------------------------------------
mark "$D/cn.log"
te_spawn "$D/slow.log" /usr/bin/python3 "$PEER" connect xmpp.test acme.test \
	$NET.98 $CNIP 5269 "$C/xmpp.test.pem" "$C/xmpp.test.key" "$C/ca.pem" \
	space:40
te_check "a stream from $NET.98 has STARTTLS done, then only whitespace" \
	te_wait_for "$D/slow.log" "^features 2 " 5
# hold N connections from each address given for 10 s; print how many
# of them the connector closed within the first 1.5 s
HOLD='
import select, socket, sys, time
n = int(sys.argv[1])
socks = []
for a in sys.argv[3:]:
    for i in range(n):
        s = socket.socket()
        s.bind((a, 0))
        s.connect((sys.argv[2], 5269))
        socks.append(s)
def gone():
    g = 0
    for s in socks:
        if select.select([s], [], [], 0)[0]:
            try:
                g += not s.recv(65536)
            except OSError:
                g += 1
    return g
time.sleep(1.5)
print("held=%d closed=%d" % (len(socks), gone()), flush=True)
time.sleep(8.5)
'
te_spawn "$D/many.log" /usr/bin/python3 -c "$HOLD" 70 $CNIP $NET.98
te_check "70 more connections from $NET.98: 7 held, 63 refused at once" \
	te_wait_for "$D/many.log" "^held=70 closed=63$" 8
te_check "  status: 8 streams not authenticated, 63 refused" \
	status '
s["xmpp"]["unauthenticated_in"] == 8
and s["xmpp"]["unauthenticated_per_address_max"] == 8
and s["xmpp"]["unauthenticated_in_max"] == 64
and s["xmpp"]["unauthenticated_refused"] == 63'
te_check "  logged and counted conn-limit" \
	has "$D/cn.log" "reject reason=conn-limit community=- src=$NET\\.98 detail=\"xmpp streams not authenticated from this address=8\""
te_check "the whitespace stream is closed 20 s after it began: connection-timeout" \
	te_wait_for "$D/slow.log" "^stream-error connection-timeout" 25
te_check "  logged: no authentication in time" \
	has "$D/cn.log" "xmpp stream in community=jabber peer=$NET\\.98:[0-9]+ domain=- closed reason=\"no authentication in time\""
te_check "  status counts it" \
	status 's["xmpp"]["auth_timeouts"] >= 1
and c["stream_errors"].get("connection-timeout", 0) >= 1'
unauth_none()	# within 10 s, no inbound stream is left unauthenticated
{
	_i=0
	while [ $_i -lt 50 ]; do
		status 's["xmpp"]["unauthenticated_in"] == 0' >/dev/null && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	status 's["xmpp"]["unauthenticated_in"] == 0'
}
te_check "  the held ones go too: no stream left unauthenticated" unauth_none

mark "$D/cn.log"
te_spawn "$D/full.log" /usr/bin/python3 -c "$HOLD" 8 $CNIP \
	$NET.80 $NET.81 $NET.82 $NET.83 $NET.84 $NET.85 $NET.86 $NET.87
te_check "64 held from $NET.80-87: every place for streams not authenticated" \
	te_wait_for "$D/full.log" "^held=64 closed=0$" 8
/usr/bin/python3 "$PEER" connect xmpp.test acme.test $XIP $CNIP 5269 \
	"$C/xmpp.test.pem" "$C/xmpp.test.key" "$C/ca.pem" auth:EXTERNAL:= \
	"message:alice.smith@acme.test:through the crowd $$" wait:1 \
	>"$D/in3.log" 2>&1
te_check "the peer's real stream from $XIP still gets in and authenticates" \
	sh -c "grep -q '^auth success' '$D/in3.log' && ! grep -q '^stream-error' '$D/in3.log'"
te_check "  asmith's baresip shows bob's message" \
	bsgot "through the crowd $$"
te_check "  the oldest held was closed for it: logged and counted conn-limit" \
	has "$D/cn.log" "reject reason=conn-limit community=- src=$NET\\.80 detail=\"xmpp stream evicted, not authenticated=64\""
te_check "  status: one evicted" \
	status 's["xmpp"]["unauthenticated_evicted"] == 1'

bs_cmd alice /quit
te_stop "$GWPID"
te_stop "$CNPID"
te_check "no sanitizer report" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log' '$D/gw.log'"
te_done
