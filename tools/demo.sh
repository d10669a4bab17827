#!/bin/sh
# demo.sh -- the README's main job, on a fresh Debian machine as root:
# install what it uses, build, and run two federated communities,
# acme.test and chicago.test, on the sample files' own addresses
# (conf/examples):
#
#   127.0.0.53:5353   dnsmasq: sip.acme.test, sip.chicago.test, SRV
#   127.0.0.10        acme's stconnector     127.0.0.20  chicago's
#   127.0.0.11:5060   acme's stgateway       127.0.0.21  chicago's
#   127.0.0.31/.32    baresip: asmith (Alice.Smith@acme.test), bob
#   127.0.0.41/.42    baresip: bob.jones (Bob.Jones@chicago.test), kim
#   127.0.0.33/.43    sipp: alice's and Bob.Jones's second devices
#
# It shows, as it happens, what the users' clients report: presence
# across the federation (online, away, do not disturb, offline) and
# chat both ways; then `stconnector status` of both connectors.  Every
# line it prints is read from the output of those programs.  Then it
# stops everything it started, by PID (also on Ctrl-C).
#
#   sh tools/demo.sh           the show, then stop
#   sh tools/demo.sh --stay    the show, then leave both communities
#                              running for your own SIP client
#   sh tools/demo.sh --stop    stop what --stay left running
#
# STC_DEMO_NET=127.0.21 runs it on 127.0.21.x instead of 127.0.0.x.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${STC_BUILD:-$top/_build-demo}
run=${STC_RUN:-$top/_demo}
mode=show
case ${1:-} in
'') ;;
--stay) mode=stay ;;
--stop) mode=stop ;;
*) echo "usage: $0 [--stay | --stop]" >&2; exit 2 ;;
esac

PATH=$PATH:/usr/sbin:/sbin
# STC_DEMO_NET=127.0.21 moves every address to 127.0.21.x (for a machine
# where the sample addresses are taken)
NET=${STC_DEMO_NET:-127.0.0}
DNS=$NET.53
A_CN=$NET.10 A_GW=$NET.11 C_CN=$NET.20 C_GW=$NET.21
SIPP=$top/test/e2e/sipp
PIDS=""
DAEMONS=""

# stop_pids PID...: SIGTERM, then SIGKILL after 3 s
stop_pids()
{
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null || :
	done
	for p in "$@"; do
		i=0
		while kill -0 "$p" 2>/dev/null &&
		    ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null &&
		    [ $i -lt 30 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
}

if [ $mode = stop ]; then
	if [ ! -f "$run/pids" ]; then
		echo "demo: nothing to stop (no $run/pids)"
		exit 0
	fi
	# shellcheck disable=SC2046
	stop_pids $(cat "$run/pids")
	rm -f "$run/pids"
	echo "demo: stopped"
	exit 0
fi
if [ -f "$run/pids" ]; then
	echo "demo: a demo left running by --stay holds $run; stop it first:" >&2
	echo "      sh $0 --stop" >&2
	exit 1
fi

# ------------------------------------------------------------------
# install, build

sh "$top/tools/install-deps.sh" demo
if [ ! -x "$build/connector/stconnector" ] ||
    [ ! -x "$build/gateway/stgateway" ]; then
	echo "demo: building in $build (log: $build/build.log)"
	(cd "$top" && autoreconf -fi) >/dev/null 2>&1
	mkdir -p "$build"
	(cd "$build" && "$top/configure" && make -j2) >"$build/build.log" 2>&1 ||
		{ tail -20 "$build/build.log"; echo "demo: build failed" >&2; exit 1; }
fi
SC=$build/connector/stconnector
GW=$build/gateway/stgateway

# ------------------------------------------------------------------
# everything below is stopped on exit (unless --stay keeps the daemons)

keep=""
cleanup()
{
	trap - EXIT INT TERM HUP
	trap '' PIPE
	_stop=""
	for p in $PIDS; do
		case " $keep " in *" $p "*) ;; *) _stop="$_stop $p" ;; esac
	done
	# shellcheck disable=SC2086
	[ -n "$_stop" ] && stop_pids $_stop
	[ -z "$keep" ] && echo "demo: stopped everything it started" 2>/dev/null
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# spawn LOG CMD...: start CMD in the background in its own session
spawn()
{
	_log=$1
	shift
	setsid "$@" >"$_log" 2>&1 </dev/null &
	LAST=$!
	PIDS="$PIDS $LAST"
}

