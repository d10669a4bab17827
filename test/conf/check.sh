#!/bin/sh
# check.sh -- `stconnector check` on the sample files and on broken
# copies: what an administrator sees on stdout, stderr and in $?.
. "$top_srcdir/test/lib/testenv.sh"
te_init conf-check

SC=$top_builddir/connector/stconnector
EX=$top_srcdir/conf/examples
D=$TE_DIR

# A sample copy with the files it names: check opens them as the
# daemon would, so they are real (certtool), and the run directory the
# control socket and PID file go in exists.
te_certs "$D/pki" sip.acme.test:127.0.0.10 sip.chicago.test:127.0.0.20 ||
	te_fail "certtool made the test certificates"
for c in acme chicago; do
	mkdir -p "$D/$c/certs" "$D/$c/run"
	cp "$EX/$c.test.xml" "$D/$c/"
	echo "# users" >"$D/$c/$c.test.ldif"
	cp "$D/pki/sip.$c.test.chain.pem" "$D/$c/certs/sip.$c.test.pem"
	cp "$D/pki/ca.pem" "$D/$c/certs/ca.pem"
	cp "$D/pki/sip.$c.test.key" "$D/$c/certs/sip.$c.test.key"
	chmod 600 "$D/$c/certs/sip.$c.test.key"
done

# run ARGS...: $rc, $D/out, $D/err
run()
{
	"$SC" "$@" >"$D/out" 2>"$D/err"
	rc=$?
}

has() # FILE LINE: the exact line is in FILE
{
	grep -qxF -- "$2" "$1" || { echo "  missing in $1: $2"; \
		sed 's/^/  | /' "$1"; return 1; }
}

run check -c "$D/acme/acme.test.xml"
te_check "acme sample: exit 0" [ "$rc" = 0 ]
te_check "acme sample: configuration OK" has "$D/out" "configuration OK"
te_check "acme sample: nothing on stderr" [ ! -s "$D/err" ]
te_check "acme sample: community" has "$D/out" "community acme: acme.test"
te_check "acme sample: gateway" has "$D/out" \
	"gateway acme-gw: external communities yes, convert IDs yes"
te_check "acme sample: gateway clients" has "$D/out" \
	"    clients: udp 127.0.0.11:5060 tcp 127.0.0.11:5060"
te_check "acme sample: gateway connectors" has "$D/out" \
	"    connectors: tls 127.0.0.11:5070"
te_check "acme sample: extern" has "$D/out" \
	"extern community chicago: chicago.test, *.chicago.test; proxy sip.chicago.test, tls port 5061; accepted on tls"
te_check "acme sample: connector" has "$D/out" \
	"connector acme-edge: 127.0.0.10 port 5060, tls port 5061; gateways acme-gw"
te_check "acme sample: supported" has "$D/out" "    supports chicago: enabled"
te_check "acme sample: directory" has "$D/out" \
	"directory: file $D/acme/acme.test.ldif"
te_check "acme sample: tls" has "$D/out" \
	"tls: certificate $D/acme/certs/sip.acme.test.pem, key $D/acme/certs/sip.acme.test.key, ca $D/acme/certs/ca.pem, verify required"
te_check "acme sample: dns" has "$D/out" "dns: 127.0.0.53:5353, timeout 2000 ms; expired answers serve up to 3600 s while the DNS fails"
te_check "acme sample: trace" has "$D/out" "trace: disabled"

run check -c "$D/chicago/chicago.test.xml"
te_check "chicago sample: exit 0" [ "$rc" = 0 ]
te_check "chicago sample: configuration OK" has "$D/out" "configuration OK"
te_check "chicago sample: connector" has "$D/out" \
	"connector chicago-edge: 127.0.0.20 port 5060, tls port 5061; gateways chicago-gw"
te_check "chicago sample: extern" has "$D/out" \
	"extern community acme: acme.test, *.acme.test; proxy sip.acme.test, tls port 5061; accepted on tls"

# Relative -c path: files resolve against the config file's directory.
(cd "$D" && "$SC" check -c acme/acme.test.xml >"$D/out" 2>"$D/err")
te_check "relative -c: exit 0" [ $? = 0 ]
te_check "relative -c: absolute ldif path" has "$D/out" \
	"directory: file $D/acme/acme.test.ldif"

# Broken copies: two mistakes, both reported, exit 1.
B=$D/acme/broken.xml
sed -e 's/ip="127.0.0.10" port="5060"/ip="127.0.0.300" port="5060"/' \
    -e 's|<SupportedCommunity name="chicago"|<SupportedCommunity name="boston"|' \
    "$D/acme/acme.test.xml" >"$B"
