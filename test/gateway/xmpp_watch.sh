#!/bin/sh
# xmpp_watch.sh -- stgateway subscribing per local watcher to a contact
# in an XMPP community (ExternCommunity protocol="xmpp"):
#
#   127.0.131.1   stgateway for acme.test (clients udp 5060,
#                 ConnectorListen tcp 5070), ConvertID, LDIF directory
#                 (asmith has mail Alice.Smith@acme.test)
#   127.0.131.2   sipp standing in for acme's connector (tcp 5060): it
#                 logs each SUBSCRIBE it would turn into an XMPP
#                 subscription request; bob@xmpp.test approves Alice
#                 (pending first, with a document that must not show)
#                 and refuses local bob (terminated;reason=rejected)
#   127.0.131.2x  sipp as the local watchers asmith and bob
#
# The link is TCP: the sipp here has no TLS, and what is shown -- who is
# asked, From whom, what each watcher sees -- does not depend on the
# link's transport (test/gateway/kamailio.sh and federation.sh show the
# TLS and TCP links themselves).
#
# Shown: two watchers of bob@xmpp.test make two SUBSCRIBEs, each From
# its watcher's federation address (Alice.Smith@acme.test, with
# P-Asserted-Identity); Alice sees offline while pending, then bob's
# state from her own subscription; local bob, refused, sees offline and
# is not asked again until he opens a new dialog; status counts the
# per-watcher subscriptions; Alice leaving ends her subscription
# (Expires 0) and not bob's.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init gw-xmpp-watch
D=$TE_DIR
GW=$top_builddir/gateway/stgateway
SC=$top_srcdir/test/gateway/fed
XW=$top_srcdir/test/gateway/xw
GWIP=127.0.131.1
CNIP=127.0.131.2

for tool in sipp certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -20; return 1; }
}

# count FILE ERE N: exactly N lines of FILE match
count()
{
	_n=$(grep -Ec -- "$2" "$1" 2>/dev/null)
	[ "${_n:-0}" = "$3" ] || { echo "  $1: ${_n:-0} lines match $2, want $3"; return 1; }
}

