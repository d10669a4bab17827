#!/bin/bash
# run.sh -- relay benchmark: stconnector against Kamailio and against the
# load tool's own ceiling, over UDP and TCP, on loopback, in one run.
#
#   bench/run.sh [-b BUILDDIR] [-o REPORT] [-q]
#
# Run from the source tree after a build without sanitizers
# (./configure && make, or a separate build directory given with -b).
# Installs what it needs from Debian through tools/install-deps.sh (as
# root), starts every component itself on 127.0.13.0/24 and stops each
# by its PID.  Writes the tables to REPORT (default: bench-report.md in
# the current directory) and to standard output.
#
#   127.0.13.10  the relay under test (stconnector or Kamailio), 5060
#   127.0.13.20  sipp UAC: the other community's connector (source of load)
#   127.0.13.11  sipp UAS: this community's gateway, 5070
#   127.0.13.53  dnsmasq, 5353 (sip.chicago.test -> 127.0.13.20)
#
# Environment: BENCH_P99_MAX (200) the highest p99 (ms) a passing step
# may have; BENCH_RELAY_PORT (5060), BENCH_TLS_PORT (5061),
# BENCH_UAS_PORT (5070), BENCH_DNS_PORT (5353), BENCH_UAC_PORT (5060)
# move the ports; BENCH_STEP seconds per rate step (10), BENCH_START first
# rate (2000), BENCH_MAX highest rate tried (64000), BENCH_KAM_CHILDREN
# Kamailio workers per transport (2), BENCH_KEEP=1 keeps the work dir,
# BENCH_PERF=0 skips the perf profile, BENCH_ONLY="stc kam sipp" limits
# the relays (empty: none), BENCH_TRANSPORTS="udp tcp", BENCH_EXTRA="mem
# tls" the connection memory and TLS cost parts (empty: none).
#
# Connection memory: bench_conns opens its idle connections from
# 127.0.13.100 and up, 60 per source address (stconnector admits 64
# connections per peer address).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC
REPORT=$PWD/bench-report.md
QUIET=0
while getopts b:o:q opt; do
	case $opt in
	b) BUILD=$(cd "$OPTARG" && pwd) ;;
	o) REPORT=$OPTARG ;;
	q) QUIET=1 ;;
	*) echo "usage: $0 [-b BUILDDIR] [-o REPORT] [-q]" >&2; exit 2 ;;
	esac
done

STEP=${BENCH_STEP:-10}
P99_MAX=${BENCH_P99_MAX:-200}
START=${BENCH_START:-2000}
MAXR=${BENCH_MAX:-64000}
KCH=${BENCH_KAM_CHILDREN:-2}
ONLY=${BENCH_ONLY-stc kam sipp}
EXTRA=${BENCH_EXTRA-mem tls}
TRANSPORTS=${BENCH_TRANSPORTS:-udp tcp}

IP_RELAY=127.0.13.10
IP_UAC=127.0.13.20
IP_UAS=127.0.13.11
IP_DNS=127.0.13.53
P_RELAY=${BENCH_RELAY_PORT:-5060}
P_TLS=${BENCH_TLS_PORT:-5061}
P_UAC=${BENCH_UAC_PORT:-5060}
P_UAS=${BENCH_UAS_PORT:-5070}
P_DNS=${BENCH_DNS_PORT:-5353}
HZ=$(getconf CLK_TCK)

SC=$BUILD/connector/stconnector
CONNS=$BUILD/bench/bench_conns
[ -x "$SC" ] || { echo "run.sh: no $SC: build the tree first" >&2; exit 1; }
if ldd "$SC" | grep -q libasan; then
	echo "run.sh: $SC is built with sanitizers; use a plain build" >&2
	exit 1
fi
if [ -x "$SRC/tools/install-deps.sh" ]; then
	"$SRC/tools/install-deps.sh" bench || exit 1
fi
for c in kamailio sipp dnsmasq ss; do
	command -v $c >/dev/null || { echo "run.sh: $c missing" >&2; exit 1; }
done

W=$(mktemp -d /tmp/stc-bench.XXXXXX)
PIDS=""
log() { [ "$QUIET" = 1 ] || echo "$*" >&2; }

