#!/bin/sh
# ejabberd.sh -- a real ejabberd run by test/lib/ejabberd.sh:
#
#   127.0.131.1  dnsmasq on 5353: _xmpp-server._tcp.acme.test SRV
#                -> xmpp.acme.test:5269 -> 127.0.131.5
#   127.0.131.2  ejabberd serving chicago.test (c2s 5222, s2s 5269)
#   127.0.131.3  alice@chicago.test's client (slixmpp)
#   127.0.131.4  bob@chicago.test's client (slixmpp)
#   127.0.131.5  a TCP listener on 5269 standing for acme.test's server
#
# Shown: ejabberd starts as a child of the test with everything in the
# test's directory; two users are registered; each logs in over c2s with
# STARTTLS verified against the test's CA (a client trusting another CA
# refuses the server); a chat message goes from one to the other; a
# message to x@acme.test makes ejabberd look up acme.test's SRV record
# at the test's dnsmasq (its resolver knows no other nameserver) and open
# s2s to the address found, from its own address, with a stream header
# to 'acme.test'; the user sees the message bounced; after a restart
# the registered users are still there.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/ejabberd.sh"

te_init xmpp-ejabberd
D=$TE_DIR
DNSIP=127.0.131.1
EJIP=127.0.131.2
ALIP=127.0.131.3
BOBIP=127.0.131.4
ACIP=127.0.131.5
U=$top_srcdir/test/xmpp/ejuser.py

for tool in dnsmasq certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -20; return 1; }
}

cat >"$D/records" <<EOT
srv-host=_xmpp-server._tcp.acme.test,xmpp.acme.test,5269
host-record=xmpp.acme.test,$ACIP
EOT
te_check "dnsmasq serves acme.test's SRV on $DNSIP:5353" \
	te_dnsmasq $DNSIP 5353 "$D/records"
te_check "certificates from the test's CA" te_certs "$D/certs" \
	chicago.test:$EJIP
te_check "a CA ejabberd's certificate does not come from" te_certs \
	"$D/other" other.test:127.0.131.9

# acme.test's server: record who connects and what stream it opens.
cat >"$D/acme.py" <<'EOT'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5269))
s.listen(4)
print('listening', flush=True)
while True:
    c, peer = s.accept()
    print('connect from=%s' % peer[0], flush=True)
    c.settimeout(5)
    data = b''
    try:
        while b'<stream:stream' not in data or \
                not data.split(b'<stream:stream', 1)[1].count(b'>'):
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    print('stream %s' % data.decode('utf-8', 'replace').replace('\n', ' '),
          flush=True)
    c.close()
EOT
te_spawn "$D/acme.log" /usr/bin/python3 -u "$D/acme.py" $ACIP
te_check "acme.test's stand-in listens on $ACIP:5269" te_wait_tcp $ACIP 5269 5

# ---- ejabberd ----
if ej_start "$D/ej" $EJIP chicago.test "$D/certs" $DNSIP 5353; then
	te_ok "ejabberd serves chicago.test on $EJIP (started in ${EJ_STARTED_IN}s)"
else
	te_fail "ejabberd serves chicago.test on $EJIP"
	exit 1
fi
te_check "ejabberd is a child of the test, not a service" \
	test "$(ps -o ppid= -p "$EJ_PID" | tr -d ' ')" = "$$"
te_check "no epmd was started" sh -c '! ss -Hltnp | grep -q epmd'
te_check "its log and spool are in the test directory" \
	test -s "$D/ej/log/ejabberd.log" -a -s "$D/ej/spool/schema.DAT"
# The VM's resolver configuration, as the running node reports it.
ej_eval 'inet:get_rc()' >"$D/rc" 2>&1
te_check "its resolver's only nameserver is dnsmasq $DNSIP:5353" \
	has "$D/rc" "\{nameservers,\{127,0,131,1\},5353\}"
te_check "  and no other nameserver" \
	test "$(grep -c nameserver "$D/rc")" = 1