wait_for()	# FILE ERE SECONDS
{
	_n=$(($3 * 10))
	while [ $_n -gt 0 ]; do
		[ -f "$1" ] && tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;]*m//g' |
			grep -Eq -- "$2" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	echo "demo: timed out waiting for /$2/ in $1:" >&2
	[ -f "$1" ] && tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;]*m//g' | tail -5 >&2
	return 1
}

listening()	# PROTO ADDR PORT
{
	_n=50
	while [ $_n -gt 0 ]; do
		ss -Hln"$(echo "$1" | cut -c1)" "src $2:$3" | grep -q . && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	echo "demo: nothing listens on $1 $2:$3" >&2
	return 1
}

say() { printf '  %s\n' "$*"; }

# every address the demo takes must be free
busy=""
for a in $DNS:5353 $A_CN:5060 $A_CN:5061 $A_GW:5060 $A_GW:5070 $C_CN:5060 \
    $C_CN:5061 $C_GW:5060 $C_GW:5070 $NET.31:5060 $NET.32:5060 \
    $NET.41:5060 $NET.42:5060; do
	ss -Hlntu "src $a" 2>/dev/null | grep -q . && busy="$busy $a"
done
if [ -n "$busy" ]; then
	echo "demo: already in use by another program:$busy" >&2
	echo "      stop it, or move the demo: STC_DEMO_NET=127.0.21 sh $0" >&2
	exit 1
fi

rm -rf "$run"
mkdir -p "$run/certs"
chmod 700 "$run"
echo "demo: run directory $run"

# ---- certificates (certtool): one CA, one certificate per community
# naming its connector (sip.NAME) and both of its addresses
cd "$run/certs"
printf 'cn = "demo CA"\nserial = 1\nexpiration_days = 30\nca\ncert_signing_key\n' >ca.tmpl
certtool --no-text --generate-privkey --key-type=ecdsa --outfile ca.key 2>/dev/null
certtool --no-text --generate-self-signed --load-privkey ca.key \
	--template ca.tmpl --outfile ca.pem 2>/dev/null