spawn() # LOG CMD...: run in the background, remember the PID in $LASTPID
{
	_l=$1; shift
	"$@" >"$_l" 2>&1 &
	LASTPID=$!
	PIDS="$PIDS $LASTPID"
}

alive() { [ -r "/proc/$1/status" ] && ! grep -q "^State:.*Z" "/proc/$1/status" 2>/dev/null; }

stop() # PID: TERM, then KILL after 3 s; reap
{
	if alive "$1"; then
		kill -TERM "$1" 2>/dev/null
		_i=0
		while alive "$1" && [ $_i -lt 30 ]; do sleep 0.1; _i=$((_i + 1)); done
		alive "$1" && kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	_sn=""
	for _sq in $PIDS; do [ "$_sq" = "$1" ] || _sn="$_sn $_sq"; done
	PIDS=$_sn
}

cleanup()
{
	for p in $PIDS; do stop "$p"; done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "work dir kept: $W" >&2
	else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() # PROTO ADDR PORT SECONDS
{
	_wn=$(($4 * 10))
	while [ $_wn -gt 0 ]; do
		ss -Hln"$( [ "$1" = udp ] && echo u || echo t )" "src $2:$3" |
			grep -q . && return 0
		sleep 0.1; _wn=$((_wn - 1))
	done
	return 1
}

# CPU ticks (utime+stime) summed over PIDs
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done |
	awk '{s += $1} END {print s + 0}'; }
# proportional resident memory (KiB) summed over PIDs
pss() { for p in "$@"; do awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null; done |
	awk '{s += $1} END {print s + 0}'; }
dnsq() { grep -c 'query\[' "$W/dnsmasq.log"; }
# UDP datagrams the kernel dropped for a full receive buffer (whole host)
rcvbuferr() { awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp; }

# ---------------------------------------------------------------- DNS
cat >"$W/dnsmasq.conf" <<EOF
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=$IP_DNS
local=/test/
log-queries
local-ttl=3600
host-record=sip.chicago.test,$IP_UAC
host-record=sip.acme.test,$IP_RELAY
EOF
spawn "$W/dnsmasq.log" dnsmasq -k -C "$W/dnsmasq.conf" --port=$P_DNS \
	--pid-file="$W/dnsmasq.pid" --log-facility=- --user="$(id -un)"
wait_port udp $IP_DNS $P_DNS 5 || { echo "dnsmasq did not start" >&2; exit 1; }

# ---------------------------------------------------------------- relays
stc_conf() # TRANSPORT FILE
{
	cat >"$2" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true"
                    ConvertID="true">
    <ClientListen transport="$1" address="$IP_UAS" port="5060"/>
    <ConnectorListen transport="$1" address="$IP_UAS" port="$P_UAS"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="$1" port="$P_UAC">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$IP_RELAY" port="$P_RELAY"
                      control="run/cn.sock" pidFile="run/cn.pid">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <Dns timeout="2000"><Server>$IP_DNS:$P_DNS</Server></Dns>
</CommunityConfig>
EOF
}

RELAY_PIDS=""
RELAY_MAIN=""
start_relay() # KIND TRANSPORT
{
	RELAY_PIDS=""
	RELAY_MAIN=""
	case $1 in
	stc)
		rm -rf "$W/stc"; mkdir -p "$W/stc/run"
		stc_conf "$2" "$W/stc/community.xml"
		spawn "$W/stc/log" "$SC" -f -c "$W/stc/community.xml"
		RELAY_MAIN=$LASTPID
		RELAY_PIDS=$LASTPID
		;;
	kam)
		rm -rf "$W/kam"; mkdir -p "$W/kam"
		echo "1 $IP_UAC 32 0 chicago" >"$W/kam/address.list"
		sed -e "s|@DIR@|$W/kam|g; s|@IP@|$IP_RELAY|g; s|@PORT@|$P_RELAY|g" \
		    -e "s|@DST@|sip:$IP_UAS:$P_UAS;transport=$2|; s|@CHILDREN@|$KCH|g" \
		    "$SRC/bench/kamailio/relay.cfg" >"$W/kam/relay.cfg"
		spawn "$W/kam/log" kamailio -DD -E -m 2048 -M 64 -f "$W/kam/relay.cfg"
		RELAY_MAIN=$LASTPID
		;;
	sipp) return 0 ;;
	esac
	wait_port "$2" $IP_RELAY $P_RELAY 10 || { log "relay $1 did not listen"; return 1; }
	if [ "$1" = kam ]; then
		sleep 0.5
		RELAY_PIDS="$RELAY_MAIN $(pgrep -P "$RELAY_MAIN" | tr '\n' ' ')"
	fi
}

