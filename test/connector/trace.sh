#!/bin/sh
# trace.sh -- the Trace record: a connector with tracing on writes every
# message in and out to its trace file, credentials masked and bodies
# left out at level 1; a reload reopens the file so that it can be
# rotated; status counts the records.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-trace

SC=$top_builddir/connector/stconnector
SEND=$top_srcdir/test/connector/sipsend.py
D=$TE_DIR
F=$D/community.xml
CN=127.0.17.10 GW=127.0.17.11 PEER=127.0.17.30 PORT=15060
mkdir -p "$D/run"

conf()
{
	cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw">
    <ClientListen transport="udp" address="$GW" port="15080"/>
    <ConnectorListen transport="udp" address="$GW" port="15070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tcp">
    <Domain>chicago.test</Domain><Proxy>127.0.17.20</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="$PORT"
                      tlsPort="15061" control="run/cn.sock"
                      pidFile="run/cn.pid">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <Trace enable="true" file="run/sip.trace" level="$1"/>
</CommunityConfig>
EOF
}

# options TRANSPORT: an OPTIONS to the connector itself, with
# credentials and a body a trace must not keep; prints the answer.
options()
{
	_tp=$(echo "$1" | tr a-z A-Z)
	sed "s/@TP@/$_tp/" <<'EOF' | python3 "$SEND" $PEER $CN $PORT "$1" 5
OPTIONS sip:127.0.17.10:15060 SIP/2.0
Via: SIP/2.0/@TP@ @SRC@:@PORT@;branch=@BRANCH@
From: <sip:probe@chicago.test>;tag=t1
To: <sip:127.0.17.10:15060>
Call-ID: trace-@BRANCH@
CSeq: 1 OPTIONS
Max-Forwards: 70
Proxy-Authorization: Digest username="probe", response="5ec1e7d16e5ec1e7"
Content-Type: text/plain

a secret sentence
EOF
}

conf 1
te_spawn "$D/daemon.log" "$SC" -f -c "$F"
PID=$TE_LASTPID
te_check "connector listening" te_wait_udp $CN $PORT 10

T=$D/run/sip.trace
got=$(options udp)
te_check "udp OPTIONS answered 200 (got: $got)" [ "${got%% *}" = 200 ]
got=$(options tcp)
te_check "tcp OPTIONS answered 200 (got: $got)" [ "${got%% *}" = 200 ]

te_check "trace file exists, mode 0600" \
	[ "$(stat -c %a "$T" 2>/dev/null)" = 600 ]
te_check "trace: the request in over udp, with its peer" \
	grep -Eq "^=== [0-9T:.-]+Z in udp $PEER:[0-9]+ -> $CN:$PORT " "$T"
te_check "trace: the answer out over udp" \
	grep -Eq "^=== [0-9T:.-]+Z out udp $CN:$PORT -> $PEER:[0-9]+ " "$T"
te_check "trace: the request in over tcp" \
	grep -Eq "^=== .* in tcp $PEER:[0-9]+ -> $CN:[0-9]+ " "$T"
te_check "trace: the 200 written" grep -q '^SIP/2.0 200 ' "$T"
te_check "trace: OPTIONS start line written" \
	grep -q '^OPTIONS sip:127.0.17.10:15060 SIP/2.0$' "$T"
te_check "trace: credentials masked" \
	grep -q '^Proxy-Authorization: Digest \*\*\*$' "$T"
te_check "trace: no digest response in the file" \
	sh -c "! grep -q 5ec1e7d16e5ec1e7 '$T'"
te_check "trace: level 1 keeps no body" \
	sh -c "! grep -q 'secret sentence' '$T'"
te_check "trace: level 1 says the body's size" \
	grep -q '^(body: 18 bytes)$' "$T"

"$SC" status trace -c "$F" >"$D/status.out" 2>&1
te_check "status: trace enabled with records" \
	grep -Eq '^ *records: *[1-9]' "$D/status.out"

# Rotate: move the file away, switch to level 2, reload; the connector
# writes a new file, with bodies.
mv "$T" "$T.1"
n_rotated=$(grep -c '^=== ' "$T.1")
conf 2
"$SC" reload -c "$F" >"$D/reload.out" 2>&1
te_check "reload ok" grep -q '^reload ok' "$D/reload.out"
got=$(options udp)
te_check "after reload: answered (got: $got)" [ "${got%% *}" = 200 ]
te_check "after reload: a new trace file" [ -s "$T" ]
te_check "after reload: level 2 keeps the body" \
	grep -q '^a secret sentence$' "$T"
te_check "after reload: credentials still masked" \
	sh -c "! grep -q 5ec1e7d16e5ec1e7 '$T'"
te_check "the rotated file got nothing more" \
	[ "$(grep -c '^=== ' "$T.1")" = "$n_rotated" ]
te_check "trace: the keepalive to the gateway is traced too" \
	grep -Eq "^=== .* out udp $CN:$PORT -> $GW:15070 " "$T.1"

te_stop $PID
te_check "daemon stopped cleanly" \
	sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$D/daemon.log'"
te_done