serial=2
for c in acme:$A_CN:$A_GW chicago:$C_CN:$C_GW; do
	n=sip.${c%%:*}.test
	ips=${c#*:}
	printf 'cn = "%s"\nserial = %d\nexpiration_days = 30\ndns_name = "%s"\nip_address = "%s"\nip_address = "%s"\ntls_www_server\ntls_www_client\nsigning_key\nencryption_key\n' \
		"$n" $serial "$n" "${ips%%:*}" "${ips#*:}" >"$n.tmpl"
	certtool --no-text --generate-privkey --key-type=ecdsa --outfile "$n.key" 2>/dev/null
	chmod 600 "$n.key"
	certtool --no-text --generate-certificate --load-privkey "$n.key" \
		--load-ca-certificate ca.pem --load-ca-privkey ca.key \
		--template "$n.tmpl" --outfile "$n.pem" 2>/dev/null
	serial=$((serial + 1))
done
cd "$top"
echo "demo: certificates for sip.acme.test and sip.chicago.test (certtool)"

# ---- the community files: the samples as they are (on another address
# range when STC_DEMO_NET says so)
for s in acme chicago; do
	mkdir -p "$run/$s/run"
	sed -e "s#127\\.0\\.0\\.\\([0-9]*\\)#$NET.\\1#g" \
		"conf/examples/$s.test.xml" >"$run/$s/$s.test.xml"
	cp "conf/examples/$s.test.ldif" "$run/$s/"
	ln -s ../certs "$run/$s/certs"
	"$SC" check -c "$run/$s/$s.test.xml" >"$run/$s/check.out" 2>&1 ||
		{ cat "$run/$s/check.out"; exit 1; }
done
echo "demo: community files $run/acme/acme.test.xml, $run/chicago/chicago.test.xml: configuration OK"
echo "      (from conf/examples: TLS between the connectors and from each connector to its gateway)"

# ---- DNS
cat >"$run/dnsmasq.conf" <<EOT
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=$DNS
local=/test/
log-queries
local-ttl=60
host-record=sip.acme.test,$A_CN
host-record=sip.chicago.test,$C_CN
srv-host=_sips._tcp.acme.test,sip.acme.test,5061,0,0
srv-host=_sips._tcp.chicago.test,sip.chicago.test,5061,0,0
EOT
spawn "$run/dnsmasq.log" dnsmasq -k -C "$run/dnsmasq.conf" --port=5353 \
	--pid-file="$run/dnsmasq.pid" --log-facility=- --user="$(id -un)"
DAEMONS="$DAEMONS $LAST"
listening udp $DNS 5353
echo "demo: dnsmasq on $DNS:5353 (sip.acme.test = $A_CN, sip.chicago.test = $C_CN)"

# ---- the daemons: the gateways first (a connector that finds its
# gateway absent at start marks it down until the gateway's first
# request or its retryInterval, 60 s)
for s in acme:$A_CN:$A_GW chicago:$C_CN:$C_GW; do
	n=${s%%:*}
	ips=${s#*:}
	spawn "$run/$n/stgateway.log" "$GW" -f -c "$run/$n/$n.test.xml"
	DAEMONS="$DAEMONS $LAST"
	listening udp "${ips#*:}" 5060
	listening tcp "${ips#*:}" 5070
done
for s in acme:$A_CN:$A_GW chicago:$C_CN:$C_GW; do
	n=${s%%:*}
	ips=${s#*:}
	spawn "$run/$n/stconnector.log" "$SC" -f -c "$run/$n/$n.test.xml"
	DAEMONS="$DAEMONS $LAST"
	listening tcp "${ips%%:*}" 5061
done
for s in acme:$A_CN:$A_GW chicago:$C_CN:$C_GW; do
	n=${s%%:*}
	ips=${s#*:}
	wait_for "$run/$n/stgateway.log" "gw: connector up" 10
	echo "demo: $n.test: stconnector on ${ips%%:*} (tls 5061), stgateway on ${ips#*:} (clients udp/tcp 5060): linked"
done
printf '%s\n' $DAEMONS >"$run/pids.daemons"

# ---- the users, with baresip
# bs NAME IP USER@DOMAIN PASSWORD GATEWAY CONTACTS CURRENT
bs()
{
	_d=$run/bs.$1
	mkdir -p "$_d"
	cat >"$_d/config" <<EOT
poll_method		epoll
sip_listen		$2:5060
dns_server		$DNS:5353
audio_player		aufile,$_d/play.wav
audio_source		ausine,440
audio_alert		aufile,$_d/alert.wav
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			aufile.so
module			stdio.so
module_tmp		uuid.so
module_tmp		account.so
module_app		contact.so
module_app		menu.so
module_app		presence.so
EOT
	printf '<sip:%s;transport=udp>;auth_pass=%s;regint=600;pubint=0;answermode=manual;audio_codecs=pcmu;outbound="sip:%s:5060;transport=udp"\n' \
		"$3" "$4" "$5" >"$_d/accounts"
	printf '%s\n' "$6" >"$_d/contacts"
	printf '%s\n' "$7" >"$_d/current_contact"
	mkfifo "$_d/in"
	spawn "$_d/out.log" sh -c "exec baresip -f '$_d' <'$_d/in'"
	eval "BS_$1=\$LAST"
	sleep 86400 >"$_d/in" &
	PIDS="$PIDS $!"
	wait_for "$_d/out.log" "All 1 useragent registered successfully" 5
	say "$3 registered at $5 ($(bs_log "$1" | grep -m1 -E '200 OK' | sed 's/^[[:space:]]*//'))"
}
bs_cmd()
{
	timeout 5 sh -c 'printf "%s\n" "$2" >"$1"' _ "$run/bs.$1/in" "$2" ||
		echo "demo: baresip $1 is not reading its commands" >&2
}
bs_log() { tr -d '\r' <"$run/bs.$1/out.log" | sed 's/\x1b\[[0-9;]*m//g'; }

# contact_state NAME CONTACT: the state NAME's baresip lists for CONTACT
contact_state()
{
	_i=0
	while [ $_i -lt 25 ]; do
		_b=$(bs_log "$1" | wc -l)
		bs_cmd "$1" /contacts
		sleep 0.2
		_s=$(bs_log "$1" | tail -n +"$((_b + 1))" |
			sed -n "s/^[> ]*\\([A-Za-z]*\\) $2 .*/\\1/p" | tail -1)
		[ -n "$_s" ] && [ "$_s" != Unknown ] && { echo "$_s"; return 0; }
		_i=$((_i + 1))
	done
	echo "${_s:-Unknown}"
}

echo
echo "== Two users on each side register with baresip"
bs bobj $NET.41 bob.jones@chicago.test bobjpw $C_GW \
	'"Alice.Smith@acme.test" <sip:Alice.Smith@acme.test>;presence=p2p' \
	'<sip:Alice.Smith@acme.test>'
bs kim $NET.42 kim@chicago.test kimpw $C_GW \
	'"bob@acme.test" <sip:bob@acme.test>;presence=p2p' '<sip:bob@acme.test>'
bs alice $NET.31 asmith@acme.test alicepw $A_GW \
	'"Bob.Jones@chicago.test" <sip:Bob.Jones@chicago.test>;presence=p2p' \
	'<sip:Bob.Jones@chicago.test>'
bs bob $NET.32 bob@acme.test bobpw $A_GW \
	'"kim@chicago.test" <sip:kim@chicago.test>;presence=p2p' '<sip:kim@chicago.test>'

echo
echo "== Presence across the federation (contacts added by email address)"
say "alice@acme sees Bob.Jones@chicago.test: $(contact_state alice Bob.Jones@chicago.test)"
say "bob@acme sees kim@chicago.test: $(contact_state bob kim@chicago.test)"
say "chicago's bob.jones sees Alice.Smith@acme.test: $(contact_state bobj Alice.Smith@acme.test)"
say "chicago's kim sees bob@acme.test: $(contact_state kim bob@acme.test)"

# alice's second device (sipp) watches Bob.Jones: it shows away, which
# baresip cannot; Bob.Jones's second device (sipp) sets his state
spawn "$run/watch.out" sipp -sf "$SIPP/watch.xml" -key from asmith@acme.test \
	-key to Bob.Jones@chicago.test -au asmith -ap alicepw \
	-auth_uri Bob.Jones@chicago.test -i $NET.33 -p 5090 -m 1 \
	-timeout 300s -nostdin -trace_logs -log_file "$run/watch.log" $A_GW:5060
seen=0
watched()	# print each new NOTIFY alice's second device got
{
	_end=$(($(date +%s) + 5))
	while [ "$(date +%s)" -le $_end ]; do
		_n=$(grep -c '^NOTIFY ' "$run/watch.log" 2>/dev/null || :)
		if [ "${_n:-0}" -gt $seen ]; then
			grep '^NOTIFY ' "$run/watch.log" | tail -n +$((seen + 1)) |
			while read -r _l; do
				_b=$(echo "$_l" | sed -n 's/.* basic=\([a-z]*\).*/\1/p')
				_a=$(echo "$_l" | sed -n 's/.* activity=\([a-z]*\).*/\1/p')
				case $_b:$_a in
				open:) _st=active ;;
				open:away) _st=away ;;
				open:busy) _st="do not disturb" ;;
				closed:*) _st=offline ;;
				*) _st="($_l)" ;;
				esac
				say "alice@acme sees Bob.Jones@chicago.test: $_st   [her second device: $(echo "$_l" | sed 's/ dummy=.*//')]"
			done
			seen=$_n
			return 0
		fi
		sleep 0.05
	done
	say "(alice's second device got no NOTIFY in 5 s: see $run/watch.log)"
}
watched
port=5091
publish()	# ACTIVITY-XML BASIC WHAT
{
	port=$((port + 1))
	say "Bob.Jones sets \"$3\" on his second device (PUBLISH to chicago's gateway)"
	sipp -sf "$SIPP/publish.xml" -key from bob.jones@chicago.test \
		-key activity "$1" -key basic "$2" -au bob.jones -ap bobjpw \
		-auth_uri bob.jones@chicago.test -i $NET.43 -p $port -m 1 \
		-timeout 5s -timeout_error -nostdin -trace_logs \
		-log_file "$run/publish.$port.log" $C_GW:5060 >/dev/null 2>&1 ||
		say "(the PUBLISH failed: see $run/publish.$port.log)"
	watched
}
publish '<rpid:away/>' open away
publish '<rpid:busy/>' open "do not disturb"
sleep 0.3
bs_log alice | grep -o '<sip:Bob.Jones@chicago.test> changed status.*' | tail -1 |
	sed 's/^/  alice@acme'"'"'s baresip: /'