stop_relay() { [ -n "$RELAY_MAIN" ] && stop "$RELAY_MAIN"; RELAY_MAIN=""; RELAY_PIDS=""; }

UAS_PID=""
start_uas() # TRANSPORT
{
	_t=u1; [ "$1" = tcp ] && _t=t1
	rm -f "$W"/bench_uas_*
	(cd "$W" && exec sipp -sf "$SRC/bench/sipp/bench_uas.xml" -i $IP_UAS -p $P_UAS \
		-t $_t -aa -nostdin -buff_size 1048576 -max_recv_loops 10000 \
		-max_sched_loops 10000) >"$W/uas.out" 2>&1 &
	UAS_PID=$!
	PIDS="$PIDS $UAS_PID"
	wait_port "$1" $IP_UAS $P_UAS 5
}

# uac TRANSPORT DEST RATE CALLS TAG: run the load; leaves $W/uac.TAG.*
uac()
{
	_t=u1; [ "$1" = tcp ] && _t=t1
	rm -f "$W"/bench_uac_*_rtt.csv
	(cd "$W" && exec sipp -sf "$SRC/bench/sipp/bench_uac.xml" -i $IP_UAC -p $P_UAC \
		-t $_t -aa -nostdin -r "$3" -m "$4" -l "$3" -recv_timeout 5000 \
		-timeout $(($4 / $3 + 30)) -timeout_error \
		-buff_size 1048576 -max_recv_loops 10000 -max_sched_loops 10000 \
		-trace_rtt -rtt_freq 1000 "$2") >"$W/uac.$5.out" 2>&1
	_rc=$?
	cat "$W"/bench_uac_*_rtt.csv >"$W/uac.$5.rtt" 2>/dev/null
	return $_rc
}

# field OUT NAME: the cumulative column of a sipp statistics line
field() { grep -E "^ +$2 " "$1" | tail -1 | awk -F'|' '{print $3}' | awk '{print $1}'; }

# percentiles of a sipp rtt trace (ms): prints "p50 p99"
pct() { awk -F';' 'NR > 1 && $2 != "" {print $2}' "$1" | sort -n |
	awk '{a[NR] = $1} END { if (NR == 0) { print "- -"; exit }
	  i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
	  i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
	  printf "%.0f %.0f\n", a[i50], a[i99] }'; }

RES=$W/results.tsv  # kind transport rate ok calls answered failed retrans p50 p99 cpu1k dnsq memKiB achieved phase
PHASE=search
: >"$RES"