# wait_count FILE ERE N SECONDS: wait until N lines of FILE match
wait_count()
{
	_t=0
	while [ $_t -lt $(($4 * 10)) ]; do
		[ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
		_t=$((_t + 1))
	done
	echo "  $1: fewer than $3 lines match $2"
	return 1
}

# ---- certificates, the community file ----
te_check "certificates for the gateway" te_certs "$D/certs" sip.acme.test:$GWIP
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
mkdir -p "$D/run"
cat >"$D/acme.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true"
                    ConvertID="true" control="$D/run/gw.sock"
                    pidFile="$D/run/gw.pid" retryInterval="2">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="5070"/>
  </CommunityGateway>
  <ExternCommunity name="jabber" protocol="xmpp">
    <Domain>xmpp.test</Domain>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CNIP" port="5060"
                      tlsPort="5061" retryInterval="2">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="jabber" enabled="true"/>
  </CommunityConnector>
  <CommunityConnectivity><TrustedIP>$CNIP</TrustedIP></CommunityConnectivity>
  <Directory backend="file">
    <File>acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"
                privacy="description"/>
    <Privacy default="all"/>
  </Directory>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="none"/>
</CommunityConfig>
EOT

# ---- the connector (sipp), the gateway ----
te_spawn "$D/cn.out" sipp -sf "$XW/connector.xml" -t t1 -i $CNIP -p 5060 \
	-nostdin -trace_logs -log_file "$D/cn.log" -trace_msg \
	-message_file "$D/cn.msg"
te_check "the connector (sipp) listens on $CNIP:5060" te_wait_tcp $CNIP 5060 5

te_spawn "$D/gw.log" "$GW" -f -c "$D/acme.xml"
GWPID=$TE_LASTPID
te_check "stgateway: connector link up" \
	te_wait_for "$D/gw.log" "gw: connector up name=acme-edge" 10

# watch NAME USER PASS IP PORT: a local watcher of bob@xmpp.test that
# stays (local_watch.xml); its PID in W_NAME
watch()
{
	te_spawn "$D/$1.out" sipp -sf "$SC/local_watch.xml" -key from "$2" \
		-key to bob@xmpp.test -au "$2" -ap "$3" \
		-auth_uri bob@xmpp.test -i "$4" -p "$5" -nostdin -trace_logs \
		-log_file "$D/$1.log" -m 1 $GWIP:5060
	eval "W_$1=\$TE_LASTPID"
}

# ---- bob refuses local bob ----
watch b1 bob bobpw 127.0.131.22 5090
te_check "local bob's watch: SUBSCRIBE From his own address, not the gateway's" \
	te_wait_for "$D/cn.log" "^SUBSCRIBE from=sip:bob@acme.test to=sip:bob@xmpp.test expires=600 pai=sip:bob@acme.test" 10
te_check "bob@xmpp refuses him; the gateway answers the NOTIFY" \
	te_wait_for "$D/cn.log" "NOTIFY rejected answered from=sip:bob@acme.test" 5
te_check "the gateway logs the refusal, final until a new dialog" \
	te_wait_for "$D/gw.log" "gw: federation subscription rejected presentity=sip:bob@xmpp.test watcher=sip:bob@acme.test from=bob@acme.test action=none-until-new-dialog" 5

"$GW" status --json -c "$D/acme.xml" >"$D/st1.json" 2>&1
cat >"$D/check.py" <<'EOT'
import json, sys
f = json.load(open(sys.argv[1]))["federation"]
c = [x for x in f["external_communities"] if x["name"] == "jabber"][0]
w = c.get("watcher_subscriptions", {})
want = [int(n) for n in sys.argv[2].split("/")]
ok = c["protocol"] == "xmpp" and c["subscriptions"] == "per-watcher" \
    and [w.get("active"), w.get("pending"), w.get("rejected")] == want
if ok and len(sys.argv) > 3:
    p = [x for x in f["presentities"] if x.get("watcher") == sys.argv[3]]
    ok = len(p) == 1 and p[0]["from"] == sys.argv[4] \
        and p[0]["approval"] == sys.argv[5]
print(json.dumps(f, indent=1)) if not ok else None
sys.exit(0 if ok else 1)
EOT
te_check "status: jabber is xmpp, per watcher: 0 active, 0 pending, 1 rejected (bob's)" \
	python3 "$D/check.py" "$D/st1.json" 0/0/1 sip:bob@acme.test bob@acme.test rejected

# ---- bob approves Alice ----
te_spawn "$D/a1.out" sipp -sf "$SC/local_watch_once.xml" -key from asmith \
	-key to bob@xmpp.test -au asmith -ap alicepw -auth_uri bob@xmpp.test \
	-i 127.0.131.21 -p 5090 -m 1 -timeout 30 -timeout_error -nostdin \
	-trace_logs -log_file "$D/a1.log" $GWIP:5060
te_check "asmith's watch: SUBSCRIBE From Alice.Smith@acme.test (P-Asserted-Identity too)" \
	te_wait_for "$D/cn.log" "^SUBSCRIBE from=sip:Alice.Smith@acme.test to=sip:bob@xmpp.test expires=600 pai=sip:Alice.Smith@acme.test" 10
te_check "bob approves her (pending first, then open)" \
	te_wait_for "$D/cn.log" "NOTIFY open answered from=sip:Alice.Smith@acme.test" 10
"$GW" status --json -c "$D/acme.xml" >"$D/st2.json" 2>&1
te_check "status while both watch: 1 active (Alice's, From Alice.Smith), 0 pending, 1 rejected" \
	python3 "$D/check.py" "$D/st2.json" 1/0/1 sip:asmith@acme.test Alice.Smith@acme.test active
"$GW" status -c "$D/acme.xml" >"$D/st2.txt" 2>&1
te_check "the summary says so per community" \
	has "$D/st2.txt" "jabber: +1 presentities watched, 2 local watchers; xmpp, per watcher: 1 active, 0 pending, 1 rejected, 0 retrying"
te_check "Alice hears offline, open, away -- nothing of the pending document" \
	sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do grep -q 'NOTIFY final' '$D/a1.log' && break; sleep 1; done;
	       [ \"\$(grep '^NOTIFY basic=' '$D/a1.log' | tr '\n' ' ')\" = 'NOTIFY basic=closed activity= NOTIFY basic=open activity= NOTIFY basic=open activity=away ' ]" \
	|| sed 's/^/  | /' "$D/a1.log" | tail -10
te_check "local bob saw only offline: his own subscription was refused" \
	sh -c "grep -q 'basic=closed' '$D/b1.log' && ! grep -q 'basic=open' '$D/b1.log'"

# ---- Alice leaves: her subscription ends, bob's state is his own ----
te_check "Alice leaves (her client's final NOTIFY: terminated)" \
	te_wait_for "$D/a1.log" "NOTIFY final state=terminated" 10
te_check "her federation subscription is ended: in-dialog SUBSCRIBE Expires 0 From her" \
	te_wait_for "$D/cn.log" "in-dialog SUBSCRIBE expires=0 from=sip:Alice.Smith@acme.test" 10
te_check "the connector's terminating NOTIFY gets 200" \
	te_wait_for "$D/cn.log" "terminating NOTIFY answered from=sip:Alice.Smith@acme.test" 5

# ---- refused bob is not asked again, but on a new dialog ----
sleep 4	# past the 3 s a transient failure would wait
te_check "bob@xmpp is not asked again for local bob (one SUBSCRIBE From him)" \
	count "$D/cn.log" "^SUBSCRIBE from=sip:bob@acme.test" 1
watch b2 bob bobpw 127.0.131.23 5090
te_check "a new dialog of local bob asks bob@xmpp again, From him, and is refused" \
	wait_count "$D/cn.log" "NOTIFY rejected answered from=sip:bob@acme.test" 2 10
te_check "two SUBSCRIBEs From local bob in all, one per dialog" \
	count "$D/cn.log" "^SUBSCRIBE from=sip:bob@acme.test" 2
te_check "the gateway logs why it asked again" \
	has "$D/gw.log" "gw: federation subscription retried presentity=sip:bob@xmpp.test watcher=sip:bob@acme.test reason=new-dialog"
te_check "no SUBSCRIBE went From the gateway's identity" \
	count "$D/cn.log" "^SUBSCRIBE from=sip:acme-gw@" 0
"$GW" status --json -c "$D/acme.xml" >"$D/st3.json" 2>&1
te_check "status after Alice left: 0 active, 0 pending, 1 rejected" \
	python3 "$D/check.py" "$D/st3.json" 0/0/1

te_stop "$W_b1"
te_stop "$W_b2"
te_stop "$GWPID"
te_check "stgateway stopped cleanly" grep -q "gw: stopped" "$D/gw.log"
te_check "no sanitizer report from stgateway" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/gw.log'"
te_done