te_check "  no resolv.conf, no hosts file, DNS only" has "$D/rc" \
	"\{resolv_conf,\[\]\}.*\{hosts_file,\[\]\}.*\{lookup,\[dns\]\}|\{lookup,\[dns\]\}"

te_check "alice registered" ej_register alice alice-pw
te_check "bob registered" ej_register bob bob-pw
users() { [ "$(ej_ctl registered_users chicago.test | sort | tr '\n' ' ')" = 'alice bob ' ]; }
te_check "ejabberdctl lists both" users

# user NAME JID PASSWORD SRC CAFILE: a client reading $D/NAME.in
user()
{
	mkfifo "$D/$1.in"
	te_spawn "$D/$1.log" sh -c "exec /usr/bin/python3 '$U' '$2' '$3' \
		'$4' $EJIP 5222 '$5' <'$D/$1.in'"
	sleep 86400 >"$D/$1.in" &
	TE_PIDS="$TE_PIDS $!"
}
cmd() { te_fifo_write "$D/$1.in" "$2"; }

# ---- c2s with STARTTLS ----
user mallory alice@chicago.test alice-pw 127.0.131.6 "$D/other/ca.pem"
te_check "a client trusting another CA refuses ejabberd's certificate" \
	te_wait_for "$D/mallory.log" "^tls-failed" 15
te_check "  and never logs in" sh -c "! grep -q '^online' '$D/mallory.log'"

user alice alice@chicago.test alice-pw $ALIP "$D/certs/ca.pem"
user bob bob@chicago.test bob-pw $BOBIP "$D/certs/ca.pem"
te_check "alice logs in over STARTTLS, certificate verified" \
	te_wait_for "$D/alice.log" "^online" 15
te_check "bob logs in over STARTTLS, certificate verified" \
	te_wait_for "$D/bob.log" "^online" 15
cmd alice "message bob@chicago.test hello bob"
te_check "bob gets alice's chat message" te_wait_for "$D/bob.log" \
	"^message from=alice@chicago.test type=chat body=hello bob$" 10
cmd bob "message alice@chicago.test hi alice"
te_check "alice gets bob's answer" te_wait_for "$D/alice.log" \
	"^message from=bob@chicago.test type=chat body=hi alice$" 10

# ---- s2s to acme.test, found through the test's DNS ----
cmd alice "message x@acme.test are you there"
te_check "ejabberd asks dnsmasq for _xmpp-server._tcp.acme.test" \
	te_wait_for "$D/dnsmasq.log" \
	"query\[SRV\] _xmpp-server._tcp.acme.test from 127\." 15
te_check "  and the address of xmpp.acme.test" te_wait_for "$D/dnsmasq.log" \
	"query\[A\] xmpp.acme.test from 127\." 15
te_check "acme.test's server sees ejabberd connect from $EJIP" \
	te_wait_for "$D/acme.log" "^connect from=$EJIP$" 15
te_check "  with a stream header to acme.test" te_wait_for "$D/acme.log" \
	"^stream .*<stream:stream[^>]* to=['\"]acme.test['\"]" 10
te_check "  in the server namespace, from chicago.test" te_wait_for \
	"$D/acme.log" "^stream .*jabber:server.*from=['\"]chicago.test['\"]" 1
te_check "alice sees her message to acme.test bounced" te_wait_for \
	"$D/alice.log" "^error from=x@acme.test condition=remote-server-not-found" 60

# A name only /etc/hosts knows: asked of dnsmasq, which does not know it.
ej_eval 'inet:gethostbyname("localhost.")' >"$D/host" 2>&1
te_check "a name from /etc/hosts is asked of dnsmasq, and not found" \
	has "$D/host" "^\{error,"
te_check "  dnsmasq's log shows the query" has "$D/dnsmasq.log" \
	"query\[A\] localhost "

# ---- restart keeps the users ----
cmd alice quit
cmd bob quit
te_check "ejabberd restarts" ej_restart
te_check "  alice and bob are still registered" users
P=$EJ_PID
ej_stop
te_check "ej_stop stops the VM and its port helpers" sh -c \
	"! [ -e /proc/$P ] && ! ss -Hltn 'src $EJIP' | grep -q ."

te_done