# step KIND TRANSPORT RATE: one measured step with a fresh relay; sets $OK
step()
{
	s_k=$1 s_tp=$2 s_r=$3
	s_tag=$s_k.$s_tp.$s_r
	OK=0
	start_uas "$s_tp" || { log "uas did not start"; return 1; }
	if ! start_relay "$s_k" "$s_tp"; then stop "$UAS_PID"; return 1; fi
	s_dst=$IP_RELAY:$P_RELAY
	[ "$s_k" = sipp ] && s_dst=$IP_UAS:$P_UAS
	# warm up: DNS answer cached, connections open, gateway seen up
	uac "$s_tp" "$s_dst" 50 50 "$s_tag.warm"
	if [ "$(field "$W/uac.$s_tag.warm.out" 'Successful call')" != 50 ]; then
		log "  $s_tag: warm-up failed (relay not relaying?)"
		cp "$W/uac.$s_tag.warm.out" "$W/failed.$s_tag.warm.out"
		[ -f "$W/$s_k/log" ] && cp "$W/$s_k/log" "$W/failed.$s_tag.relay.log"
		stop_relay; stop "$UAS_PID"
		printf '%s\t%s\t%s\t0\t0\t0\t0\t0\t-\t-\t-\t-\t-\t0\t%s\t-\n' "$s_k" "$s_tp" "$s_r" "$PHASE" >>"$RES"
		return 1
	fi
	sleep 1
	s_n=$((s_r * STEP))
	s_q0=$(dnsq)
	s_e0=$(rcvbuferr)
	s_c0=$(ticks $RELAY_PIDS)
	s_m0=$(pss $RELAY_PIDS)
	s_mx=$s_m0
	# memory sampler: peak proportional RSS of the relay during the step
	( while :; do pss $RELAY_PIDS; sleep 0.5; done ) >"$W/mem.$s_tag" 2>/dev/null &
	s_sp=$!
	PIDS="$PIDS $s_sp"
	uac "$s_tp" "$s_dst" "$s_r" "$s_n" "$s_tag"
	s_c1=$(ticks $RELAY_PIDS)
	s_q1=$(dnsq)
	s_e1=$(rcvbuferr)
	stop "$s_sp"
	s_mx=$(sort -n "$W/mem.$s_tag" | tail -1)
	s_o=$W/uac.$s_tag.out
	s_s=$(field "$s_o" 'Successful call'); s_s=${s_s:-0}
	s_f=$(field "$s_o" 'Failed call'); s_f=${s_f:-0}
	s_ach=$(field "$s_o" 'Call Rate'); s_ach=${s_ach:-0}
	s_rt=$(grep -E '^ +MESSAGE' "$s_o" | head -1 | awk '{print $(NF-1)}')
	set -- $(pct "$W/uac.$s_tag.rtt")
	s_p50=$1 s_p99=$2
	if [ "$s_k" = sipp ]; then s_cpu=-; s_mem=-
	else
		s_cpu=$(awk -v d=$((s_c1 - s_c0)) -v hz="$HZ" -v n="$s_n" \
			'BEGIN {printf "%.3f", d / hz / (n / 1000)}')
		s_mem=$(( ${s_mx:-$s_m0} - s_m0 ))
	fi
	# sustained: every call answered 200, none failed, rate held within
	# 5 %, and p99 under P99_MAX ms (a queue that grows for the whole
	# step is not a rate the relay sustains)
	if [ "$s_s" = "$s_n" ] && [ "$s_f" = 0 ] &&
	    awk -v a="$s_ach" -v r="$s_r" -v p="$s_p99" -v m="$P99_MAX" \
	        'BEGIN {exit !(a >= 0.95 * r && p != "-" && p + 0 <= m)}'; then
		OK=1
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$s_k" "$s_tp" "$s_r" "$OK" "$s_n" "$s_s" "$s_f" "${s_rt:-0}" "$s_p50" "$s_p99" \
		"$s_cpu" "$((s_q1 - s_q0))" "$s_mem" "$s_ach" "$PHASE" "$((s_e1 - s_e0))" >>"$RES"
	log "  $s_k $s_tp $s_r/s: ok=$OK answered=$s_s/$s_n failed=$s_f rate=$s_ach retrans=${s_rt:-0} p50=${s_p50}ms p99=${s_p99}ms cpu=${s_cpu}s/1k dns=$((s_q1 - s_q0)) mem+=${s_mem}KiB udp-rcvbuf-drops=$((s_e1 - s_e0))"
	if [ "$OK" = 0 ]; then
		cp "$s_o" "$W/failed.$s_tag.out"
		[ -f "$W/$s_k/log" ] && cp "$W/$s_k/log" "$W/failed.$s_tag.relay.log"
	fi
	stop_relay
	stop "$UAS_PID"
	sleep 1
}