publish '' open active

echo
echo "== Chat, both ways"
bs_cmd alice "/message hello from acme"
say "alice@acme -> Bob.Jones@chicago.test: 'hello from acme'"
wait_for "$run/bs.bobj/out.log" '"hello from acme"' 5 &&
	say "chicago's bob.jones receives: $(bs_log bobj | grep -o '[^[:space:]]*: "hello from acme"' | tail -1)"
bs_cmd bobj "/message hi Alice, Bob in Chicago here"
say "Bob.Jones -> Alice.Smith@acme.test: 'hi Alice, Bob in Chicago here'"
wait_for "$run/bs.alice/out.log" '"hi Alice, Bob in Chicago here"' 5 &&
	say "acme's alice receives: $(bs_log alice | grep -o '[^[:space:]]*: "hi Alice, Bob in Chicago here"' | tail -1)"
bs_cmd kim "/message hello bob, kim from chicago"
wait_for "$run/bs.bob/out.log" '"hello bob, kim from chicago"' 5 &&
	say "acme's bob receives: $(bs_log bob | grep -o '[^[:space:]]*: "hello bob, kim from chicago"' | tail -1)"

echo
echo "== Bob.Jones logs off"
bs_cmd bobj /quit
watched
wait_for "$run/bs.alice/out.log" '<sip:Bob.Jones@chicago.test> changed status from .* to Offline' 5 &&
	bs_log alice | grep -o '<sip:Bob.Jones@chicago.test> changed status.*' | tail -1 |
	sed 's/^/  alice@acme'"'"'s baresip: /'