l_cn=$(grep -n '<CommunityConnector' "$B" | cut -d: -f1)
l_su=$(grep -n '<SupportedCommunity' "$B" | cut -d: -f1)
run check -c "$B"
te_check "broken: exit 1" [ "$rc" = 1 ]
te_check "broken: no OK" [ ! -s "$D/out" ]
te_check "broken: bad ip line" has "$D/err" \
	"$B:$l_cn: CommunityConnector \"acme-edge\": ip \"127.0.0.300\" is not a numeric IPv4 or IPv6 address"
te_check "broken: dangling community line" has "$D/err" \
	"$B:$l_su: CommunityConnector \"acme-edge\": SupportedCommunity \"boston\" is not an ExternCommunity in this file"
te_check "broken: exactly two lines" [ "$(wc -l <"$D/err")" = 2 ]

# A key others can read.
chmod 644 "$D/acme/certs/sip.acme.test.key"
l_tls=$(grep -n '<Tls' "$D/acme/acme.test.xml" | cut -d: -f1)
run check -c "$D/acme/acme.test.xml"
te_check "readable key: exit 1" [ "$rc" = 1 ]
te_check "readable key: message" has "$D/err" \
	"$D/acme/acme.test.xml:$l_tls: secret file $D/acme/certs/sip.acme.test.key is readable by group or others (mode 0644); chmod 600 it"
chmod 600 "$D/acme/certs/sip.acme.test.key"

# An unknown record.
sed 's|</CommunityConfig>|<Foo/>\n</CommunityConfig>|' \
	"$D/acme/acme.test.xml" >"$B"
l_foo=$(grep -n '<Foo/>' "$B" | cut -d: -f1)
run check -c "$B"
te_check "unknown record: exit 1" [ "$rc" = 1 ]
te_check "unknown record: message" has "$D/err" "$B:$l_foo: unknown record <Foo>"

# acceptTransports: a list of transports; a word that is none of them
sed 's|<ExternCommunity name="chicago" transport="tls" port="5061">|<ExternCommunity name="chicago" transport="tls" port="5061" acceptTransports="tcp  udp">|' \
	"$D/acme/acme.test.xml" >"$B"
run check -c "$B"
te_check "acceptTransports: exit 0" [ "$rc" = 0 ]
te_check "acceptTransports: shown" has "$D/out" \
	"extern community chicago: chicago.test, *.chicago.test; proxy sip.chicago.test, tls port 5061; accepted on udp tcp tls"
sed 's|<ExternCommunity name="chicago" transport="tls" port="5061">|<ExternCommunity name="chicago" transport="tls" port="5061" acceptTransports="tcp smtp">|' \
	"$D/acme/acme.test.xml" >"$B"
l_ex=$(grep -n '<ExternCommunity name="chicago"' "$B" | cut -d: -f1)
run check -c "$B"
te_check "acceptTransports smtp: exit 1" [ "$rc" = 1 ]
te_check "acceptTransports smtp: message" has "$D/err" \
	"$B:$l_ex: ExternCommunity \"chicago\": attribute acceptTransports must be one or more of udp, tcp or tls separated by spaces, not \"tcp smtp\""
sed 's|<Dns |<Dns serveStale="0" |' "$D/acme/acme.test.xml" >"$B"
run check -c "$B"
te_check "serveStale 0: shown" has "$D/out" \
	"dns: 127.0.0.53:5353, timeout 2000 ms; expired answers never serve"
sed 's|<Dns timeout="2000"|<Dns|' "$D/acme/acme.test.xml" >"$B"
run check -c "$B"
te_check "no Dns timeout: the resolver's default" has "$D/out" \
	"dns: 127.0.0.53:5353, the resolver's default timeout; expired answers serve up to 3600 s while the DNS fails"

run check -c "$D/nothing.xml"
te_check "missing file: exit 1" [ "$rc" = 1 ]
te_check "missing file: message" has "$D/err" \
	"$D/nothing.xml: cannot read: No such file or directory"

run check -c "$D/acme/acme.test.xml" extra
te_check "usage error: exit 2" [ "$rc" = 2 ]
run check -c
te_check "check -c without FILE: exit 2" [ "$rc" = 2 ]
run frobnicate
te_check "unknown command: exit 2" [ "$rc" = 2 ]

run --help
te_check "--help: exit 0" [ "$rc" = 0 ]
te_check "--help: lists check" grep -q "stconnector check \[-c FILE\]" "$D/out"
run --version
te_check "--version: exit 0" [ "$rc" = 0 ]
te_check "--version: prints the version" grep -Eq '^stconnector [0-9]+\.[0-9]+\.[0-9]+$' "$D/out"

te_done