# search KIND TRANSPORT: highest sustained rate, doubling then bisecting
# to 1/8 of the rate; sets $BEST (0 when even START fails)
search()
{
	q_lo=0 q_hi=0 q_r=$START
	while [ "$q_r" -le "$MAXR" ]; do
		step "$1" "$2" "$q_r"
		if [ "$OK" = 1 ]; then q_lo=$q_r; q_r=$((q_r * 2)); else q_hi=$q_r; break; fi
	done
	if [ "$q_hi" = 0 ]; then BEST=$q_lo; return; fi
	if [ "$q_lo" = 0 ]; then
		# below START: halve until one passes, at most 3 times
		q_r=$((q_hi / 2))
		while [ "$q_r" -ge 250 ] && [ "$q_lo" = 0 ]; do
			step "$1" "$2" "$q_r"
			[ "$OK" = 1 ] && q_lo=$q_r || q_hi=$q_r
			q_r=$((q_r / 2))
		done
		[ "$q_lo" = 0 ] && { BEST=0; return; }
	fi
	while [ $((q_hi - q_lo)) -gt $((q_lo / 8)) ] && [ $((q_hi - q_lo)) -gt 250 ]; do
		q_r=$(( (q_lo + q_hi) / 2 / 250 * 250 ))
		step "$1" "$2" "$q_r"
		if [ "$OK" = 1 ]; then q_lo=$q_r; else q_hi=$q_r; fi
	done
	BEST=$q_lo
}

row() # KIND TRANSPORT RATE PHASE: the results line of that step
{
	awk -F'\t' -v k="$1" -v t="$2" -v r="$3" -v p="$4" \
		'$1 == k && $2 == t && $3 == r && $15 == p' "$RES" | tail -1
}

log "bench: work dir $W, $STEP s per step, starting at $START msgs/s"
T0=$(date +%s)
OTHER0=$(awk '{print $1 + $2 + $3 + $4}' /proc/loadavg)
for tp in $TRANSPORTS; do
	for k in $ONLY; do
		log "search: $k over $tp"
		PHASE=search
		search "$k" "$tp"
		eval "BEST_${k}_$tp=$BEST"
	done
	# the same rate for both relays: half of Kamailio's maximum
	eval "_kb=\${BEST_kam_$tp:-0}"
	if [ "$_kb" -gt 0 ]; then
		HALF=$(( _kb / 2 / 250 * 250 ))
		eval "HALF_$tp=$HALF"
		for k in stc kam; do
			case " $ONLY " in *" $k "*) ;; *) continue ;; esac
			log "half of Kamailio's max: $k over $tp at $HALF"
			PHASE=half
			step "$k" "$tp" "$HALF"
		done
	fi
done

# ---------------------------------------------------------------- perf
PERF_OUT=""
if [ "${BENCH_PERF:-1}" = 1 ] && command -v perf >/dev/null &&
    case " $ONLY " in *" stc "*) true ;; *) false ;; esac; then
	_r=${BEST_stc_udp:-0}
	[ "$_r" -gt 0 ] || _r=$START
	_r=$(( _r * 3 / 4 / 250 * 250 ))
	log "perf: stconnector over udp at $_r msgs/s"
	start_uas udp && start_relay stc udp && {
		uac udp $IP_RELAY:$P_RELAY 50 50 perf.warm
		spawn "$W/perf.log" perf record -F 999 -g -o "$W/perf.data" -p "$RELAY_MAIN"
		_pp=$LASTPID
		uac udp $IP_RELAY:$P_RELAY "$_r" $((_r * STEP)) perf
		kill -INT "$_pp"; wait "$_pp" 2>/dev/null
		PIDS=$(echo "$PIDS" | sed "s/ $_pp\b//")
		perf report -i "$W/perf.data" --no-children --sort dso,symbol \
			--percent-limit 1.5 --stdio 2>/dev/null |
			grep -E '^ +[0-9.]+%' | head -25 >"$W/perf.top"
		PERF_OUT=$W/perf.top
	}
	stop_relay; stop "$UAS_PID"
fi


# ---------------------------------------------------------------- certificates
certs()
{
	[ -f "$W/certs/ca.pem" ] && return 0
	(top_builddir=$W; . "$SRC/test/lib/testenv.sh"
	 te_certs "$W/certs" sip.acme.test:$IP_RELAY sip.chicago.test:$IP_UAC) \
		>"$W/certs.log" 2>&1
}