for s in acme chicago; do
	echo
	echo "== stconnector status ($s)"
	"$SC" status -c "$run/$s/$s.test.xml" || :
done

if [ $mode = show ]; then
	cat <<EOT

== What next

  sh $0 --stay   runs the same and leaves both communities up for your
                 own SIP client (it then prints the ready client
                 configurations, addresses, DNS server and proxies)
  Files the demo wrote: $run (community files, logs, certificates)
EOT
	exit 0
fi

# ---- --stay: the demo's clients go, the communities stay
for n in alice bob kim; do bs_cmd $n /quit; done
sleep 0.5
cp "$run/pids.daemons" "$run/pids"
keep=$DAEMONS
cat <<EOT

== Both communities keep running (--stay)

Register your own SIP client (UDP or TCP, digest authentication) with a
community's gateway as its outbound proxy / registrar.  Your address is
the local user ID at the community's domain (sip:asmith@acme.test);
people in the other community see and reach you by your email address
(Alice.Smith@acme.test).

  acme.test     gateway $A_GW port 5060    connector $A_CN (tls 5061)
      sip:asmith@acme.test     password alicepw    others see Alice.Smith@acme.test
      sip:bob@acme.test        password bobpw      others see bob@acme.test
  chicago.test  gateway $C_GW port 5060    connector $C_CN (tls 5061)
      sip:bob.jones@chicago.test password bobjpw   others see Bob.Jones@chicago.test
      sip:kim@chicago.test     password kimpw      others see kim@chicago.test

  outbound proxy  sip:$A_GW:5060;transport=udp (acme.test)
                  sip:$C_GW:5060;transport=udp (chicago.test)
  DNS server      $DNS port 5353 (only if your client resolves the demo
                  names itself; the gateway needs none from it)

Ready baresip configurations, one per user (the demo's own clients,
stopped now; each listens on its own address):

  baresip -f $run/bs.alice      asmith@acme.test, contact Bob.Jones@chicago.test
  baresip -f $run/bs.bob        bob@acme.test, contact kim@chicago.test
  baresip -f $run/bs.bobj       bob.jones@chicago.test, contact Alice.Smith@acme.test
  baresip -f $run/bs.kim        kim@chicago.test, contact bob@acme.test

Add a contact of the other community by its email address (for example
sip:Bob.Jones@chicago.test from asmith), watch its presence, chat.

Status:  $SC status -c $run/acme/acme.test.xml
         $GW status -c $run/acme/acme.test.xml   (and chicago)
         (one screen each; add --all for every field, --json for programs)
Logs:    $run/acme/stconnector.log, $run/acme/stgateway.log (and chicago)
Trace:   off; set <Trace enable="true"> in $run/acme/acme.test.xml,
         then $SC reload -c $run/acme/acme.test.xml: every message
         goes to $run/acme/run/trace.log
Files:   $run
Stop:    sh $0 --stop
EOT