# conn_conf DIR NAME COMMUNITY DOMAIN IP GWIP GWPORT EXT EXTDOMAIN EXTPROXY EXTTRANSPORT EXTPORT
conn_conf()
{
	mkdir -p "$1/run"
	cat >"$1/community.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="$3"><Domain>$4</Domain></Community>
  <CommunityGateway name="$3-gw" SupportExternalCommunities="true"
                    ConvertID="true">
    <ClientListen transport="tcp" address="$6" port="5060"/>
    <ConnectorListen transport="tcp" address="$6" port="$7"/>
  </CommunityGateway>
  <ExternCommunity name="$8" transport="${11}" port="${12}">
    <Domain>$9</Domain>
    <Proxy>${10}</Proxy>
  </ExternCommunity>
  <CommunityConnector name="$3-edge" ip="$5" port="$P_RELAY" tlsPort="$P_TLS"
                      control="run/cn.sock" pidFile="run/cn.pid">
    <Gateway>$3-gw</Gateway>
    <SupportedCommunity name="$8" enabled="true"/>
  </CommunityConnector>
  <Tls certificate="$W/certs/$2.pem" key="$W/certs/$2.key"
       ca="$W/certs/ca.pem" verify="required"/>
  <Dns timeout="2000"><Server>$IP_DNS:$P_DNS</Server></Dns>
</CommunityConfig>
EOF
}

MEM_OUT=""
mem_part()
{
	certs || { log "certificates failed"; return 1; }
	conn_conf "$W/mem" sip.acme.test acme acme.test $IP_RELAY $IP_UAS $P_UAS \
		chicago chicago.test sip.chicago.test tls $P_TLS
	spawn "$W/mem/log" "$SC" -f -c "$W/mem/community.xml"
	_mp=$LASTPID
	wait_port tcp $IP_RELAY $P_TLS 10 || { log "stconnector (tls) did not listen"; stop $_mp; return 1; }
	sleep 1
	MEM_OUT=$W/mem.out
	"$CONNS" -p $_mp -a $IP_RELAY -P $P_RELAY -s 127.0.13.100 -n 1000 \
		>"$MEM_OUT" 2>"$W/mem.err"
	"$CONNS" -p $_mp -a $IP_RELAY -P $P_TLS -s 127.0.13.120 -n 1000 -t \
		-c "$W/certs/sip.chicago.test.pem" -K "$W/certs/sip.chicago.test.key" \
		>>"$MEM_OUT" 2>>"$W/mem.err"
	log "$(cat "$MEM_OUT")"
	stop $_mp
}

# TLS cost: UAC (B's gateway, 127.0.13.20:5080) -TCP-> connector B
# (127.0.13.20) -TLS or TCP-> connector A (127.0.13.10) -TCP-> UAS.
TLS_RES=$W/tls.tsv
tls_step() # LINK(tls|tcp) RATE
{
	_lp=$P_RELAY; [ "$1" = tls ] && _lp=$P_TLS
	rm -rf "$W/ca" "$W/cb"
	conn_conf "$W/ca" sip.acme.test acme acme.test $IP_RELAY $IP_UAS $P_UAS \
		chicago chicago.test sip.chicago.test "$1" $_lp
	conn_conf "$W/cb" sip.chicago.test chicago chicago.test $IP_UAC $IP_UAC 5080 \
		acme acme.test sip.acme.test "$1" $_lp
	start_uas tcp || return 1
	spawn "$W/ca/log" "$SC" -f -c "$W/ca/community.xml"; _pa=$LASTPID
	spawn "$W/cb/log" "$SC" -f -c "$W/cb/community.xml"; _pb=$LASTPID
	wait_port tcp $IP_RELAY $P_TLS 10 && wait_port tcp $IP_UAC $P_TLS 10 || {
		log "connectors did not listen"; stop $_pa; stop $_pb; stop "$UAS_PID"; return 1; }
	P_UAC=5080
	uac tcp $IP_UAC:$P_RELAY 50 50 "tls.$1.warm"
	_w=$(field "$W/uac.tls.$1.warm.out" 'Successful call')
	_ca=$(ticks $_pa) _cb=$(ticks $_pb)
	_pp=""
	if [ "$1" = tls ] && [ "${BENCH_PERF:-1}" = 1 ] && command -v perf >/dev/null; then
		spawn "$W/perf-tls.log" perf record -F 999 -g -o "$W/perf-tls.data" -p "$_pa"
		_pp=$LASTPID
	fi
	uac tcp $IP_UAC:$P_RELAY "$2" $(($2 * STEP)) "tls.$1"
	if [ -n "$_pp" ]; then
		kill -INT "$_pp"; wait "$_pp" 2>/dev/null
		PIDS=$(echo "$PIDS" | sed "s/ $_pp\b//")
		perf report -i "$W/perf-tls.data" --no-children --sort dso,symbol \
			--percent-limit 1.5 --stdio 2>/dev/null |
			grep -E '^ +[0-9.]+%' | head -25 >"$W/perf-tls.top"
	fi
	_da=$(( $(ticks $_pa) - _ca )) _db=$(( $(ticks $_pb) - _cb ))
	P_UAC=${BENCH_UAC_PORT:-5060}
	_o=$W/uac.tls.$1.out
	_s=$(field "$_o" 'Successful call'); _f=$(field "$_o" 'Failed call')
	set -- "$1" "$2" $(pct "$W/uac.tls.$1.rtt")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${_w:-0}" "${_s:-0}" "${_f:-0}" \
		"$(awk -v d=$_da -v hz=$HZ -v n=$(($2 * STEP)) 'BEGIN {printf "%.3f", d / hz / (n / 1000)}')" \
		"$(awk -v d=$_db -v hz=$HZ -v n=$(($2 * STEP)) 'BEGIN {printf "%.3f", d / hz / (n / 1000)}')" \
		"$3" "$4" >>"$TLS_RES"
	log "  link $1 at $2/s: warm-up $_w/50, answered ${_s:-0}, failed ${_f:-0}, CPU A $_da B $_db ticks"
	if [ "${_w:-0}" != 50 ]; then
		cp "$W/ca/log" "$W/failed.tls.$1.a.log"; cp "$W/cb/log" "$W/failed.tls.$1.b.log"
		cp "$W/uac.tls.$1.warm.out" "$W/failed.tls.$1.warm.out"
	fi
	stop $_pa; stop $_pb; stop "$UAS_PID"
	sleep 1
}

tls_part()
{
	certs || { log "certificates failed"; return 1; }
	: >"$TLS_RES"
	_tr=${BENCH_TLS_RATE:-2000}
	log "TLS cost: connector B -> connector A at $_tr msgs/s"
	tls_step tcp "$_tr"
	tls_step tls "$_tr"
}

case " $EXTRA " in *" mem "*) mem_part ;; esac
case " $EXTRA " in *" tls "*) tls_part ;; esac

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "-" || b == "-") print "-"; else printf "%.2f", a / b }'; }
{
	echo "# Relay benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Host: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs," \
		"$(free -g | awk '/^Mem:/ {print $2}') GiB, kernel $(uname -r)."
	echo "stconnector $("$SC" --version 2>/dev/null | head -1)," \
		"$(kamailio -v 2>/dev/null | head -1 | sed 's/^version: //')," \
		"$(sipp -v 2>/dev/null | grep -o 'SIPp v[0-9.]*' | head -1)."
	echo "Load average before/after (4 numbers summed, other processes" \
		"included): $OTHER0 / $(awk '{print $1 + $2 + $3 + $4}' /proc/loadavg)."
	echo "Steps of $STEP s; Kamailio with $KCH workers per transport," \
		"-m 2048 -M 64; total time $(( $(date +%s) - T0 )) s."
	echo
	echo "## Highest sustained rate (every MESSAGE answered 200, 0 failed, p99 <= $P99_MAX ms)"
	echo
	echo "| transport | relay | msgs/s | p50 ms | p99 ms | CPU s / 1000 msgs | state growth KiB | DNS queries |"
	echo "|---|---|---|---|---|---|---|---|"
	for tp in $TRANSPORTS; do
		for k in $ONLY; do
			eval "_b=\${BEST_${k}_$tp:-0}"
			if [ "$_b" -gt 0 ]; then
				row "$k" "$tp" "$_b" search | awk -F'\t' -v n="$k" '{
				  m = (n == "stc") ? "stconnector" : (n == "kam") ? "Kamailio" : "sipp to sipp (ceiling)"
				  printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, m, $3, $9, $10, $11, $13, $12 }'
			else
				echo "| $tp | $k | none passed at $START or below | | | | | |"
			fi
		done
	done
	echo
	echo "## Ratios (same run)"
	echo
	echo "| transport | stconnector / Kamailio (max rate) | stconnector / ceiling | target |"
	echo "|---|---|---|---|"
	for tp in $TRANSPORTS; do
		eval "_s=\${BEST_stc_$tp:-0} _k=\${BEST_kam_$tp:-0} _c=\${BEST_sipp_$tp:-0}"
		echo "| $tp | $(ratio "$_s" "$_k") | $(ratio "$_s" "$_c") | >= 1.5 vs Kamailio |"
	done
	echo
	echo "## At half of Kamailio's maximum (same rate for both)"
	echo
	echo "| transport | rate | relay | ok | p50 ms | p99 ms | CPU s / 1000 msgs | state growth KiB | DNS queries |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for tp in $TRANSPORTS; do
		eval "_h=\${HALF_$tp:-0}"
		[ "$_h" -gt 0 ] || continue
		for k in stc kam; do
			row "$k" "$tp" "$_h" half | awk -F'\t' '{
			  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $1, ($4 ? "yes" : "NO"), $9, $10, $11, $13, $12 }'
		done
		_sr=$(row stc "$tp" "$_h" half); _kr=$(row kam "$tp" "$_h" half)
		if [ -n "$_sr" ] && [ -n "$_kr" ]; then
			echo "| $tp | $_h | ratio stc/kam | | | $(ratio "$(echo "$_sr" | cut -f10)" "$(echo "$_kr" | cut -f10)") | $(ratio "$(echo "$_sr" | cut -f11)" "$(echo "$_kr" | cut -f11)") | $(ratio "$(echo "$_sr" | cut -f13)" "$(echo "$_kr" | cut -f13)") | |"
		fi
	done
	echo
	echo "## Every step"
	echo
	echo "| relay | transport | rate | ok | calls | answered | failed | retrans | p50 | p99 | CPU s/1k | DNS q | state KiB | achieved/s | phase | UDP rcvbuf drops |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '{ printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n" }' "$RES"
	if [ -n "$MEM_OUT" ] && [ -s "$MEM_OUT" ]; then
		echo
		echo "## Memory per idle peer connection (1000 each, one OPTIONS each, then idle)"
		echo
		echo "| kind | connections | stconnector RSS before KiB | after KiB | KiB per connection | Kamailio (published) |"
		echo "|---|---|---|---|---|---|"
		sed 's/[a-z_]*=//g' "$MEM_OUT" | awk '{ k = ($3 == "tls") ? "4.5 + 61" : "4.5"
		  printf "| %s | %s | %s | %s | %s | %s |\n", $3, $1, $4, $5, $6, k }'
	fi
	if [ -s "$TLS_RES" ]; then
		echo
		echo "## TLS between connectors: CPU per 1000 messages (load enters B over TCP)"
		echo
		echo "| link B->A | rate | warm-up ok/50 | answered | failed | CPU A s/1k | CPU B s/1k | p50 ms | p99 ms |"
		echo "|---|---|---|---|---|---|---|---|---|"
		awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1,$2,$3,$4,$5,$6,$7,$8,$9}' "$TLS_RES"
		awk -F'\t' '{a[$1] = $6 + $7; ok[$1] = ($3 == 50 && $5 == 0)} END {
		  if (ok["tls"] && ok["tcp"]) printf "\nTLS adds %.3f CPU s per 1000 messages over both connectors (%.0f %%).\n", a["tls"] - a["tcp"], 100 * (a["tls"] - a["tcp"]) / a["tcp"];
		  else print "\nTLS cost not measurable in this run: the connector-to-connector relay did not carry every message (see the work directory)." }' "$TLS_RES"
	fi
	if [ -n "$PERF_OUT" ] && [ -s "$PERF_OUT" ]; then
		echo
		echo "## perf: where stconnector spends its CPU (udp, 3/4 of its max)"
		echo
		echo '```'
		cat "$PERF_OUT"
		echo '```'
	fi
	if [ -s "$W/perf-tls.top" ]; then
		echo
		echo "## perf: connector A receiving over TLS from connector B"
		echo
		echo '```'
		cat "$W/perf-tls.top"
		echo '```'
	fi
} >"$REPORT"
cat "$REPORT"
